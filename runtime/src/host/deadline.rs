//! [`RequestDeadline`]: a request's time budget, which chaos holds extend.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The deadline of one request: `start + timeout + extensions`.
#[derive(Debug)]
pub struct RequestDeadline {
    /// When the request started.
    start: Instant,
    /// The runtime's request timeout.
    timeout: Duration,
    /// Time granted on top, in ms (chaos holds).
    extra_ms: AtomicU64,
}

impl RequestDeadline {
    /// A deadline `timeout` from now.
    pub fn new(timeout: Duration) -> Self {
        Self { start: Instant::now(), timeout, extra_ms: AtomicU64::new(0) }
    }

    /// Grants `by` more time.
    pub fn extend(&self, by: Duration) {
        self.extra_ms.fetch_add(u64::try_from(by.as_millis()).unwrap_or(u64::MAX), Ordering::SeqCst);
    }

    /// The current deadline.
    pub fn at(&self) -> Instant {
        let extra = Duration::from_millis(self.extra_ms.load(Ordering::SeqCst));
        self.start
            .checked_add(self.timeout.saturating_add(extra))
            .unwrap_or_else(|| self.start + Duration::from_secs(86_400 * 365))
    }

    /// Runs `work` until it finishes or the (possibly extended) deadline passes.
    pub async fn run<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        let mut work = std::pin::pin!(work);
        loop {
            let at = self.at();
            tokio::select! {
                out = &mut work => return Some(out),
                () = tokio::time::sleep_until(at.into()) => {
                    if Instant::now() >= self.at() {
                        return None;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn extensions_move_the_deadline() {
        let d = RequestDeadline::new(Duration::from_millis(50));
        assert_eq!(d.run(tokio::time::sleep(Duration::from_millis(200))).await, None);
        let d = RequestDeadline::new(Duration::from_millis(50));
        let work = async {
            d.extend(Duration::from_millis(300));
            tokio::time::sleep(Duration::from_millis(200)).await;
            7
        };
        assert_eq!(d.run(work).await, Some(7));
    }
}
