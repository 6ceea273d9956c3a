//! The sidecar's loopback HTTP server: the `chaoslab:sidecar` contract for
//! components that run under the Spin CLI (through the `sidecar-link` bridge),
//! plus the container probes.
//!
//! - [`dispatch`]: `POST /v1/{interface}/{function}`, one endpoint per WIT
//!   function; parameters as a JSON array, the result as JSON (wit/README.md).
//! - [`auth`]: the shared link token every RPC must carry.
//! - [`trace`]: each RPC is a span continuing the caller's `traceparent`.
//! - [`probes`]: `GET /livez` (process alive; held while a hang runs) and
//!   `GET /readyz` (Redis reachable).
//! - [`answer`]: JSON and problem+json answers.
//!
//! It is served by [`crate::listener`], with the same connection limits as
//! the data plane; RPC bodies are bounded by [`RpcLimits`].

pub mod answer;
pub mod auth;
pub mod dispatch;
pub mod probes;
pub mod trace;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::Services;
use crate::listener::{self, ConnectionArgs, Drained};
use crate::secret::Secret;

/// Default of `--max-rpc-body-kb`: store values travel as JSON arrays of bytes.
pub const DEFAULT_MAX_RPC_BODY_KB: u32 = 4 * 1024;

/// Limits of one RPC's body.
#[derive(Debug, Clone, Copy)]
pub struct RpcLimits {
    /// Largest body (announced or sent, chunked too); beyond it, 413.
    pub max_body_bytes: usize,
    /// The whole body must arrive within this (the header read timeout).
    pub body_timeout: Duration,
}

impl Default for RpcLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_RPC_BODY_KB as usize * 1024,
            body_timeout: listener::limits::DEFAULT_HEADER_READ_TIMEOUT,
        }
    }
}

/// The server's shared state.
#[derive(Debug, Clone)]
pub struct LinkState {
    /// Store and chaos engine.
    pub services: Services,
    /// The secret every RPC must present.
    pub token: Arc<Secret>,
    /// Body limits of every RPC.
    pub limits: RpcLimits,
}

/// The routes: RPCs behind the link token, probes open. Testable without a
/// socket (`tower::ServiceExt::oneshot`).
pub fn router(state: LinkState) -> Router {
    let rpc = Router::new()
        .route("/v1/{interface}/{function}", post(dispatch::call))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_token))
        .layer(axum::middleware::from_fn(trace::span));
    Router::new()
        .route("/livez", get(probes::livez))
        .route("/readyz", get(probes::readyz))
        .merge(rpc)
        .fallback(dispatch::unknown)
        .with_state(state)
}

/// Serves [`router`] on `listener` within `connections` until `shutdown`
/// resolves; then stops every chaos experiment (releasing held calls) and
/// waits up to `grace` for in-flight calls.
pub async fn serve(
    listener: TcpListener,
    state: LinkState,
    connections: ConnectionArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<Drained> {
    let chaos = state.services.chaos.clone();
    let signal = async move {
        shutdown.await;
        if chaos.enabled() {
            let stopped = chaos.stop_all().map(|s| s.len()).unwrap_or(0);
            tracing::info!(stopped, "shutting down: chaos experiments stopped, draining calls");
        }
    };
    let app = router(state);
    let make = move |peer: std::net::SocketAddr| {
        let app = app.clone();
        hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
            // The peer, for the log line of a refused call (as axum::serve's connect info).
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        })
    };
    let drained =
        listener::serve(listener, chaoslab_telemetry::Role::Sidecar, connections, make, signal, grace).await?;
    if drained == Drained::TimedOut {
        tracing::warn!(?grace, "grace period over; cutting remaining calls");
    }
    Ok(drained)
}
