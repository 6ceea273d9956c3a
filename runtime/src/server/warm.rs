//! Warm instances for `--instance-reuse N`: each component revision keeps
//! the instances that finished a request cleanly, so the next request skips
//! instantiation, as `wasmtime serve` can.
//!
//! Not Spin's semantics (Spin gives every request of a WASIp2 component a
//! fresh instance), so it is off by default and only for components that
//! declare `[component.<id>.tool.chaoslab] stateless = true`. An instance
//! serves at most `N` requests; a trap or a timeout drops it with its store
//! (the runner never hands it back), and so does a linear memory grown past
//! [`RETIRE_MEMORY_BYTES`]: a request cannot leave a poisoned or bloated
//! instance to the next one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::Proxy;

use crate::host::HostState;

/// A reused instance whose linear memory grew past this is retired after
/// its request. chaoslab's components stay under 2 MiB; a request that
/// needed much more (a large body held whole, a leak) should not leave it
/// resident for the next.
pub const RETIRE_MEMORY_BYTES: usize = 16 << 20;

/// Most warm instances kept across all components and revisions: each
/// holds a slot of the engine's instance pool (sized with this headroom).
pub const MAX_WARM_INSTANCES: usize = 64;

/// One instance and its store, between requests.
pub struct Warm<S: 'static> {
    /// The store, its state readied for the next request by
    /// [`HostState::next_request`].
    pub store: Store<HostState<S>>,
    /// The instance's exports.
    pub proxy: Proxy,
    /// Requests it served so far.
    pub served: u32,
}

/// Warm instances kept right now in the process (one engine per process).
static KEPT: AtomicUsize = AtomicUsize::new(0);

/// The budget of warm instances shared by every pool.
#[derive(Debug, Clone, Copy)]
pub struct WarmBudget {
    /// Warm instances kept right now.
    kept: &'static AtomicUsize,
}

impl WarmBudget {
    /// The process's budget.
    pub fn global() -> Self {
        Self { kept: &KEPT }
    }

    /// Takes one place, unless all [`MAX_WARM_INSTANCES`] are taken.
    fn take(&self) -> bool {
        self.kept
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < MAX_WARM_INSTANCES).then_some(n + 1))
            .is_ok()
    }

    /// Gives `n` places back.
    fn give_back(&self, n: usize) {
        self.kept.fetch_sub(n, Ordering::AcqRel);
    }
}

/// The warm instances of one component revision (most recently used last).
pub struct WarmPool<S: 'static> {
    /// Instances ready for a request.
    instances: Mutex<Vec<Warm<S>>>,
    /// The budget the pool's instances count against.
    budget: WarmBudget,
}

impl<S> WarmPool<S> {
    /// An empty pool counting against the process's budget.
    pub fn new() -> Self {
        Self { instances: Mutex::new(Vec::new()), budget: WarmBudget::global() }
    }

    /// The most recently used instance (its memory and caches are the
    /// warmest), if any.
    pub fn take(&self) -> Option<Warm<S>> {
        let warm = self.instances.lock().unwrap_or_else(PoisonError::into_inner).pop()?;
        self.budget.give_back(1);
        Some(warm)
    }

    /// Keeps `warm` for a later request when the budget has room; else it
    /// is dropped (and its slot freed).
    pub fn keep(&self, warm: Warm<S>) {
        if self.budget.take() {
            self.instances.lock().unwrap_or_else(PoisonError::into_inner).push(warm);
        }
    }
}

impl<S> Default for WarmPool<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Drop for WarmPool<S> {
    fn drop(&mut self) {
        let n = self.instances.get_mut().unwrap_or_else(PoisonError::into_inner).len();
        self.budget.give_back(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_caps_the_warm_instances_of_all_pools() {
        let budget = WarmBudget { kept: Box::leak(Box::new(AtomicUsize::new(0))) };
        for _ in 0..MAX_WARM_INSTANCES {
            assert!(budget.take());
        }
        assert!(!budget.take(), "full");
        budget.give_back(1);
        assert!(budget.take());
        assert_eq!(budget.kept.load(Ordering::Acquire), MAX_WARM_INSTANCES);
    }
}
