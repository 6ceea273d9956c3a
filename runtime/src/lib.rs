//! `chaoslab-runtime`: the embedded, Spin-compatible runtime on wasmtime.
//!
//! It serves the same `spin.toml` the Spin CLI would, and links the
//! components' `chaoslab:sidecar` imports in-process to the sidecar library.
//!
//! # Layout
//! - [`config`]: the `chaoslab` command line (clap, `CHAOSLAB_*` env fallbacks).
//! - [`manifest`]: `spin.toml` model, validation, variables, routes.
//! - [`engine`]: the wasmtime engine (pooling, epochs, cache) and epoch ticker.
//! - [`host`]: per-request host state, the link mode ([`host::SidecarImports`]),
//!   the in-process sidecar link, outbound policy.
//! - [`app`]: components compiled and pre-instantiated once, behind a router.
//! - [`revisions`]: new revisions of a component deployed while serving:
//!   health gate, atomic swap, canary with automatic rollback, the control
//!   API under `/_chaoslab/`, `--watch`.
//! - [`server`]: accept loop, per-request handling, graceful shutdown.
//!
//! The sidecar (Redis, the chaos engine, the loopback RPC server, the
//! `redis-server` child) is the `chaoslab-sidecar` crate; the WIT bindings
//! are `chaoslab-world`'s; composition (a component plugged with its
//! `dependencies` for `--link loopback`, `chaoslab wrap`) is
//! `chaoslab-compose`'s.

pub mod app;
pub mod config;
pub mod engine;
pub mod host;
pub mod manifest;
pub mod revisions;
pub mod server;
