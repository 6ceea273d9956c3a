//! [`until`]: polls a condition of something running elsewhere (a log, a
//! receiver) until it holds or time is up.

use std::time::{Duration, Instant};

/// How often [`until`] looks again.
const EVERY: Duration = Duration::from_millis(20);

/// True as soon as `check` holds, false when it still does not after `within`.
pub fn until(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if check() {
            return true;
        }
        std::thread::sleep(EVERY);
    }
    false
}
