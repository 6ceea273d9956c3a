//! The chaos vocabulary. Faults, experiments, decisions and status are the
//! WIT `chaoslab:sidecar/chaos` types themselves (chaoslab-world's wire
//! types): the engine, the RPC server and the in-process link share one
//! rendering, with no mirror to keep in step. What is the engine's own:
//! the fault kinds' names, Redis faults, and [`ChaosError`].

use std::time::Duration;

use chaoslab_world::wire::chaos as wit;

pub use wit::{
    ChaosStatus as Status, ClusterStatus, Decision, EndReason, ErrorsSpec, Experiment, Fault, InvalidField,
    LatencySpec, LoadReport, LoadSpec, RedisMode, RedisSpec, ReplicaView, Scope,
};

/// The path of the platform's health probe. `latency` and `errors` faults
/// without a `routes` filter spare it, so a fault meant for users does not
/// also fail the readiness probe and take the replica out of rotation; a
/// `routes` filter that names it targets it (wit/sidecar.wit).
pub const HEALTH_PROBE: &str = "/health";

/// The names of the fault kinds, as in the API paths.
pub trait FaultKind {
    /// `load`, `hang`, `latency`, `errors` or `redis`.
    fn kind(&self) -> &'static str;
}

impl FaultKind for Fault {
    fn kind(&self) -> &'static str {
        match self {
            Fault::Load(_) => "load",
            Fault::Hang => "hang",
            Fault::Latency(_) => "latency",
            Fault::Errors(_) => "errors",
            Fault::Redis(_) => "redis",
        }
    }
}

/// `replica`, `all`, `count` or `percent`, for logs.
pub fn scope_name(scope: &Scope) -> &'static str {
    match scope {
        Scope::Replica => "replica",
        Scope::All => "all",
        Scope::Count(_) => "count",
        Scope::Percent(_) => "percent",
    }
}

/// `expired` or `stopped`, for logs.
pub fn end_reason_name(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Expired => "expired",
        EndReason::Stopped => "stopped",
    }
}

/// A new running experiment `id` of `fault`, started `now` (ms) for
/// `duration_seconds`, reaching `replicas` of `scope`.
pub fn running(
    id: String,
    fault: Fault,
    now: u64,
    duration_seconds: u32,
    scope: Scope,
    replicas: Vec<String>,
) -> Experiment {
    Experiment {
        id,
        fault,
        started_at_ms: now,
        ends_at_ms: now + u64::from(duration_seconds) * 1000,
        ended_at_ms: None,
        end_reason: None,
        scope,
        replicas,
    }
}

/// "No fault": what a request gets when nothing applies.
pub fn no_fault() -> Decision {
    Decision { hang_ms: None, delay_ms: 0, fail_status: None, experiments: Vec::new() }
}

/// What a store call must do under a Redis fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisFault {
    /// The experiment responsible.
    pub experiment: String,
    /// What to do.
    pub mode: RedisMode,
    /// Delay for `Slow`.
    pub delay: Duration,
}

/// Why a chaos call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChaosError {
    /// Parameters out of bounds.
    #[error("invalid parameters: {}", .0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<InvalidField>),
    /// Too many experiments.
    #[error("{0}")]
    Limit(String),
    /// Same kind already running.
    #[error("{0}")]
    Conflict(String),
    /// Unknown id.
    #[error("no experiment {0}")]
    NotFound(String),
    /// Chaos is off.
    #[error("chaos is disabled on this replica")]
    Disabled,
    /// A call that needs the replicas' Redis could not reach it; nothing
    /// was applied. The reason is safe to show (no credentials).
    #[error("{0}")]
    Unavailable(String),
}

impl From<ChaosError> for wit::Error {
    fn from(err: ChaosError) -> Self {
        match err {
            ChaosError::Invalid(fields) => Self::Invalid(fields),
            ChaosError::Limit(m) => Self::Limit(m),
            ChaosError::Conflict(m) => Self::Conflict(m),
            ChaosError::NotFound(id) => Self::NotFound(id),
            ChaosError::Disabled => Self::Disabled,
            ChaosError::Unavailable(m) => Self::Unavailable(m),
        }
    }
}
