//! `chaoslab-tests`: test support for chaoslab's integration and end-to-end
//! tests, and the tests themselves (`tests/tests/*.rs`).
//!
//! Real parts only: a real `redis-server` per test, the real `chaoslab`
//! binary, components compiled from source.
//!
//! # Layout
//! - [`artifacts`]: builds the `chaoslab` binary and the components once per
//!   test process and says where they are.
//! - [`redis_server`]: [`RedisServer`], a `redis-server` child on a free port
//!   that tests can kill, restart, freeze and thaw.
//! - [`chaoslab`]: [`Chaoslab`], the app under test started on
//!   `127.0.0.1:0` in a [`Link`] mode (the end-to-end matrix): `chaoslab up`
//!   in-process or over loopback, or the real `spin up`.
//! - [`sidecar`]: [`SidecarProcess`], the real `chaoslab-sidecar`, restartable
//!   and freezable.
//! - [`spin`]: the real Spin CLI (`SPIN_BIN`), `spin up` for [`Link::Spin`].
//! - [`component_world`]: [`ComponentWorld`], what a `.wasm` imports and exports.
//! - [`experiment`]: `chaoslab experiment` run as a user would, and the
//!   checks every journal and report must pass.
//! - [`process`]: a child announcing readiness on stderr, logs collected.
//! - [`poll`]: wait until a condition holds, bounded.
//! - [`server_thread`]: a fake server's thread, stopped on drop.
//! - [`fake_identity`]: [`FakeIdentity`], a managed-identity endpoint
//!   (App Service / Container Apps protocol) issuing Entra-like tokens.
//! - [`fake_telemetry`]: [`FakeAppInsights`] (`/v2/track`, gzip JSON) and
//!   [`FakeOtlp`] (OTLP/HTTP protobuf) receivers for the real exporters.
//! - [`tls_certs`]: [`TestCa`], a throw-away CA and server certificate.
//! - [`http`]: a small HTTP client returning status, headers and body.
//! - [`proc_stat`]: CPU time and RSS of a process from `/proc`.
//! - [`raw`]: raw-socket clients (trickled, oversized, idle) for the connection limits.
//! - [`revisions`]: the control API of a [`Chaoslab`], a `GET /` client
//!   loop recording which revision answered, distinct api builds.
//! - [`signal`]: kill(2) for the children tests own.

pub mod artifacts;
pub mod chaoslab;
pub mod component_world;
pub mod experiment;
pub mod fake_identity;
pub mod fake_telemetry;
pub mod http;
pub mod poll;
pub mod proc_stat;
pub mod process;
pub mod raw;
pub mod redis_server;
pub mod revisions;
pub mod server_thread;
pub mod sidecar;
pub mod signal;
pub mod spin;
pub mod tls_certs;

pub use chaoslab::{Chaoslab, Link};
pub use component_world::ComponentWorld;
pub use fake_identity::FakeIdentity;
pub use fake_telemetry::{FakeAppInsights, FakeOtlp, FakeOtlpGrpc};
pub use http::{HttpResponse, get, request};
pub use redis_server::RedisServer;
pub use sidecar::SidecarProcess;
pub use tls_certs::TestCa;
