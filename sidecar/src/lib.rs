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
//! - [`tls`]: the redis-rs client for a URL, `rediss://` with an optional root CA.
//! - [`auth`]: the authentication mode, checked against the URL.
//! - [`entra`]: [`EntraCredentials`], Entra ID tokens from a managed identity
//!   (redis-rs `EntraIdCredentialsProvider`, supervised so renewal never stops).
//! - [`error`]: [`StoreError`], typed by cause, with predicates and the
//!   mapping from redis-rs errors; [`SetupError`] for start-up.
//! - [`chaos`]: [`ChaosEngine`], the replica's experiments, fault decisions
//!   and native load.
//! - [`telemetry`]: the Redis dependency span and metrics of each store call,
//!   and the chaos gauges.

pub mod auth;
pub mod chaos;
pub mod config;
pub mod entra;
pub mod error;
pub mod store;
pub mod telemetry;
pub mod tls;

pub use chaos::ChaosEngine;
pub use config::{ChaosArgs, RedisArgs, RedisAuth};
pub use entra::{EntraCredentials, EntraSettings};
pub use error::{SetupError, StoreError, StoreResult};
pub use store::Store;
