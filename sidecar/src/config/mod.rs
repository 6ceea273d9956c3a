//! The sidecar's command line, shared by every binary that hosts it: one
//! clap struct per concern, every flag with a `CHAOSLAB_*` (or standard)
//! environment fallback, every default a named constant.
//!
//! - [`redis`]: [`RedisArgs`], how to reach Redis.
//! - [`chaos`]: [`ChaosArgs`], the chaos engine's settings.
//! - [`cluster`]: [`ClusterArgs`], the replica's name and heartbeat.
//! - [`ServicesArgs`]: both, plus the `redis-server` program: what
//!   `chaoslab-sidecar` and `chaoslab up` share.
//! - [`SidecarConfig`]: the whole `chaoslab-sidecar` command line.

pub mod chaos;
pub mod cluster;
pub mod redis;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use chaos::ChaosArgs;
pub use cluster::ClusterArgs;
pub use redis::{RedisArgs, RedisAuth};

use crate::secret::Secret;

/// Default of `--listen` for the sidecar: loopback, the port spin.toml's
/// `sidecar_url` names.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7070";
/// Default of `--shutdown-grace`: how long shutdown waits for in-flight calls.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Longest `--shutdown-grace` accepted.
pub const MAX_SHUTDOWN_GRACE: Duration = Duration::from_secs(600);

/// What the sidecar owns: Redis (or the `redis-server` it starts) and the
/// chaos engine. The same flags for `chaoslab-sidecar` and `chaoslab up`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServicesArgs {
    /// Redis connection.
    #[command(flatten)]
    pub redis: RedisArgs,

    /// The `redis-server` program started when no Redis URL is configured.
    #[arg(long, env = "CHAOSLAB_REDIS_SERVER", default_value = "redis-server")]
    pub redis_server: PathBuf,

    /// Chaos engine.
    #[command(flatten)]
    pub chaos: ChaosArgs,

    /// The replica's name and its heartbeat to the other replicas.
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `chaoslab-sidecar` (also `chaoslab sidecar`): the sidecar alone, serving
/// the `chaoslab:sidecar` contract over loopback HTTP for `spin up`, plus
/// its container probes.
#[derive(Debug, clap::Parser)]
#[command(
    name = "chaoslab-sidecar",
    version,
    about = "chaoslab's native sidecar: Redis, the chaos engine and telemetry, serving the chaoslab:sidecar \
             contract to Wasm components over loopback HTTP (no Wasm runtime inside)"
)]
pub struct SidecarConfig {
    /// Address to serve the link and probes on; loopback by default. Port 0
    /// picks a free port (the bound address is printed).
    #[arg(long, env = "CHAOSLAB_SIDECAR_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// Shared secret every call must carry (at least 16 characters); when
    /// unset one is generated and printed once as `link token: …`.
    #[arg(long = "link-token", env = "CHAOSLAB_LINK_TOKEN", hide_env_values = true,
          value_parser = Secret::parse_link_token)]
    pub link_token: Option<Secret>,

    /// Redis and the chaos engine, exactly as for `chaoslab up`.
    #[command(flatten)]
    pub services: ServicesArgs,

    /// Connection-level limits of the link's listener (the same flags as `chaoslab up`'s).
    #[command(flatten)]
    pub connections: crate::listener::ConnectionArgs,

    /// Largest RPC body, in KiB (announced or chunked); beyond it, 413.
    #[arg(long, env = "CHAOSLAB_MAX_RPC_BODY_KB", default_value_t = crate::rpc::DEFAULT_MAX_RPC_BODY_KB,
          value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    pub max_rpc_body_kb: u32,

    /// How long shutdown waits for in-flight calls (at most 10m).
    #[arg(long, env = "CHAOSLAB_SHUTDOWN_GRACE", default_value_t = DEFAULT_SHUTDOWN_GRACE.into(),
          value_parser = shutdown_grace)]
    pub shutdown_grace: humantime::Duration,

    /// Where traces, metrics and logs are exported (none by default).
    #[command(flatten)]
    pub telemetry: chaoslab_telemetry::TelemetryArgs,
}

impl SidecarConfig {
    /// The RPC body limits: `--max-rpc-body-kb`, within the header read timeout.
    pub fn rpc_limits(&self) -> crate::rpc::RpcLimits {
        crate::rpc::RpcLimits {
            max_body_bytes: self.max_rpc_body_kb as usize * 1024,
            body_timeout: *self.connections.header_read_timeout,
        }
    }
}

/// Why a duration flag was refused.
#[derive(Debug, thiserror::Error)]
pub enum DurationError {
    /// Not a duration.
    #[error(transparent)]
    Parse(#[from] humantime::DurationError),
    /// Outside its range.
    #[error("must be between {min} and {max}, got {got}")]
    OutOfRange {
        /// Smallest accepted.
        min: humantime::Duration,
        /// Largest accepted.
        max: humantime::Duration,
        /// What was given.
        got: humantime::Duration,
    },
}

/// clap value parser: a duration within `min..=max`.
pub fn bounded_duration(value: &str, min: Duration, max: Duration) -> Result<humantime::Duration, DurationError> {
    let got: humantime::Duration = value.parse()?;
    if *got < min || *got > max {
        return Err(DurationError::OutOfRange { min: min.into(), max: max.into(), got });
    }
    Ok(got)
}

/// clap value parser of `--shutdown-grace`: 0 to 10 minutes.
pub fn shutdown_grace(value: &str) -> Result<humantime::Duration, DurationError> {
    bounded_duration(value, Duration::ZERO, MAX_SHUTDOWN_GRACE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[test]
    fn cli_definition_is_consistent() {
        SidecarConfig::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_named_constants() {
        let config = SidecarConfig::try_parse_from(["chaoslab-sidecar"]).unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(*config.shutdown_grace, DEFAULT_SHUTDOWN_GRACE);
        let redis = &config.services.redis;
        assert_eq!(*redis.call_timeout, redis::DEFAULT_CALL_TIMEOUT);
        assert_eq!(*redis.connect_timeout, redis::DEFAULT_CONNECT_TIMEOUT);
        let chaos = &config.services.chaos;
        assert_eq!(*chaos.max_duration, crate::chaos::limits::DEFAULT_MAX_DURATION);
        let cluster = &config.services.cluster;
        assert_eq!(*cluster.heartbeat_interval, cluster::DEFAULT_HEARTBEAT_INTERVAL);
        assert_eq!(*cluster.heartbeat_ttl, cluster::DEFAULT_HEARTBEAT_TTL);
        cluster.validate().expect("the defaults agree");
        let connections = &config.connections;
        let defaults = crate::listener::ConnectionArgs::default();
        assert_eq!(*connections.header_read_timeout, *defaults.header_read_timeout);
        assert_eq!(*connections.idle_timeout, *defaults.idle_timeout);
        assert_eq!(
            (connections.max_headers, connections.max_header_kb, connections.max_connections),
            (defaults.max_headers, defaults.max_header_kb, defaults.max_connections)
        );
        assert_eq!(config.rpc_limits().max_body_bytes, crate::rpc::RpcLimits::default().max_body_bytes);
        let for_url = RedisArgs::for_url("redis://x");
        assert_eq!((*for_url.call_timeout, for_url.token_retries), (*redis.call_timeout, redis.token_retries));
    }

    #[test]
    fn bad_values_are_refused_with_their_reason() {
        let err = SidecarConfig::try_parse_from(["chaoslab-sidecar", "--link-token", "short"]).unwrap_err();
        assert!(err.to_string().contains("at least 16 characters"), "{err}");
        let err = SidecarConfig::try_parse_from(["chaoslab-sidecar", "--chaos-heartbeat-interval", "1ms"]).unwrap_err();
        assert!(err.to_string().contains("between 50ms and 10m"), "{err}");
        let config = SidecarConfig::try_parse_from([
            "chaoslab-sidecar",
            "--chaos-heartbeat-ttl",
            "1s",
            "--chaos-heartbeat-interval",
            "1s",
        ])
        .unwrap();
        let err = config.services.cluster.validate().unwrap_err();
        assert!(err.to_string().contains("at least twice"), "{err}");
        let err = SidecarConfig::try_parse_from(["chaoslab-sidecar", "--shutdown-grace", "11m"]).unwrap_err();
        assert!(err.to_string().contains("between 0s and 10m"), "{err}");
        let config = SidecarConfig::try_parse_from(["chaoslab-sidecar", "--chaos-token", "tok"]).unwrap();
        assert!(!format!("{config:?}").contains("tok\""), "the token shows in Debug: {config:?}");
    }
}
