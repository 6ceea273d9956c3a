//! `chaoslab:sidecar/telemetry`: a component's events and attributes land on
//! the current span (the request's in-process; the link call's over
//! loopback, in the same trace), its counters on `chaoslab.component.counter`;
//! `replica` names this replica as telemetry does (`service.instance.id`).
//! Best-effort and bounded by chaoslab-telemetry; never fails a request.

use chaoslab_telemetry::component;
use chaoslab_world::wire::telemetry::Attribute;

use crate::Services;

fn pairs(attributes: Vec<Attribute>) -> Vec<(String, String)> {
    attributes.into_iter().map(|a| (a.key, a.value)).collect()
}

impl Services {
    /// `telemetry.add-event`, on the current span.
    pub fn add_event(name: String, attributes: Vec<Attribute>) {
        component::add_event(&tracing::Span::current(), name, pairs(attributes));
    }

    /// `telemetry.set-attribute`, on the current span.
    pub fn set_attribute(key: String, value: String) {
        component::set_attribute(&tracing::Span::current(), key, value);
    }

    /// `telemetry.add-counter`.
    pub fn add_counter(name: String, delta: u64, attributes: Vec<Attribute>) {
        component::add_counter(name, delta, pairs(attributes));
    }

    /// `telemetry.replica`.
    pub fn replica(&self) -> String {
        self.replica.to_string()
    }
}
