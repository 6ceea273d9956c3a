//! The `chaoslab` binary: `chaoslab up` serves spin.toml on the embedded
//! runtime; `chaoslab build` runs the components' build commands;
//! `chaoslab wrap` wraps a handler in the chaos layer;
//! `chaoslab sidecar` runs the sidecar alone for `spin up` (the same
//! program as `chaoslab-sidecar`); `chaoslab experiment` runs chaos
//! experiments against it over HTTP; `chaoslab revision` drives the
//! revisions of a running `chaoslab up`.

mod cli;

use clap::Parser;

use chaoslab_runtime::config::{Cli, Command};

/// mimalloc: each request allocates and frees a whole store, instance and
/// WASI context across threads, where glibc malloc's arena locking showed up
/// in profiles.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => cli::up::run(args),
        Command::Build(args) => cli::build::run(&args),
        Command::Wrap(args) => chaoslab_compose::cli::run(&args),
        Command::Sidecar(config) => cli::sidecar::run(config),
        Command::Revision(command) => cli::revision::run(command),
        // Its own exit codes: 0 held, 1 deviated, 2 could not run.
        Command::Experiment(args) => return cli::experiment::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("chaoslab: error: {}", chaoslab_sidecar::error::one_line(&err));
            std::process::ExitCode::FAILURE
        }
    }
}
