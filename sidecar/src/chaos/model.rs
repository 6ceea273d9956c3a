//! The chaos vocabulary: faults, experiments, decisions, limits and errors.
//! These mirror the WIT `chaoslab:sidecar/chaos` types one to one.

use std::time::Duration;

/// CPU and memory pressure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadSpec {
    /// Share of one core each worker burns, 1-100.
    pub cpu_percent: u32,
    /// CPU worker threads.
    pub workers: u32,
    /// MiB allocated and touched.
    pub memory_mb: u32,
}

/// Extra latency on matching requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencySpec {
    /// Fixed delay, ms.
    pub ms: u32,
    /// Extra uniform random delay 0..=jitter_ms.
    pub jitter_ms: u32,
    /// Share of matching requests, 1-100.
    pub percent: u32,
    /// Exact paths affected; `None` = all data-plane routes.
    pub routes: Option<Vec<String>>,
}

/// Error answers on matching requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorsSpec {
    /// Status to answer, 400-599.
    pub status: u32,
    /// Share of matching requests, 1-100.
    pub percent: u32,
    /// Exact paths affected; `None` = all data-plane routes.
    pub routes: Option<Vec<String>>,
}

/// How store calls misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisMode {
    /// Hang until the call deadline, then time out.
    Blackhole,
    /// Fail at once.
    Fail,
    /// Delay first.
    Slow,
}

/// A Redis fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSpec {
    /// What happens.
    pub mode: RedisMode,
    /// Delay for `Slow`, ms.
    pub latency_ms: u32,
    /// Share of calls affected, 1-100.
    pub percent: u32,
}

/// What an experiment does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// CPU workers and a memory balloon.
    Load(LoadSpec),
    /// Data-plane requests held until the end.
    Hang,
    /// Delayed requests.
    Latency(LatencySpec),
    /// Failed requests.
    Errors(ErrorsSpec),
    /// Failing or slow store calls.
    Redis(RedisSpec),
}

impl Fault {
    /// The kind's name, as in the API path (`load`, `hang`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Load(_) => "load",
            Self::Hang => "hang",
            Self::Latency(_) => "latency",
            Self::Errors(_) => "errors",
            Self::Redis(_) => "redis",
        }
    }
}

/// Why an experiment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Its lease ran out.
    Expired,
    /// It was stopped through the API.
    Stopped,
}

impl EndReason {
    /// `expired` or `stopped`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Stopped => "stopped",
        }
    }
}

/// One experiment: a fault with a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Experiment {
    /// `exp-N`.
    pub id: String,
    /// What it does.
    pub fault: Fault,
    /// Start, ms since the Unix epoch.
    pub started_at_ms: u64,
    /// Planned end, ms since the Unix epoch.
    pub ends_at_ms: u64,
    /// Actual end, once ended.
    pub ended_at_ms: Option<u64>,
    /// Why it ended.
    pub end_reason: Option<EndReason>,
}

/// What to do with one data-plane request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// Hold the request this long first (hang).
    pub hang_ms: Option<u64>,
    /// Then delay it.
    pub delay_ms: u32,
    /// Then answer this status.
    pub fail_status: Option<u16>,
    /// Experiments that applied.
    pub experiments: Vec<String>,
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

/// Load running right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// CPU worker threads alive.
    pub cpu_workers: u32,
    /// MiB held by the balloon.
    pub memory_mib: u32,
}

/// The engine's state for `GET /chaos/status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// RNG seed.
    pub seed: u64,
    /// Now, ms since the Unix epoch.
    pub now_ms: u64,
    /// Running experiments.
    pub active: Vec<Experiment>,
    /// Ended experiments, newest first.
    pub recent: Vec<Experiment>,
    /// Load running.
    pub load: LoadReport,
}

/// A parameter out of bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidField {
    /// The request field, e.g. `cpu_percent`.
    pub field: String,
    /// What is allowed.
    pub message: String,
}

/// Why a chaos call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
}

/// The bounds of every parameter (configurable, safe defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest experiment.
    pub max_duration: Duration,
    /// Most CPU workers (default: the number of cores).
    pub max_workers: u32,
    /// Largest memory balloon, MiB.
    pub max_memory_mb: u32,
    /// Most experiments running at once.
    pub max_experiments: usize,
    /// Largest latency or delay, ms.
    pub max_latency_ms: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_duration: Duration::from_secs(3600),
            max_workers: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            max_memory_mb: 512,
            max_experiments: 8,
            max_latency_ms: 60_000,
        }
    }
}
