//! [`ConnectionArgs`]: the connection-level limits of an HTTP listener, the
//! same flags and `CHAOSLAB_*` variables for `chaoslab up` (the data plane)
//! and `chaoslab-sidecar` (the link), each default a named constant.

use std::time::Duration;

use crate::config::{DurationError, bounded_duration};

/// Default of `--header-read-timeout`: from a request's first byte to the
/// end of its headers. Slowloris clients (headers trickled a byte at a time)
/// are cut off after it.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default of `--idle-timeout`: how long a keep-alive connection may wait
/// for its next request. Longer than the 60 s idle timeout of common proxies
/// and load balancers, so they close first and never send a request on a
/// connection that is being closed here.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// Default of `--max-headers`: hyper's own default (parsed on the stack; any
/// other value costs a heap allocation per request).
pub const DEFAULT_MAX_HEADERS: u32 = 100;
/// Default of `--max-header-kb`: the request line and headers together.
pub const DEFAULT_MAX_HEADER_KB: u32 = 64;
/// Default of `--max-connections`: open connections at once. At the cap the
/// oldest connection without a request in flight is closed for each new
/// one, so idle connections never lock new clients out.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10_000;

/// Connection-level limits of an HTTP listener.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionArgs {
    /// Longest time from a request's first byte to the end of its headers;
    /// a slower client is disconnected (slowloris). 100ms to 10m.
    #[arg(long, env = "CHAOSLAB_HEADER_READ_TIMEOUT", default_value_t = DEFAULT_HEADER_READ_TIMEOUT.into(),
          value_parser = header_read_timeout)]
    pub header_read_timeout: humantime::Duration,

    /// How long a keep-alive connection may stay idle (no request in flight,
    /// no byte of the next one) before it is closed. 100ms to 1h.
    #[arg(long, env = "CHAOSLAB_IDLE_TIMEOUT", default_value_t = DEFAULT_IDLE_TIMEOUT.into(),
          value_parser = idle_timeout)]
    pub idle_timeout: humantime::Duration,

    /// Most header fields in one request; more get 431 and the connection is closed.
    #[arg(long, env = "CHAOSLAB_MAX_HEADERS", default_value_t = DEFAULT_MAX_HEADERS,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_headers: u32,

    /// Largest request line plus headers, in KiB; beyond it, 431 and the connection is closed.
    #[arg(long, env = "CHAOSLAB_MAX_HEADER_KB", default_value_t = DEFAULT_MAX_HEADER_KB,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_header_kb: u32,

    /// Most open connections. At the cap, the oldest connection with no
    /// request in flight is closed for each new one; when every connection
    /// is busy, new ones wait in the listen backlog. Lowered to what the
    /// open-file limit allows (raised to its hard limit at start).
    #[arg(long, env = "CHAOSLAB_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
}

impl Default for ConnectionArgs {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT.into(),
            idle_timeout: DEFAULT_IDLE_TIMEOUT.into(),
            max_headers: DEFAULT_MAX_HEADERS,
            max_header_kb: DEFAULT_MAX_HEADER_KB,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl ConnectionArgs {
    /// Largest request head, in bytes.
    pub fn max_header_bytes(&self) -> usize {
        self.max_header_kb as usize * 1024
    }
}

/// clap value parser of `--header-read-timeout`.
fn header_read_timeout(value: &str) -> Result<humantime::Duration, DurationError> {
    bounded_duration(value, Duration::from_millis(100), Duration::from_secs(600))
}

/// clap value parser of `--idle-timeout`.
fn idle_timeout(value: &str) -> Result<humantime::Duration, DurationError> {
    bounded_duration(value, Duration::from_millis(100), Duration::from_secs(3600))
}
