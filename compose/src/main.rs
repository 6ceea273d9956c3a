//! `chaoslab-wrap`: `chaoslab wrap` without the Wasm runtime, so a build
//! (spin.toml's `[component.*.build]`, the app image) wraps handlers without
//! compiling wasmtime.

use clap::Parser;

use chaoslab_compose::cli::{WrapArgs, run};

/// Wrap a wasi:http handler component in chaoslab's chaos layer.
#[derive(Debug, Parser)]
#[command(name = "chaoslab-wrap", version)]
struct Cli {
    /// What to wrap, and where.
    #[command(flatten)]
    wrap: WrapArgs,
}

fn main() -> std::process::ExitCode {
    match run(&Cli::parse().wrap) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("chaoslab-wrap: error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
