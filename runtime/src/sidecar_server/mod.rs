//! The sidecar's loopback HTTP server: the `chaoslab:sidecar` contract for
//! components that run under the Spin CLI (through the `sidecar-link` bridge),
//! plus the container probes. Served by `chaoslab sidecar`.
//!
//! - [`rpc`]: `POST /v1/{interface}/{function}`, one endpoint per WIT
//!   function; parameters as a JSON array, the result as JSON (wit/README.md).
//! - [`auth`]: the shared link token every RPC must carry.
//! - [`trace`]: each RPC is a server span continuing the caller's `traceparent`.
//! - [`probes`]: `GET /livez` (process alive; held while a hang runs) and
//!   `GET /readyz` (Redis reachable).

pub mod auth;
pub mod probes;
pub mod rpc;
pub mod trace;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::host::Sidecar;
pub use auth::LinkToken;

/// Largest RPC body: store values travel as JSON arrays of bytes.
pub const MAX_RPC_BODY: usize = 4 * 1024 * 1024;

/// The server's shared state.
#[derive(Clone)]
pub struct LinkState {
    /// Store and chaos engine.
    pub sidecar: Sidecar,
    /// The secret every RPC must present.
    pub token: Arc<LinkToken>,
}

/// The routes: RPCs behind the link token, probes open.
pub fn router(state: LinkState) -> Router {
    let rpc = Router::new()
        .route("/v1/{interface}/{function}", post(rpc::call))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_token))
        .layer(axum::middleware::from_fn(trace::span))
        .layer(DefaultBodyLimit::max(MAX_RPC_BODY));
    Router::new()
        .route("/livez", get(probes::livez))
        .route("/readyz", get(probes::readyz))
        .merge(rpc)
        .fallback(rpc::unknown)
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops every
/// chaos experiment (releasing held calls) and waits up to `grace` for
/// in-flight calls.
pub async fn serve(
    listener: TcpListener,
    state: LinkState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let chaos = state.sidecar.chaos.clone();
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
