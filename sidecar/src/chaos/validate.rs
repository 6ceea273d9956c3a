//! Bounds checks for experiment parameters. Every violation names the request
//! field (as spelled in the JSON API) and the allowed range.

use super::model::{ChaosError, Fault, InvalidField, Limits, RedisMode};

/// Most entries in a `routes` filter.
const MAX_ROUTES: usize = 16;
/// Longest route in a filter.
const MAX_ROUTE_LEN: usize = 256;

/// Checks `fault` and `duration_seconds` against `limits`; all violations at once.
pub fn validate(fault: &Fault, duration_seconds: u32, limits: &Limits) -> Result<(), ChaosError> {
    let mut errors = Vec::new();
    let mut range = |field: &str, value: u64, min: u64, max: u64| {
        if value < min || value > max {
            errors.push(InvalidField {
                field: field.into(),
                message: format!("must be between {min} and {max}, got {value}"),
            });
        }
    };
    range("duration_seconds", duration_seconds.into(), 1, limits.max_duration.as_secs());
    let mut routes_ok = None;
    match fault {
        Fault::Load(load) => {
            range("cpu_percent", load.cpu_percent.into(), 1, 100);
            range("workers", load.workers.into(), 0, limits.max_workers.into());
            range("memory_mb", load.memory_mb.into(), 0, limits.max_memory_mb.into());
        }
        Fault::Hang => {}
        Fault::Latency(lat) => {
            range("ms", lat.ms.into(), 0, limits.max_latency_ms.into());
            range("jitter_ms", lat.jitter_ms.into(), 0, limits.max_latency_ms.into());
            range("percent", lat.percent.into(), 1, 100);
            routes_ok = Some(&lat.routes);
        }
        Fault::Errors(err) => {
            range("status", err.status.into(), 400, 599);
            range("percent", err.percent.into(), 1, 100);
            routes_ok = Some(&err.routes);
        }
        Fault::Redis(redis) => {
            range("percent", redis.percent.into(), 1, 100);
            let min = if redis.mode == RedisMode::Slow { 1 } else { 0 };
            range("latency_ms", redis.latency_ms.into(), min, limits.max_latency_ms.into());
        }
    }
    if let Fault::Load(load) = fault
        && load.workers == 0
        && load.memory_mb == 0
    {
        errors.push(InvalidField {
            field: "workers".into(),
            message: "workers and memory_mb are both 0: nothing to load".into(),
        });
    }
    if let Some(Some(routes)) = routes_ok {
        if routes.len() > MAX_ROUTES {
            errors.push(InvalidField { field: "routes".into(), message: format!("at most {MAX_ROUTES} routes") });
        }
        if routes.iter().any(|r| !r.starts_with('/') || r.len() > MAX_ROUTE_LEN) {
            errors.push(InvalidField {
                field: "routes".into(),
                message: format!("each route must be a path starting with '/' of at most {MAX_ROUTE_LEN} characters"),
            });
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ChaosError::Invalid(errors)) }
}
