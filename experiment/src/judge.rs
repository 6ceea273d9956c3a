//! The verdict: the steady-state hypothesis (Chaos Toolkit's rules) and
//! the extension's service-level tolerances, each check with what was
//! expected and what was measured, so the journal and report can name the
//! one that failed.

use serde::{Deserialize, Serialize};

use crate::faults::FaultWindow;
use crate::load::stats::{self, CounterCheck, Seen, Summary};
use crate::load::{Phase, Sample};
use crate::model::{PhaseTolerances, ServiceTolerances};
use crate::platform::Restart;

/// One judged tolerance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// What was judged: `after.max_p99_ms`, `counter_matches_200s`…
    pub name: String,
    /// The tolerance: `<= 250 ms`.
    pub expected: String,
    /// What the run measured.
    pub measured: String,
    /// Within the tolerance.
    pub met: bool,
}

/// How one fault was seen: by the platform's liveness probe when it
/// restarted the target during the fault, else by the load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultSeen {
    /// The fault's id.
    pub fault: String,
    /// Its kind.
    pub kind: String,
    /// `liveness probe` or `load`.
    pub by: String,
    /// Seconds from its start to its detection.
    pub time_to_detect_s: Option<f64>,
    /// Seconds from its end (or the restart decision) to service restored.
    pub time_to_recover_s: Option<f64>,
    /// Whether service came back before the run ended.
    pub recovered: bool,
}

/// The load's numbers the tolerances are judged on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// The whole load.
    pub overall: Summary,
    /// Before the method.
    pub before: Summary,
    /// During it.
    pub during: Summary,
    /// After it.
    pub after: Summary,
    /// The Redis counter against the `200`s.
    pub counter: Option<CounterCheck>,
    /// Each fault, as seen.
    pub faults: Vec<FaultSeen>,
}

impl Measured {
    /// Measures the samples; `visits` adds the counter values activities saw.
    pub fn from_samples(
        samples: &[Sample],
        extra_visits: &[u64],
        windows: &[FaultWindow],
        restarts: &[Restart],
    ) -> Self {
        let visits = samples.iter().filter_map(|s| s.visits).chain(extra_visits.iter().copied());
        Self {
            overall: stats::summarize(samples),
            before: stats::phase(samples, Phase::Before),
            during: stats::phase(samples, Phase::During),
            after: stats::phase(samples, Phase::After),
            counter: Some(stats::counter(visits)),
            faults: windows.iter().filter_map(|w| fault_seen(samples, w, restarts)).collect(),
        }
    }

    fn phase(&self, name: &str) -> &Summary {
        match name {
            "before" => &self.before,
            "during" => &self.during,
            "after" => &self.after,
            _ => &self.overall,
        }
    }
}

fn fault_seen(samples: &[Sample], window: &FaultWindow, restarts: &[Restart]) -> Option<FaultSeen> {
    let end = window.end_s.unwrap_or(f64::INFINITY);
    let restart = restarts.iter().find(|r| r.detected_s >= window.start_s && r.detected_s <= end + 0.5);
    let (by, seen) = match restart {
        Some(r) => (
            "liveness probe".to_owned(),
            Seen {
                time_to_detect_s: Some(r.detected_s - window.start_s),
                time_to_recover_s: r.first_200_s.map(|t| t - r.detected_s),
                recovered: r.first_200_s.is_some(),
            },
        ),
        None => ("load".to_owned(), stats::seen(samples, window.start_s, end)?),
    };
    Some(FaultSeen {
        fault: window.id.clone(),
        kind: window.kind.clone(),
        by,
        time_to_detect_s: seen.time_to_detect_s,
        time_to_recover_s: seen.time_to_recover_s,
        recovered: seen.recovered,
    })
}

/// Judges every tolerance of the extension.
pub fn service_checks(tolerances: &ServiceTolerances, measured: &Measured) -> Vec<Check> {
    let mut checks = Vec::new();
    for (name, phase) in [
        ("overall", &tolerances.overall),
        ("before", &tolerances.before),
        ("during", &tolerances.during),
        ("after", &tolerances.after),
    ] {
        phase_checks(name, phase, measured.phase(name), &mut checks);
    }
    if tolerances.counter_matches_200s
        && let Some(c) = &measured.counter
    {
        checks.push(Check {
            name: "counter_matches_200s".to_owned(),
            expected: "the counter grew by exactly the 200s that carried it".to_owned(),
            measured: format!("{} increments, {} 200s ({} distinct values)", c.increments, c.ok_responses, c.distinct),
            met: c.matches,
        });
    }
    type Value = fn(&FaultSeen) -> Option<f64>;
    let limits: [(&str, Option<f64>, Value, &str); 2] = [
        (
            "max_time_to_detect_seconds",
            tolerances.max_time_to_detect,
            |f: &FaultSeen| f.time_to_detect_s,
            "never detected",
        ),
        (
            "max_time_to_recover_seconds",
            tolerances.max_time_to_recover,
            |f: &FaultSeen| f.time_to_recover_s,
            "never recovered",
        ),
    ];
    for (name, limit, value, missing) in limits {
        let Some(limit) = limit else { continue };
        if measured.faults.is_empty() {
            checks.push(Check {
                name: name.to_owned(),
                expected: format!("<= {limit} s"),
                measured: "no fault was seen".to_owned(),
                met: false,
            });
        }
        for fault in &measured.faults {
            let v = value(fault);
            checks.push(Check {
                name: format!("{name} ({} {})", fault.kind, fault.fault),
                expected: format!("<= {limit} s"),
                measured: v.map_or(missing.to_owned(), |v| format!("{v:.2} s (by the {})", fault.by)),
                met: v.is_some_and(|v| v <= limit),
            });
        }
    }
    checks
}

fn phase_checks(phase: &str, tolerances: &PhaseTolerances, summary: &Summary, checks: &mut Vec<Check>) {
    let empty = summary.requests == 0;
    if let Some(max) = tolerances.max_error_ratio {
        checks.push(Check {
            name: format!("{phase}.max_error_ratio"),
            expected: format!("<= {max}"),
            measured: if empty {
                "no requests in this phase".to_owned()
            } else if summary.errors == 0 {
                format!("{:.4} (0 of {})", summary.error_ratio, summary.requests)
            } else {
                let failures = stats::failures(summary);
                format!("{:.4} ({} of {}: {failures})", summary.error_ratio, summary.errors, summary.requests)
            },
            met: !empty && summary.error_ratio <= max,
        });
    }
    if let Some(max) = tolerances.max_p99_ms {
        checks.push(Check {
            name: format!("{phase}.max_p99_ms"),
            expected: format!("<= {max} ms"),
            measured: summary.p99_ms.map_or("no answers in this phase".to_owned(), |p| format!("{p:.1} ms")),
            met: summary.p99_ms.is_some_and(|p| p <= max),
        });
    }
    if let Some(allowed) = &tolerances.allowed_statuses {
        let outside = stats::outside(summary, allowed);
        let list = |l: &[u16]| l.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
        checks.push(Check {
            name: format!("{phase}.allowed_statuses"),
            expected: format!("only {}", list(allowed)),
            measured: if empty {
                "no requests in this phase".to_owned()
            } else if outside.is_empty() {
                format!("all {} answers", summary.requests)
            } else {
                outside.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
            },
            met: !empty && outside.is_empty(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_checks_name_the_phase_and_the_value() {
        let by_status = [("200", 8), ("503", 1), ("timeout", 1)].map(|(k, v)| (k.to_owned(), v)).into();
        let summary =
            Summary { requests: 10, by_status, errors: 2, error_ratio: 0.2, p99_ms: Some(12.0), ..Summary::default() };
        let tolerances = PhaseTolerances { max_error_ratio: Some(0.1), max_p99_ms: Some(50.0), allowed_statuses: None };
        let mut checks = Vec::new();
        phase_checks("during", &tolerances, &summary, &mut checks);
        assert_eq!(checks[0].name, "during.max_error_ratio");
        assert!(!checks[0].met);
        assert_eq!(checks[0].measured, "0.2000 (2 of 10: 503: 1, timeout: 1)");
        assert!(checks[1].met);
        let mut empty = Vec::new();
        phase_checks("after", &tolerances, &Summary::default(), &mut empty);
        assert!(empty.iter().all(|c| !c.met), "{empty:?}");
    }
}
