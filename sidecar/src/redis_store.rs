//! [`RedisStore`]: chaoslab's Redis connection, the host side of `chaoslab:sidecar/store`.
//!
//! One multiplexed connection per process (redis-rs `ConnectionManager`), shared
//! by every request. It reconnects by itself after Redis restarts, and every
//! call runs under `call_timeout`, so a stopped or black-holed Redis yields a
//! [`StoreError::Timeout`] instead of a hang.
//!
//! TLS (`rediss://`) and the authentication mode (none, the URL's password,
//! or Entra ID tokens that are renewed and re-sent) are set up by
//! [`RedisStore::connect`]. After Redis refused the credentials the connection
//! manager is replaced ([`Renewing`]): the next call connects afresh, with
//! the current credentials, and succeeds once the ACL or the token is right.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, ProtocolVersion, PushInfo, RedisResult};
use tokio::sync::mpsc::UnboundedSender;

use crate::chaos::{ChaosEngine, RedisMode};
use crate::config::{RedisArgs, RedisAuth};
use crate::entra::{EntraCredentials, EntraSettings};
use crate::error::{SetupError, StoreError, StoreResult};
use crate::renewing::Renewing;
use crate::{auth, telemetry, tls};
use tracing::Instrument;

/// How often the connection manager retries one reconnect before giving up
/// until the next call asks again. Kept small: each failing call triggers a
/// new reconnect, and a long backoff would delay recovery after Redis returns.
const RECONNECT_RETRIES: usize = 2;
/// Upper bound of the backoff between reconnect attempts.
const RECONNECT_MAX_DELAY: Duration = Duration::from_millis(250);

/// A handle to Redis. Cheap to clone: clones share one connection.
#[derive(Clone)]
pub struct RedisStore {
    /// The multiplexed, self-reconnecting connection, and how to build a new
    /// one when a handshake failure left it stuck.
    conn: Arc<Renewing>,
    /// Hard deadline for each call, including any wait for a connection.
    call_timeout: Duration,
    /// `host:port` for logs and errors; never includes credentials.
    target: String,
    /// How the store authenticates (for logs).
    auth: AuthSummary,
    /// The replica's chaos engine, consulted for Redis faults on every call.
    chaos: Option<ChaosEngine>,
    /// `--redis-ca-file`, to build the coordination's client alike.
    ca_file: Option<PathBuf>,
}

/// How the store authenticates, for the start-up log line (no secrets).
#[derive(Debug, Clone)]
pub struct AuthSummary {
    /// The mode in use.
    pub mode: RedisAuth,
    /// The Redis user, when known: the URL's, or the Entra object id.
    pub user: Option<String>,
    /// Time to the first Entra token (Entra only).
    pub first_token: Option<Duration>,
    /// Keeps the Entra supervisor running as long as the store lives.
    credentials: Option<EntraCredentials>,
}

impl RedisStore {
    /// Sets up the connection without waiting for Redis: the service starts
    /// even while Redis is down, and connects as soon as it is reachable.
    /// With Entra ID it does wait, at most `--redis-token-timeout`, for the
    /// first token. Logs one `redis target` line (no secrets). Must be called
    /// inside a Tokio runtime.
    pub async fn connect(args: &RedisArgs) -> Result<Self, SetupError> {
        let started = Instant::now();
        let url = args.url.as_deref().unwrap_or("redis://127.0.0.1:6379");
        let info = tls::parse(url)?;
        let mode = auth::resolve(args.auth, &info)?;
        let target = info.addr().to_string();
        let is_tls = tls::is_tls(&info);
        let mut summary = AuthSummary {
            mode,
            user: info.redis_settings().username().map(str::to_owned),
            first_token: None,
            credentials: None,
        };
        let client = tls::client(info, args.ca_file.as_deref())?;
        let ca_file = args.ca_file.clone();
        let mut config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(*args.connect_timeout))
            .set_response_timeout(Some(*args.call_timeout))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_max_delay(RECONNECT_MAX_DELAY);
        if mode == RedisAuth::Entra {
            let settings = EntraSettings {
                client_id: args.azure_client_id.clone(),
                retries: args.token_retries,
                first_token_timeout: *args.token_timeout,
            };
            let (credentials, first) = EntraCredentials::start(settings).await?;
            config = config.set_credentials_provider(credentials.clone());
            summary.user = Some(first.user);
            summary.first_token = Some(first.elapsed);
            summary.credentials = Some(credentials);
        }
        tracing::info!(
            redis = %target,
            tls = is_tls,
            auth = mode.as_str(),
            user = summary.user.as_deref().unwrap_or("default"),
            first_token_ms = summary.first_token.map(|d| d.as_millis() as u64),
            "redis target"
        );
        let conn = Renewing::new(client, config, "store")?;
        let store = Self { conn, call_timeout: *args.call_timeout, target, auth: summary, chaos: None, ca_file };
        store.warm_up(started);
        Ok(store)
    }

    /// Applies `engine`'s Redis faults (blackhole, fail, slow) to every call.
    pub fn with_chaos(mut self, engine: ChaosEngine) -> Self {
        self.chaos = Some(engine);
        self
    }

    /// Another connection to the same Redis — same URL, TLS, credentials
    /// (the Entra provider included), timeouts and retries — for the chaos
    /// coordination's commands ([`crate::cluster`]). No Redis fault of an
    /// experiment applies to it. Connects lazily; replaced after refused
    /// credentials, as the store's is.
    pub fn coordination(&self) -> Result<Arc<Renewing>, SetupError> {
        Renewing::new(self.conn.client().clone(), self.conn.config().clone(), "coordination")
    }

    /// A connection like [`Self::coordination`]'s, speaking RESP3, whose push
    /// messages (channel messages, disconnections) go to `pushes` and whose
    /// subscriptions redis-rs renews after each reconnect: the coordination
    /// subscribes on it and sends nothing else. Connects lazily; replaced
    /// after refused credentials (the replacement has no subscription until
    /// the coordination subscribes again).
    pub fn subscription(&self, pushes: UnboundedSender<PushInfo>) -> Result<Arc<Renewing>, SetupError> {
        let info = self.conn.client().get_connection_info().clone();
        let resp3 = info.redis_settings().clone().set_protocol(ProtocolVersion::RESP3);
        let client = tls::client(info.set_redis_settings(resp3), self.ca_file.as_deref())?;
        let config = self.conn.config().clone().set_push_sender(pushes).set_automatic_resubscription();
        Renewing::new(client, config, "subscription")
    }

    /// The deadline of every call (`--redis-call-timeout`).
    pub fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    /// `host:port` of the Redis server (no credentials).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// How the store authenticates (no secrets).
    pub fn auth(&self) -> &AuthSummary {
        &self.auth
    }

    /// `INCRBY key delta`: the new value.
    pub async fn incr(&self, key: &str, delta: i64) -> StoreResult<i64> {
        self.bounded("INCRBY", |mut conn| async move { conn.incr(key, delta).await }).await
    }

    /// `GET key`: the value, or `None` when the key does not exist.
    pub async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.bounded("GET", |mut conn| async move { conn.get(key).await }).await
    }

    /// `SET key value [PX ttl]`.
    pub async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> StoreResult<()> {
        let op = if ttl.is_some() { "PSETEX" } else { "SET" };
        self.bounded(op, |mut conn| async move {
            match ttl {
                Some(ttl) => {
                    let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                    conn.pset_ex(key, value, millis).await
                }
                None => conn.set(key, value).await,
            }
        })
        .await
    }

    /// `PING`: the round trip.
    pub async fn ping(&self) -> StoreResult<Duration> {
        let start = Instant::now();
        self.bounded("PING", |mut conn| async move { redis::cmd("PING").query_async::<()>(&mut conn).await }).await?;
        Ok(start.elapsed())
    }

    /// Runs one call (`operation`, the Redis command) under the call deadline,
    /// after any injected Redis fault, and maps its error by cause. Each call
    /// is a client span (an Application Insights dependency) and a metric point.
    async fn bounded<T, F>(&self, operation: &'static str, call: impl FnOnce(ConnectionManager) -> F) -> StoreResult<T>
    where
        F: Future<Output = RedisResult<T>>,
    {
        let span = telemetry::redis_span(operation, &self.target);
        let started = Instant::now();
        let result = self.bounded_inner(call).instrument(span.clone()).await;
        telemetry::record_outcome(&span, operation, result.as_ref().err(), started.elapsed());
        result
    }

    async fn bounded_inner<T, F>(&self, call: impl FnOnce(ConnectionManager) -> F) -> StoreResult<T>
    where
        F: Future<Output = RedisResult<T>>,
    {
        let fault = self.chaos.as_ref().and_then(ChaosEngine::redis_fault);
        let work = async {
            if let Some(fault) = fault {
                match fault.mode {
                    RedisMode::Fail => return Err(StoreError::Injected { experiment: fault.experiment }),
                    RedisMode::Blackhole => std::future::pending::<()>().await,
                    RedisMode::Slow => tokio::time::sleep(fault.delay).await,
                }
            }
            self.conn.call(self.call_timeout, call).await
        };
        match tokio::time::timeout(self.call_timeout, work).await {
            Ok(result) => result,
            Err(_elapsed) => Err(StoreError::Timeout { after: self.call_timeout }),
        }
    }

    /// Starts the first connection in the background, so it is not tied to
    /// (and cut short by) the deadline of the first request. Logs the time
    /// from `started` to the first answered command.
    fn warm_up(&self, started: Instant) {
        let conn = self.conn.clone();
        let target = self.target.clone();
        let first_token_ms = self.auth.first_token.map(|d| d.as_millis() as u64);
        let user = self.auth.user.clone().unwrap_or_else(|| "default".to_owned());
        let call_timeout = self.call_timeout;
        tokio::spawn(async move {
            let ping = |mut manager: ConnectionManager| async move {
                redis::cmd("PING").query_async::<()>(&mut manager).await
            };
            match conn.call(call_timeout, ping).await {
                Ok(()) => tracing::info!(redis = %target, user, first_token_ms,
                    first_command_ms = started.elapsed().as_millis() as u64, "connected to redis"),
                Err(err) => tracing::warn!(redis = %target, error = %err,
                    "redis not usable yet; will keep retrying on demand"),
            }
        });
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("target", &self.target)
            .field("call_timeout", &self.call_timeout)
            .field("auth", &self.auth.mode)
            .field("user", &self.auth.user)
            .finish_non_exhaustive()
    }
}
