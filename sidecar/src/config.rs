//! Redis settings, shared by `chaoslab up` and (later) `chaoslab sidecar` so
//! both read exactly the same flags and `CHAOSLAB_*` variables.

use std::time::Duration;

/// How the sidecar reaches Redis.
#[derive(Debug, Clone, clap::Args)]
pub struct RedisArgs {
    /// Redis URL: `redis://[user:password@]host:port[/db]`, or `rediss://` for
    /// TLS. When unset, `chaoslab up` starts its own `redis-server` on a free
    /// loopback port.
    #[arg(long = "redis-url", env = "CHAOSLAB_REDIS_URL")]
    pub url: Option<String>,

    /// Deadline for one TCP (and TLS) connection attempt to Redis.
    #[arg(long = "redis-connect-timeout", env = "CHAOSLAB_REDIS_CONNECT_TIMEOUT",
          default_value = "2s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,

    /// Deadline for one store call as the component sees it, connection wait
    /// included. A black-holed Redis turns into a `timeout` error after this.
    #[arg(long = "redis-call-timeout", env = "CHAOSLAB_REDIS_CALL_TIMEOUT",
          default_value = "500ms", value_parser = humantime::parse_duration)]
    pub call_timeout: Duration,
}

impl RedisArgs {
    /// Settings for a given URL with the default timeouts (for tests and tools).
    pub fn for_url(url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            connect_timeout: Duration::from_secs(2),
            call_timeout: Duration::from_millis(500),
        }
    }
}
