//! The experiment file, typed: Chaos Toolkit's experiment format (the subset
//! `chaoslab experiment` runs) plus the `chaoslab` extension.
//!
//! Parsing ([`parse`]) checks everything Chaos Toolkit's `chaos validate`
//! checks for the parts we run, and names the field of every error
//! (`method[2].provider.type`). Values that may hold `${name}` templates
//! (URLs, headers, arguments, timeouts, pauses, the extension) stay JSON
//! here and are substituted and checked again when the run resolves its
//! configuration, as Chaos Toolkit does.

mod activity;
pub mod extension;
mod fields;
mod json;
mod parse;
pub mod tolerance;

use serde_json::Value;

pub use activity::{Activity, ActivityKind, HttpProvider, Pauses, ProcessProvider, Provider};
pub use activity::{check_http_timeout, http_method, process_arguments, which};
pub use extension::{ChaoslabExtension, Liveness, LivenessOverrides, Load, PhaseTolerances, ServiceTolerances};
pub use fields::{FieldPath, Invalid};
pub use json::is_template;
pub use parse::{EXTENSION_NAME, parse, read, var_type, warnings};
pub use tolerance::Tolerance;

/// One experiment, as read from its file.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// `title`: names the run in the terminal, journal and report.
    pub title: String,
    /// `description`: what the experiment shows and what it needs.
    pub description: String,
    /// `tags`, kept for the report.
    pub tags: Vec<String>,
    /// `configuration`, in file order: the values `${name}` refers to.
    pub configuration: Vec<(String, ConfigValue)>,
    /// `secrets`, flattened over their scopes: Chaos Toolkit substitutes
    /// them like configuration (configuration wins on a clash).
    pub secrets: Vec<(String, ConfigValue)>,
    /// `steady-state-hypothesis`: probed before and after the method.
    pub hypothesis: Option<Hypothesis>,
    /// `method`: the actions and probes that inject and observe the fault.
    pub method: Vec<Activity>,
    /// `rollbacks`: run after every run, whatever happened.
    pub rollbacks: Vec<Activity>,
    /// The `chaoslab` entry of `extensions`, still holding its templates.
    pub chaoslab: Option<Value>,
    /// The file as read: copied into the journal as Chaos Toolkit does.
    pub raw: Value,
}

/// A configuration or secret value.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// A literal, used as it is.
    Literal(Value),
    /// `{"type":"env","key":K,"default"?:V,"env_var_type"?:T}`.
    Env {
        /// The environment variable.
        key: String,
        /// Used when the variable is unset; without one an unset variable
        /// is an error, as in Chaos Toolkit.
        default: Option<Value>,
        /// How the variable's text is converted (`str` when `None`).
        var_type: Option<VarType>,
    },
}

/// Chaos Toolkit's conversions of a variable's text (`env_var_type`, `--var key:type=value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    /// `str` / `string`: the text.
    Str,
    /// `int` / `integer`.
    Int,
    /// `float` / `number`.
    Float,
    /// `bool`: false for `false`, `0`, `no` (any case), else true.
    Bool,
    /// `json`: the text parsed as JSON.
    Json,
}

/// `steady-state-hypothesis`.
#[derive(Debug, Clone)]
pub struct Hypothesis {
    /// `title`, shown in the report.
    pub title: String,
    /// `probes`, each with a tolerance.
    pub probes: Vec<Activity>,
}

impl Experiment {
    /// Every activity of the file, for lookups by name.
    pub fn activities(&self) -> impl Iterator<Item = &Activity> {
        let probes = self.hypothesis.iter().flat_map(|h| h.probes.iter());
        probes.chain(&self.method).chain(&self.rollbacks)
    }
}
