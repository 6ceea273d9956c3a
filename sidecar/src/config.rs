//! Redis settings, shared by `chaoslab up` and (later) `chaoslab sidecar` so
//! both read exactly the same flags and `CHAOSLAB_*` variables.

use std::path::PathBuf;
use std::time::Duration;

/// How the sidecar proves its identity to Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RedisAuth {
    /// No credentials (a local or test Redis).
    None,
    /// The user and password of the URL (`redis://user:password@host`).
    Password,
    /// Microsoft Entra ID with a managed identity: user = the identity's
    /// object id, password = an access token for `https://redis.azure.com`,
    /// renewed before it expires (Azure Managed Redis).
    Entra,
}

impl RedisAuth {
    /// The name used on the command line and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Password => "password",
            Self::Entra => "entra",
        }
    }
}

/// How the sidecar reaches Redis.
#[derive(Debug, Clone, clap::Args)]
pub struct RedisArgs {
    /// Redis URL: `redis://[user:password@]host:port[/db]`, or `rediss://` for
    /// TLS (Azure Managed Redis: `rediss://NAME.REGION.redis.azure.net:10000`).
    /// When unset, `chaoslab up` starts its own `redis-server` on a private socket.
    #[arg(long = "redis-url", env = "CHAOSLAB_REDIS_URL", hide_env_values = true)]
    pub url: Option<String>,

    /// How to authenticate: `none`, `password` (from the URL) or `entra`
    /// (managed identity token). Default: `password` when the URL carries
    /// one, else `none`.
    #[arg(long = "redis-auth", env = "CHAOSLAB_REDIS_AUTH", value_enum)]
    pub auth: Option<RedisAuth>,

    /// Client id of the user-assigned managed identity used with
    /// `--redis-auth entra`; unset means the system-assigned identity.
    #[arg(long = "azure-client-id", env = "AZURE_CLIENT_ID")]
    pub azure_client_id: Option<String>,

    /// PEM file of the root CA(s) trusted for `rediss://` instead of the
    /// system's roots (a private CA, or tests).
    #[arg(long = "redis-ca-file", env = "CHAOSLAB_REDIS_CA_FILE")]
    pub ca_file: Option<PathBuf>,

    /// Longest wait at start-up for the first Entra token; past it, chaoslab
    /// exits with an error naming the identity endpoint.
    #[arg(long = "redis-token-timeout", env = "CHAOSLAB_REDIS_TOKEN_TIMEOUT",
          default_value = "10s", value_parser = humantime::parse_duration)]
    pub token_timeout: Duration,

    /// Retries of one Entra token refresh (backoff 0.5 s doubling to 30 s)
    /// before the credentials provider is replaced by a new one, which starts
    /// over: the renewal itself never stops.
    #[arg(long = "redis-token-retries", env = "CHAOSLAB_REDIS_TOKEN_RETRIES", default_value_t = 10)]
    pub token_retries: usize,

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
            auth: None,
            azure_client_id: None,
            ca_file: None,
            token_timeout: Duration::from_secs(10),
            token_retries: 10,
            connect_timeout: Duration::from_secs(2),
            call_timeout: Duration::from_millis(500),
        }
    }
}

/// The chaos engine's settings, shared by every binary that hosts it.
#[derive(Debug, Clone, clap::Args)]
pub struct ChaosArgs {
    /// Bearer token required by every `/chaos/*` route. When unset, a random
    /// one is generated at start and printed once on stderr as `chaos token: …`.
    #[arg(id = "chaos_token", long = "chaos-token", env = "CHAOSLAB_CHAOS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Switch chaos off entirely: `/chaos/*` answers 404 and no fault applies.
    #[arg(id = "no_chaos", long = "no-chaos", env = "CHAOSLAB_NO_CHAOS")]
    pub disabled: bool,

    /// Seed of the decisions' RNG, so percent-based faults replay; random when unset.
    #[arg(id = "chaos_seed", long = "chaos-seed", env = "CHAOSLAB_CHAOS_SEED")]
    pub seed: Option<u64>,

    /// Longest experiment.
    #[arg(id = "chaos_max_duration", long = "chaos-max-duration", env = "CHAOSLAB_CHAOS_MAX_DURATION", default_value = "1h",
          value_parser = humantime::parse_duration)]
    pub max_duration: std::time::Duration,

    /// Largest memory balloon, MiB.
    #[arg(
        id = "chaos_max_memory_mb",
        long = "chaos-max-memory-mb",
        env = "CHAOSLAB_CHAOS_MAX_MEMORY_MB",
        default_value_t = 512
    )]
    pub max_memory_mb: u32,

    /// Most CPU workers of a load experiment (default: the number of cores).
    #[arg(id = "chaos_max_workers", long = "chaos-max-workers", env = "CHAOSLAB_CHAOS_MAX_WORKERS")]
    pub max_workers: Option<u32>,

    /// Most experiments running at once (beyond: 429).
    #[arg(
        id = "chaos_max_experiments",
        long = "chaos-max-experiments",
        env = "CHAOSLAB_CHAOS_MAX_EXPERIMENTS",
        default_value_t = 8
    )]
    pub max_experiments: usize,
}
