//! [`StoreError`]: why a store call failed, typed by cause; [`SetupError`]:
//! why the Redis connection could not be set up at start-up; [`one_line`]:
//! how the binaries print the error that ends them.

use std::path::PathBuf;
use std::time::Duration;

/// The result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Why a store call failed. Each variant matches one case of the WIT
/// `store.error` variant; the redis-rs cause is kept as the error source.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis cannot be reached: not connected yet, refused, reset, dropped.
    #[error("redis unavailable: {0}")]
    Unavailable(#[source] redis::RedisError),
    /// The call did not finish within the call deadline.
    #[error("redis did not answer within {after:?}")]
    Timeout {
        /// The deadline that passed.
        after: Duration,
    },
    /// Redis refused the credentials or the permission (NOAUTH, WRONGPASS, NOPERM).
    #[error("redis denied access: {0}")]
    Denied(#[source] redis::RedisError),
    /// Redis answered with another error, or the reply had an unexpected type.
    #[error("redis error: {0}")]
    Other(#[source] redis::RedisError),
    /// A chaos experiment made this call fail on purpose.
    #[error("redis unavailable: chaos experiment {experiment} injected a failure")]
    Injected {
        /// The experiment's id.
        experiment: String,
    },
    /// The configuration cannot work (bad URL, unsupported scheme).
    #[error("invalid redis configuration: {0}")]
    Config(#[source] redis::RedisError),
}

impl StoreError {
    /// A short, stable name of the cause, for telemetry (`error.type`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "unavailable",
            Self::Timeout { .. } => "timeout",
            Self::Denied(_) => "denied",
            Self::Other(_) => "other",
            Self::Injected { .. } => "injected",
            Self::Config(_) => "config",
        }
    }

    /// True when Redis could not be reached (retrying later may work).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Injected { .. })
    }

    /// True when the call ran out of time.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// True when Redis refused the credentials or the command.
    pub fn is_denied(&self) -> bool {
        matches!(self, Self::Denied(_))
    }
}

impl From<redis::RedisError> for StoreError {
    fn from(err: redis::RedisError) -> Self {
        use redis::{ErrorKind, ServerErrorKind};
        let auth_code = matches!(err.code(), Some("NOAUTH" | "WRONGPASS" | "NOPERM"));
        match err.kind() {
            ErrorKind::AuthenticationFailed | ErrorKind::Server(ServerErrorKind::NoPerm) => Self::Denied(err),
            _ if auth_code => Self::Denied(err),
            ErrorKind::InvalidClientConfig => Self::Config(err),
            ErrorKind::Io | ErrorKind::Client | ErrorKind::Server(ServerErrorKind::BusyLoading) => {
                Self::Unavailable(err)
            }
            _ if err.is_connection_dropped() || err.is_connection_refusal() => Self::Unavailable(err),
            _ => Self::Other(err),
        }
    }
}

/// Why [`Store::connect`](crate::Store::connect) failed: the settings cannot
/// work, or the first Entra token could not be had. Reported once at start-up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The Redis URL does not parse (the URL itself is not repeated: it may hold a password).
    #[error("invalid redis URL: {0}")]
    Url(#[source] redis::RedisError),
    /// The CA file cannot be read.
    #[error("cannot read the Redis CA file {}: {source}", path.display())]
    CaFile {
        /// The file named by `--redis-ca-file`.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The CA file is not usable PEM, or the TLS settings are rejected.
    #[error("invalid TLS settings for redis: {0}")]
    Tls(#[source] redis::RedisError),
    /// A CA file was given for a URL without TLS.
    #[error("--redis-ca-file is set but the Redis URL is not rediss:// (TLS)")]
    CaWithoutTls,
    /// `--redis-auth password` without a password in the URL.
    #[error("--redis-auth password needs a password in the Redis URL (redis://user:password@host)")]
    PasswordMissing,
    /// `--redis-auth entra` with credentials in the URL, which would be ignored.
    #[error("--redis-auth entra takes the user and password from the Entra token: remove them from the Redis URL")]
    CredentialsInUrl,
    /// `--redis-auth none` with credentials in the URL, which would be sent anyway.
    #[error("--redis-auth none, but the Redis URL carries a password: use --redis-auth password or remove it")]
    UnexpectedPassword,
    /// azure_identity refused to build the managed identity credential.
    #[error("cannot set up the managed identity credential: {0}")]
    Credential(#[source] redis::RedisError),
    /// No Entra token within `--redis-token-timeout` at start-up.
    #[error("could not get an Entra token for Redis from {endpoint} within {after:.1?}{}",
            if last.is_none() { " (no answer)" } else { "" })]
    FirstToken {
        /// The identity endpoint asked (`IDENTITY_ENDPOINT=…`, or IMDS).
        endpoint: String,
        /// How long chaoslab waited.
        after: Duration,
        /// The last error the identity endpoint gave, if it answered at all.
        #[source]
        last: Option<redis::RedisError>,
    },
}

/// `err` and its causes on one line, `: `-separated like anyhow's `{:#}`,
/// each text once: most of our errors say their cause in their own message
/// too (clients see that message alone), and the chain would repeat it
/// ("cannot read manifest spin.toml: No such file or directory (os error 2):
/// No such file or directory (os error 2)").
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::{ErrorKind, RedisError};

    fn err(kind: ErrorKind, detail: &'static str) -> RedisError {
        RedisError::from((kind, "test", detail.to_owned()))
    }

    #[test]
    fn io_errors_are_unavailable() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(StoreError::from(RedisError::from(io)).is_unavailable());
    }

    #[test]
    fn auth_failures_are_denied() {
        assert!(StoreError::from(err(ErrorKind::AuthenticationFailed, "WRONGPASS")).is_denied());
    }

    #[test]
    fn wrong_type_is_other() {
        let e = StoreError::from(err(ErrorKind::UnexpectedReturnType, "not an integer"));
        assert!(matches!(e, StoreError::Other(_)));
        assert!(!e.is_unavailable() && !e.is_timeout() && !e.is_denied());
    }

    #[test]
    fn bad_config_is_config() {
        assert!(matches!(StoreError::from(err(ErrorKind::InvalidClientConfig, "bad url")), StoreError::Config(_)));
    }

    #[test]
    fn timeout_keeps_its_deadline() {
        let e = StoreError::Timeout { after: Duration::from_millis(250) };
        assert!(e.is_timeout());
        assert_eq!(e.to_string(), "redis did not answer within 250ms");
    }

    #[test]
    fn a_cause_the_message_already_shows_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let err = SetupError::CaFile { path: "ca.pem".into(), source: io };
        let err = anyhow::Error::new(err).context("starting the sidecar");
        assert_eq!(format!("{err:#}").matches("no such file").count(), 2, "anyhow's chain repeats it");
        assert_eq!(one_line(&err), "starting the sidecar: cannot read the Redis CA file ca.pem: no such file");
    }

    #[test]
    fn a_cause_the_message_does_not_show_is_kept() {
        let err = anyhow::anyhow!("inner").context("outer");
        assert_eq!(one_line(&err), "outer: inner");
    }
}
