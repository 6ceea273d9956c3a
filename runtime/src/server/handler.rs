//! One HTTP request: route it, run the component in a fresh `Store` under the
//! request deadline, and turn every failure into a clear HTTP answer. A guest
//! that traps or loops costs its own request only.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body as _, Incoming};
use tokio::sync::Semaphore;
use wasmtime::{Engine, Store};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use tracing::Instrument;

use super::problem::{overloaded, problem};
use super::telemetry;
use crate::app::{App, LoadedComponent};
use crate::host::{HostState, RequestDeadline, SidecarImports};
use crate::manifest::RouteMatch;

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
    /// The engine the app was compiled with.
    engine: Engine,
    /// Routes and compiled components.
    app: App<S>,
    /// What every instance gets of the sidecar (the in-process link, or
    /// nothing beyond the bridge composed into the component).
    sidecar: S,
    /// Request limits.
    limits: RequestLimits,
    /// One permit per request in flight.
    permits: Arc<Semaphore>,
    /// This replica's name, on every request span.
    replica: String,
}

/// Why a guest did not produce a response.
enum GuestFailure {
    /// Trapped or failed to instantiate.
    Trap(wasmtime::Error),
    /// Ran past the request timeout.
    Timeout,
    /// Returned without setting a response.
    NoResponse,
}

impl<S: SidecarImports> Handler<S> {
    /// A handler for `app`.
    pub fn new(engine: Engine, app: App<S>, sidecar: S, limits: RequestLimits) -> Self {
        let permits = Arc::new(Semaphore::new(limits.max_concurrent));
        Self { engine, app, sidecar, limits, permits, replica: chaoslab_telemetry::resource::replica() }
    }

    /// Answers one request; never fails. The request is one server span
    /// (a child of the caller's `traceparent`, if any) and one metric point.
    pub async fn handle(&self, req: Request<Incoming>, client: SocketAddr) -> Response<HyperOutgoingBody> {
        let started = std::time::Instant::now();
        let method = req.method().clone();
        // The route is matched once: for the span, the metrics and the guest.
        let routed = self.app.route(req.uri().path());
        let route = routed.as_ref().map(|(matched, _)| matched.route.as_str());
        let span = telemetry::request_span(&req, route, &self.replica);
        let resp = self.handle_inner(req, client, routed.as_ref()).instrument(span.clone()).await;
        let status = resp.status().as_u16();
        telemetry::record_response(&span, route, method.as_str(), status, started.elapsed());
        resp
    }

    async fn handle_inner(
        &self,
        mut req: Request<Incoming>,
        client: SocketAddr,
        routed: Option<&(RouteMatch<'_>, &Arc<LoadedComponent<S>>)>,
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
        let Some((matched, component)) = routed else {
            return problem(StatusCode::NOT_FOUND, &format!("no route matches {path}"));
        };
        set_spin_headers(&mut req, matched, client);
        let component = (*component).clone();
        let ran = if declared.is_none() && !req.body().is_end_stream() {
            // A chunked body has no length to check up front: it is read
            // (within the limit and the request timeout) before the guest runs.
            match self.read_chunked(req).await {
                Ok(req) => self.run_guest(&component, req, permit).await,
                Err(refused) => return refused,
            }
        } else {
            self.run_guest(&component, req, permit).await
        };
        match ran {
            Ok(resp) => resp,
            Err(GuestFailure::Timeout) => {
                tracing::warn!(component = %component.id, path, timeout = ?self.limits.timeout, "component timed out");
                problem(
                    StatusCode::GATEWAY_TIMEOUT,
                    &format!("component {} did not answer within {:?}", component.id, self.limits.timeout),
                )
            }
            Err(GuestFailure::Trap(err)) => {
                tracing::warn!(component = %component.id, path, error = format!("{err:?}"), "component trapped");
                problem(StatusCode::INTERNAL_SERVER_ERROR, &format!("component {} failed", component.id))
            }
            Err(GuestFailure::NoResponse) => {
                tracing::warn!(component = %component.id, path, "component returned no response");
                problem(StatusCode::INTERNAL_SERVER_ERROR, &format!("component {} sent no response", component.id))
            }
        }
    }

    /// Reads a chunked body whole, up to the body limit and within the
    /// request timeout; else the answer: `413` or `408`.
    async fn read_chunked(&self, req: Request<Incoming>) -> Result<Request<Full<Bytes>>, Response<HyperOutgoingBody>> {
        let (parts, body) = req.into_parts();
        let limit = usize::try_from(self.limits.max_body_bytes).unwrap_or(usize::MAX);
        match tokio::time::timeout(self.limits.timeout, Limited::new(body, limit).collect()).await {
            Ok(Ok(collected)) => Ok(Request::from_parts(parts, Full::new(collected.to_bytes()))),
            Ok(Err(err)) if err.downcast_ref::<LengthLimitError>().is_some() => {
                let detail = format!("chunked request body over the limit of {} bytes", self.limits.max_body_bytes);
                Err(problem(StatusCode::PAYLOAD_TOO_LARGE, &detail))
            }
            Ok(Err(err)) => Err(problem(StatusCode::BAD_REQUEST, &format!("could not read the request body: {err}"))),
            Err(_) => {
                let detail = format!("the request body did not arrive within {:?}", self.limits.timeout);
                Err(problem(StatusCode::REQUEST_TIMEOUT, &detail))
            }
        }
    }

    async fn run_guest<B>(
        &self,
        component: &Arc<LoadedComponent<S>>,
        req: Request<B>,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> Result<Response<HyperOutgoingBody>, GuestFailure>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let mut wasi = WasiCtx::builder();
        wasi.envs(&component.env).inherit_stdout().inherit_stderr();
        let deadline = Arc::new(RequestDeadline::new(self.limits.timeout));
        let state = HostState::new(
            wasi.build(),
            &component.outbound,
            component.variables.clone(),
            self.sidecar.clone(),
            deadline.clone(),
            self.limits.max_memory_bytes,
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);

        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store.data_mut().http().new_incoming_request(Scheme::Http, req).map_err(GuestFailure::Trap)?;
        let outparam = store.data_mut().http().new_response_outparam(sender).map_err(GuestFailure::Trap)?;
        let pre = component.pre.clone();
        // The guest runs in its own task: it may keep streaming the body after
        // the response head is sent. The permit lives as long as the guest.
        let task = tokio::spawn(
            async move {
                let _permit = permit;
                deadline
                    .run(async move {
                        let proxy = pre.instantiate_async(&mut store).await?;
                        proxy.wasi_http_incoming_handler().call_handle(&mut store, incoming, outparam).await
                    })
                    .await
            }
            // The guest's sidecar calls (in-process or through the bridge) are
            // children of the request's span.
            .instrument(tracing::Span::current()),
        );
        match receiver.await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(code)) => {
                Err(GuestFailure::Trap(wasmtime::Error::msg(format!("guest answered with error {code:?}"))))
            }
            Err(_dropped) => match task.await {
                Ok(Some(Ok(()))) => Err(GuestFailure::NoResponse),
                Ok(Some(Err(trap))) => Err(GuestFailure::Trap(trap)),
                Ok(None) => Err(GuestFailure::Timeout),
                Err(join) => Err(GuestFailure::Trap(wasmtime::Error::msg(format!("guest task failed: {join}")))),
            },
        }
    }
}

/// Adds the headers Spin gives every component (`spin-full-url`,
/// `spin-path-info`, `spin-matched-route`, …), and a `Host` if missing.
fn set_spin_headers(req: &mut Request<Incoming>, matched: &RouteMatch<'_>, client: SocketAddr) {
    let host = req.headers().get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_owned();
    let path_and_query = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
    let route = matched.route.as_str();
    let component_route = route.trim_end_matches("/...").to_owned();
    let mut headers: Vec<(String, String)> = vec![
        ("spin-full-url".into(), format!("http://{host}{path_and_query}")),
        ("spin-path-info".into(), matched.path_info.clone()),
        ("spin-matched-route".into(), route.to_owned()),
        ("spin-raw-component-route".into(), route.to_owned()),
        ("spin-component-route".into(), component_route),
        ("spin-base-path".into(), "/".into()),
        ("spin-client-addr".into(), client.to_string()),
    ];
    headers.extend(matched.params.iter().map(|(k, v)| (format!("spin-path-match-{k}"), v.clone())));
    let map = req.headers_mut();
    if !map.contains_key(http::header::HOST) {
        map.insert(http::header::HOST, HeaderValue::from_static("localhost"));
    }
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            map.insert(name, value);
        }
    }
}
