//! `chaoslab-compose`: component composition with standard tooling
//! (wac-graph), and no Wasm runtime, so builds can compose without compiling
//! wasmtime.
//!
//! # Layout
//! - [`wrap`]: a handler wrapped in the chaos layer, one component exporting
//!   the layer's `wasi:http/incoming-handler` (`chaoslab wrap`,
//!   `chaoslab-wrap`, spin.toml's build commands).
//! - [`plug`]: a component plugged with its `[component.<id>.dependencies]`,
//!   as `spin up` does (`chaoslab up --link loopback`).
//! - [`cli`]: the `wrap` command line, shared by `chaoslab wrap` and the
//!   `chaoslab-wrap` binary.

pub mod cli;
pub mod plug;
pub mod wrap;

pub use plug::{ComposeError, Plug, compose};
pub use wrap::{WrapError, wrap};
