//! [`GuestRunner`]: runs one request through a component in a fresh `Store`
//! under a deadline — or, with `--instance-reuse N` and a component that
//! declared itself stateless, through a warm instance that served fewer
//! than `N` requests ([`crate::server::warm`]). Shared by the request
//! handler and by the revisions' health gate, so a readiness request runs
//! exactly as a client's would.

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
use crate::server::warm::{RETIRE_MEMORY_BYTES, Warm};

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
    /// Most requests one instance of a stateless component serves
    /// (`--instance-reuse`); 1: a fresh instance for every request.
    instance_reuse: u32,
}

impl<S: SidecarImports> GuestRunner<S> {
    /// A runner for components compiled with `engine`; instances of
    /// stateless components serve up to `instance_reuse` requests.
    pub fn new(engine: Engine, sidecar: S, max_memory_bytes: usize, instance_reuse: u32) -> Self {
        Self { engine, sidecar, max_memory_bytes, instance_reuse: instance_reuse.max(1) }
    }

    /// How many requests one instance of `component` may serve.
    fn reuse_limit(&self, component: &LoadedComponent<S>) -> u32 {
        if component.host.stateless { self.instance_reuse } else { 1 }
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
        let reuse = self.reuse_limit(component);
        let warm = if reuse > 1 { component.warm.take() } else { None };
        let (mut store, warm_proxy, served) = match warm {
            Some(mut warm) => {
                warm.store.data_mut().next_request(&component.host.outbound, deadline.clone());
                warm.store.set_epoch_deadline(1);
                (warm.store, Some(warm.proxy), warm.served)
            }
            None => (self.store(component, deadline.clone()), None, 0),
        };
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store.data_mut().http().new_incoming_request(Scheme::Http, req).map_err(GuestFailure::Trap)?;
        let outparam = store.data_mut().http().new_response_outparam(sender).map_err(GuestFailure::Trap)?;
        let component = component.clone();
        let task = tokio::spawn(
            async move {
                let _keep = keep;
                let served = served + 1;
                deadline
                    .run(async move {
                        let proxy = match warm_proxy {
                            Some(proxy) => proxy,
                            None => {
                                component.pre.instantiate_async(&mut store).await.map_err(GuestFailure::Instantiate)?
                            }
                        };
                        proxy
                            .wasi_http_incoming_handler()
                            .call_handle(&mut store, incoming, outparam)
                            .await
                            .map_err(GuestFailure::Trap)?;
                        // Only an instance that answered cleanly, in time,
                        // within its request count and memory, serves again;
                        // any other is dropped here with its store.
                        if served < reuse && store.data().peak_memory_bytes() <= RETIRE_MEMORY_BYTES {
                            component.warm.keep(Warm { store, proxy, served });
                        }
                        Ok(())
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

/// The headers Spin gives every component, by name.
const SPIN_FULL_URL: HeaderName = HeaderName::from_static("spin-full-url");
const SPIN_PATH_INFO: HeaderName = HeaderName::from_static("spin-path-info");
const SPIN_MATCHED_ROUTE: HeaderName = HeaderName::from_static("spin-matched-route");
const SPIN_RAW_COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-raw-component-route");
const SPIN_COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-component-route");
const SPIN_BASE_PATH: HeaderName = HeaderName::from_static("spin-base-path");
const SPIN_CLIENT_ADDR: HeaderName = HeaderName::from_static("spin-client-addr");

/// Adds the headers Spin gives every component (`spin-full-url`,
/// `spin-path-info`, `spin-matched-route`, …), and a `Host` if missing.
/// On every request: names are constants, values are built once each.
pub fn set_spin_headers<B>(req: &mut Request<B>, matched: &RouteMatch<'_>, client: SocketAddr) {
    let host = req.headers().get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let path_and_query = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let full_url = HeaderValue::try_from(format!("http://{host}{path_and_query}")).ok();
    let route = HeaderValue::from_str(matched.route.as_str()).ok();
    let component_route = HeaderValue::from_str(matched.route.as_str().trim_end_matches("/...")).ok();
    let path_info = HeaderValue::from_str(&matched.path_info).ok();
    let client = HeaderValue::try_from(client.to_string()).ok();
    let map = req.headers_mut();
    if !map.contains_key(http::header::HOST) {
        map.insert(http::header::HOST, HeaderValue::from_static("localhost"));
    }
    let values = [
        (SPIN_FULL_URL, full_url),
        (SPIN_PATH_INFO, path_info),
        (SPIN_MATCHED_ROUTE, route.clone()),
        (SPIN_RAW_COMPONENT_ROUTE, route),
        (SPIN_COMPONENT_ROUTE, component_route),
        (SPIN_BASE_PATH, Some(HeaderValue::from_static("/"))),
        (SPIN_CLIENT_ADDR, client),
    ];
    // A value HTTP cannot carry (a path with control characters) is left out,
    // as before: the component sees the request without that header.
    for (name, value) in values {
        if let Some(value) = value {
            map.insert(name, value);
        }
    }
    for (key, value) in &matched.params {
        if let (Ok(name), Ok(value)) =
            (HeaderName::try_from(format!("spin-path-match-{key}")), HeaderValue::from_str(value))
        {
            map.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Route;

    #[test]
    fn spin_headers_describe_the_match() {
        let route = Route::parse("/users/:id/...").unwrap();
        let matched = route.matches("/users/7/a/b").unwrap();
        let mut req = Request::builder().uri("/users/7/a/b?x=1").header("host", "example.test").body(()).unwrap();
        set_spin_headers(&mut req, &matched, "10.0.0.9:4242".parse().unwrap());
        let header = |name: &str| req.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header("spin-full-url").as_deref(), Some("http://example.test/users/7/a/b?x=1"));
        assert_eq!(header("spin-path-info").as_deref(), Some("/a/b"));
        assert_eq!(header("spin-matched-route").as_deref(), Some("/users/:id/..."));
        assert_eq!(header("spin-raw-component-route").as_deref(), Some("/users/:id/..."));
        assert_eq!(header("spin-component-route").as_deref(), Some("/users/:id"));
        assert_eq!(header("spin-base-path").as_deref(), Some("/"));
        assert_eq!(header("spin-client-addr").as_deref(), Some("10.0.0.9:4242"));
        assert_eq!(header("spin-path-match-id").as_deref(), Some("7"));
        assert_eq!(header("host").as_deref(), Some("example.test"));
    }

    #[test]
    fn a_request_without_host_gets_localhost() {
        let route = Route::parse("/...").unwrap();
        let matched = route.matches("/").unwrap();
        let mut req = Request::builder().uri("/").body(()).unwrap();
        set_spin_headers(&mut req, &matched, "127.0.0.1:1".parse().unwrap());
        assert_eq!(req.headers()["host"], "localhost");
        assert_eq!(req.headers()["spin-full-url"], "http://localhost/");
    }
}
