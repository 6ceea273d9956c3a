//! [`CappedBody`]: a chunked request body handed to the guest as it
//! arrives — never read whole first, so request and response bodies stream
//! through any handler (the chaos layer's pass-through relies on it) — and
//! still capped at the body limit. What the body did is kept in a
//! [`BodyWatch`], so that the handler can answer `413` when the cap was hit
//! and `408` when the guest's deadline passed while it still waited for the
//! client's next chunk.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

/// What a [`CappedBody`] saw; shared with the handler.
#[derive(Debug, Default)]
pub struct BodyWatch {
    /// A chunk would have taken the body past its limit.
    over_limit: AtomicBool,
    /// The last read found no chunk ready: the client had not sent it yet.
    waiting: AtomicBool,
}

impl BodyWatch {
    /// The body went over its limit (the guest got an error instead).
    pub fn over_limit(&self) -> bool {
        self.over_limit.load(Ordering::Acquire)
    }

    /// The guest was waiting for the client's next chunk when last polled.
    pub fn waiting(&self) -> bool {
        self.waiting.load(Ordering::Acquire)
    }
}

/// A request body passed through chunk by chunk; the chunk that would take
/// it past `limit` bytes is an error (`HttpRequestBodySize`) for the guest.
pub struct CappedBody {
    /// The client's body.
    inner: Incoming,
    /// Bytes still allowed.
    remaining: u64,
    /// The limit, for the error.
    limit: u64,
    /// What happened, for the handler.
    watch: Arc<BodyWatch>,
}

impl CappedBody {
    /// Caps `inner` at `limit` bytes; the watch tells the handler what happened.
    pub fn new(inner: Incoming, limit: u64) -> (Self, Arc<BodyWatch>) {
        let watch = Arc::new(BodyWatch::default());
        (Self { inner, remaining: limit, limit, watch: watch.clone() }, watch)
    }
}

impl Body for CappedBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        self.watch.waiting.store(polled.is_pending(), Ordering::Release);
        let Poll::Ready(Some(Ok(frame))) = polled else {
            return polled.map(|frame| frame.map(|result| result.map_err(Into::into)));
        };
        let len = frame.data_ref().map_or(0, |data| data.len() as u64);
        if len > self.remaining {
            self.watch.over_limit.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpRequestBodySize(Some(self.limit)))));
        }
        self.remaining -= len;
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
