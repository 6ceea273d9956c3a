//! `chaoslab:sidecar/chaos`: the replica's engine, in WIT types. A decision
//! that applies faults marks the current span — the request's in-process,
//! the link call's over loopback (a child of the request's).

use chaoslab_world::wire::chaos::{ChaosLimits, ChaosStatus, ClusterStatus, Decision, Error, Experiment, Fault, Scope};

use crate::Services;

impl Services {
    /// `chaos.authorize` (constant time; `disabled` when chaos is off).
    pub fn authorize(&self, bearer: &str) -> Result<bool, Error> {
        Ok(self.chaos.authorize(bearer)?)
    }

    /// `chaos.start`: on this replica, or through Redis on the replicas of `scope`.
    pub async fn start(&self, fault: Fault, duration_seconds: u32, scope: Scope) -> Result<Experiment, Error> {
        Ok(self.cluster.start_experiment(fault, duration_seconds, scope).await?)
    }

    /// `chaos.stop` (a shared experiment on every replica).
    pub async fn stop(&self, id: &str) -> Result<Experiment, Error> {
        Ok(self.cluster.stop(id).await?)
    }

    /// `chaos.stop-all` (the shared ones among them on every replica).
    pub async fn stop_all(&self) -> Result<Vec<Experiment>, Error> {
        Ok(self.cluster.stop_all().await?)
    }

    /// `chaos.status-all`: every replica's view.
    pub async fn status_all(&self) -> Result<ClusterStatus, Error> {
        self.chaos.admit_control()?;
        Ok(self.cluster.status().await?)
    }

    /// `chaos.status`.
    pub fn status(&self) -> Result<ChaosStatus, Error> {
        Ok(self.chaos.status()?)
    }

    /// `chaos.limits`: the configured bounds, in WIT units (whole seconds;
    /// counts past `u32::MAX` saturate).
    pub fn limits(&self) -> Result<ChaosLimits, Error> {
        let limits = self.chaos.limits()?;
        Ok(ChaosLimits {
            max_duration_seconds: u32::try_from(limits.max_duration.as_secs()).unwrap_or(u32::MAX),
            max_workers: limits.max_workers,
            max_memory_mb: limits.max_memory_mb,
            max_experiments: u32::try_from(limits.max_experiments).unwrap_or(u32::MAX),
        })
    }

    /// `chaos.decide`.
    pub fn decide(&self, route: &str, method: &str) -> Decision {
        let decision = self.chaos.decide(route, method);
        if !decision.experiments.is_empty() {
            tracing::debug!(route, method, experiments = ?decision.experiments, "chaos applied to request");
            mark_span(&decision);
        }
        decision
    }

    /// `chaos.hold`.
    pub async fn hold(&self, ms: u64) -> bool {
        self.chaos.hold(ms).await
    }
}

/// Marks the current span with the faults applied to its request: the
/// `chaos.experiments` attribute and a `chaos fault applied` event.
fn mark_span(d: &Decision) {
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
