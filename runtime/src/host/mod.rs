//! The per-request host state (`Store<HostState>` data) and the host
//! interfaces linked into every component.
//!
//! - [`outbound`]: which hosts a component's `wasi:http` requests may reach.
//! - [`link`], `chaos_link` and `telemetry_link`: `chaoslab:sidecar/*`
//!   imports, linked in-process to the sidecar library.
//! - [`deadline`]: the request's time budget, extended by chaos holds.
//! - [`variables`]: `fermyon:spin/variables`, the component's variables.
//! - `sidecar_client`: pooled keep-alive connections for the loopback link.

pub mod bindings;
mod chaos_link;
pub mod deadline;
pub mod link;
pub mod outbound;
mod sidecar_client;
mod telemetry_link;
pub mod variables;

use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use std::sync::Arc;

use chaoslab_sidecar::{ChaosEngine, Store};
pub use deadline::RequestDeadline;
pub use outbound::{AllowedHost, OutboundPolicy};
pub use variables::Variables;

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
    /// The sidecar, for `chaoslab:sidecar/*` (None with `--link loopback`,
    /// where the composed bridge calls it over HTTP instead).
    sidecar: Option<Sidecar>,
    /// The component's variables, for `fermyon:spin/variables`.
    variables: Variables,
    /// This request's deadline (chaos holds extend it).
    pub(crate) deadline: Arc<RequestDeadline>,
    /// Memory and instance limits of this request.
    pub(crate) limits: StoreLimits,
}

impl HostState {
    /// State for one request of a component.
    pub fn new(
        wasi: WasiCtx,
        outbound: &OutboundPolicy,
        variables: Variables,
        sidecar: Option<Sidecar>,
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
            limits: StoreLimitsBuilder::new().memory_size(max_memory).trap_on_grow_failure(false).build(),
        }
    }

    /// Links WASI CLI, WASI HTTP and Spin variables into `linker`, and
    /// `chaoslab:sidecar` when `in_process`.
    pub fn add_to_linker(linker: &mut Linker<Self>, in_process: bool) -> wasmtime::Result<()> {
        wasmtime_wasi::p2::add_to_linker_async(linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
        variables::add_to_linker(linker)?;
        if in_process {
            link::add_to_linker(linker)?;
        }
        Ok(())
    }

    /// The in-process sidecar. Only the in-process link calls this, and it is
    /// linked only when the sidecar is set.
    fn sidecar(&self) -> &Sidecar {
        self.sidecar.as_ref().expect("chaoslab:sidecar is linked only in-process, with a sidecar")
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
