//! `chaoslab-api`: the data-plane handler component.
//!
//! - `GET /` increments the visit counter in Redis through the sidecar's
//!   `store` interface and answers `{"message","visits","replica"}` (the
//!   replica as the sidecar names it: `telemetry.replica`).
//! - `GET /health` pings Redis through the sidecar and answers `200 healthy`
//!   or `503 unhealthy` with the reason.
//!
//! Store failures become `503` RFC 9457 problem documents, and an event and
//! a count through the sidecar's `telemetry` interface. The component holds
//! no state between requests; it reaches nothing but the WIT imports.
//!
//! It knows nothing of chaos: spin.toml serves it wrapped in the chaos layer
//! (`components/chaos-layer`, `chaoslab wrap`), which applies the data-plane
//! faults in front of it, as it would in front of any handler; Redis faults
//! reach it as failing store calls.

// The `#[http_component]` macro expands to the unsafe export glue of the
// component model ABI.
#![allow(unsafe_code)]

mod problem;

use chaoslab_guest_http::{JSON, json, method_not_allowed, not_found, path_of, send};
use chaoslab_world::wire::telemetry::replica;
use chaoslab_world::wire::{store, telemetry};
use serde_json::json;
use spin_sdk::http::{IncomingRequest, Method, Response, ResponseOutparam};
use spin_sdk::http_component;

/// The Redis key of the visit counter, shared by every replica.
const VISITS_KEY: &str = "chaoslab:visits";

/// The handler takes `wasi:http`'s own request and answers through
/// [`send`]: it reads no header and no body, so it copies none into the
/// guest (the SDK's `Request` would; issue #17).
#[http_component]
fn handle(req: IncomingRequest, response_out: ResponseOutparam) {
    let path = path_of(req.path_with_query());
    let response = match (path.as_str(), req.method()) {
        ("/", Method::Get) => visit(),
        ("/health", Method::Get) => health(),
        ("/" | "/health", method) => method_not_allowed(&method.to_string(), "GET"),
        _ => not_found(&path),
    };
    send(response_out, response);
}

/// `GET /`: count the visit and say who served it.
fn visit() -> Response {
    match store::incr(VISITS_KEY, 1) {
        Ok(visits) => {
            json(200, JSON, &json!({ "message": "Hello from chaoslab", "visits": visits, "replica": replica() }))
        }
        Err(err) => {
            record_store_failure("incr", &err);
            problem::store_unavailable(&err)
        }
    }
}

/// Tells telemetry why a store call failed: an event on the request's span
/// and a count by kind (the happy path records nothing extra).
fn record_store_failure(call: &str, err: &store::Error) {
    let kind = match err {
        store::Error::Unavailable(_) => "unavailable",
        store::Error::Timeout(_) => "timeout",
        store::Error::Denied(_) => "denied",
        store::Error::Other(_) => "other",
    };
    let attribute = |key: &str, value: &str| telemetry::Attribute { key: key.to_owned(), value: value.to_owned() };
    let reason = problem::describe(err);
    telemetry::add_event(
        "store call failed",
        &[attribute("store.call", call), attribute("store.error", kind), attribute("reason", &reason)],
    );
    telemetry::add_counter("store.failures", 1, &[attribute("store.error", kind)]);
}

/// `GET /health`: healthy when Redis answers a PING within the sidecar's deadline.
fn health() -> Response {
    match store::ping() {
        Ok(micros) => json(
            200,
            JSON,
            &json!({ "status": "healthy", "replica": replica(), "redis": { "latency_ms": micros as f64 / 1000.0 } }),
        ),
        Err(err) => {
            record_store_failure("ping", &err);
            json(503, JSON, &json!({ "status": "unhealthy", "replica": replica(), "reason": problem::describe(&err) }))
        }
    }
}
