//! `chaoslab-experiment`: experiments as files, run end to end —
//! `chaoslab experiment run|validate`.
//!
//! An experiment is a Chaos Toolkit file (the real `chaos validate` accepts
//! every file in `experiments/`): a steady-state hypothesis of HTTP probes
//! with tolerances, a method of actions and probes, rollbacks. What Chaos
//! Toolkit lacks sits in the `chaoslab` extension, which it ignores: a
//! constant-rate open-loop load kept up through the run and service-level
//! tolerances judged on it. The runner talks to chaoslab over HTTP only, so
//! it runs the same against `chaoslab up` and against a deployment URL.
//!
//! # Layout
//! - [`args`]: the command line.
//! - [`cli`]: run and validate, exit codes (0 held, 1 deviated, 2 could not run).
//! - [`model`]: the file, typed and checked field by field; tolerances; the extension.
//! - [`vars`]: configuration, `--var`, `${name}` substitution (Chaos Toolkit's rules).
//! - [`plan`]: the experiment with its configuration resolved and checked.
//! - [`activity`]: one probe or action (http, process providers), as Chaos Toolkit runs it.
//! - [`load`]: the open-loop load and its statistics (HDR histogram).
//! - [`faults`]: fault windows from `/chaos/status`, process actions, restarts.
//! - [`platform`]: `--spawn` — the target process, the liveness probe, restarts.
//! - [`runner`]: the run's steps, Ctrl-C, rollbacks.
//! - [`judge`]: service-level tolerances; [`verdict`]: the verdict and the journal.
//! - [`journal`]: Chaos Toolkit's journal shape plus our extension.
//! - [`report`]: the self-contained HTML report with plotters' SVG plots.
//! - [`progress`]: the terminal's event lines and progress line.
//! - [`timeline`], [`cpu`], [`child`], [`error`]: the run's clock, CPU
//!   accounting, child processes, errors.

pub mod activity;
pub mod args;
pub mod child;
pub mod cli;
pub mod cpu;
pub mod error;
pub mod faults;
pub mod journal;
pub mod judge;
pub mod load;
pub mod model;
pub mod plan;
pub mod platform;
pub mod progress;
pub mod report;
pub mod runner;
pub mod timeline;
pub mod vars;
pub mod verdict;

pub use args::ExperimentArgs;
pub use cli::main;
pub use error::ExperimentError;
