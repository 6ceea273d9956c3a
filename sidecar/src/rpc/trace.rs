//! Middleware: each link RPC is a span named after the WIT function
//! (`chaoslab:sidecar/store.incr`), a child of the `traceparent` the
//! runtime's outbound hook injected into the bridge's call. The Redis spans
//! and chaos marks of the call nest under it, so the whole request is one
//! trace across both processes. (Under the Spin CLI no one injects the
//! header; each call then starts its own trace.)
//!
//! Its kind is *internal*, not server: the link is an implementation detail
//! of one HTTP request, so Application Insights lists it with the request's
//! dependencies (type `InProc`) and the `requests` table keeps counting only
//! the HTTP requests users sent.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// Runs the RPC inside its span and records the answer's status.
pub async fn span(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let function = path.strip_prefix("/v1/").unwrap_or(path).replacen('/', ".", 1);
    let span = tracing::info_span!(
        "link",
        otel.name = format!("chaoslab:sidecar/{function}"),
        otel.kind = "internal",
        otel.status_code = tracing::field::Empty,
        rpc.system = "chaoslab-link",
        rpc.method = function,
        http.response.status_code = tracing::field::Empty,
    );
    chaoslab_telemetry::propagation::set_parent_from(&span, request.headers());
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.record("http.response.status_code", i64::from(status));
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
    response
}
