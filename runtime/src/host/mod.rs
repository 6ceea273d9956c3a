//! The per-request host state (`Store<HostState<S>>` data) and the host
//! interfaces linked into every component.
//!
//! - [`sidecar`]: `chaoslab:sidecar/*` linked in-process: [`SidecarCtx`],
//!   [`SidecarView`] and `add_to_linker`, the shape of wasmtime's WASI crates.
//! - [`outbound`]: which hosts a component's `wasi:http` requests may reach.
//! - [`deadline`]: the request's time budget, extended by chaos holds.
//! - [`limits`]: the instance's memory cap and high-water mark.
//! - [`variables`]: `fermyon:spin/variables`, the component's variables.
//! - `sidecar_client`: pooled keep-alive connections for the loopback link.
//!
//! How the `chaoslab:sidecar` imports are served is decided once, at
//! start-up, by the type `S` of [`SidecarImports`]: [`SidecarCtx`] links
//! them in-process; [`ThroughBridge`] links nothing, because each component
//! was composed with the `sidecar-link` bridge, which calls the sidecar
//! over loopback HTTP.

pub mod deadline;
pub mod limits;
pub mod outbound;
pub mod sidecar;
mod sidecar_client;
pub mod variables;

use std::sync::Arc;

use wasmtime::component::{Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

pub use deadline::RequestDeadline;
pub use limits::Limits;
pub use outbound::{AllowedHost, OutboundPolicy};
pub use sidecar::{SidecarCtx, SidecarView};
pub use variables::Variables;

/// How a request's instance reaches the sidecar: the part of the host state
/// that depends on the link mode, and what that mode links.
pub trait SidecarImports: Clone + Send + Sync + 'static {
    /// Whether components are composed with their declared dependencies
    /// (the `sidecar-link` bridge), as `spin up` does.
    const COMPOSES_DEPENDENCIES: bool;

    /// Links the `chaoslab:sidecar` interfaces this mode serves natively.
    fn add_to_linker(linker: &mut Linker<HostState<Self>>) -> wasmtime::Result<()>;

    /// The loopback sidecar's origin: calls to it use pooled connections,
    /// carry the request's trace, and its holds extend the request's deadline.
    fn sidecar_origin(&self) -> Option<&AllowedHost> {
        None
    }
}

/// `--link inprocess`: the imports call the sidecar library directly.
impl SidecarImports for SidecarCtx {
    const COMPOSES_DEPENDENCIES: bool = false;

    fn add_to_linker(linker: &mut Linker<HostState<Self>>) -> wasmtime::Result<()> {
        sidecar::add_to_linker(linker, |state| SidecarView::new(&state.sidecar, &state.deadline))
    }
}

/// `--link loopback`: each component carries the bridge, which implements
/// the imports with `wasi:http` calls to the sidecar at `origin`; nothing is
/// linked here.
#[derive(Debug, Clone)]
pub struct ThroughBridge {
    /// `http://host:port` of the sidecar.
    origin: Arc<AllowedHost>,
}

impl ThroughBridge {
    /// The bridge calls the sidecar at `origin`.
    pub fn new(origin: AllowedHost) -> Self {
        Self { origin: Arc::new(origin) }
    }
}

impl SidecarImports for ThroughBridge {
    const COMPOSES_DEPENDENCIES: bool = true;

    fn add_to_linker(_: &mut Linker<HostState<Self>>) -> wasmtime::Result<()> {
        Ok(())
    }

    fn sidecar_origin(&self) -> Option<&AllowedHost> {
        Some(&self.origin)
    }
}

/// Everything one request's Wasm instance can touch.
pub struct HostState<S> {
    /// WASI CLI context: environment, clocks, random, stdio (no sockets, no files).
    wasi: WasiCtx,
    /// WASI HTTP context.
    http: WasiHttpCtx,
    /// Resources handed to the guest (shared by WASI and WASI HTTP).
    table: ResourceTable,
    /// The component's outbound policy (`allowed_outbound_hosts`).
    outbound: OutboundPolicy,
    /// What the link mode gives the instance of the sidecar.
    sidecar: S,
    /// The component's variables, for `fermyon:spin/variables`.
    variables: Variables,
    /// This request's deadline (chaos holds extend it).
    pub(crate) deadline: Arc<RequestDeadline>,
    /// Memory and instance limits of the instance, and its memory peak.
    pub(crate) limits: Limits,
}

impl<S: SidecarImports> HostState<S> {
    /// State for one request of a component.
    pub fn new(
        wasi: WasiCtx,
        outbound: &OutboundPolicy,
        variables: Variables,
        sidecar: S,
        deadline: Arc<RequestDeadline>,
        max_memory: usize,
    ) -> Self {
        Self {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            outbound: outbound.for_request(deadline.clone()),
            sidecar,
            variables,
            deadline,
            limits: Limits::new(max_memory),
        }
    }

    /// Readies a reused instance's state for its next request: that
    /// request's deadline, for the guest and for its outbound calls.
    pub fn next_request(&mut self, outbound: &OutboundPolicy, deadline: Arc<RequestDeadline>) {
        self.outbound = outbound.for_request(deadline.clone());
        self.deadline = deadline;
    }

    /// The largest linear memory the instance grew to, in bytes.
    pub fn peak_memory_bytes(&self) -> usize {
        self.limits.peak_memory_bytes()
    }

    /// Links WASI CLI, WASI HTTP, Spin variables, and what `S` links of
    /// `chaoslab:sidecar`, into `linker`.
    pub fn add_to_linker(linker: &mut Linker<Self>) -> wasmtime::Result<()> {
        wasmtime_wasi::p2::add_to_linker_async(linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
        variables::add_to_linker(linker, |state| variables::VariablesView::new(&state.variables))?;
        S::add_to_linker(linker)
    }
}

impl<S: Send + 'static> WasiView for HostState<S> {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl<S: Send + 'static> WasiHttpView for HostState<S> {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.outbound }
    }
}
