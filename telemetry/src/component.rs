//! What components record through `chaoslab:sidecar/telemetry`, applied to
//! a span and the component counter — bounded, so a component cannot flood
//! a span or the backend: at most [`MAX_ATTRIBUTES`] attributes per call,
//! keys cut to [`MAX_KEY`] bytes and values to [`MAX_VALUE`].

use opentelemetry::KeyValue;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Most attributes kept per call.
pub const MAX_ATTRIBUTES: usize = 16;
/// Longest key kept, in bytes.
pub const MAX_KEY: usize = 128;
/// Longest value kept, in bytes.
pub const MAX_VALUE: usize = 1024;

/// `s` cut to at most `max` bytes, on a character boundary.
fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

fn bounded(attributes: Vec<(String, String)>) -> impl Iterator<Item = KeyValue> {
    attributes.into_iter().take(MAX_ATTRIBUTES).map(|(k, v)| KeyValue::new(cut(k, MAX_KEY), cut(v, MAX_VALUE)))
}

/// `telemetry.add-event`: an event on `span`.
pub fn add_event(span: &tracing::Span, name: String, attributes: Vec<(String, String)>) {
    let attrs: Vec<KeyValue> =
        std::iter::once(KeyValue::new("chaoslab.source", "component")).chain(bounded(attributes)).collect();
    span.add_event(cut(name, MAX_KEY), attrs);
}

/// `telemetry.set-attribute`: an attribute of `span`.
pub fn set_attribute(span: &tracing::Span, key: String, value: String) {
    span.set_attribute(cut(key, MAX_KEY), cut(value, MAX_VALUE));
}

/// `telemetry.add-counter`: `delta` more on the component counter `name`.
pub fn add_counter(name: String, delta: u64, attributes: Vec<(String, String)>) {
    let attrs: Vec<KeyValue> =
        std::iter::once(KeyValue::new("name", cut(name, MAX_KEY))).chain(bounded(attributes)).collect();
    crate::metrics::instruments().component_counter.add(delta, &attrs);
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn events_and_attributes_land_on_the_span_bounded() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let subscriber =
            tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", otel.kind = "server");
            let many: Vec<(String, String)> = (0..40).map(|i| (format!("k{i}"), "v".repeat(5000))).collect();
            add_event(&span, "cart emptied".into(), many);
            set_attribute(&span, "cart.items".into(), "3".into());
        });
        provider.force_flush().unwrap();
        let spans = exporter.get_finished_spans().unwrap();
        let span = spans.iter().find(|s| s.name == "request").expect("the request span");
        assert!(span.attributes.iter().any(|kv| kv.key.as_str() == "cart.items" && kv.value.as_str() == "3"));
        let event = span.events.iter().find(|e| e.name == "cart emptied").expect("the event");
        assert_eq!(event.attributes.len(), 1 + MAX_ATTRIBUTES, "source + the first 16");
        assert!(event.attributes.iter().all(|kv| kv.value.as_str().len() <= MAX_VALUE));
    }
}
