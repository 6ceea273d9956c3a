//! Building responses: JSON bodies with an explicit `content-length`, so the
//! runtime can send head and body in one write instead of chunked frames.

use spin_sdk::http::Response;

/// `application/json`.
pub const JSON: &str = "application/json";
/// `application/problem+json` (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A response with `status` and the serialized `body` as `content_type`.
pub fn json(status: u16, content_type: &str, body: &serde_json::Value) -> Response {
    let body = body.to_string();
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("content-length", body.len().to_string())
        .header("cache-control", "no-store")
        .body(body)
        .build()
}
