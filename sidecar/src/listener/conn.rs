//! One connection's life: what it is doing ([`ConnState`]: idle, reading a
//! request head, or serving requests), learnt from its socket reads
//! ([`Watched`]) and its requests ([`Tracked`]), and the task that closes it
//! when a timeout or the registry says so ([`drive`]).
//!
//! Cheap on the hot path: a request costs two atomic updates and a
//! `Notify`; no allocation, no extra task.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::limits::ConnectionArgs;

/// What one connection is doing, shared by its socket, its requests, its
/// driver and the registry.
#[derive(Debug)]
pub struct ConnState {
    /// When it was accepted: the origin of the `*_ms` fields.
    accepted: Instant,
    /// Requests in flight (service called, response body not yet sent).
    busy: AtomicU32,
    /// Bytes of a request head arrived while no request was in flight.
    reading_head: AtomicBool,
    /// When it went idle or the current head began, ms after `accepted`.
    since_ms: AtomicU64,
    /// Chosen by the registry to make room for a new connection.
    evicted: AtomicBool,
    /// Wakes the driver: a head began, a request ended, or an eviction.
    wake: Notify,
}

/// Why a connection must close now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expired {
    /// Idle past `--idle-timeout`.
    Idle,
    /// Its request head is still incomplete past `--header-read-timeout`.
    Head,
}

impl ConnState {
    /// A fresh connection: idle since now.
    pub fn new() -> Self {
        Self {
            accepted: Instant::now(),
            busy: AtomicU32::new(0),
            reading_head: AtomicBool::new(false),
            since_ms: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// True while a request is in flight (an eviction skips it).
    pub fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Acquire) > 0
    }

    /// Marks it for closing to make room; false if it was already marked.
    pub fn evict(&self) -> bool {
        let first = !self.evicted.swap(true, Ordering::AcqRel);
        if first {
            self.wake.notify_one();
        }
        first
    }

    /// True once evicted.
    pub fn is_evicted(&self) -> bool {
        self.evicted.load(Ordering::Acquire)
    }

    /// Bytes arrived from the client.
    fn on_read(&self) {
        if !self.is_busy() && !self.reading_head.swap(true, Ordering::AcqRel) {
            self.since_ms.store(self.now_ms(), Ordering::Release);
            self.wake.notify_one();
        }
    }

    /// A request reached the service.
    fn begin(&self) {
        self.busy.fetch_add(1, Ordering::AcqRel);
    }

    /// A request's response was sent (or abandoned).
    fn end(&self) {
        if self.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.reading_head.store(false, Ordering::Release);
            self.since_ms.store(self.now_ms(), Ordering::Release);
            self.wake.notify_one();
        }
    }

    /// When the current phase expires, and how; `None` while busy.
    fn deadline(&self, limits: &ConnectionArgs) -> Option<(Instant, Expired)> {
        if self.is_busy() {
            return None;
        }
        let since = self.accepted + Duration::from_millis(self.since_ms.load(Ordering::Acquire));
        Some(if self.reading_head.load(Ordering::Acquire) {
            (since + *limits.header_read_timeout, Expired::Head)
        } else {
            (since + *limits.idle_timeout, Expired::Idle)
        })
    }
}

impl Default for ConnState {
    fn default() -> Self {
        Self::new()
    }
}

/// A socket that tells its [`ConnState`] when bytes arrive.
#[derive(Debug)]
pub struct Watched<T> {
    /// The socket.
    io: T,
    /// Its connection's state.
    state: Arc<ConnState>,
}

impl<T> Watched<T> {
    /// Watches `io` for `state`.
    pub fn new(io: T, state: Arc<ConnState>) -> Self {
        Self { io, state }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.io).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            self.state.on_read();
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// One request in flight: ends it when dropped (the response body is done,
/// or the request was abandoned).
#[derive(Debug)]
pub struct InFlight(Arc<ConnState>);

impl InFlight {
    fn new(state: &Arc<ConnState>) -> Self {
        state.begin();
        Self(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// A hyper service whose requests are counted in flight until their
/// response body has been sent.
#[derive(Debug, Clone)]
pub struct Tracked<S> {
    /// The service.
    inner: S,
    /// Its connection's state.
    state: Arc<ConnState>,
}

impl<S> Tracked<S> {
    /// Tracks `inner`'s requests in `state`.
    pub fn new(inner: S, state: Arc<ConnState>) -> Self {
        Self { inner, state }
    }
}

impl<S, R, B> hyper::service::Service<R> for Tracked<S>
where
    S: hyper::service::Service<R, Response = http::Response<B>>,
{
    type Response = http::Response<TrackedBody<B>>;
    type Error = S::Error;
    type Future = TrackedFuture<S::Future>;

    fn call(&self, req: R) -> Self::Future {
        let in_flight = InFlight::new(&self.state);
        TrackedFuture { inner: self.inner.call(req), in_flight: Some(in_flight) }
    }
}

pin_project_lite::pin_project! {
    /// The future of a [`Tracked`] call.
    pub struct TrackedFuture<F> {
        #[pin]
        inner: F,
        in_flight: Option<InFlight>,
    }
}

impl<F, B, E> Future for TrackedFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<TrackedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let resp = ready!(this.inner.poll(cx))?;
        let in_flight = this.in_flight.take();
        Poll::Ready(Ok(resp.map(|inner| TrackedBody { inner, _in_flight: in_flight })))
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its request in flight until it is dropped.
    pub struct TrackedBody<B> {
        #[pin]
        inner: B,
        _in_flight: Option<InFlight>,
    }
}

impl<B: Body> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection the driver can ask to finish its current request and close.
pub trait GracefulConnection: Future<Output = hyper::Result<()>> {
    /// hyper's `graceful_shutdown`.
    fn close_gracefully(self: Pin<&mut Self>);
}

impl<I, S, B> GracefulConnection for hyper::server::conn::http1::Connection<I, S>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn close_gracefully(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

/// Runs `conn` until it ends, a timeout closes it, the registry evicts it,
/// or `shutdown` turns true (then it finishes its request and closes).
pub async fn drive<C: GracefulConnection>(
    conn: C,
    state: Arc<ConnState>,
    limits: &ConnectionArgs,
    mut shutdown: watch::Receiver<bool>,
    peer: std::net::SocketAddr,
) {
    let mut conn = std::pin::pin!(conn);
    let mut closing = false;
    loop {
        let deadline = state.deadline(limits);
        let timer = async {
            match deadline {
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, %peer, "connection ended with an error");
                }
                return;
            }
            () = state.wake.notified() => {
                if state.is_evicted() && !state.is_busy() {
                    tracing::debug!(%peer, "connection closed to make room (connection cap)");
                    return;
                }
            }
            () = timer => {
                // Re-read: the phase may have changed while the timer ran.
                if let Some((at, why)) = state.deadline(limits) && at <= Instant::now() {
                    tracing::debug!(%peer, ?why, "connection closed: timeout");
                    return;
                }
            }
            changed = shutdown.changed(), if !closing => {
                let _ = changed;
                conn.as_mut().close_gracefully();
                closing = true;
            }
        }
    }
}
