//! `chaoslab-sidecar`: the native half of chaoslab, and the
//! `chaoslab-sidecar` binary.
//!
//! The sandboxed Wasm components reach the outside world only through the
//! `chaoslab:sidecar` WIT contract (`wit/sidecar.wit`); this crate is the host
//! side of that contract. The embedded runtime links [`Services`] in-process;
//! beside the Spin CLI (or as its own container) it runs alone and serves the
//! contract over loopback HTTP. It never depends on a Wasm runtime.
//!
//! # Layout
//! - [`config`]: the command line, shared by every binary that hosts the
//!   sidecar: [`RedisArgs`], [`ChaosArgs`], [`ServicesArgs`], [`SidecarConfig`].
//! - [`services`]: [`Services`] (store + chaos engine), started once.
//! - [`contract`]: one method of [`Services`] per WIT function, in wire types.
//! - [`listener`]: the HTTP/1.1 listener of both binaries, with its
//!   connection-level limits ([`ConnectionArgs`]).
//! - [`rpc`]: the loopback HTTP server (`POST /v1/{interface}/{function}`,
//!   link token, trace spans) and the container probes.
//! - [`redis_store`]: [`RedisStore`], the Redis connection (redis-rs
//!   `ConnectionManager`) with every call under a hard deadline.
//! - [`renewing`]: a `ConnectionManager` replaced after Redis refused its
//!   credentials (the store's and the coordination's connections).
//! - [`redis_child`]: the `redis-server` started when no Redis URL is configured.
//! - [`tls`]: the redis-rs client for a URL, `rediss://` with an optional root CA.
//! - [`auth`]: the authentication mode, checked against the URL.
//! - [`entra`]: [`EntraCredentials`], Entra ID tokens from a managed identity
//!   (redis-rs `EntraIdCredentialsProvider`, supervised so renewal never stops).
//! - [`error`]: [`StoreError`], typed by cause, with predicates and the
//!   mapping from redis-rs errors; [`SetupError`] for start-up.
//! - [`chaos`]: [`ChaosEngine`], the replica's experiments, fault decisions
//!   and native load.
//! - [`cluster`]: experiments across replicas, coordinated through Redis
//!   (written with their lease, announced by pub/sub, heartbeats).
//! - [`secret`]: [`Secret`], the chaos and link tokens.
//! - [`telemetry`]: the Redis dependency span and metrics of each store call,
//!   and the chaos gauges.
//! - [`shutdown`]: SIGTERM / ctrl-c.
//! - [`run`](fn@run): the sidecar process.

pub mod auth;
pub mod chaos;
pub mod cluster;
pub mod config;
pub mod contract;
pub mod entra;
pub mod error;
pub mod listener;
pub mod redis_child;
pub mod redis_store;
pub mod renewing;
pub mod rpc;
pub mod secret;
pub mod services;
pub mod shutdown;
pub mod telemetry;
pub mod tls;

mod run;

pub use chaos::ChaosEngine;
pub use config::{ChaosArgs, ClusterArgs, RedisArgs, RedisAuth, ServicesArgs, SidecarConfig};
pub use entra::{EntraCredentials, EntraSettings};
pub use error::{SetupError, StoreError, StoreResult};
pub use listener::ConnectionArgs;
pub use redis_store::RedisStore;
pub use run::run;
pub use secret::Secret;
pub use services::{Running, Services};
