//! [`ClusterArgs`]: the replica's name and the heartbeat of the chaos
//! coordination through Redis, the same flags for every binary that hosts
//! the sidecar.

use std::time::Duration;

use super::{DurationError, bounded_duration};

/// Default of `--chaos-heartbeat-interval`: how often a replica writes its
/// heartbeat and re-reads the shared experiments (the safety net under the
/// pub/sub announcements, which apply them in milliseconds).
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);
/// Default of `--chaos-heartbeat-ttl`: how long a heartbeat lives; a
/// replica silent for this long is marked as not answering.
pub const DEFAULT_HEARTBEAT_TTL: Duration = Duration::from_secs(5);
/// Shortest accepted interval (each tick is a few Redis commands).
const MIN_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(50);
/// Longest accepted interval or TTL.
const MAX_HEARTBEAT: Duration = Duration::from_secs(600);

/// Who this replica is, and how it keeps in touch with the others.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// This replica's name, as every replica and the telemetry know it.
    /// Default: `CONTAINER_APP_REPLICA_NAME` on Container Apps, else
    /// `<host name>:<port>` (see `--replica-port`).
    #[arg(long = "replica-name", env = "CHAOSLAB_REPLICA_NAME")]
    pub name: Option<String>,

    /// The port in the default replica name `<host name>:<port>`. Default:
    /// the port this process serves on (`chaoslab up`'s listen address,
    /// `chaoslab-sidecar`'s link address), so several replicas on one host
    /// differ; give `chaoslab-sidecar` the app's port to name the pair alike.
    #[arg(long = "replica-port", env = "CHAOSLAB_REPLICA_PORT")]
    pub port: Option<u16>,

    /// How often the replica writes its heartbeat to Redis and re-reads
    /// the shared experiments (at least 50ms).
    #[arg(long = "chaos-heartbeat-interval", env = "CHAOSLAB_CHAOS_HEARTBEAT_INTERVAL",
          default_value_t = DEFAULT_HEARTBEAT_INTERVAL.into(), value_parser = heartbeat_interval)]
    pub heartbeat_interval: humantime::Duration,

    /// How long a heartbeat lives in Redis: a replica silent this long is
    /// shown as not answering (at least twice the interval).
    #[arg(long = "chaos-heartbeat-ttl", env = "CHAOSLAB_CHAOS_HEARTBEAT_TTL",
          default_value_t = DEFAULT_HEARTBEAT_TTL.into(), value_parser = heartbeat_ttl)]
    pub heartbeat_ttl: humantime::Duration,
}

/// Why the cluster settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum ClusterArgsError {
    /// A TTL that would expire between two heartbeats.
    #[error("--chaos-heartbeat-ttl ({ttl}) must be at least twice --chaos-heartbeat-interval ({interval})")]
    TtlTooShort {
        /// The TTL given.
        ttl: humantime::Duration,
        /// The interval given.
        interval: humantime::Duration,
    },
}

impl ClusterArgs {
    /// The replica's name when this process serves on `port`.
    pub fn replica_name(&self, port: Option<u16>) -> String {
        chaoslab_telemetry::resource::replica_name(self.name.as_deref(), self.port.or(port))
    }

    /// Checks the settings together (each flag alone was checked by clap).
    pub fn validate(&self) -> Result<(), ClusterArgsError> {
        if *self.heartbeat_ttl < *self.heartbeat_interval * 2 {
            return Err(ClusterArgsError::TtlTooShort { ttl: self.heartbeat_ttl, interval: self.heartbeat_interval });
        }
        Ok(())
    }
}

impl Default for ClusterArgs {
    fn default() -> Self {
        Self {
            name: None,
            port: None,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL.into(),
            heartbeat_ttl: DEFAULT_HEARTBEAT_TTL.into(),
        }
    }
}

/// clap value parser of `--chaos-heartbeat-interval`: 50ms to 10m.
fn heartbeat_interval(value: &str) -> Result<humantime::Duration, DurationError> {
    bounded_duration(value, MIN_HEARTBEAT_INTERVAL, MAX_HEARTBEAT)
}

/// clap value parser of `--chaos-heartbeat-ttl`: 100ms to 10m.
fn heartbeat_ttl(value: &str) -> Result<humantime::Duration, DurationError> {
    bounded_duration(value, MIN_HEARTBEAT_INTERVAL * 2, MAX_HEARTBEAT)
}
