//! Building the replica's engine from [`ChaosArgs`]: token (generated when
//! unset), seed (random when unset), limits.

use std::sync::Arc;

use super::clock::SystemClock;
use super::engine::{ChaosEngine, EngineConfig};
use super::limits::{Limits, default_max_workers};
use crate::config::ChaosArgs;
use crate::secret::{Secret, SecretError};

/// The engine, and the token if it was generated (to be shown once).
#[derive(Debug)]
pub struct ChaosSetup {
    /// The engine.
    pub engine: ChaosEngine,
    /// `Some` when no token was configured and one was generated.
    pub generated_token: Option<Secret>,
}

/// Builds the engine of the replica named `replica` with the system clock.
pub fn from_args(args: &ChaosArgs, replica: &str) -> Result<ChaosSetup, SecretError> {
    let (token, generated_token) = match &args.token {
        Some(token) => (Some(token.clone()), None),
        None if args.disabled => (None, None),
        None => {
            let token = Secret::generate()?;
            (Some(token.clone()), Some(token))
        }
    };
    let seed = match args.seed {
        Some(seed) => seed,
        None => getrandom::u64().map_err(|e| SecretError::Random(e.to_string()))?,
    };
    let limits = Limits {
        max_duration: *args.max_duration,
        max_workers: args.max_workers.unwrap_or_else(default_max_workers),
        max_memory_mb: args.max_memory_mb,
        max_experiments: args.max_experiments,
    };
    let config = EngineConfig { enabled: !args.disabled, token, seed, limits, replica: replica.into() };
    Ok(ChaosSetup { engine: ChaosEngine::new(config, Arc::new(SystemClock)), generated_token })
}
