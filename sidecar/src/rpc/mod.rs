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
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::Services;
use crate::secret::Secret;

/// Largest RPC body: store values travel as JSON arrays of bytes.
pub const MAX_RPC_BODY: usize = 4 * 1024 * 1024;

/// The server's shared state.
#[derive(Debug, Clone)]
pub struct LinkState {
    /// Store and chaos engine.
    pub services: Services,
    /// The secret every RPC must present.
    pub token: Arc<Secret>,
}

/// The routes: RPCs behind the link token, probes open. Testable without a
/// socket (`tower::ServiceExt::oneshot`).
pub fn router(state: LinkState) -> Router {
    let rpc = Router::new()
        .route("/v1/{interface}/{function}", post(dispatch::call))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_token))
        .layer(axum::middleware::from_fn(trace::span))
        .layer(DefaultBodyLimit::max(MAX_RPC_BODY));
    Router::new()
        .route("/livez", get(probes::livez))
        .route("/readyz", get(probes::readyz))
        .merge(rpc)
        .fallback(dispatch::unknown)
        .with_state(state)
}

/// Serves [`router`] on `listener` until `shutdown` resolves; then stops every
/// chaos experiment (releasing held calls) and waits up to `grace` for
/// in-flight calls.
pub async fn serve(
    listener: TcpListener,
    state: LinkState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let chaos = state.services.chaos.clone();
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        if chaos.enabled() {
            let stopped = chaos.stop_all().map(|s| s.len()).unwrap_or(0);
            tracing::info!(stopped, "shutting down: chaos experiments stopped, draining calls");
        }
        let _ = stopping_tx.send(());
    };
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(signal);
    let deadline = async move {
        let _ = stopping_rx.await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server.into_future() => result,
        () = deadline => {
            tracing::warn!(?grace, "grace period over; cutting remaining calls");
            Ok(())
        }
    }
}
