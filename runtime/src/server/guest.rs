//! [`GuestRunner`]: runs one request through a component in a fresh `Store`
//! under a deadline. Shared by the request handler and by the revisions'
//! health gate, so a readiness request runs exactly as a client's would.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response};
use wasmtime::{Engine, Store};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use tracing::Instrument;

use crate::app::LoadedComponent;
use crate::host::{HostState, RequestDeadline, SidecarImports};
use crate::manifest::RouteMatch;

/// Why a guest did not produce a response.
#[derive(Debug)]
pub enum GuestFailure {
    /// Could not be instantiated (e.g. its start function trapped, or the
    /// instance pool is exhausted).
    Instantiate(wasmtime::Error),
    /// Trapped while handling the request.
    Trap(wasmtime::Error),
    /// Ran past its deadline.
    Timeout,
    /// Returned without setting a response.
    NoResponse,
}

/// Runs guests. Cheap to share: one per server.
pub struct GuestRunner<S: 'static> {
    /// The engine the components were compiled with.
    engine: Engine,
    /// What every instance gets of the sidecar (the in-process link, or
    /// nothing beyond the bridge composed into the component).
    sidecar: S,
    /// Largest linear memory one instance may grow to.
    max_memory_bytes: usize,
}

impl<S: SidecarImports> GuestRunner<S> {
    /// A runner for components compiled with `engine`.
    pub fn new(engine: Engine, sidecar: S, max_memory_bytes: usize) -> Self {
        Self { engine, sidecar, max_memory_bytes }
    }

    /// A fresh store for one instance of `component`, interrupted at each
    /// epoch tick so that `deadline` can stop it.
    fn store(&self, component: &LoadedComponent<S>, deadline: Arc<RequestDeadline>) -> Store<HostState<S>> {
        let mut wasi = WasiCtx::builder();
        wasi.envs(&component.host.env).inherit_stdout().inherit_stderr();
        let state = HostState::new(
            wasi.build(),
            &component.host.outbound,
            component.host.variables.clone(),
            self.sidecar.clone(),
            deadline,
            self.max_memory_bytes,
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        store
    }

    /// Instantiates `component` once, without a request: what the health
    /// gate checks before any readiness request.
    pub async fn instantiate(&self, component: &LoadedComponent<S>, timeout: Duration) -> Result<(), GuestFailure> {
        let deadline = Arc::new(RequestDeadline::new(timeout));
        let mut store = self.store(component, deadline.clone());
        let pre = component.pre.clone();
        match deadline.run(async move { pre.instantiate_async(&mut store).await.map(drop) }).await {
            Some(Ok(())) => Ok(()),
            Some(Err(err)) => Err(GuestFailure::Instantiate(err)),
            None => Err(GuestFailure::Timeout),
        }
    }

    /// Runs `req` through a fresh instance of `component`, stopped after
    /// `timeout` (extended by chaos holds). The guest runs in its own task: it
    /// may keep streaming the body after the response head is returned;
    /// `keep` (a concurrency permit, an in-flight mark) lives as long as it.
    pub async fn run<B, K>(
        &self,
        component: &Arc<LoadedComponent<S>>,
        req: Request<B>,
        timeout: Duration,
        keep: K,
    ) -> Result<Response<HyperOutgoingBody>, GuestFailure>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
        K: Send + 'static,
    {
        let deadline = Arc::new(RequestDeadline::new(timeout));
        let mut store = self.store(component, deadline.clone());
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store.data_mut().http().new_incoming_request(Scheme::Http, req).map_err(GuestFailure::Trap)?;
        let outparam = store.data_mut().http().new_response_outparam(sender).map_err(GuestFailure::Trap)?;
        let pre = component.pre.clone();
        let task = tokio::spawn(
            async move {
                let _keep = keep;
                deadline
                    .run(async move {
                        let proxy = pre.instantiate_async(&mut store).await.map_err(GuestFailure::Instantiate)?;
                        proxy
                            .wasi_http_incoming_handler()
                            .call_handle(&mut store, incoming, outparam)
                            .await
                            .map_err(GuestFailure::Trap)
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
                Ok(Some(Err(failure))) => Err(failure),
                Ok(None) => Err(GuestFailure::Timeout),
                Err(join) => Err(GuestFailure::Trap(wasmtime::Error::msg(format!("guest task failed: {join}")))),
            },
        }
    }
}

/// Adds the headers Spin gives every component (`spin-full-url`,
/// `spin-path-info`, `spin-matched-route`, …), and a `Host` if missing.
pub fn set_spin_headers<B>(req: &mut Request<B>, matched: &RouteMatch<'_>, client: SocketAddr) {
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
