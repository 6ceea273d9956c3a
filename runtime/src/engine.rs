//! The wasmtime [`Engine`]: async, component model, pooling allocator, epoch
//! interruption, compiled-code cache — and the epoch ticker thread.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::{
    Cache, CacheConfig, Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ProfilingStrategy,
};

/// How often the epoch advances. A running guest yields to the scheduler at
/// each tick, so per-request timeouts fire even inside a busy loop.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Bytes of each memory slot kept resident between requests (reset by memset).
const KEEP_RESIDENT_BYTES: usize = 2 << 20;

/// Engine settings derived from the serving limits.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Most instances alive at once: concurrent requests, the revisions'
    /// health gates running beside them, and headroom.
    pub max_instances: u32,
    /// Largest linear memory one instance may grow to.
    pub max_memory_bytes: usize,
    /// Where compiled components are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Announce compiled code in `/tmp/perf-PID.map` for `perf`.
    pub perfmap: bool,
}

/// Builds the engine.
pub fn build(settings: &EngineSettings) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true).epoch_interruption(true);

    let instances = settings.max_instances.max(1);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(8))
        .total_memories(instances.saturating_mul(2))
        .total_tables(instances.saturating_mul(4))
        .total_stacks(instances)
        .max_memory_size(settings.max_memory_bytes)
        // Reset the pages a request dirtied with memset instead of madvise:
        // madvise on every request means TLB-shootdown IPIs to every core,
        // which dominated the per-request cost. PAGEMAP_SCAN (Linux >= 6.7)
        // limits the memset to pages that are actually resident.
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES / 16)
        .pagemap_scan(Enabled::Auto)
        // Reuse warm slots (least recently used first) before touching a
        // cold one: each revision deployed brings new modules, and with
        // wasmtime's default (100 unused warm slots kept) every swap would
        // warm fresh slots, whose resident pages add up. With 0 the slots
        // ever used are as many as the instances alive at once.
        .max_unused_warm_slots(0);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    if settings.perfmap {
        config.profiler(ProfilingStrategy::PerfMap);
    }

    if let Some(dir) = &settings.cache_dir {
        let mut cache = CacheConfig::new();
        cache.with_directory(dir);
        config.cache(Some(Cache::new(cache)?));
    }
    Engine::new(&config)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub struct EpochTicker {
    /// Set on drop to stop the thread.
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    /// Starts the ticker thread for `engine`.
    pub fn start(engine: &Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, flag) = (engine.weak(), stop.clone());
        std::thread::Builder::new()
            .name("chaoslab-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .expect("spawning the epoch thread");
        Self { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
