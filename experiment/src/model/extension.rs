//! The `chaoslab` entry of `extensions`: what Chaos Toolkit lacks and
//! ignores. A constant-rate load kept up during the run, the service-level
//! tolerances judged on it, and the platform's liveness probe under `--spawn`.
//!
//! ```json
//! {"name": "chaoslab",
//!  "load": {"rate": 50, "paths": ["/"], "duration_seconds": 12, "warmup_seconds": 2, "after_seconds": 2, "timeout_ms": 2000},
//!  "tolerances": {"after": {"max_error_ratio": 0, "max_p99_ms": 250}, "counter_matches_200s": true},
//!  "platform": {"liveness": {"period_seconds": 10}}}
//! ```
//!
//! Parsed after substitution, so any value may be a `${name}` of the configuration.

use std::time::Duration;

use serde_json::{Map, Value};

use super::fields::{FieldPath, Invalid};
use super::json::{integer_in, list, number_in, object, only_keys, text};

/// Most requests per second the load may be asked for.
pub const MAX_RATE: u64 = 10_000;
/// Longest load, in seconds.
pub const MAX_LOAD_SECONDS: u64 = 86_400;
/// Most paths the load cycles through.
pub const MAX_PATHS: usize = 16;
/// Default warm-up before the method: the `before` phase the load measures.
pub const DEFAULT_WARMUP: Duration = Duration::from_secs(2);
/// Default least load after the method (the `after` phase), when the method
/// outlasts `duration_seconds`.
pub const DEFAULT_AFTER: Duration = Duration::from_secs(2);
/// Default deadline of one load request; past it the request counts as a timeout.
pub const DEFAULT_LOAD_TIMEOUT: Duration = Duration::from_secs(2);

/// The parsed extension.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChaoslabExtension {
    /// The load, if any.
    pub load: Option<Load>,
    /// What the load (and the platform) must show.
    pub tolerances: ServiceTolerances,
    /// Overrides of the platform's liveness probe (`--spawn` only).
    pub liveness: LivenessOverrides,
}

/// `load`: open-loop constant-rate requests, from before the method until
/// after it (see the crate docs for the timeline).
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    /// `base_url` (default: the configuration's `base_url`).
    pub base_url: Option<String>,
    /// `rate`: requests per second, sent on schedule whatever the answers take.
    pub rate: u32,
    /// `paths`: cycled through, one per request.
    pub paths: Vec<String>,
    /// `duration_seconds`: how long the load runs from its start.
    pub duration: Duration,
    /// `warmup_seconds`: load before the method (the `before` phase).
    pub warmup: Duration,
    /// `after_seconds`: load at least this long after the method (the `after` phase).
    pub after: Duration,
    /// `timeout_ms`: one request's deadline.
    pub timeout: Duration,
}

/// `tolerances`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceTolerances {
    /// Over the whole load.
    pub overall: PhaseTolerances,
    /// Before the method.
    pub before: PhaseTolerances,
    /// While the method runs.
    pub during: PhaseTolerances,
    /// After the method, until the load ends.
    pub after: PhaseTolerances,
    /// `counter_matches_200s`: the Redis counter grew by exactly the number
    /// of `200`s that carried it (nothing lost, nothing counted twice).
    pub counter_matches_200s: bool,
    /// `max_time_to_detect_seconds`, per fault.
    pub max_time_to_detect: Option<f64>,
    /// `max_time_to_recover_seconds`, per fault.
    pub max_time_to_recover: Option<f64>,
}

/// Tolerances of one phase of the load.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhaseTolerances {
    /// `max_error_ratio`: failed (4xx, 5xx, no answer) / sent, 0 to 1.
    pub max_error_ratio: Option<f64>,
    /// `max_p99_ms`: 99th percentile latency, measured from the scheduled send time.
    pub max_p99_ms: Option<f64>,
    /// `allowed_statuses`: every answer has one of these (no timeouts either).
    pub allowed_statuses: Option<Vec<u16>>,
}

impl PhaseTolerances {
    /// True when nothing is asked of the phase.
    pub fn is_empty(&self) -> bool {
        self.max_error_ratio.is_none() && self.max_p99_ms.is_none() && self.allowed_statuses.is_none()
    }
}

/// `platform.liveness`: each setting overrides the Azure Container Apps
/// default (`deploy/azure/modules/app.bicep`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LivenessOverrides {
    /// `path`.
    pub path: Option<String>,
    /// `initial_delay_seconds`.
    pub initial_delay: Option<Duration>,
    /// `period_seconds`.
    pub period: Option<Duration>,
    /// `timeout_seconds`.
    pub timeout: Option<Duration>,
    /// `failure_threshold`.
    pub failure_threshold: Option<u32>,
}

/// The probe settings in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Liveness {
    /// The path probed; any HTTP answer in time is alive.
    pub path: String,
    /// Wait after each (re)start before the first probe.
    pub initial_delay: Duration,
    /// Time between probes.
    pub period: Duration,
    /// A probe without an answer by then failed.
    pub timeout: Duration,
    /// Consecutive failures that restart the process.
    pub failure_threshold: u32,
}

impl ChaoslabExtension {
    /// Parses the (substituted) extension object.
    pub fn parse(value: &Value, path: &FieldPath) -> Result<Self, Invalid> {
        let obj = object(value, path)?;
        only_keys(obj, &["name", "load", "tolerances", "platform"], path)?;
        let load = obj.get("load").map(|l| parse_load(l, &path.key("load"))).transpose()?;
        let tolerances = match obj.get("tolerances") {
            None => ServiceTolerances::default(),
            Some(t) => parse_tolerances(t, &path.key("tolerances"))?,
        };
        let needs_load = !tolerances.overall.is_empty()
            || !tolerances.before.is_empty()
            || !tolerances.during.is_empty()
            || !tolerances.after.is_empty()
            || tolerances.counter_matches_200s;
        if needs_load && load.is_none() {
            return Err(path.key("load").invalid("missing: the load tolerances are judged on a load; add one"));
        }
        let liveness = match obj.get("platform") {
            None => LivenessOverrides::default(),
            Some(p) => {
                let p_path = path.key("platform");
                let p_obj = object(p, &p_path)?;
                only_keys(p_obj, &["liveness"], &p_path)?;
                match p_obj.get("liveness") {
                    None => LivenessOverrides::default(),
                    Some(l) => parse_liveness(l, &p_path.key("liveness"))?,
                }
            }
        };
        Ok(Self { load, tolerances, liveness })
    }
}

fn seconds(value: &Value, path: &FieldPath, lo: f64, hi: f64) -> Result<Duration, Invalid> {
    Ok(Duration::from_secs_f64(number_in(value, path, lo, hi)?))
}

fn parse_load(value: &Value, path: &FieldPath) -> Result<Load, Invalid> {
    let obj = object(value, path)?;
    only_keys(
        obj,
        &["base_url", "rate", "paths", "duration_seconds", "warmup_seconds", "after_seconds", "timeout_ms"],
        path,
    )?;
    let req = |key: &str| obj.get(key).ok_or_else(|| path.key(key).invalid("missing"));
    let rate = u32::try_from(integer_in(req("rate")?, &path.key("rate"), 1, MAX_RATE)?).unwrap_or(u32::MAX);
    let paths_path = path.key("paths");
    let paths = list(req("paths")?, &paths_path)?;
    if paths.is_empty() || paths.len() > MAX_PATHS {
        return Err(paths_path.invalid(format!("expected 1 to {MAX_PATHS} paths")));
    }
    let paths = paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let p_path = paths_path.index(i);
            let p = text(p, &p_path)?;
            if p.starts_with('/') { Ok(p.to_owned()) } else { Err(p_path.invalid(format!("{p:?} must start with /"))) }
        })
        .collect::<Result<_, _>>()?;
    #[allow(clippy::cast_precision_loss)]
    let duration = seconds(req("duration_seconds")?, &path.key("duration_seconds"), 1.0, MAX_LOAD_SECONDS as f64)?;
    let warmup = match obj.get("warmup_seconds") {
        None => DEFAULT_WARMUP,
        Some(w) => seconds(w, &path.key("warmup_seconds"), 0.0, 600.0)?,
    };
    if warmup >= duration {
        return Err(path.key("warmup_seconds").invalid("must be shorter than duration_seconds"));
    }
    let after = match obj.get("after_seconds") {
        None => DEFAULT_AFTER,
        Some(a) => seconds(a, &path.key("after_seconds"), 0.0, 3600.0)?,
    };
    let timeout = match obj.get("timeout_ms") {
        None => DEFAULT_LOAD_TIMEOUT,
        Some(t) => Duration::from_millis(integer_in(t, &path.key("timeout_ms"), 1, 60_000)?),
    };
    let base_url = obj.get("base_url").map(|b| text(b, &path.key("base_url")).map(str::to_owned)).transpose()?;
    Ok(Load { base_url, rate, paths, duration, warmup, after, timeout })
}

const PHASE_KEYS: [&str; 3] = ["max_error_ratio", "max_p99_ms", "allowed_statuses"];

fn parse_phase(obj: &Map<String, Value>, path: &FieldPath) -> Result<PhaseTolerances, Invalid> {
    let max_error_ratio =
        obj.get("max_error_ratio").map(|v| number_in(v, &path.key("max_error_ratio"), 0.0, 1.0)).transpose()?;
    let max_p99_ms =
        obj.get("max_p99_ms").map(|v| number_in(v, &path.key("max_p99_ms"), 0.0, 3_600_000.0)).transpose()?;
    let allowed_statuses = match obj.get("allowed_statuses") {
        None => None,
        Some(v) => {
            let s_path = path.key("allowed_statuses");
            let items = list(v, &s_path)?;
            let statuses = items
                .iter()
                .enumerate()
                .map(|(i, s)| integer_in(s, &s_path.index(i), 100, 599).map(|n| u16::try_from(n).unwrap_or(599)))
                .collect::<Result<Vec<_>, _>>()?;
            if statuses.is_empty() {
                return Err(s_path.invalid("expected at least one status"));
            }
            Some(statuses)
        }
    };
    Ok(PhaseTolerances { max_error_ratio, max_p99_ms, allowed_statuses })
}

fn parse_tolerances(value: &Value, path: &FieldPath) -> Result<ServiceTolerances, Invalid> {
    let obj = object(value, path)?;
    let mut known = vec![
        "before",
        "during",
        "after",
        "counter_matches_200s",
        "max_time_to_detect_seconds",
        "max_time_to_recover_seconds",
    ];
    known.extend(PHASE_KEYS);
    only_keys(obj, &known, path)?;
    let phase = |key: &str| -> Result<PhaseTolerances, Invalid> {
        match obj.get(key) {
            None => Ok(PhaseTolerances::default()),
            Some(v) => {
                let p_path = path.key(key);
                let p_obj = object(v, &p_path)?;
                only_keys(p_obj, &PHASE_KEYS, &p_path)?;
                parse_phase(p_obj, &p_path)
            }
        }
    };
    let counter_matches_200s = match obj.get("counter_matches_200s") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(path.key("counter_matches_200s").invalid("must be true or false")),
    };
    let limit = |key: &str| obj.get(key).map(|v| number_in(v, &path.key(key), 0.0, 86_400.0)).transpose();
    Ok(ServiceTolerances {
        overall: parse_phase(obj, path)?,
        before: phase("before")?,
        during: phase("during")?,
        after: phase("after")?,
        counter_matches_200s,
        max_time_to_detect: limit("max_time_to_detect_seconds")?,
        max_time_to_recover: limit("max_time_to_recover_seconds")?,
    })
}

fn parse_liveness(value: &Value, path: &FieldPath) -> Result<LivenessOverrides, Invalid> {
    let obj = object(value, path)?;
    only_keys(obj, &["path", "initial_delay_seconds", "period_seconds", "timeout_seconds", "failure_threshold"], path)?;
    let secs = |key: &str, lo: f64| obj.get(key).map(|v| seconds(v, &path.key(key), lo, 240.0)).transpose();
    let probe_path = match obj.get("path") {
        None => None,
        Some(p) => {
            let p = text(p, &path.key("path"))?;
            if !p.starts_with('/') {
                return Err(path.key("path").invalid(format!("{p:?} must start with /")));
            }
            Some(p.to_owned())
        }
    };
    Ok(LivenessOverrides {
        path: probe_path,
        initial_delay: secs("initial_delay_seconds", 0.0)?,
        period: secs("period_seconds", 0.1)?,
        timeout: secs("timeout_seconds", 0.1)?,
        failure_threshold: obj
            .get("failure_threshold")
            .map(|v| integer_in(v, &path.key("failure_threshold"), 1, 10).map(|n| u32::try_from(n).unwrap_or(10)))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: Value) -> Result<ChaoslabExtension, String> {
        ChaoslabExtension::parse(&v, &FieldPath::root().key("extensions").index(0)).map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_extension_parses_with_defaults_filled() {
        let ext = parse(json!({"name": "chaoslab",
            "load": {"rate": 50, "paths": ["/", "/health"], "duration_seconds": 12},
            "tolerances": {"max_error_ratio": 0.5, "after": {"max_p99_ms": 250, "allowed_statuses": [200]},
                           "counter_matches_200s": true, "max_time_to_recover_seconds": 5},
            "platform": {"liveness": {"period_seconds": 2}}}))
        .unwrap();
        let load = ext.load.unwrap();
        assert_eq!((load.rate, load.warmup, load.timeout), (50, DEFAULT_WARMUP, DEFAULT_LOAD_TIMEOUT));
        assert_eq!(ext.tolerances.overall.max_error_ratio, Some(0.5));
        assert_eq!(ext.tolerances.after.allowed_statuses, Some(vec![200]));
        assert_eq!(ext.liveness.period, Some(Duration::from_secs(2)));
    }

    #[test]
    fn mistakes_name_their_field() {
        let base = |load: Value, tol: Value| parse(json!({"name": "chaoslab", "load": load, "tolerances": tol}));
        let load = json!({"rate": 50, "paths": ["/"], "duration_seconds": 5});
        let err = base(json!({"rate": 0, "paths": ["/"], "duration_seconds": 5}), json!({})).unwrap_err();
        assert!(err.contains("extensions[0].load.rate: 0 is out of bounds"), "{err}");
        let err = base(load.clone(), json!({"max_p99": 5})).unwrap_err();
        assert!(err.contains("extensions[0].tolerances.max_p99: unknown field"), "{err}");
        let err = base(load.clone(), json!({"after": {"max_error_ratio": "0"}})).unwrap_err();
        assert!(err.contains("tolerances.after.max_error_ratio: expected a number, got the string"), "{err}");
        let err = base(json!({"rate": 5, "paths": ["x"], "duration_seconds": 5}), json!({})).unwrap_err();
        assert!(err.contains("load.paths[0]: \"x\" must start with /"), "{err}");
        let err = parse(json!({"name": "chaoslab", "tolerances": {"counter_matches_200s": true}})).unwrap_err();
        assert!(err.contains("extensions[0].load: missing"), "{err}");
    }
}
