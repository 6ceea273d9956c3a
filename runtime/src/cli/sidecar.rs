//! `chaoslab sidecar`: the same program as the `chaoslab-sidecar` binary
//! (which ships without wasmtime), for users who have only `chaoslab`.

pub use chaoslab_sidecar::run;
