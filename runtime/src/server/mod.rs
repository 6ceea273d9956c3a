//! The HTTP/1.1 server: `chaoslab-sidecar`'s listener (connection limits,
//! graceful shutdown) serving the [`Handler`].
//!
//! - [`handler`]: one request: the control API, or a component's revision.
//! - [`guest`]: a request through a fresh instance (or a warm one with
//!   `--instance-reuse`), under a deadline (shared with the revisions'
//!   health gate).
//! - [`problem`]: the runtime's own problem+json answers.
//! - [`request_body`]: a chunked request body streamed to the guest, capped.
//! - [`telemetry`]: the server span and metrics of each request.
//! - [`warm`]: the instances kept between requests with `--instance-reuse`.

pub mod guest;
pub mod handler;
pub mod problem;
pub mod request_body;
pub mod telemetry;
pub mod warm;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use tokio::net::TcpListener;

pub use chaoslab_sidecar::listener::Drained;
pub use handler::{Handler, RequestLimits};

use crate::host::SidecarImports;

/// Serves `listener` within the connection limits until `shutdown`
/// resolves, then stops accepting and waits up to `grace` for in-flight
/// requests to finish.
pub async fn serve<S: SidecarImports>(
    listener: TcpListener,
    handler: Arc<Handler<S>>,
    connections: chaoslab_sidecar::ConnectionArgs,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<Drained> {
    let make = move |client| {
        let handler = handler.clone();
        service_fn(move |req| {
            let handler = handler.clone();
            async move { Ok::<_, std::convert::Infallible>(handler.handle(req, client).await) }
        })
    };
    chaoslab_sidecar::listener::serve(listener, chaoslab_telemetry::Role::Runtime, connections, make, shutdown, grace)
        .await
}
