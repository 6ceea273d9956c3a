//! `chaoslab:sidecar/telemetry` linked in-process: a component's events and
//! attributes land on the request's span (the current span: the guest runs
//! inside it), its counters on `chaoslab.component.counter`. The loopback
//! server calls the same [`Sidecar`] functions, inside the link call's span.

use chaoslab_telemetry::component;

use super::bindings::chaoslab::sidecar::telemetry as wit;
use super::{HostState, Sidecar};

fn pairs(attributes: Vec<wit::Attribute>) -> Vec<(String, String)> {
    attributes.into_iter().map(|a| (a.key, a.value)).collect()
}

impl wit::Host for HostState {
    async fn add_event(&mut self, name: String, attributes: Vec<wit::Attribute>) {
        Sidecar::add_event(name, attributes);
    }

    async fn set_attribute(&mut self, key: String, value: String) {
        Sidecar::set_attribute(key, value);
    }

    async fn add_counter(&mut self, name: String, delta: u64, attributes: Vec<wit::Attribute>) {
        Sidecar::add_counter(name, delta, attributes);
    }
}

/// The telemetry part of the contract: what both links answer.
impl Sidecar {
    /// `telemetry.add-event`, on the current span.
    pub fn add_event(name: String, attributes: Vec<wit::Attribute>) {
        component::add_event(&tracing::Span::current(), name, pairs(attributes));
    }

    /// `telemetry.set-attribute`, on the current span.
    pub fn set_attribute(key: String, value: String) {
        component::set_attribute(&tracing::Span::current(), key, value);
    }

    /// `telemetry.add-counter`.
    pub fn add_counter(name: String, delta: u64, attributes: Vec<wit::Attribute>) {
        component::add_counter(name, delta, pairs(attributes));
    }
}
