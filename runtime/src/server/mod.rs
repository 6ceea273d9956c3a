//! The HTTP/1.1 server: accept loop and graceful shutdown.
//!
//! - [`handler`]: one request: the control API, or a component's revision.
//! - [`guest`]: a request through a fresh instance, under a deadline
//!   (shared with the revisions' health gate).
//! - [`problem`]: the runtime's own problem+json answers.
//! - [`telemetry`]: the server span and metrics of each request.

pub mod guest;
pub mod handler;
pub mod problem;
pub mod telemetry;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

pub use handler::{Handler, RequestLimits};

use crate::host::SidecarImports;

/// How the server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// Every in-flight request completed.
    Clean,
    /// The grace period ran out with requests still in flight.
    TimedOut,
}

/// Serves `listener` until `shutdown` resolves, then stops accepting and
/// waits up to `grace` for in-flight requests to finish.
pub async fn serve<S: SidecarImports>(
    listener: TcpListener,
    handler: Arc<Handler<S>>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<Drained> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, client) = match accepted {
                    Ok(pair) => pair,
                    Err(err) => {
                        // Per-connection errors (e.g. EMFILE, ECONNABORTED) must not stop the server.
                        tracing::warn!(error = %err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let handler = handler.clone();
                let service = service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, std::convert::Infallible>(handler.handle(req, client).await) }
                });
                let conn = http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(30))
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(err) = conn.await {
                        tracing::debug!(error = %err, %client, "connection ended with an error");
                    }
                });
            }
        }
    }
    drop(listener);
    tracing::info!(grace = ?grace, "shutting down: no new connections, draining in-flight requests");
    match tokio::time::timeout(grace, graceful.shutdown()).await {
        Ok(()) => Ok(Drained::Clean),
        Err(_) => Ok(Drained::TimedOut),
    }
}
