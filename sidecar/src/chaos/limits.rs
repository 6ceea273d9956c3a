//! [`Limits`]: the bounds of every experiment parameter. The configurable
//! ones default to the named constants below, which `--chaos-*` flags use
//! too; the fixed ones are constants.

use std::time::Duration;

/// Default of `--chaos-max-duration`: the longest experiment.
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(3600);
/// Default of `--chaos-max-memory-mb`: the largest memory balloon.
pub const DEFAULT_MAX_MEMORY_MB: u32 = 512;
/// Default of `--chaos-max-experiments`: experiments running at once.
pub const DEFAULT_MAX_EXPERIMENTS: usize = 8;
/// Most replicas a `count` scope may ask for (fixed): Container Apps'
/// own maximum of replicas per revision.
pub const MAX_REPLICAS: u32 = 1000;
/// Largest latency, jitter or Redis delay, in ms (fixed).
pub const MAX_LATENCY_MS: u32 = 60_000;

/// Default of `--chaos-max-workers`: the number of cores.
pub fn default_max_workers() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
}

/// The bounds of every parameter (configurable, safe defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest experiment.
    pub max_duration: Duration,
    /// Most CPU workers.
    pub max_workers: u32,
    /// Largest memory balloon, MiB.
    pub max_memory_mb: u32,
    /// Most experiments running at once.
    pub max_experiments: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_duration: DEFAULT_MAX_DURATION,
            max_workers: default_max_workers(),
            max_memory_mb: DEFAULT_MAX_MEMORY_MB,
            max_experiments: DEFAULT_MAX_EXPERIMENTS,
        }
    }
}
