//! The HTTP/1.1 listener of both binaries — `chaoslab up`'s data plane and
//! `chaoslab-sidecar`'s link — with connection-level limits, so neither a
//! slow nor a crowding client can take a service down:
//!
//! - a request head must arrive within `--header-read-timeout` of its first
//!   byte (slowloris), with at most `--max-headers` fields and
//!   `--max-header-kb` of head (else 431);
//! - a keep-alive connection idle for `--idle-timeout` is closed;
//! - at most `--max-connections` are open; at the cap the oldest idle one
//!   makes room for each new one ([`registry`]);
//! - the open-file limit is raised to its hard limit and the cap fitted to
//!   it ([`nofile`]).
//!
//! Request bodies are each server's business (`--max-body-kb` and the
//! request timeout in the runtime, the RPC body limit in the sidecar).
//!
//! - [`limits`]: [`ConnectionArgs`], the flags.
//! - [`conn`]: one connection's state, its watched socket, its tracked
//!   requests and the task that closes it.
//! - [`registry`]: the open connections and the cap.
//! - [`nofile`]: the open-file limit (`RLIMIT_NOFILE`).

pub mod conn;
pub mod limits;
pub mod nofile;
pub mod registry;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub use limits::ConnectionArgs;

use conn::{Tracked, Watched};
use registry::Registry;

/// How a server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// Every connection finished its requests and closed.
    Clean,
    /// The grace period ran out with requests still in flight.
    TimedOut,
}

/// Serves `listener` with the service `make(peer)` builds for each
/// connection, within `limits`, until `shutdown` resolves; then stops
/// accepting, lets each connection finish its request and close, and waits
/// up to `grace` for them. Each connection accepted counts in the
/// `chaoslab.http.connections` metric under `role`'s listener.
pub async fn serve<M, S, B>(
    listener: TcpListener,
    role: chaoslab_telemetry::Role,
    limits: ConnectionArgs,
    make: M,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<Drained>
where
    M: Fn(SocketAddr) -> S,
    S: hyper::service::Service<http::Request<Incoming>, Response = http::Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let cap = nofile::connection_cap(limits.max_connections, nofile::raise());
    if cap < limits.max_connections as usize {
        tracing::warn!(cap, asked = limits.max_connections, "connection cap lowered to fit the open-file limit");
    }
    let registry = Registry::new(cap);
    let limits = Arc::new(limits);
    let mut builder = http1::Builder::new();
    // Our own timers cover the head (see `conn`); hyper's would also cut idle connections.
    builder.header_read_timeout(None).max_header_size(limits.max_header_bytes());
    if limits.max_headers != limits::DEFAULT_MAX_HEADERS {
        // hyper parses up to its default on the stack; another value costs an allocation per request.
        builder.max_headers(limits.max_headers as usize);
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        if !registry.make_room() {
            // Every connection is busy: new clients wait in the backlog.
            tokio::select! {
                () = &mut shutdown => break,
                () = registry.closed() => continue,
            }
        }
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Per-connection errors (EMFILE, ECONNABORTED) must not stop the server.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        chaoslab_telemetry::metrics::instruments().record_connection(role);
        let registered = registry.register();
        let state = registered.state.clone();
        let io = TokioIo::new(Watched::new(stream, state.clone()));
        let conn = builder.serve_connection(io, Tracked::new(make(peer), state.clone()));
        let (limits, stop) = (limits.clone(), stop_rx.clone());
        tokio::spawn(async move {
            conn::drive(conn, state, &limits, stop, peer).await;
            drop(registered);
        });
    }
    drop(listener);
    tracing::info!(grace = ?grace, "shutting down: no new connections, draining in-flight requests");
    let _ = stop_tx.send(true);
    match tokio::time::timeout(grace, registry.drained()).await {
        Ok(()) => Ok(Drained::Clean),
        Err(_) => Ok(Drained::TimedOut),
    }
}
