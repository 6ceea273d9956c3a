//! What the samples say: counts and latency percentiles (HDR histogram)
//! per phase and per second, the Redis counter check, and how long the
//! load took to see a fault and to see it end.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::{Outcome, Phase, Sample};

/// Highest latency the histograms track: 1 h in µs (beyond: clamped).
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Counts and latencies of a set of requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Requests due in it.
    pub requests: u64,
    /// Count per outcome key (`"200"`, `"503"`, `"timeout"`…).
    pub by_status: BTreeMap<String, u64>,
    /// 4xx, 5xx and no answer.
    pub errors: u64,
    /// `errors / requests` (0 when empty).
    pub error_ratio: f64,
    /// Median latency, ms (answers and timeouts; not connection errors).
    pub p50_ms: Option<f64>,
    /// 99th percentile latency, ms.
    pub p99_ms: Option<f64>,
    /// Slowest, ms.
    pub max_ms: Option<f64>,
}

/// One second of the load (by due time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Second {
    /// Start of the bucket `[t, t+1)`, seconds from the run's start
    /// (buckets are whole seconds of the load).
    pub t: f64,
    /// Counts and latencies.
    #[serde(flatten)]
    pub summary: Summary,
}

/// Summarizes the samples `keep` selects.
pub fn summarize<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> Summary {
    let mut hist = Histogram::<u64>::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds");
    let mut summary = Summary::default();
    for s in samples {
        summary.requests += 1;
        *summary.by_status.entry(s.outcome.key()).or_default() += 1;
        if s.outcome.is_error() {
            summary.errors += 1;
        }
        if matches!(s.outcome, Outcome::Status(_) | Outcome::Timeout) {
            hist.saturating_record(u64::from(s.latency_us).clamp(1, MAX_LATENCY_US));
        }
    }
    if summary.requests > 0 {
        summary.error_ratio = summary.errors as f64 / summary.requests as f64;
    }
    if !hist.is_empty() {
        let ms = |us: u64| us as f64 / 1000.0;
        summary.p50_ms = Some(ms(hist.value_at_quantile(0.50)));
        summary.p99_ms = Some(ms(hist.value_at_quantile(0.99)));
        summary.max_ms = Some(ms(hist.max()));
    }
    summary
}

/// The summary of one phase.
pub fn phase(samples: &[Sample], phase: Phase) -> Summary {
    summarize(samples.iter().filter(|s| s.phase == phase))
}

/// One summary per whole second of the load, counted from `start_s` (its
/// start); a last, partial second (the load stopped within it) is left out.
pub fn series(samples: &[Sample], start_s: f64, stop_s: f64) -> Vec<Second> {
    let start_us = (start_s * 1e6) as u64;
    let mut buckets: BTreeMap<u64, Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        buckets.entry(s.due_us.saturating_sub(start_us) / 1_000_000).or_default().push(s);
    }
    let Some(&last) = buckets.keys().next_back() else { return Vec::new() };
    let whole = ((stop_s - start_s).max(0.0) + 0.001).floor() as u64;
    (0..whole.min(last + 1))
        .map(|i| Second { t: start_s + i as f64, summary: summarize(buckets.get(&i).into_iter().flatten().copied()) })
        .collect()
}

/// Statuses outside `allowed` (outcome keys), with their counts.
pub fn outside(summary: &Summary, allowed: &[u16]) -> BTreeMap<String, u64> {
    let allowed: Vec<String> = allowed.iter().map(u16::to_string).collect();
    summary.by_status.iter().filter(|(k, _)| !allowed.contains(k)).map(|(k, v)| (k.clone(), *v)).collect()
}

/// The failed outcomes (4xx, 5xx, no answer) with their counts, as
/// `"503: 2, timeout: 1"`: what a deviation line names.
pub fn failures(summary: &Summary) -> String {
    let failed = |key: &str| !key.parse::<u16>().is_ok_and(|status| status < 400);
    let parts: Vec<String> =
        summary.by_status.iter().filter(|(k, _)| failed(k)).map(|(k, v)| format!("{k}: {v}")).collect();
    parts.join(", ")
}

/// The Redis counter against the `200`s that carried it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterCheck {
    /// `200`s whose body had `visits` (load and activities).
    pub ok_responses: u64,
    /// Distinct `visits` values among them.
    pub distinct: u64,
    /// Lowest value seen.
    pub first: Option<u64>,
    /// Highest value seen.
    pub last: Option<u64>,
    /// `last - first + 1`: how much the counter grew over the run.
    pub increments: u64,
    /// True when every increment came back as exactly one `200`.
    pub matches: bool,
}

/// Checks that the counter grew by exactly the number of `200`s carrying
/// it, each with its own value: an increment whose answer was lost leaves
/// a gap, an answer counted twice a duplicate. (Assumes no other client
/// increments the counter during the run.)
pub fn counter(values: impl IntoIterator<Item = u64>) -> CounterCheck {
    let mut values: Vec<u64> = values.into_iter().collect();
    values.sort_unstable();
    let ok_responses = values.len() as u64;
    values.dedup();
    let (first, last) = (values.first().copied(), values.last().copied());
    let increments = match (first, last) {
        (Some(a), Some(b)) => b - a + 1,
        _ => 0,
    };
    let distinct = values.len() as u64;
    CounterCheck {
        ok_responses,
        distinct,
        first,
        last,
        increments,
        matches: distinct == ok_responses && increments == ok_responses,
    }
}

/// How the load saw one fault window `[start, end]` (seconds from the run's start).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    /// From the fault's start to the end of the first failed request due after it.
    pub time_to_detect_s: Option<f64>,
    /// From the fault's end to the end of the first success due after the
    /// last failure (0 when the failures stopped before the fault did).
    pub time_to_recover_s: Option<f64>,
    /// Failures after the last success: the load never saw the service back.
    pub recovered: bool,
}

/// What the load saw of the window `[start, end]`; `None` when no request
/// due in or after it failed.
pub fn seen(samples: &[Sample], start: f64, end: f64) -> Option<Seen> {
    let after_start: Vec<&Sample> =
        samples.iter().filter(|s| s.due_s() >= start && s.outcome != Outcome::Dropped).collect();
    let first_failure = after_start.iter().filter(|s| s.outcome.is_error()).map(|s| s.done_s()).reduce(f64::min)?;
    let last_failure_due = after_start.iter().filter(|s| s.outcome.is_error()).map(|s| s.due_s()).reduce(f64::max)?;
    let recovered_at = after_start
        .iter()
        .filter(|s| !s.outcome.is_error() && s.due_s() > last_failure_due)
        .map(|s| s.done_s())
        .reduce(f64::min);
    Some(Seen {
        time_to_detect_s: Some((first_failure - start).max(0.0)),
        time_to_recover_s: recovered_at.map(|at| (at - end).max(0.0)),
        recovered: recovered_at.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(due_ms: u64, latency_ms: u32, outcome: Outcome) -> Sample {
        Sample { due_us: due_ms * 1000, latency_us: latency_ms * 1000, outcome, phase: Phase::During, visits: None }
    }

    #[test]
    fn summaries_count_errors_and_measure_percentiles() {
        let samples: Vec<Sample> = (0..100)
            .map(|i| {
                sample(
                    i * 10,
                    if i == 99 { 500 } else { 5 },
                    if i < 90 { Outcome::Status(200) } else { Outcome::Status(503) },
                )
            })
            .collect();
        let s = summarize(&samples);
        assert_eq!((s.requests, s.errors, s.by_status["200"], s.by_status["503"]), (100, 10, 90, 10));
        assert!((s.error_ratio - 0.1).abs() < 1e-9);
        assert!((s.p50_ms.unwrap() - 5.0).abs() < 0.01 && s.max_ms.unwrap() >= 499.0, "{s:?}");
        assert_eq!(series(&samples, 0.0, 1.0).len(), 1);
        assert_eq!(series(&samples, 0.0, 0.99).len(), 0, "a partial second is left out");
        assert_eq!(outside(&s, &[200]), BTreeMap::from([("503".to_owned(), 10)]));
    }

    #[test]
    fn the_counter_check_finds_gaps_and_duplicates() {
        assert!(counter([5, 6, 7, 8]).matches);
        let gap = counter([5, 6, 8]);
        assert!(!gap.matches && gap.increments == 4 && gap.ok_responses == 3);
        assert!(!counter([5, 6, 6]).matches);
        assert!(counter([]).matches);
    }

    #[test]
    fn detection_and_recovery_are_measured_from_the_window() {
        // Fault from 1.0 s to 2.0 s: failures due 1.0..2.0 end 0.5 s later.
        let mut samples = Vec::new();
        for i in 0..30u64 {
            let failing = (1000..2000).contains(&(i * 100));
            samples.push(sample(
                i * 100,
                if failing { 500 } else { 2 },
                if failing { Outcome::Status(503) } else { Outcome::Status(200) },
            ));
        }
        let seen = seen(&samples, 1.0, 2.0).unwrap();
        assert!((seen.time_to_detect_s.unwrap() - 0.5).abs() < 1e-6, "{seen:?}");
        assert!((seen.time_to_recover_s.unwrap() - 0.002).abs() < 1e-6, "{seen:?}");
        assert!(super::seen(&samples[..5], 0.0, 0.4).is_none());
    }
}
