//! Canary judgement: a revision given a share below 100 % is watched for a
//! window — until it has answered `requests` requests or `seconds` have
//! passed, whichever comes first — and its `5xx` ratio over the window is
//! compared with the ratio of the revisions serving the rest. More than
//! `max_error_ratio_delta` above theirs rolls it back; otherwise it is
//! promoted to 100 %. A canary that got no request in the window has shown
//! nothing against it (it passed its health gate) and is promoted.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::split::Counts;

/// Default watch window: canary answers.
pub const DEFAULT_REQUESTS: u64 = 100;
/// Default watch window: seconds.
pub const DEFAULT_SECONDS: u64 = 60;
/// Default largest excess of the canary's `5xx` ratio over the others'.
pub const DEFAULT_MAX_ERROR_RATIO_DELTA: f64 = 0.05;

/// The watch window of a canary and its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Watch {
    /// The window closes after this many answers of the canary ...
    pub requests: u64,
    /// ... or after this many seconds, whichever comes first.
    pub seconds: u64,
    /// Rolled back when its `5xx` ratio exceeds the others' by more than this (0–1).
    pub max_error_ratio_delta: f64,
}

impl Default for Watch {
    fn default() -> Self {
        Self {
            requests: DEFAULT_REQUESTS,
            seconds: DEFAULT_SECONDS,
            max_error_ratio_delta: DEFAULT_MAX_ERROR_RATIO_DELTA,
        }
    }
}

impl Watch {
    /// The window's length in time.
    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.seconds)
    }

    /// True once the window is closed, after `canary` answers in `elapsed`.
    pub fn closed(&self, canary: Counts, elapsed: Duration) -> bool {
        canary.answered >= self.requests || elapsed >= self.duration()
    }

    /// The verdict on `canary` against `baseline` (the other revisions'
    /// answers over the same window).
    pub fn judge(&self, canary: Counts, baseline: Counts, baseline_ids: &str) -> Verdict {
        let (ours, theirs) = (canary.error_ratio(), baseline.error_ratio());
        if ours - theirs > self.max_error_ratio_delta {
            Verdict::RollBack(format!(
                "5xx ratio {:.1} % ({}/{}) against {:.1} % ({}/{}) on {baseline_ids} over the watch window; \
                 more than the allowed +{:.1} %",
                ours * 100.0,
                canary.errors,
                canary.answered,
                theirs * 100.0,
                baseline.errors,
                baseline.answered,
                self.max_error_ratio_delta * 100.0
            ))
        } else {
            Verdict::Promote
        }
    }
}

/// What the watch decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Give it 100 %.
    Promote,
    /// Roll it back, for this reason.
    RollBack(String),
}

/// How a canary's watch is going, or how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchOutcome {
    /// The window is open.
    Watching,
    /// It was promoted to 100 %.
    Promoted,
    /// It was rolled back.
    RolledBack,
    /// An operator changed the traffic (`activate`, `PUT /_chaoslab/traffic`) before it closed.
    Cancelled,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(answered: u64, errors: u64) -> Counts {
        Counts { answered, errors }
    }

    #[test]
    fn a_canary_failing_more_than_the_threshold_is_rolled_back_with_the_ratios() {
        let watch = Watch { requests: 20, seconds: 60, max_error_ratio_delta: 0.05 };
        let verdict = watch.judge(counts(20, 20), counts(80, 0), "api-rev-1");
        let Verdict::RollBack(reason) = verdict else { panic!("promoted") };
        assert!(reason.starts_with("5xx ratio 100.0 % (20/20) against 0.0 % (0/80) on api-rev-1"), "{reason}");
        assert!(reason.contains("+5.0 %"), "{reason}");
    }

    #[test]
    fn a_canary_within_the_threshold_or_unused_is_promoted() {
        let watch = Watch { requests: 20, seconds: 60, max_error_ratio_delta: 0.05 };
        assert_eq!(watch.judge(counts(20, 1), counts(80, 0), "r"), Verdict::Promote, "5 % is not more than 5 %");
        assert_eq!(watch.judge(counts(20, 4), counts(80, 16), "r"), Verdict::Promote, "no worse than the others");
        assert_eq!(watch.judge(counts(0, 0), counts(80, 0), "r"), Verdict::Promote);
    }

    #[test]
    fn the_window_closes_on_requests_or_time() {
        let watch = Watch { requests: 20, seconds: 2, max_error_ratio_delta: 0.05 };
        assert!(!watch.closed(counts(19, 0), Duration::from_secs(1)));
        assert!(watch.closed(counts(20, 0), Duration::from_secs(1)));
        assert!(watch.closed(counts(0, 0), Duration::from_secs(2)));
    }
}
