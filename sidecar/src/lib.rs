//! `chaoslab-sidecar`: the native half of chaoslab.
//!
//! The sandboxed Wasm components reach the outside world only through the
//! `chaoslab:sidecar` WIT contract (`wit/sidecar.wit`); this crate is the host
//! side of that contract. The embedded runtime links it in-process; under the
//! Spin CLI it runs as its own process.
//!
//! # Layout
//! - [`config`]: the Redis and chaos settings, as clap `Args` structs shared
//!   by every binary that hosts the sidecar (`CHAOSLAB_*` env fallbacks).
//! - [`store`]: [`Store`], the Redis connection (redis-rs `ConnectionManager`:
//!   multiplexed, reconnecting) with every call under a hard deadline.
//! - [`error`]: [`StoreError`], typed by cause, with predicates and the
//!   mapping from redis-rs errors.
//! - [`chaos`]: [`ChaosEngine`], the replica's experiments, fault decisions
//!   and native load.

pub mod chaos;
pub mod config;
pub mod error;
pub mod store;

pub use chaos::ChaosEngine;
pub use config::{ChaosArgs, RedisArgs};
pub use error::{StoreError, StoreResult};
pub use store::Store;
