//! `chaoslab experiment run|validate`: the runner lives in the
//! `chaoslab-experiment` crate and talks to chaoslab over HTTP only; this
//! is its door into the `chaoslab` binary (so `--spawn` can start `chaoslab
//! up` from the same executable).

use chaoslab_experiment::ExperimentArgs;

/// Runs the subcommand; exit 0 when the hypothesis held, 1 when it
/// deviated, 2 when the experiment could not run.
pub fn run(args: ExperimentArgs) -> std::process::ExitCode {
    std::process::ExitCode::from(chaoslab_experiment::main(args))
}
