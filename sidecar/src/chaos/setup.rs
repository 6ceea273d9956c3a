//! Building the replica's engine from [`ChaosArgs`]: token (generated when
//! unset), seed (random when unset), limits.

use std::io::Read;
use std::sync::Arc;

use super::clock::SystemClock;
use super::engine::{ChaosEngine, EngineConfig};
use super::model::Limits;
use crate::config::ChaosArgs;

/// The engine, and the token if it was generated (to be shown once).
#[derive(Debug)]
pub struct ChaosSetup {
    /// The engine.
    pub engine: ChaosEngine,
    /// `Some` when no token was configured and one was generated.
    pub generated_token: Option<String>,
}

/// Builds the engine with the system clock.
pub fn from_args(args: &ChaosArgs) -> std::io::Result<ChaosSetup> {
    let (token, generated_token) = match &args.token {
        Some(token) if !token.is_empty() => (token.clone(), None),
        _ if args.disabled => (String::new(), None),
        _ => {
            let token = hex(&random_bytes::<16>()?);
            (token.clone(), Some(token))
        }
    };
    let seed = match args.seed {
        Some(seed) => seed,
        None => u64::from_le_bytes(random_bytes::<8>()?),
    };
    let defaults = Limits::default();
    let limits = Limits {
        max_duration: args.max_duration,
        max_workers: args.max_workers.unwrap_or(defaults.max_workers),
        max_memory_mb: args.max_memory_mb,
        max_experiments: args.max_experiments,
        ..defaults
    };
    let config = EngineConfig { enabled: !args.disabled, token, seed, limits };
    Ok(ChaosSetup { engine: ChaosEngine::new(config, Arc::new(SystemClock)), generated_token })
}

fn random_bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
