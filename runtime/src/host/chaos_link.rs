//! `chaoslab:sidecar/chaos` linked in-process to the sidecar's [`ChaosEngine`],
//! with the conversions between the WIT types and the engine's.

use chaoslab_sidecar::chaos::{self as model, ChaosError};

use super::bindings::chaoslab::sidecar::chaos as wit;
use super::{HostState, Sidecar};

impl wit::Host for HostState {
    async fn authorize(&mut self, bearer: String) -> Result<bool, wit::Error> {
        Ok(self.sidecar().authorize(&bearer))
    }

    async fn start(&mut self, fault: wit::Fault, duration_seconds: u32) -> Result<wit::Experiment, wit::Error> {
        self.sidecar().start(fault, duration_seconds)
    }

    async fn stop(&mut self, id: String) -> Result<wit::Experiment, wit::Error> {
        self.sidecar().stop(&id)
    }

    async fn stop_all(&mut self) -> Result<Vec<wit::Experiment>, wit::Error> {
        self.sidecar().stop_all()
    }

    async fn status(&mut self) -> Result<wit::ChaosStatus, wit::Error> {
        self.sidecar().status()
    }

    async fn decide(&mut self, route: String, method: String) -> wit::Decision {
        self.sidecar().decide(&route, &method)
    }

    async fn hold(&mut self, ms: u64) -> bool {
        // A held request is chaos, not a slow guest: its time does not count
        // against the request timeout.
        self.deadline.extend(std::time::Duration::from_millis(ms));
        self.sidecar().hold(ms).await
    }
}

/// The chaos half of the contract, in WIT types: what both the in-process
/// link and the loopback server answer.
impl Sidecar {
    /// `chaos.authorize` (constant time).
    pub fn authorize(&self, bearer: &str) -> bool {
        self.chaos.authorize(bearer)
    }

    /// `chaos.start`.
    pub fn start(&self, fault: wit::Fault, duration_seconds: u32) -> Result<wit::Experiment, wit::Error> {
        self.chaos.start(fault_from_wit(fault), duration_seconds).map(experiment_to_wit).map_err(error_to_wit)
    }

    /// `chaos.stop`.
    pub fn stop(&self, id: &str) -> Result<wit::Experiment, wit::Error> {
        self.chaos.stop(id).map(experiment_to_wit).map_err(error_to_wit)
    }

    /// `chaos.stop-all`.
    pub fn stop_all(&self) -> Result<Vec<wit::Experiment>, wit::Error> {
        let stopped = self.chaos.stop_all().map_err(error_to_wit)?;
        Ok(stopped.into_iter().map(experiment_to_wit).collect())
    }

    /// `chaos.status`.
    pub fn status(&self) -> Result<wit::ChaosStatus, wit::Error> {
        let s = self.chaos.status().map_err(error_to_wit)?;
        Ok(wit::ChaosStatus {
            seed: s.seed,
            now_ms: s.now_ms,
            active: s.active.into_iter().map(experiment_to_wit).collect(),
            recent: s.recent.into_iter().map(experiment_to_wit).collect(),
            load: wit::LoadReport { cpu_workers: s.load.cpu_workers, memory_mib: s.load.memory_mib },
        })
    }

    /// `chaos.decide`.
    pub fn decide(&self, route: &str, method: &str) -> wit::Decision {
        let d = self.chaos.decide(route, method);
        if !d.experiments.is_empty() {
            tracing::debug!(route, experiments = ?d.experiments, "chaos applied to request");
            mark_span(&d);
        }
        wit::Decision {
            hang_ms: d.hang_ms,
            delay_ms: d.delay_ms,
            fail_status: d.fail_status,
            experiments: d.experiments,
        }
    }

    /// `chaos.hold`.
    pub async fn hold(&self, ms: u64) -> bool {
        self.chaos.hold(ms).await
    }
}

/// Marks the current span — the request's in-process, the link call's over
/// loopback (a child of the request's) — with the faults applied to it: the
/// `chaos.experiments` attribute and a `chaos fault applied` event.
fn mark_span(d: &model::Decision) {
    use opentelemetry::KeyValue;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let span = tracing::Span::current();
    let experiments = d.experiments.join(",");
    span.set_attribute("chaos.experiments", experiments.clone());
    let mut attrs = vec![KeyValue::new("chaos.experiments", experiments)];
    if let Some(ms) = d.hang_ms {
        attrs.push(KeyValue::new("chaos.hang_ms", i64::try_from(ms).unwrap_or(i64::MAX)));
    }
    if d.delay_ms > 0 {
        attrs.push(KeyValue::new("chaos.delay_ms", i64::from(d.delay_ms)));
    }
    if let Some(status) = d.fail_status {
        attrs.push(KeyValue::new("chaos.fail_status", i64::from(status)));
    }
    span.add_event("chaos fault applied", attrs);
}

fn fault_from_wit(fault: wit::Fault) -> model::Fault {
    match fault {
        wit::Fault::Load(l) => model::Fault::Load(model::LoadSpec {
            cpu_percent: l.cpu_percent,
            workers: l.workers,
            memory_mb: l.memory_mb,
        }),
        wit::Fault::Hang => model::Fault::Hang,
        wit::Fault::Latency(l) => model::Fault::Latency(model::LatencySpec {
            ms: l.ms,
            jitter_ms: l.jitter_ms,
            percent: l.percent,
            routes: l.routes,
        }),
        wit::Fault::Errors(e) => {
            model::Fault::Errors(model::ErrorsSpec { status: e.status, percent: e.percent, routes: e.routes })
        }
        wit::Fault::Redis(r) => model::Fault::Redis(model::RedisSpec {
            mode: match r.mode {
                wit::RedisMode::Blackhole => model::RedisMode::Blackhole,
                wit::RedisMode::Fail => model::RedisMode::Fail,
                wit::RedisMode::Slow => model::RedisMode::Slow,
            },
            latency_ms: r.latency_ms,
            percent: r.percent,
        }),
    }
}

fn fault_to_wit(fault: model::Fault) -> wit::Fault {
    match fault {
        model::Fault::Load(l) => {
            wit::Fault::Load(wit::LoadSpec { cpu_percent: l.cpu_percent, workers: l.workers, memory_mb: l.memory_mb })
        }
        model::Fault::Hang => wit::Fault::Hang,
        model::Fault::Latency(l) => wit::Fault::Latency(wit::LatencySpec {
            ms: l.ms,
            jitter_ms: l.jitter_ms,
            percent: l.percent,
            routes: l.routes,
        }),
        model::Fault::Errors(e) => {
            wit::Fault::Errors(wit::ErrorsSpec { status: e.status, percent: e.percent, routes: e.routes })
        }
        model::Fault::Redis(r) => wit::Fault::Redis(wit::RedisSpec {
            mode: match r.mode {
                model::RedisMode::Blackhole => wit::RedisMode::Blackhole,
                model::RedisMode::Fail => wit::RedisMode::Fail,
                model::RedisMode::Slow => wit::RedisMode::Slow,
            },
            latency_ms: r.latency_ms,
            percent: r.percent,
        }),
    }
}

fn experiment_to_wit(e: model::Experiment) -> wit::Experiment {
    wit::Experiment {
        id: e.id,
        fault: fault_to_wit(e.fault),
        started_at_ms: e.started_at_ms,
        ends_at_ms: e.ends_at_ms,
        ended_at_ms: e.ended_at_ms,
        end_reason: e.end_reason.map(|r| r.as_str().to_owned()),
    }
}

fn error_to_wit(err: ChaosError) -> wit::Error {
    match err {
        ChaosError::Invalid(fields) => wit::Error::Invalid(
            fields.into_iter().map(|f| wit::InvalidField { field: f.field, message: f.message }).collect(),
        ),
        ChaosError::Limit(m) => wit::Error::Limit(m),
        ChaosError::Conflict(m) => wit::Error::Conflict(m),
        ChaosError::NotFound(id) => wit::Error::NotFound(id),
        ChaosError::Disabled => wit::Error::Disabled,
    }
}
