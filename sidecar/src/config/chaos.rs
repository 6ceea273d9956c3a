//! [`ChaosArgs`]: the chaos engine's settings, the same flags and variables
//! for every binary that hosts it. Defaults come from [`crate::chaos::limits`].

use crate::chaos::limits::{DEFAULT_MAX_DURATION, DEFAULT_MAX_EXPERIMENTS, DEFAULT_MAX_MEMORY_MB};
use crate::secret::Secret;

/// The chaos engine's settings.
#[derive(Debug, Clone, clap::Args)]
pub struct ChaosArgs {
    /// Bearer token required by every `/chaos/*` route. When unset, a random
    /// one is generated at start and printed once on stderr as `chaos token: …`.
    #[arg(id = "chaos_token", long = "chaos-token", env = "CHAOSLAB_CHAOS_TOKEN", hide_env_values = true,
          value_parser = Secret::parse_chaos_token)]
    pub token: Option<Secret>,

    /// Switch chaos off entirely: `/chaos/*` answers 404 and no fault applies.
    #[arg(id = "no_chaos", long = "no-chaos", env = "CHAOSLAB_NO_CHAOS")]
    pub disabled: bool,

    /// Seed of the decisions' RNG, so percent-based faults replay; random when unset.
    #[arg(id = "chaos_seed", long = "chaos-seed", env = "CHAOSLAB_CHAOS_SEED")]
    pub seed: Option<u64>,

    /// Longest experiment.
    #[arg(id = "chaos_max_duration", long = "chaos-max-duration", env = "CHAOSLAB_CHAOS_MAX_DURATION",
          default_value_t = DEFAULT_MAX_DURATION.into())]
    pub max_duration: humantime::Duration,

    /// Largest memory balloon, MiB.
    #[arg(id = "chaos_max_memory_mb", long = "chaos-max-memory-mb", env = "CHAOSLAB_CHAOS_MAX_MEMORY_MB",
          default_value_t = DEFAULT_MAX_MEMORY_MB)]
    pub max_memory_mb: u32,

    /// Most CPU workers of a load experiment (default: the number of cores).
    #[arg(id = "chaos_max_workers", long = "chaos-max-workers", env = "CHAOSLAB_CHAOS_MAX_WORKERS")]
    pub max_workers: Option<u32>,

    /// Most experiments running at once (beyond: 429).
    #[arg(id = "chaos_max_experiments", long = "chaos-max-experiments", env = "CHAOSLAB_CHAOS_MAX_EXPERIMENTS",
          default_value_t = DEFAULT_MAX_EXPERIMENTS)]
    pub max_experiments: usize,
}
