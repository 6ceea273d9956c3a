//! [`FakeOtlp`]: an OTLP/HTTP receiver decoding protobuf export requests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;

use super::sink::Sink;

/// One span as received, flattened.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    /// `service.name` of its resource.
    pub service: String,
    /// Its name.
    pub name: String,
    /// Kind (2 = server, 3 = client).
    pub kind: i32,
    /// Trace id, hex.
    pub trace_id: String,
    /// Span id, hex.
    pub span_id: String,
    /// Parent span id, hex (empty for a root).
    pub parent_span_id: String,
    /// Status code (2 = error).
    pub status: i32,
    /// Attributes with string, int or bool values, as text.
    pub attributes: Vec<(String, String)>,
    /// Event names.
    pub events: Vec<String>,
}

impl ReceivedSpan {
    /// An attribute's value as text.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// What a receiver got.
#[derive(Default)]
pub(super) struct Received {
    /// Spans, flattened.
    pub(super) spans: Vec<ReceivedSpan>,
    /// Log record bodies.
    pub(super) log_bodies: Vec<String>,
    /// Metric names, one per metric per export.
    pub(super) metric_names: Vec<String>,
    /// Metric data points: the metric's name and the point's attributes.
    pub(super) metric_points: Vec<(String, Vec<(String, String)>)>,
    /// Integer sums (counters) as exported.
    pub(super) int_sums: Vec<IntSum>,
}

/// One exported data point of an integer sum (a counter).
#[derive(Debug, Clone)]
pub(super) struct IntSum {
    /// The metric's name.
    name: String,
    /// The point's attributes.
    attributes: Vec<(String, String)>,
    /// Its value.
    value: i64,
    /// Whether it is a running total (cumulative temporality) rather than
    /// the change since the previous export (delta).
    cumulative: bool,
}

/// A fake OTLP/HTTP collector.
pub struct FakeOtlp {
    /// The server.
    sink: Sink,
    /// What arrived.
    received: Arc<Mutex<Received>>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(value: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        _ => String::new(),
    }
}

/// Records an OTLP/HTTP request to `path`.
fn record(received: &Mutex<Received>, path: &str, body: &[u8]) {
    match path {
        "/v1/traces" => record_traces(received, ExportTraceServiceRequest::decode(body).expect("OTLP trace protobuf")),
        "/v1/logs" => record_logs(received, ExportLogsServiceRequest::decode(body).expect("OTLP logs protobuf")),
        "/v1/metrics" => {
            record_metrics(received, ExportMetricsServiceRequest::decode(body).expect("OTLP metrics protobuf"))
        }
        _ => {}
    }
}

/// Records the spans of one export.
pub(super) fn record_traces(received: &Mutex<Received>, request: ExportTraceServiceRequest) {
    let mut received = received.lock().expect("received lock");
    for rs in request.resource_spans {
        let service = rs
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .map(|kv| text(kv.value.as_ref()))
            .unwrap_or_default();
        for span in rs.scope_spans.into_iter().flat_map(|ss| ss.spans) {
            received.spans.push(ReceivedSpan {
                service: service.clone(),
                name: span.name,
                kind: span.kind,
                trace_id: hex(&span.trace_id),
                span_id: hex(&span.span_id),
                parent_span_id: hex(&span.parent_span_id),
                status: span.status.map_or(0, |s| s.code),
                attributes: flatten(&span.attributes),
                events: span.events.into_iter().map(|e| e.name).collect(),
            });
        }
    }
}

/// Records the log records of one export.
pub(super) fn record_logs(received: &Mutex<Received>, request: ExportLogsServiceRequest) {
    let mut received = received.lock().expect("received lock");
    for record in request.resource_logs.into_iter().flat_map(|rl| rl.scope_logs).flat_map(|sl| sl.log_records) {
        received.log_bodies.push(text(record.body.as_ref()));
    }
}

/// Records the metric names and data points of one export.
pub(super) fn record_metrics(received: &Mutex<Received>, request: ExportMetricsServiceRequest) {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    let mut received = received.lock().expect("received lock");
    for metric in request.resource_metrics.into_iter().flat_map(|rm| rm.scope_metrics).flat_map(|sm| sm.metrics) {
        if let Some(Data::Sum(sum)) = &metric.data {
            use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;
            use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
            let cumulative = sum.aggregation_temporality == AggregationTemporality::Cumulative as i32;
            for point in &sum.data_points {
                if let Some(Value::AsInt(value)) = point.value {
                    let (name, attributes) = (metric.name.clone(), flatten(&point.attributes));
                    received.int_sums.push(IntSum { name, attributes, value, cumulative });
                }
            }
        }
        let attribute_sets: Vec<Vec<(String, String)>> = match &metric.data {
            Some(Data::Sum(sum)) => sum.data_points.iter().map(|p| flatten(&p.attributes)).collect(),
            Some(Data::Gauge(gauge)) => gauge.data_points.iter().map(|p| flatten(&p.attributes)).collect(),
            Some(Data::Histogram(histogram)) => histogram.data_points.iter().map(|p| flatten(&p.attributes)).collect(),
            _ => Vec::new(),
        };
        received.metric_points.extend(attribute_sets.into_iter().map(|attrs| (metric.name.clone(), attrs)));
        received.metric_names.push(metric.name);
    }
}

/// Attributes as `(key, text)`.
fn flatten(attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue]) -> Vec<(String, String)> {
    attributes.iter().map(|kv| (kv.key.clone(), text(kv.value.as_ref()))).collect()
}

impl FakeOtlp {
    /// Starts it.
    pub fn start() -> Self {
        let received = Arc::new(Mutex::new(Received::default()));
        let sink_received = received.clone();
        let sink = Sink::start(
            Arc::new(move |path: &str, _: &http::HeaderMap, body: &[u8]| {
                record(&sink_received, path, body);
            }),
            None,
        );
        Self { sink, received }
    }

    /// `OTEL_EXPORTER_OTLP_ENDPOINT` for it.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.sink.addr)
    }

    /// Spans so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.received.lock().expect("received lock").spans.clone()
    }

    /// Log record bodies so far.
    pub fn log_bodies(&self) -> Vec<String> {
        self.received.lock().expect("received lock").log_bodies.clone()
    }

    /// Names of the metrics received so far.
    pub fn metric_names(&self) -> Vec<String> {
        self.received.lock().expect("received lock").metric_names.clone()
    }

    /// The attributes of every data point of metric `name` received so far.
    pub fn metric_points(&self, name: &str) -> Vec<Vec<(String, String)>> {
        let received = self.received.lock().expect("received lock");
        received.metric_points.iter().filter(|(n, _)| n == name).map(|(_, attrs)| attrs.clone()).collect()
    }

    /// The total so far of integer counter `name` over the data points
    /// whose attributes include `attribute`, if any arrived: the last
    /// cumulative value (the SDK's default), or the deltas added up.
    pub fn int_sum_total(&self, name: &str, attribute: (&str, &str)) -> Option<i64> {
        let received = self.received.lock().expect("received lock");
        let mut points = received
            .int_sums
            .iter()
            .filter(|sum| sum.name == name && sum.attributes.iter().any(|(k, v)| k == attribute.0 && v == attribute.1))
            .peekable();
        let cumulative = points.peek()?.cumulative;
        Some(if cumulative { points.last()?.value } else { points.map(|sum| sum.value).sum() })
    }

    /// Waits up to `within` until `found` holds for the spans received.
    pub fn wait_for_spans(&self, within: Duration, found: impl Fn(&[ReceivedSpan]) -> bool) -> bool {
        crate::poll::until(within, || found(&self.spans()))
    }

    /// Makes every answer wait `delay`.
    pub fn set_delay(&self, delay: Duration) {
        self.sink.set_delay(delay);
    }
}
