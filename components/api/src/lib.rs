//! `chaoslab-api`: the data-plane handler component.
//!
//! - `GET /` increments the visit counter in Redis through the sidecar's
//!   `store` interface and answers `{"message","visits","replica"}`.
//! - `GET /health` pings Redis through the sidecar and answers `200 healthy`
//!   or `503 unhealthy` with the reason.
//!
//! Store failures become `503` RFC 9457 problem documents. The component holds
//! no state between requests; it reaches nothing but the WIT imports.

// The `#[http_component]` and `wit_bindgen` macros expand to the unsafe
// export glue of the component model ABI.
#![allow(unsafe_code)]

mod bindings;
mod problem;
mod response;

use bindings::chaoslab::sidecar::store;
use serde_json::json;
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

/// The Redis key of the visit counter, shared by every replica.
const VISITS_KEY: &str = "chaoslab:visits";

#[http_component]
fn handle(req: Request) -> Response {
    match (req.path(), req.method()) {
        ("/", Method::Get) => visit(),
        ("/health", Method::Get) => health(),
        ("/" | "/health", _) => problem::method_not_allowed(req.method(), "GET"),
        (path, _) => problem::not_found(path),
    }
}

/// `GET /`: count the visit and say who served it.
fn visit() -> Response {
    match store::incr(VISITS_KEY, 1) {
        Ok(visits) => json_response(
            200,
            &json!({
                "message": "Hello from chaoslab",
                "visits": visits,
                "replica": replica(),
            }),
        ),
        Err(err) => problem::store_unavailable(&err),
    }
}

/// `GET /health`: healthy when Redis answers a PING within the sidecar's deadline.
fn health() -> Response {
    match store::ping() {
        Ok(micros) => json_response(
            200,
            &json!({
                "status": "healthy",
                "replica": replica(),
                "redis": { "latency_ms": micros as f64 / 1000.0 },
            }),
        ),
        Err(err) => json_response(
            503,
            &json!({
                "status": "unhealthy",
                "replica": replica(),
                "reason": problem::describe(&err),
            }),
        ),
    }
}

/// The replica's name: Azure Container Apps sets `CONTAINER_APP_REPLICA_NAME`;
/// elsewhere the runtime passes the host name.
fn replica() -> String {
    ["CONTAINER_APP_REPLICA_NAME", "HOSTNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn json_response(status: u16, body: &serde_json::Value) -> Response {
    response::json(status, response::JSON, body)
}
