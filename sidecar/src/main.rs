//! `chaoslab-sidecar`: the native sidecar alone — Redis (TLS, Entra ID), the
//! chaos engine and telemetry — serving the `chaoslab:sidecar` contract to
//! Wasm components over loopback HTTP (beside `spin up`, or as the second
//! container of a Container Apps replica), plus `/livez` and `/readyz`.
//! No Wasm runtime inside. `chaoslab-sidecar --help` lists every setting.

use clap::Parser;

use chaoslab_sidecar::config::SidecarConfig;

/// mimalloc, as in `chaoslab`: many small allocations across threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    match chaoslab_sidecar::run(SidecarConfig::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("chaoslab-sidecar: error: {}", chaoslab_sidecar::error::one_line(&err));
            std::process::ExitCode::FAILURE
        }
    }
}
