//! Bounds checks for experiment parameters. Every violation names the request
//! field (as spelled in the JSON API) and the allowed range.

use super::limits::{Limits, MAX_LATENCY_MS, MAX_REPLICAS};
use super::model::{ChaosError, Fault, InvalidField, RedisMode, Scope};

/// Most entries in a `routes` or `methods` filter.
const MAX_FILTER_ENTRIES: usize = 16;
/// Longest route in a filter.
const MAX_ROUTE_LEN: usize = 256;
/// Longest method in a filter.
const MAX_METHOD_LEN: usize = 32;

/// Checks `fault`, `duration_seconds` and `scope` against `limits`; all
/// violations at once. A `count` larger than the replicas live reaches
/// every live one (the coordinator knows how many are).
pub fn validate(fault: &Fault, duration_seconds: u32, scope: &Scope, limits: &Limits) -> Result<(), ChaosError> {
    let mut errors = Vec::new();
    let mut invalid = |field: &str, message: String| errors.push(InvalidField { field: field.into(), message });
    let mut range = |field: &str, value: u64, min: u64, max: u64| {
        if value < min || value > max {
            invalid(field, format!("must be between {min} and {max}, got {value}"));
        }
    };
    range("duration_seconds", duration_seconds.into(), 1, limits.max_duration.as_secs());
    match scope {
        Scope::Count(n) => range("replicas", (*n).into(), 1, MAX_REPLICAS.into()),
        Scope::Percent(p) => range("replicas_percent", (*p).into(), 1, 100),
        Scope::Replica | Scope::All => {}
    }
    let mut filters = None;
    match fault {
        Fault::Load(load) => {
            range("cpu_percent", load.cpu_percent.into(), 1, 100);
            range("workers", load.workers.into(), 0, limits.max_workers.into());
            range("memory_mb", load.memory_mb.into(), 0, limits.max_memory_mb.into());
        }
        Fault::Hang => {}
        Fault::Latency(lat) => {
            range("ms", lat.ms.into(), 0, MAX_LATENCY_MS.into());
            range("jitter_ms", lat.jitter_ms.into(), 0, MAX_LATENCY_MS.into());
            range("percent", lat.percent.into(), 1, 100);
            filters = Some((&lat.routes, &lat.methods));
        }
        Fault::Errors(err) => {
            range("status", err.status.into(), 400, 599);
            range("percent", err.percent.into(), 1, 100);
            filters = Some((&err.routes, &err.methods));
        }
        Fault::Redis(redis) => {
            range("percent", redis.percent.into(), 1, 100);
            let min = if redis.mode == RedisMode::Slow { 1 } else { 0 };
            range("latency_ms", redis.latency_ms.into(), min, MAX_LATENCY_MS.into());
        }
    }
    if let Fault::Load(load) = fault
        && load.workers == 0
        && load.memory_mb == 0
    {
        invalid("workers", "workers and memory_mb are both 0: nothing to load".into());
    }
    if let Some((routes, methods)) = filters {
        if let Some(routes) = routes {
            if routes.is_empty() || routes.len() > MAX_FILTER_ENTRIES {
                invalid("routes", format!("between 1 and {MAX_FILTER_ENTRIES} routes, or null for all"));
            }
            if routes.iter().any(|r| !r.starts_with('/') || r.chars().count() > MAX_ROUTE_LEN) {
                invalid(
                    "routes",
                    format!("each route must be a path starting with '/' of at most {MAX_ROUTE_LEN} characters"),
                );
            }
        }
        if let Some(methods) = methods {
            if methods.is_empty() || methods.len() > MAX_FILTER_ENTRIES {
                invalid("methods", format!("between 1 and {MAX_FILTER_ENTRIES} methods, or null for all"));
            }
            if !methods.iter().all(|m| is_method(m)) {
                invalid(
                    "methods",
                    format!(
                        "each method must be an HTTP method token (e.g. GET) of at most {MAX_METHOD_LEN} characters"
                    ),
                );
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ChaosError::Invalid(errors)) }
}

/// An HTTP method: a non-empty token (RFC 9110 `tchar`s).
fn is_method(m: &str) -> bool {
    !m.is_empty()
        && m.len() <= MAX_METHOD_LEN
        && m.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
