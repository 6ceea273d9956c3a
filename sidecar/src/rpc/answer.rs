//! The RPC server's answers: JSON values and RFC 9457 problems.

use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A JSON answer.
pub fn json(status: u16, value: &impl Serialize) -> Response {
    // WIT types and `serde_json::Value` always serialize.
    let body = serde_json::to_vec(value).unwrap_or_default();
    let status = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// An RFC 9457 problem answer.
pub fn problem(status: u16, title: &str, detail: &str) -> Response {
    let body = serde_json::json!({ "type": "about:blank", "title": title, "status": status, "detail": detail });
    let status = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(http::header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response()
}
