//! The telemetry of one HTTP request: a server span (an Application Insights
//! *request*) named `METHOD route` with the route template, method, status,
//! replica and the revision that served it, continuing the caller's W3C
//! `traceparent`; 5xx answers mark it failed. Its duration and status also
//! go to the request metrics, by revision. Chaos faults applied to the
//! request add `chaos.*` attributes and an event
//! (`chaoslab_sidecar::contract::chaos`).

use std::time::Duration;

use chaoslab_telemetry::{metrics, propagation};

/// The route recorded for requests that match no route (404).
const UNMATCHED: &str = "(unmatched)";
/// The route recorded for the control API.
pub const CONTROL_ROUTE: &str = "/_chaoslab/...";

/// The span of `req`, matched to `route` (the template from spin.toml) and
/// served by `revision`.
pub fn request_span<B>(
    req: &http::Request<B>,
    route: Option<&str>,
    revision: Option<&str>,
    replica: &str,
) -> tracing::Span {
    let method = req.method().as_str();
    let span = tracing::info_span!(
        "request",
        otel.name = format!("{method} {}", route.unwrap_or(UNMATCHED)),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = method,
        http.route = route.unwrap_or(UNMATCHED),
        url.path = req.uri().path(),
        url.scheme = "http",
        http.response.status_code = tracing::field::Empty,
        chaoslab.replica = replica,
        chaoslab.revision = tracing::field::Empty,
    );
    if let Some(revision) = revision {
        span.record("chaoslab.revision", revision);
    }
    propagation::set_parent_from(&span, req.headers());
    span
}

/// Records the answer on the span and in the metrics.
pub fn record_response(
    span: &tracing::Span,
    route: Option<&str>,
    revision: Option<&str>,
    method: &str,
    status: u16,
    took: Duration,
) {
    span.record("http.response.status_code", i64::from(status));
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
    metrics::instruments().record_request(route.unwrap_or(UNMATCHED), revision, method, status, took);
}
