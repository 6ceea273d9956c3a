//! Telemetry of the sidecar's own work: each Redis call is a client span
//! (`db.system = redis`, the operation, the outcome; an Application Insights
//! *dependency*), a child of whatever span is current — the request's span
//! in-process, the link call's span over loopback — plus a duration point and,
//! when it failed, an error count. The chaos engine's state is observed as
//! gauges.

use std::time::Duration;

use chaoslab_telemetry::metrics::{self, ChaosSnapshot};

use crate::chaos::{ChaosEngine, FaultKind};
use crate::error::StoreError;

/// The span of one Redis call to `target` (`host:port`, no credentials).
pub fn redis_span(operation: &'static str, target: &str) -> tracing::Span {
    let (host, port) = target.rsplit_once(':').unwrap_or((target, ""));
    tracing::info_span!(
        "redis",
        otel.name = format!("redis {operation}"),
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        otel.status_description = tracing::field::Empty,
        db.system = "redis",
        db.system.name = "redis",
        db.operation.name = operation,
        server.address = host,
        server.port = port,
        outcome = tracing::field::Empty,
        error.type = tracing::field::Empty,
    )
}

/// Records how the call of `span` ended: outcome and status on the span, the
/// duration and any error in the metrics.
pub fn record_outcome(span: &tracing::Span, operation: &'static str, error: Option<&StoreError>, took: Duration) {
    match error {
        None => {
            // An explicit OK: Application Insights then shows the dependency as successful.
            span.record("outcome", "ok");
            span.record("otel.status_code", "OK");
        }
        Some(err) => {
            span.record("outcome", err.kind());
            span.record("error.type", err.kind());
            span.record("otel.status_code", "ERROR");
            span.record("otel.status_description", err.to_string());
        }
    }
    metrics::instruments().record_redis(operation, error.map(StoreError::kind), took);
}

/// Registers the chaos gauges (active experiments by kind, load held) for `engine`.
pub fn observe_chaos(engine: &ChaosEngine) {
    if !engine.enabled() {
        return;
    }
    let engine = engine.clone();
    metrics::observe_chaos(&opentelemetry::global::meter("chaoslab"), move || {
        let Ok(status) = engine.status() else { return ChaosSnapshot::default() };
        let mut active_by_kind: Vec<(&'static str, u64)> = Vec::new();
        for exp in &status.active {
            match active_by_kind.iter_mut().find(|(kind, _)| *kind == exp.fault.kind()) {
                Some((_, n)) => *n += 1,
                None => active_by_kind.push((exp.fault.kind(), 1)),
            }
        }
        ChaosSnapshot {
            active_by_kind,
            cpu_workers: status.load.cpu_workers.into(),
            memory_mib: status.load.memory_mib.into(),
        }
    });
}
