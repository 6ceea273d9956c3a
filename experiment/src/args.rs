//! The command line of `chaoslab experiment` (flattened into the
//! `chaoslab` binary's command enum).

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// Default `--journal`, Chaos Toolkit's.
pub const DEFAULT_JOURNAL: &str = "journal.json";

/// `chaoslab experiment`.
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    /// What to do with the experiment.
    #[command(subcommand)]
    pub command: ExperimentCommand,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum ExperimentCommand {
    /// Run an experiment: steady state, method under a constant-rate load,
    /// steady state again, rollbacks; write the journal and the HTML report.
    /// Exit 0 when the hypothesis held, 1 when it deviated, 2 when the
    /// experiment could not run.
    Run(RunArgs),
    /// Check experiment files as `chaos validate` would (plus the chaoslab
    /// extension), resolving the configuration; exit 2 on the first error.
    Validate(ValidateArgs),
}

/// `chaoslab experiment run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The experiment (Chaos Toolkit format, JSON).
    pub file: PathBuf,

    /// Set a configuration value, as `chaos run --var`: NAME=VALUE, or
    /// NAME:TYPE=VALUE with TYPE one of str, int, float, bool, json. Repeatable.
    #[arg(long = "var", value_name = "NAME[:TYPE]=VALUE")]
    pub vars: Vec<String>,

    /// Where to write the journal (Chaos Toolkit's shape).
    #[arg(long, env = "CHAOSLAB_EXPERIMENT_JOURNAL", default_value = DEFAULT_JOURNAL)]
    pub journal: PathBuf,

    /// Where to write the HTML report (default: the journal's path with `.html`).
    #[arg(long, env = "CHAOSLAB_EXPERIMENT_REPORT")]
    pub report: Option<PathBuf>,

    /// Start `chaoslab up` (own Redis, 127.0.0.1:0) for the run, point the
    /// configuration's `base_url` and `token` at it, and play the platform:
    /// a liveness probe with Azure Container Apps' settings that restarts it.
    #[arg(long, env = "CHAOSLAB_EXPERIMENT_SPAWN")]
    pub spawn: bool,

    /// With --spawn: the Spin manifest `chaoslab up` serves.
    #[arg(long, env = "CHAOSLAB_MANIFEST", default_value = "spin.toml")]
    pub manifest: PathBuf,
}

impl RunArgs {
    /// The report's path.
    pub fn report_path(&self) -> PathBuf {
        self.report.clone().unwrap_or_else(|| self.journal.with_extension("html"))
    }
}

/// `chaoslab experiment validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The experiments to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,

    /// Configuration values, as for `run`.
    #[arg(long = "var", value_name = "NAME[:TYPE]=VALUE")]
    pub vars: Vec<String>,

    /// The files will run with `--spawn`, which sets `base_url` and `token`.
    #[arg(long)]
    pub spawn: bool,
}
