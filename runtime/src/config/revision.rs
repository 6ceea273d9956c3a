//! The revision flags of `chaoslab up`, and `chaoslab revision …`, the
//! control API's command line.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::revisions::registry::DEFAULT_KEEP;

/// Default of `--max-wasm-mb`: a component is a few MiB; leave room for
/// debug builds.
pub const DEFAULT_MAX_WASM_MB: u32 = 64;
/// Default of `chaoslab revision --url`: where `chaoslab up` listens by default.
pub const DEFAULT_URL: &str = "http://127.0.0.1:3000";

/// Revisions in `chaoslab up`.
#[derive(Debug, Clone, Args)]
pub struct RevisionArgs {
    /// Deploy a changed `.wasm` of a manifest component as a new revision,
    /// through the health gate, without a restart (like `spin watch`).
    #[arg(long, env = "CHAOSLAB_WATCH")]
    pub watch: bool,

    /// Revisions not serving whose compiled code is kept per component (the
    /// most recent), so `activate` switches back at once; older ones must be
    /// deployed again.
    #[arg(long, env = "CHAOSLAB_KEEP_REVISIONS", default_value_t = DEFAULT_KEEP,
          value_parser = clap::value_parser!(u32).range(0..=100))]
    pub keep_revisions: u32,

    /// Largest `.wasm` accepted by `POST /_chaoslab/revisions`, in MiB.
    #[arg(long, env = "CHAOSLAB_MAX_WASM_MB", default_value_t = DEFAULT_MAX_WASM_MB,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_wasm_mb: u32,
}

/// `chaoslab revision`.
#[derive(Debug, Args)]
pub struct RevisionCommand {
    /// What to do.
    #[command(subcommand)]
    pub action: RevisionAction,
}

/// The subcommands of `chaoslab revision`.
#[derive(Debug, Subcommand)]
pub enum RevisionAction {
    /// Deploy a new revision of a component; waits until it serves (or failed) and exits 1 if it failed.
    Deploy(DeployArgs),
    /// List the revisions and the traffic split.
    List(ListArgs),
    /// Give a revision 100 % of its component at once (no gate: it passed one).
    Activate(ActivateArgs),
    /// Split a component's traffic between revisions, e.g. `api-rev-3=90 api-rev-4=10`.
    Traffic(TrafficArgs),
}

/// Where the control API is and the token it needs.
#[derive(Debug, Clone, Args)]
pub struct ControlArgs {
    /// The runtime's URL.
    #[arg(long, env = "CHAOSLAB_URL", default_value = DEFAULT_URL)]
    pub url: String,

    /// The chaos token (the bearer token of `/chaos/*`).
    #[arg(long, env = "CHAOSLAB_CHAOS_TOKEN", hide_env_values = true)]
    pub token: String,
}

/// `chaoslab revision deploy`. Unset options take the runtime's defaults.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Runtime and token.
    #[command(flatten)]
    pub control: ControlArgs,

    /// The manifest component to deploy a revision of.
    #[arg(long)]
    pub component: String,

    /// The `.wasm` to upload.
    #[arg(required_unless_present = "source", conflicts_with = "source")]
    pub wasm: Option<PathBuf>,

    /// Instead of uploading: a `.wasm` path the runtime reads on its own machine.
    #[arg(long)]
    pub source: Option<String>,

    /// Share once it passed its gate: 100 replaces the serving revision,
    /// 0 leaves it ready, 1–99 starts a canary (default 100).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub traffic: Option<u8>,

    /// The readiness request's path (default `/health`).
    #[arg(long)]
    pub readiness_path: Option<String>,

    /// Gate on instantiation only, without readiness requests.
    #[arg(long, conflicts_with_all = ["readiness_path", "readiness_successes", "readiness_failures",
          "readiness_interval", "readiness_timeout"])]
    pub no_readiness: bool,

    /// `200`s in a row that pass the gate (default 3).
    #[arg(long)]
    pub readiness_successes: Option<u32>,

    /// Failures in a row that fail it (default 3).
    #[arg(long)]
    pub readiness_failures: Option<u32>,

    /// Pause between readiness requests, e.g. `100ms` (default).
    #[arg(long)]
    pub readiness_interval: Option<humantime::Duration>,

    /// Deadline of the whole gate, e.g. `10s` (default).
    #[arg(long)]
    pub readiness_timeout: Option<humantime::Duration>,

    /// Canary window: answers of the canary (default 100) ...
    #[arg(long)]
    pub watch_requests: Option<u64>,

    /// ... or seconds, whichever comes first (default 60).
    #[arg(long)]
    pub watch_seconds: Option<u64>,

    /// Roll the canary back when its 5xx ratio exceeds the others' by more than this (default 0.05).
    #[arg(long)]
    pub max_error_ratio_delta: Option<f64>,

    /// Return once the revision is created, without waiting for its gate and watch.
    #[arg(long)]
    pub no_wait: bool,

    /// Longest wait for the rollout to end.
    #[arg(long, default_value = "10m")]
    pub wait_timeout: humantime::Duration,
}

/// `chaoslab revision list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Runtime and token.
    #[command(flatten)]
    pub control: ControlArgs,

    /// Only this component's revisions.
    #[arg(long)]
    pub component: Option<String>,

    /// Print the API's JSON document instead of one line per revision.
    #[arg(long)]
    pub json: bool,
}

/// `chaoslab revision activate`.
#[derive(Debug, Args)]
pub struct ActivateArgs {
    /// Runtime and token.
    #[command(flatten)]
    pub control: ControlArgs,

    /// The revision, e.g. `api-rev-1`.
    pub id: String,
}

/// `chaoslab revision traffic`.
#[derive(Debug, Args)]
pub struct TrafficArgs {
    /// Runtime and token.
    #[command(flatten)]
    pub control: ControlArgs,

    /// The component whose traffic to split.
    #[arg(long)]
    pub component: String,

    /// `REVISION=PERCENT` pairs adding up to 100, e.g. `api-rev-3=90 api-rev-4=10`.
    #[arg(required = true, value_parser = share)]
    pub shares: Vec<(String, u8)>,
}

/// clap value parser of a `REVISION=PERCENT` pair.
fn share(value: &str) -> Result<(String, u8), String> {
    let (id, percent) = value.split_once('=').ok_or_else(|| format!("{value:?} is not REVISION=PERCENT"))?;
    let percent: u8 = percent.parse().map_err(|_| format!("{percent:?} is not a percentage (0–100)"))?;
    if id.is_empty() || percent > 100 {
        return Err(format!("{value:?} is not REVISION=PERCENT with a percentage of 0–100"));
    }
    Ok((id.to_owned(), percent))
}
