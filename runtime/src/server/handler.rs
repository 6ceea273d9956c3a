//! One HTTP request: route it, pick the revision of the component that
//! serves it, run that revision in a fresh `Store` under the request
//! deadline, and turn every failure into a clear HTTP answer. A guest that
//! traps or loops costs its own request only. Paths under `/_chaoslab/` go
//! to the control API instead.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::{Body as _, Incoming};
use tokio::sync::Semaphore;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use tracing::Instrument;

use super::guest::{GuestFailure, GuestRunner, set_spin_headers};
use super::problem::{overloaded, problem};
use super::request_body::CappedBody;
use super::telemetry;
use crate::app::App;
use crate::host::SidecarImports;
use crate::manifest::RouteMatch;
use crate::revisions::{InFlight, api};

/// The header naming the revision that answered.
pub const REVISION_HEADER: HeaderName = HeaderName::from_static("x-chaoslab-revision");

/// Limits applied to every request.
#[derive(Debug, Clone)]
pub struct RequestLimits {
    /// Longest a component may take to answer (and stream its body).
    pub timeout: Duration,
    /// Most requests in flight; beyond, `503` with `Retry-After`.
    pub max_concurrent: usize,
    /// Largest linear memory one instance may grow to.
    pub max_memory_bytes: usize,
    /// Largest request body, announced by `Content-Length` or sent chunked.
    pub max_body_bytes: u64,
}

/// Serves requests for one [`App`]. Shared by all connections.
pub struct Handler<S: 'static> {
    /// Routes and the components' revisions.
    app: Arc<App<S>>,
    /// Runs a revision for a request.
    runner: Arc<GuestRunner<S>>,
    /// The control API under `/_chaoslab/`.
    control: axum::Router,
    /// Request limits.
    limits: RequestLimits,
    /// One permit per request in flight.
    permits: Arc<Semaphore>,
    /// This replica's name, on every request span.
    replica: String,
}

impl<S: SidecarImports> Handler<S> {
    /// A handler for `app`, its guests run by `runner`, control requests
    /// answered by `control`.
    pub fn new(app: Arc<App<S>>, runner: Arc<GuestRunner<S>>, control: axum::Router, limits: RequestLimits) -> Self {
        let permits = Arc::new(Semaphore::new(limits.max_concurrent));
        Self { app, runner, control, limits, permits, replica: chaoslab_telemetry::resource::replica() }
    }

    /// Answers one request; never fails. The request is one server span
    /// (a child of the caller's `traceparent`, if any) and one metric point,
    /// both naming the revision that served it.
    pub async fn handle(&self, req: Request<Incoming>, client: SocketAddr) -> Response<HyperOutgoingBody> {
        let started = std::time::Instant::now();
        let method = req.method().clone();
        if api::is_control_path(req.uri().path()) {
            let route = Some(telemetry::CONTROL_ROUTE);
            let span = telemetry::request_span(&req, route, None, &self.replica);
            let resp = self.control(req).instrument(span.clone()).await;
            telemetry::record_response(&span, route, None, method.as_str(), resp.status().as_u16(), started.elapsed());
            return resp;
        }
        // The route and the revision are chosen once: for the span, the
        // metrics, the guest and the answer's header.
        let routed = self.app.route(req.uri().path());
        let route = routed.as_ref().map(|(matched, _)| matched.route.as_str());
        let picked = routed.as_ref().map(|(matched, slot)| (matched, slot.pick()));
        let revision = picked.as_ref().map(|(_, running)| running.revision().clone());
        let revision_id = revision.as_ref().map(|r| r.meta.id.as_str());
        let span = telemetry::request_span(&req, route, revision_id, &self.replica);
        let mut resp = self.handle_inner(req, client, picked).instrument(span.clone()).await;
        if let Some(revision) = &revision {
            resp.headers_mut().insert(REVISION_HEADER, revision.header().clone());
        }
        let status = resp.status().as_u16();
        telemetry::record_response(&span, route, revision_id, method.as_str(), status, started.elapsed());
        resp
    }

    /// A request to the control API.
    async fn control(&self, req: Request<Incoming>) -> Response<HyperOutgoingBody> {
        use tower::ServiceExt;
        let resp = match self.control.clone().oneshot(req.map(axum::body::Body::new)).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        };
        resp.map(|body| {
            body.map_err(|err| wasmtime_wasi_http::Error::InternalError(Some(err.to_string()))).boxed_unsync()
        })
    }

    async fn handle_inner(
        &self,
        mut req: Request<Incoming>,
        client: SocketAddr,
        picked: Option<(&RouteMatch<'_>, InFlight<S>)>,
    ) -> Response<HyperOutgoingBody> {
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            return overloaded(self.limits.max_concurrent);
        };
        let declared =
            req.headers().get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if let Some(len) = declared.filter(|len| *len > self.limits.max_body_bytes) {
            let detail = format!("request body is {len} bytes; the limit is {}", self.limits.max_body_bytes);
            return problem(StatusCode::PAYLOAD_TOO_LARGE, &detail);
        }
        let path = req.uri().path().to_owned();
        let Some((matched, running)) = picked else {
            return problem(StatusCode::NOT_FOUND, &format!("no route matches {path}"));
        };
        set_spin_headers(&mut req, matched, client);
        let revision = running.revision().clone();
        let (component, id) = (revision.code.id.as_str(), revision.meta.id.as_str());
        // The permit and the in-flight mark live as long as the guest.
        let keep = (permit, running);
        let (ran, watch) = if declared.is_none() && !req.body().is_end_stream() {
            // A chunked body has no length to check up front: it streams to
            // the guest as it arrives, capped at the same limit.
            let (parts, body) = req.into_parts();
            let (body, watch) = CappedBody::new(body, self.limits.max_body_bytes);
            let req = Request::from_parts(parts, body);
            (self.runner.run(&revision.code, req, self.limits.timeout, keep).await, Some(watch))
        } else {
            (self.runner.run(&revision.code, req, self.limits.timeout, keep).await, None)
        };
        if let Some(watch) = watch {
            // The client's fault, whatever the guest made of it: not the revision's.
            if watch.over_limit() {
                let detail = format!("chunked request body over the limit of {} bytes", self.limits.max_body_bytes);
                return problem(StatusCode::PAYLOAD_TOO_LARGE, &detail);
            }
            if matches!(ran, Err(GuestFailure::Timeout)) && watch.waiting() {
                let detail = format!("the request body did not arrive within {:?}", self.limits.timeout);
                return problem(StatusCode::REQUEST_TIMEOUT, &detail);
            }
        }
        let resp = match ran {
            Ok(resp) => resp,
            Err(GuestFailure::Timeout) => {
                tracing::warn!(component, revision = id, path, timeout = ?self.limits.timeout, "component timed out");
                problem(
                    StatusCode::GATEWAY_TIMEOUT,
                    &format!("component {component} did not answer within {:?}", self.limits.timeout),
                )
            }
            Err(GuestFailure::Trap(err)) => {
                tracing::warn!(component, revision = id, path, error = format!("{err:?}"), "component trapped");
                problem(StatusCode::INTERNAL_SERVER_ERROR, &format!("component {component} failed"))
            }
            Err(GuestFailure::Instantiate(err)) => {
                let error = format!("{err:?}");
                tracing::warn!(component, revision = id, path, error, "component could not be instantiated");
                problem(StatusCode::INTERNAL_SERVER_ERROR, &format!("component {component} failed to start"))
            }
            Err(GuestFailure::NoResponse) => {
                tracing::warn!(component, revision = id, path, "component returned no response");
                problem(StatusCode::INTERNAL_SERVER_ERROR, &format!("component {component} sent no response"))
            }
        };
        revision.record(resp.status().as_u16());
        resp
    }
}
