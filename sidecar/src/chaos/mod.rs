//! The chaos engine: experiments with leases, per-request decisions, native load.
//!
//! - [`model`]: the WIT chaos types the engine speaks, fault kinds, errors.
//! - [`limits`]: the bounds of every parameter and their defaults.
//! - [`validate`]: bounds of every parameter, each violation naming its field.
//! - [`engine`]: [`ChaosEngine`], one per replica: start/stop/expire, seeded decisions.
//! - [`shared`]: experiments shared between replicas, engine side: adopt,
//!   end when stopped elsewhere, pick a subset with the seeded RNG.
//! - [`load`]: CPU duty-cycle workers and the memory balloon.
//! - [`setup`]: the engine from the command line (token, seed, limits).
//! - [`clock`]: the injected clock ([`SystemClock`], [`ManualClock`] for tests).

pub mod clock;
pub mod engine;
pub mod limits;
pub mod load;
pub mod model;
pub mod setup;
pub mod shared;
pub mod validate;

pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{ChaosEngine, EngineConfig};
pub use limits::Limits;
pub use model::*;

#[cfg(test)]
pub(crate) mod tests;
