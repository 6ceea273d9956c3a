//! Every metric chaoslab records, named once (OpenTelemetry semantic
//! conventions where one exists):
//!
//! | name | kind | attributes |
//! |---|---|---|
//! | `http.server.request.duration` (s) | histogram | `http.route`, `http.request.method`, `http.response.status_code`, `chaoslab.revision` (when a revision served it) |
//! | `chaoslab.http.requests` | counter | same |
//! | `chaoslab.http.connections` | counter | `chaoslab.listener` = `runtime` (the data plane of `chaoslab up`) or `sidecar` (the link, probes, chaos API) |
//! | `db.client.operation.duration` (s) | histogram | `db.system.name` = `redis`, `db.operation.name`, `outcome` |
//! | `chaoslab.redis.errors` | counter | `db.operation.name`, `error.type` |
//! | `chaoslab.chaos.active_experiments` | gauge | `chaos.kind` |
//! | `chaoslab.chaos.load.cpu_workers`, `chaoslab.chaos.load.memory` (MiBy) | gauge | |
//! | `chaoslab.component.counter` | counter | `name` (the component's), its attributes |
//!
//! The instruments come from the global meter provider the first time they
//! are used, which is after [`crate::init`]; without an exporter they are
//! no-ops.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter};

/// Histogram buckets for durations in seconds (1 ms .. 30 s).
const DURATION_BUCKETS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// chaoslab's instruments.
#[derive(Debug, Clone)]
pub struct Instruments {
    /// Request durations by route, method and status.
    pub request_duration: Histogram<f64>,
    /// Requests by route, method and status.
    pub requests: Counter<u64>,
    /// Connections accepted, by listener: whether clients (the bridge
    /// among them) keep their connections or open one per request.
    pub connections: Counter<u64>,
    /// Redis call durations by operation and outcome.
    pub redis_duration: Histogram<f64>,
    /// Failed Redis calls by operation and error type.
    pub redis_errors: Counter<u64>,
    /// Counters added by components through `chaoslab:sidecar/telemetry`.
    pub component_counter: Counter<u64>,
}

impl Instruments {
    /// The instruments of `meter`.
    pub fn new(meter: &Meter) -> Self {
        Self {
            request_duration: meter
                .f64_histogram("http.server.request.duration")
                .with_unit("s")
                .with_description("Duration of HTTP requests served by the runtime")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            requests: meter.u64_counter("chaoslab.http.requests").with_description("HTTP requests served").build(),
            connections: meter
                .u64_counter("chaoslab.http.connections")
                .with_description("TCP connections accepted by the HTTP listener")
                .build(),
            redis_duration: meter
                .f64_histogram("db.client.operation.duration")
                .with_unit("s")
                .with_description("Duration of Redis calls made by the sidecar")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            redis_errors: meter.u64_counter("chaoslab.redis.errors").with_description("Failed Redis calls").build(),
            component_counter: meter
                .u64_counter("chaoslab.component.counter")
                .with_description("Counters added by components (chaoslab:sidecar/telemetry)")
                .build(),
        }
    }

    /// Records one served request; `revision` is the component revision
    /// that served it, if any.
    pub fn record_request(&self, route: &str, revision: Option<&str>, method: &str, status: u16, took: Duration) {
        let mut attrs = vec![
            KeyValue::new("http.route", route.to_owned()),
            KeyValue::new("http.request.method", method.to_owned()),
            KeyValue::new("http.response.status_code", i64::from(status)),
        ];
        if let Some(revision) = revision {
            attrs.push(KeyValue::new("chaoslab.revision", revision.to_owned()));
        }
        self.request_duration.record(took.as_secs_f64(), &attrs);
        self.requests.add(1, &attrs);
    }

    /// Records one connection accepted by the listener of `role`.
    pub fn record_connection(&self, role: crate::Role) {
        self.connections.add(1, &[KeyValue::new("chaoslab.listener", role.as_str())]);
    }

    /// Records one Redis call; `error` is its error type when it failed.
    pub fn record_redis(&self, operation: &'static str, error: Option<&'static str>, took: Duration) {
        let outcome = if error.is_some() { "error" } else { "ok" };
        let attrs = [
            KeyValue::new("db.system.name", "redis"),
            KeyValue::new("db.operation.name", operation),
            KeyValue::new("outcome", outcome),
        ];
        self.redis_duration.record(took.as_secs_f64(), &attrs);
        if let Some(error) = error {
            self.redis_errors
                .add(1, &[KeyValue::new("db.operation.name", operation), KeyValue::new("error.type", error)]);
        }
    }
}

/// The instruments of the global meter provider.
pub fn instruments() -> &'static Instruments {
    static INSTRUMENTS: LazyLock<Instruments> =
        LazyLock::new(|| Instruments::new(&opentelemetry::global::meter("chaoslab")));
    &INSTRUMENTS
}

/// What the chaos gauges report, read at each collection.
#[derive(Debug, Clone, Default)]
pub struct ChaosSnapshot {
    /// Running experiments by kind.
    pub active_by_kind: Vec<(&'static str, u64)>,
    /// CPU load workers alive.
    pub cpu_workers: u64,
    /// MiB held by the memory balloon.
    pub memory_mib: u64,
}

/// Registers the chaos gauges on `meter`, reading `snapshot` at each collection.
pub fn observe_chaos(meter: &Meter, snapshot: impl Fn() -> ChaosSnapshot + Send + Sync + 'static) {
    let snapshot = Arc::new(snapshot);
    let read = snapshot.clone();
    meter
        .u64_observable_gauge("chaoslab.chaos.active_experiments")
        .with_description("Chaos experiments running on this replica")
        .with_callback(move |gauge| {
            for (kind, count) in read().active_by_kind {
                gauge.observe(count, &[KeyValue::new("chaos.kind", kind)]);
            }
        })
        .build();
    let read = snapshot.clone();
    meter
        .u64_observable_gauge("chaoslab.chaos.load.cpu_workers")
        .with_description("CPU load workers held by chaos experiments")
        .with_callback(move |gauge| gauge.observe(read().cpu_workers, &[]))
        .build();
    meter
        .u64_observable_gauge("chaoslab.chaos.load.memory")
        .with_unit("MiBy")
        .with_description("Memory held by chaos experiments")
        .with_callback(move |gauge| gauge.observe(snapshot().memory_mib, &[]))
        .build();
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

    fn names(exporter: &InMemoryMetricExporter) -> Vec<String> {
        let mut names: Vec<String> = exporter
            .get_finished_metrics()
            .unwrap()
            .iter()
            .flat_map(|rm| rm.scope_metrics().flat_map(|sm| sm.metrics().map(|m| m.name().to_owned())))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn requests_redis_calls_and_chaos_gauges_have_their_documented_names() {
        let exporter = InMemoryMetricExporter::default();
        let provider =
            SdkMeterProvider::builder().with_reader(PeriodicReader::builder(exporter.clone()).build()).build();
        let meter = provider.meter("test");
        let instruments = Instruments::new(&meter);
        instruments.record_request("/", Some("api-rev-1"), "GET", 200, Duration::from_millis(3));
        instruments.record_redis("INCRBY", None, Duration::from_micros(300));
        instruments.record_connection(crate::Role::Sidecar);
        instruments.record_redis("PING", Some("timeout"), Duration::from_millis(500));
        observe_chaos(&meter, || ChaosSnapshot {
            active_by_kind: vec![("latency", 1)],
            cpu_workers: 2,
            memory_mib: 64,
        });
        provider.force_flush().unwrap();
        assert_eq!(
            names(&exporter),
            [
                "chaoslab.chaos.active_experiments",
                "chaoslab.chaos.load.cpu_workers",
                "chaoslab.chaos.load.memory",
                "chaoslab.http.connections",
                "chaoslab.http.requests",
                "chaoslab.redis.errors",
                "db.client.operation.duration",
                "http.server.request.duration",
            ]
        );
        let metrics = exporter.get_finished_metrics().unwrap();
        let redis = metrics
            .iter()
            .flat_map(|rm| rm.scope_metrics().flat_map(|sm| sm.metrics()))
            .find(|m| m.name() == "db.client.operation.duration")
            .unwrap();
        let AggregatedMetrics::F64(MetricData::Histogram(hist)) = redis.data() else { panic!("a histogram") };
        assert_eq!(hist.data_points().map(|p| p.count()).sum::<u64>(), 2, "one point per outcome");
    }
}
