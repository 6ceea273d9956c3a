//! The runtime's own answers (no component involved), as RFC 9457
//! `application/problem+json` documents.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The problem document of `status` (title from the status) with `detail`.
pub fn document(status: StatusCode, detail: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    })
}

/// A problem response with `status`, a title from the status, and `detail`.
pub fn problem(status: StatusCode, detail: &str) -> Response<HyperOutgoingBody> {
    let body = document(status, detail).to_string();
    let mut resp = Response::new(Full::new(Bytes::from(body)).map_err(|never| match never {}).boxed_unsync());
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `503` with `Retry-After`, for requests beyond the concurrency cap.
pub fn overloaded(limit: usize) -> Response<HyperOutgoingBody> {
    let mut resp = problem(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!("server busy: {limit} requests already in flight; retry shortly"),
    );
    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}
