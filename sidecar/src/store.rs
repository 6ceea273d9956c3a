//! [`Store`]: chaoslab's Redis connection, the host side of `chaoslab:sidecar/store`.
//!
//! One multiplexed connection per process (redis-rs `ConnectionManager`), shared
//! by every request. It reconnects by itself after Redis restarts, and every
//! call runs under `call_timeout`, so a stopped or black-holed Redis yields a
//! [`StoreError::Timeout`] instead of a hang.

use std::future::Future;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, RedisResult};

use crate::chaos::{ChaosEngine, RedisMode};
use crate::config::RedisArgs;
use crate::error::{StoreError, StoreResult};

/// How often the connection manager retries one reconnect before giving up
/// until the next call asks again. Kept small: each failing call triggers a
/// new reconnect, and a long backoff would delay recovery after Redis returns.
const RECONNECT_RETRIES: usize = 2;
/// Upper bound of the backoff between reconnect attempts.
const RECONNECT_MAX_DELAY: Duration = Duration::from_millis(250);

/// A handle to Redis. Cheap to clone: clones share one connection.
#[derive(Clone)]
pub struct Store {
    /// The multiplexed, self-reconnecting connection.
    conn: ConnectionManager,
    /// Hard deadline for each call, including any wait for a connection.
    call_timeout: Duration,
    /// `host:port` for logs and errors; never includes credentials.
    target: String,
    /// The replica's chaos engine, consulted for Redis faults on every call.
    chaos: Option<ChaosEngine>,
}

impl Store {
    /// Prepares the connection without waiting for Redis: the service starts
    /// even while Redis is down, and connects as soon as it is reachable.
    /// Must be called inside a Tokio runtime.
    pub fn connect(args: &RedisArgs) -> StoreResult<Self> {
        let url = args.url.as_deref().unwrap_or("redis://127.0.0.1:6379");
        let client = redis::Client::open(url).map_err(StoreError::Config)?;
        let target = client.get_connection_info().addr().to_string();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(args.connect_timeout))
            .set_response_timeout(Some(args.call_timeout))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_max_delay(RECONNECT_MAX_DELAY);
        let conn = ConnectionManager::new_lazy_with_config(client, config).map_err(StoreError::Config)?;
        let store = Self { conn, call_timeout: args.call_timeout, target, chaos: None };
        store.warm_up();
        Ok(store)
    }

    /// Applies `engine`'s Redis faults (blackhole, fail, slow) to every call.
    pub fn with_chaos(mut self, engine: ChaosEngine) -> Self {
        self.chaos = Some(engine);
        self
    }

    /// `host:port` of the Redis server (no credentials).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// `INCRBY key delta`: the new value.
    pub async fn incr(&self, key: &str, delta: i64) -> StoreResult<i64> {
        let mut conn = self.conn.clone();
        self.bounded(async move { conn.incr(key, delta).await }).await
    }

    /// `GET key`: the value, or `None` when the key does not exist.
    pub async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let mut conn = self.conn.clone();
        self.bounded(async move { conn.get(key).await }).await
    }

    /// `SET key value [PX ttl]`.
    pub async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> StoreResult<()> {
        let mut conn = self.conn.clone();
        self.bounded(async move {
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
        let mut conn = self.conn.clone();
        let start = Instant::now();
        self.bounded(async move { redis::cmd("PING").query_async::<()>(&mut conn).await }).await?;
        Ok(start.elapsed())
    }

    /// Runs one call under the call deadline, after any injected Redis fault,
    /// and maps its error by cause.
    async fn bounded<T>(&self, call: impl Future<Output = RedisResult<T>>) -> StoreResult<T> {
        let fault = self.chaos.as_ref().and_then(ChaosEngine::redis_fault);
        let work = async {
            if let Some(fault) = fault {
                match fault.mode {
                    RedisMode::Fail => return Err(StoreError::Injected { experiment: fault.experiment }),
                    RedisMode::Blackhole => std::future::pending::<()>().await,
                    RedisMode::Slow => tokio::time::sleep(fault.delay).await,
                }
            }
            call.await.map_err(|err| {
                if err.is_timeout() { StoreError::Timeout { after: self.call_timeout } } else { StoreError::from(err) }
            })
        };
        match tokio::time::timeout(self.call_timeout, work).await {
            Ok(result) => result,
            Err(_elapsed) => Err(StoreError::Timeout { after: self.call_timeout }),
        }
    }

    /// Starts the first connection in the background, so it is not tied to
    /// (and cut short by) the deadline of the first request.
    fn warm_up(&self) {
        let mut conn = self.conn.clone();
        let target = self.target.clone();
        tokio::spawn(async move {
            match redis::cmd("PING").query_async::<()>(&mut conn).await {
                Ok(()) => tracing::info!(redis = %target, "connected to redis"),
                Err(err) => tracing::warn!(redis = %target, error = %err,
                    "redis not reachable yet; will keep retrying on demand"),
            }
        });
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("target", &self.target)
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}
