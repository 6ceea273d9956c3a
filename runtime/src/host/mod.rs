//! The per-request host state (`Store<HostState>` data) and the host
//! interfaces linked into every component.
//!
//! - [`outbound`]: which hosts a component's `wasi:http` requests may reach.
//! - [`link`] and `chaos_link`: `chaoslab:sidecar/*` imports, linked
//!   in-process to the sidecar library.
//! - [`deadline`]: the request's time budget, extended by chaos holds.

mod bindings;
mod chaos_link;
pub mod deadline;
pub mod link;
pub mod outbound;

use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use std::sync::Arc;

use chaoslab_sidecar::{ChaosEngine, Store};
pub use deadline::RequestDeadline;
pub use outbound::{AllowedHost, OutboundPolicy};

/// The sidecar services linked into every instance.
#[derive(Debug, Clone)]
pub struct Sidecar {
    /// Redis.
    pub store: Store,
    /// The replica's chaos engine.
    pub chaos: ChaosEngine,
}

/// Everything one request's Wasm instance can touch.
pub struct HostState {
    /// WASI CLI context: environment, clocks, random, stdio (no sockets, no files).
    wasi: WasiCtx,
    /// WASI HTTP context.
    http: WasiHttpCtx,
    /// Resources handed to the guest (shared by WASI and WASI HTTP).
    table: ResourceTable,
    /// The component's outbound policy (`allowed_outbound_hosts`).
    outbound: OutboundPolicy,
    /// The sidecar, for `chaoslab:sidecar/*`.
    pub(crate) sidecar: Sidecar,
    /// This request's deadline (chaos holds extend it).
    pub(crate) deadline: Arc<RequestDeadline>,
    /// Memory and instance limits of this request.
    pub(crate) limits: StoreLimits,
}

impl HostState {
    /// State for one request of a component.
    pub fn new(
        wasi: WasiCtx,
        outbound: OutboundPolicy,
        sidecar: Sidecar,
        deadline: Arc<RequestDeadline>,
        max_memory: usize,
    ) -> Self {
        Self {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            outbound,
            sidecar,
            deadline,
            limits: StoreLimitsBuilder::new().memory_size(max_memory).trap_on_grow_failure(false).build(),
        }
    }

    /// Links WASI CLI, WASI HTTP and `chaoslab:sidecar` into `linker`.
    pub fn add_to_linker(linker: &mut Linker<Self>) -> wasmtime::Result<()> {
        wasmtime_wasi::p2::add_to_linker_async(linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
        link::add_to_linker(linker)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.outbound }
    }
}
