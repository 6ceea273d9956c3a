//! [`RedisArgs`]: how the sidecar reaches Redis. The same flags and
//! `CHAOSLAB_*` variables for `chaoslab-sidecar` and `chaoslab up`; every
//! default is a named constant, used by clap and by [`RedisArgs::for_url`].

use std::path::PathBuf;
use std::time::Duration;

/// Default of `--redis-connect-timeout`: one TCP (and TLS) attempt.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default of `--redis-call-timeout`: one store call, connection wait included.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_millis(500);
/// Default of `--redis-token-timeout`: the first Entra token at start-up.
pub const DEFAULT_TOKEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Default of `--redis-token-retries`.
pub const DEFAULT_TOKEN_RETRIES: usize = 10;

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
    /// When unset, chaoslab starts its own `redis-server` on a private socket.
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
          default_value_t = DEFAULT_TOKEN_TIMEOUT.into())]
    pub token_timeout: humantime::Duration,

    /// Retries of one Entra token refresh (backoff 0.5 s doubling to 30 s)
    /// before the credentials provider is replaced by a new one, which starts
    /// over: the renewal itself never stops.
    #[arg(long = "redis-token-retries", env = "CHAOSLAB_REDIS_TOKEN_RETRIES", default_value_t = DEFAULT_TOKEN_RETRIES)]
    pub token_retries: usize,

    /// Deadline for one TCP (and TLS) connection attempt to Redis.
    #[arg(long = "redis-connect-timeout", env = "CHAOSLAB_REDIS_CONNECT_TIMEOUT",
          default_value_t = DEFAULT_CONNECT_TIMEOUT.into())]
    pub connect_timeout: humantime::Duration,

    /// Deadline for one store call as the component sees it, connection wait
    /// included. A black-holed Redis turns into a `timeout` error after this.
    #[arg(long = "redis-call-timeout", env = "CHAOSLAB_REDIS_CALL_TIMEOUT",
          default_value_t = DEFAULT_CALL_TIMEOUT.into())]
    pub call_timeout: humantime::Duration,
}

impl RedisArgs {
    /// Settings for `url` with every default (for tests and tools).
    pub fn for_url(url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            auth: None,
            azure_client_id: None,
            ca_file: None,
            token_timeout: DEFAULT_TOKEN_TIMEOUT.into(),
            token_retries: DEFAULT_TOKEN_RETRIES,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT.into(),
            call_timeout: DEFAULT_CALL_TIMEOUT.into(),
        }
    }
}
