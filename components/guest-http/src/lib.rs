//! `chaoslab-guest-http`: responses shared by chaoslab's components — JSON
//! bodies with an explicit `content-length` (so the runtime sends head and
//! body in one write, not chunked) and RFC 9457 problem documents — and
//! [`send`], which writes a complete response through `wasi:http` in as few
//! calls as it takes. (The replica's name comes from the sidecar:
//! `telemetry::replica`.)

mod send;

use serde_json::{Value, json};
use spin_sdk::http::Response;

pub use send::send;

/// `application/json`.
pub const JSON: &str = "application/json";
/// `application/problem+json` (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A response with `status` and the serialized `body` as `content_type`.
pub fn json(status: u16, content_type: &str, body: &Value) -> Response {
    let body = body.to_string();
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("content-length", body.len().to_string())
        .header("cache-control", "no-store")
        .body(body)
        .build()
}

/// A problem document: `title`, `status`, `detail`, plus `extra` members
/// (e.g. `errors` with the fields at fault).
pub fn problem(status: u16, title: &str, detail: &str, extra: Option<(&str, Value)>) -> Response {
    json(status, PROBLEM_JSON, &problem_document(status, title, detail, extra))
}

/// The body of [`problem`], for components that write their response
/// through `wasi:http` themselves (the chaos layer).
pub fn problem_document(status: u16, title: &str, detail: &str, extra: Option<(&str, Value)>) -> Value {
    let mut body = json!({ "type": "about:blank", "title": title, "status": status, "detail": detail });
    if let Some((key, value)) = extra {
        body[key] = value;
    }
    body
}

/// The path of a request's `path-with-query`, without its query: `/` when
/// the request has none.
pub fn path_of(path_with_query: Option<String>) -> String {
    let path_with_query = path_with_query.unwrap_or_default();
    match path_with_query.split_once('?').map_or(path_with_query.as_str(), |(path, _)| path) {
        "" => "/".to_owned(),
        path => path.to_owned(),
    }
}

/// `404` for a path the component does not serve.
pub fn not_found(path: &str) -> Response {
    problem(404, "Not Found", &format!("no route for {path}"), None)
}

/// `405` with `Allow`.
pub fn method_not_allowed(method: &str, allow: &str) -> Response {
    let mut resp = problem(405, "Method Not Allowed", &format!("{method} is not allowed here; use {allow}"), None);
    resp.set_header("allow", allow);
    resp
}
