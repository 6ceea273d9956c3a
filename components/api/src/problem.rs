//! RFC 9457 problem documents (`application/problem+json`) for this component.

use crate::bindings::chaoslab::sidecar::store::Error as StoreError;
use serde_json::json;
use spin_sdk::http::{Method, Response};

/// A short, client-safe description of a store failure.
pub fn describe(err: &StoreError) -> String {
    match err {
        StoreError::Unavailable(why) => format!("redis unavailable: {why}"),
        StoreError::Timeout(why) => format!("redis timeout: {why}"),
        StoreError::Denied(why) => format!("redis denied access: {why}"),
        StoreError::Other(why) => format!("redis error: {why}"),
    }
}

/// `503`: the visit could not be counted because Redis is not usable.
pub fn store_unavailable(err: &StoreError) -> Response {
    let mut resp = problem(503, "Redis unavailable", &describe(err));
    resp.set_header("retry-after", "1");
    resp
}

/// `404` for a path this component does not serve.
pub fn not_found(path: &str) -> Response {
    problem(404, "Not Found", &format!("no route for {path}"))
}

/// `405` with the `Allow` header naming the method the route accepts.
pub fn method_not_allowed(method: &Method, allow: &str) -> Response {
    let mut resp = problem(405, "Method Not Allowed", &format!("{method} is not allowed here; use {allow}"));
    resp.set_header("allow", allow);
    resp
}

fn problem(status: u16, title: &str, detail: &str) -> Response {
    let body = json!({ "type": "about:blank", "title": title, "status": status, "detail": detail });
    crate::response::json(status, crate::response::PROBLEM_JSON, &body)
}
