//! The chaos engine: experiments with leases, per-request decisions, native load.
//!
//! - [`model`]: faults, experiments, decisions, limits, errors (mirror the WIT `chaos` types).
//! - [`validate`]: bounds of every parameter, each violation naming its field.
//! - [`engine`]: [`ChaosEngine`], one per replica: start/stop/expire, seeded decisions.
//! - [`load`]: CPU duty-cycle workers and the memory balloon.
//! - [`setup`]: the engine from the command line (token, seed, limits).
//! - [`clock`]: the injected clock ([`SystemClock`], [`ManualClock`] for tests).

pub mod clock;
pub mod engine;
pub mod load;
pub mod model;
pub mod setup;
pub mod validate;

pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{ChaosEngine, EngineConfig};
pub use model::*;

#[cfg(test)]
mod tests;
