//! The one deadline every sidecar call of a request shares, and whether the
//! link already failed in this request.
//!
//! Why: a frozen sidecar (SIGSTOP, a full accept queue) still accepts
//! connections but never answers. With a timeout per call, `GET /` — decide,
//! store, then two telemetry calls — waited out four timeouts in a row (8 s
//! under `spin up`, which has no request timeout to cut it short). Now the
//! first call of a request starts a [`Budget`] of [`BUDGET_MS`] that every
//! later call draws from; a chaos hold adds its own length; and once a call
//! failed in transport, telemetry calls are dropped. A request whose sidecar
//! froze answers `503` about one budget after it started.
//!
//! Per request by construction: the state is this instance's, and both hosts
//! instantiate a handler (with the bridge composed into it) afresh for every
//! request — `chaoslab up` always, Spin 4.0.2 for every WASIp2 component (its
//! `--max-instance-reuse-count` "has no effect for WASIp2 components"). A
//! host that reused instances would carry a spent budget into the next
//! request: [`Budget`] is the state to reset per request then. That is why
//! `chaoslab up --instance-reuse` refuses `--link loopback`.

use std::sync::{Mutex, PoisonError};

/// How long all sidecar calls of one request may take together, chaos holds
/// not counted. Above the sidecar's own deadline for a Redis call (500 ms
/// by default, `--redis-call-timeout`) with room for the request's other
/// calls (each well under a millisecond on loopback); short enough that a
/// request whose sidecar froze answers `503` within 1.5 s.
pub const BUDGET_MS: u64 = 1_000;

const NS_PER_MS: u64 = 1_000_000;

/// A request's time for sidecar calls, on a monotonic clock in nanoseconds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// When the time is up; `None` until the request's first call.
    deadline_ns: Option<u64>,
    /// A call of this request could not reach the sidecar or got no answer.
    link_failed: bool,
}

impl Budget {
    /// The deadline, started at `now_ns` by the request's first call.
    fn deadline(&mut self, now_ns: u64) -> u64 {
        *self.deadline_ns.get_or_insert(now_ns.saturating_add(BUDGET_MS * NS_PER_MS))
    }

    /// The time left at `now_ns`, in nanoseconds (0: spent).
    pub fn remaining_ns(&mut self, now_ns: u64) -> u64 {
        self.deadline(now_ns).saturating_sub(now_ns)
    }

    /// Grants `ms` more: the length of a chaos hold, which is the fault
    /// working as asked, not the sidecar being slow.
    pub fn extend(&mut self, now_ns: u64, ms: u64) {
        self.deadline_ns = Some(self.deadline(now_ns).saturating_add(ms.saturating_mul(NS_PER_MS)));
    }

    /// Records that a call failed in transport (refused, unreachable, no
    /// answer in time, link token refused).
    pub fn mark_link_failed(&mut self) {
        self.link_failed = true;
    }

    /// True once a call of this request failed in transport.
    pub fn link_failed(&self) -> bool {
        self.link_failed
    }
}

/// This instance's — this request's — budget.
static BUDGET: Mutex<Budget> = Mutex::new(Budget { deadline_ns: None, link_failed: false });

/// Runs `f` on this request's budget with the monotonic clock's time.
fn with<R>(f: impl FnOnce(&mut Budget, u64) -> R) -> R {
    let now_ns = wasi::clocks::monotonic_clock::now();
    f(&mut BUDGET.lock().unwrap_or_else(PoisonError::into_inner), now_ns)
}

/// The time this request's calls have left, in nanoseconds (0: spent).
pub fn remaining_ns() -> u64 {
    with(|budget, now| budget.remaining_ns(now))
}

/// Grants this request `ms` more (a chaos hold).
pub fn extend(ms: u64) {
    with(|budget, now| budget.extend(now, ms));
}

/// Records a transport failure of this request's link.
pub fn mark_link_failed() {
    with(|budget, _| budget.mark_link_failed());
}

/// True once a call of this request failed in transport.
pub fn link_failed() -> bool {
    with(|budget, _| budget.link_failed())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = NS_PER_MS;

    #[test]
    fn the_first_call_starts_one_budget_that_later_calls_share() {
        let mut budget = Budget::default();
        assert_eq!(budget.remaining_ns(5_000 * MS), BUDGET_MS * MS);
        assert_eq!(budget.remaining_ns(5_400 * MS), (BUDGET_MS - 400) * MS);
        assert_eq!(budget.remaining_ns(5_000 * MS + BUDGET_MS * MS), 0);
        assert_eq!(budget.remaining_ns(9_000 * MS), 0, "spent stays spent");
    }

    #[test]
    fn a_hold_adds_its_length() {
        let mut budget = Budget::default();
        budget.remaining_ns(0);
        budget.extend(200 * MS, 3_000);
        assert_eq!(budget.remaining_ns(200 * MS), (BUDGET_MS + 3_000 - 200) * MS);
        let mut fresh = Budget::default();
        fresh.extend(0, 50);
        assert_eq!(fresh.remaining_ns(0), (BUDGET_MS + 50) * MS, "a hold as the first call starts the budget");
    }

    #[test]
    fn a_transport_failure_is_remembered() {
        let mut budget = Budget::default();
        assert!(!budget.link_failed());
        budget.mark_link_failed();
        assert!(budget.link_failed());
    }
}
