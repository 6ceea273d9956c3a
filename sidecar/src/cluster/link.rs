//! [`Link`]: the coordination's own Redis connections and their commands.
//!
//! Two more redis-rs `ConnectionManager`s to the same Redis as the store
//! (same URL, TLS, credentials provider, timeouts: [`RedisStore::coordination`]
//! and [`RedisStore::subscription`]): one runs the commands, the other only
//! holds the subscription, speaking RESP3 so channel messages arrive as push
//! messages, re-subscribed by redis-rs after every reconnect.
//!
//! Why not the store's connection: the Redis faults of a `redis` experiment
//! are applied in the store's calls, so a Redis-block experiment never cuts
//! the replicas' coordination (a real outage does). Why the subscription
//! sends nothing: a replica announces on the channel it listens to, and
//! Redis before 7.2 writes the push message of a client's own `PUBLISH`
//! inside that client's `EXEC` reply, one element too many, which redis-rs
//! then hands to the next command in flight ("Invalid response when parsing
//! multi response"); a connection without a subscription gets no push
//! message. Every command runs under the store's call deadline, and either
//! connection is replaced after Redis refused its credentials, as the
//! store's is ([`Renewing`]), so the coordination comes back by itself once
//! the ACL or the token is right again.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{PushInfo, RedisResult};
use tokio::sync::mpsc::UnboundedReceiver;

use super::keys;
use crate::chaos::{Experiment, ReplicaView};
use crate::error::{SetupError, StoreError};
use crate::redis_store::RedisStore;
use crate::renewing::Renewing;

/// The coordination connections. Cheap to clone.
#[derive(Clone)]
pub struct Link {
    /// Runs the commands; self-reconnecting.
    conn: Arc<Renewing>,
    /// Holds the subscription and nothing else; RESP3, self-reconnecting,
    /// re-subscribing.
    subscription: Arc<Renewing>,
    /// Deadline of each command (the store's `--redis-call-timeout`).
    call_timeout: Duration,
    /// `host:port`, for the reasons given to clients (no credentials).
    target: String,
}

/// A coordination command that failed: Redis unreachable, too slow, or
/// refusing. Its text is safe for clients.
#[derive(Debug, thiserror::Error)]
#[error("the replicas' Redis ({target}) cannot be reached to coordinate: {source}")]
pub struct LinkError {
    /// `host:port`.
    target: String,
    /// Why, by cause.
    source: StoreError,
}

impl Link {
    /// Sets up the connections (lazily: Redis may be down at start) and the
    /// receiver of the subscription's push messages (channel messages,
    /// disconnections).
    pub fn connect(store: &RedisStore) -> Result<(Self, UnboundedReceiver<PushInfo>), SetupError> {
        let (sender, pushes) = tokio::sync::mpsc::unbounded_channel();
        let link = Self {
            conn: store.coordination()?,
            subscription: store.subscription(sender)?,
            call_timeout: store.call_timeout(),
            target: store.target().to_owned(),
        };
        Ok((link, pushes))
    }

    /// Runs one command or pipeline under the deadline, on the commands'
    /// connection.
    async fn bounded<T, F>(&self, call: impl FnOnce(ConnectionManager) -> F) -> Result<T, LinkError>
    where
        F: Future<Output = RedisResult<T>>,
    {
        self.on(&self.conn, call).await
    }

    /// Runs `call` on `connection`'s current manager under the deadline; a
    /// refusal of the credentials has the manager replaced.
    async fn on<T, F>(
        &self,
        connection: &Arc<Renewing>,
        call: impl FnOnce(ConnectionManager) -> F,
    ) -> Result<T, LinkError>
    where
        F: Future<Output = RedisResult<T>>,
    {
        let source = match tokio::time::timeout(self.call_timeout, connection.call(self.call_timeout, call)).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(source)) => source,
            Err(_elapsed) => StoreError::Timeout { after: self.call_timeout },
        };
        Err(LinkError { target: self.target.clone(), source })
    }

    /// Subscribes to the announcements on the subscription's connection.
    /// redis-rs renews the subscription after each reconnect; a manager that
    /// replaced a refused one starts without it, and a refused one only says
    /// so when asked: the coordination calls this on every tick (Redis
    /// answers a repeated `SUBSCRIBE` to the same channel without change).
    pub async fn subscribe(&self) -> Result<(), LinkError> {
        self.on(&self.subscription, |mut manager| async move { manager.subscribe(keys::channel()).await }).await
    }

    /// A new shared experiment id number.
    pub async fn next_id(&self) -> Result<u64, LinkError> {
        self.bounded(|mut conn| async move { redis::cmd("INCR").arg(keys::seq()).query_async(&mut conn).await }).await
    }

    /// Writes `experiment` with its lease and announces it, in one `MULTI`:
    /// all of it or none. `now` prunes ended index entries.
    pub async fn put(&self, experiment: &Experiment, now: u64) -> Result<(), LinkError> {
        let json = serde_json::to_string(experiment).expect("wire types serialize");
        let (id, ends) = (experiment.id.as_str(), experiment.ends_at_ms);
        let lease = ends.saturating_sub(now).max(1);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(keys::experiment(id))
            .arg(json)
            .arg("PX")
            .arg(lease)
            .ignore()
            .cmd("ZADD")
            .arg(keys::experiments())
            .arg(ends)
            .arg(id)
            .ignore()
            .cmd("ZREMRANGEBYSCORE")
            .arg(keys::experiments())
            .arg("-inf")
            .arg(now)
            .ignore()
            // The index lives as long as its newest lease: set when it has
            // no TTL yet, extended when this lease is longer.
            .cmd("PEXPIREAT")
            .arg(keys::experiments())
            .arg(ends)
            .arg("NX")
            .ignore()
            .cmd("PEXPIREAT")
            .arg(keys::experiments())
            .arg(ends)
            .arg("GT")
            .ignore()
            .cmd("PUBLISH")
            .arg(keys::channel())
            .arg(id)
            .ignore();
        self.bounded(|mut conn| async move { pipe.query_async::<()>(&mut conn).await }).await
    }

    /// Removes the experiments `ids` and announces it, in one `MULTI`;
    /// returns the ones that were there (those still in their lease).
    pub async fn remove(&self, ids: &[String]) -> Result<Vec<Experiment>, LinkError> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for id in ids {
            pipe.cmd("GET").arg(keys::experiment(id));
        }
        for id in ids {
            pipe.cmd("DEL").arg(keys::experiment(id)).ignore();
            pipe.cmd("ZREM").arg(keys::experiments()).arg(id).ignore();
            pipe.cmd("PUBLISH").arg(keys::channel()).arg(id).ignore();
        }
        let found: Vec<Option<String>> =
            self.bounded(|mut conn| async move { pipe.query_async(&mut conn).await }).await?;
        Ok(found.iter().flatten().filter_map(|json| decode(json)).collect())
    }

    /// The shared experiments still in their lease at `now`.
    pub async fn experiments(&self, now: u64) -> Result<Vec<Experiment>, LinkError> {
        let ids: Vec<String> = self.by_score(keys::experiments(), format!("({now}"), false).await?;
        let found = self.mget(ids.iter().map(|id| keys::experiment(id)).collect()).await?;
        Ok(found.iter().flatten().filter_map(|json| decode(json)).collect())
    }

    /// The members of the sorted set `key` scored `min` or more (`(n`:
    /// more than n), with their scores when `with_scores`.
    async fn by_score<T: redis::FromRedisValue>(
        &self,
        key: String,
        min: String,
        with_scores: bool,
    ) -> Result<T, LinkError> {
        let mut cmd = redis::cmd("ZRANGE");
        cmd.arg(key).arg(min).arg("+inf").arg("BYSCORE");
        if with_scores {
            cmd.arg("WITHSCORES");
        }
        self.bounded(|mut conn| async move { cmd.query_async(&mut conn).await }).await
    }

    /// The values of `keys` (none for a missing key); no call for no keys.
    async fn mget(&self, keys: Vec<String>) -> Result<Vec<Option<String>>, LinkError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.bounded(|mut conn| async move { redis::cmd("MGET").arg(keys).query_async(&mut conn).await }).await
    }

    /// Writes this replica's heartbeat (`view`, living `ttl`) and its entry
    /// in the replica index; prunes entries older than `forget_after`.
    pub async fn heartbeat(&self, view: &ReplicaView, ttl: Duration, forget_after: Duration) -> Result<(), LinkError> {
        let json = serde_json::to_string(view).expect("wire types serialize");
        let now = view.seen_at_ms;
        let forget_ms = u64::try_from(forget_after.as_millis()).unwrap_or(u64::MAX);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(keys::heartbeat(&view.name))
            .arg(json)
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .ignore()
            .cmd("ZADD")
            .arg(keys::replicas())
            .arg(now)
            .arg(&view.name)
            .ignore()
            .cmd("ZREMRANGEBYSCORE")
            .arg(keys::replicas())
            .arg("-inf")
            .arg(now.saturating_sub(forget_ms))
            .ignore()
            .cmd("PEXPIRE")
            .arg(keys::replicas())
            .arg(forget_ms)
            .ignore();
        self.bounded(|mut conn| async move { pipe.query_async::<()>(&mut conn).await }).await
    }

    /// Removes this replica's heartbeat and index entry (a clean shutdown).
    pub async fn leave(&self, name: &str) -> Result<(), LinkError> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("DEL")
            .arg(keys::heartbeat(name))
            .ignore()
            .cmd("ZREM")
            .arg(keys::replicas())
            .arg(name)
            .ignore();
        self.bounded(|mut conn| async move { pipe.query_async::<()>(&mut conn).await }).await
    }

    /// Every replica known in the last `forget_after` before `now`: its
    /// heartbeat's view when the heartbeat lives (answering), else its name
    /// and last heartbeat time (not answering).
    pub async fn replicas(&self, now: u64, forget_after: Duration) -> Result<Vec<ReplicaView>, LinkError> {
        let since = now.saturating_sub(u64::try_from(forget_after.as_millis()).unwrap_or(u64::MAX));
        let known: Vec<(String, f64)> = self.by_score(keys::replicas(), since.to_string(), true).await?;
        let beats = self.mget(known.iter().map(|(name, _)| keys::heartbeat(name)).collect()).await?;
        Ok(known
            .into_iter()
            .zip(beats)
            .map(|((name, seen), beat)| {
                beat.as_deref().and_then(decode).unwrap_or_else(|| ReplicaView {
                    name,
                    seen_at_ms: seen as u64,
                    answering: false,
                    active: Vec::new(),
                    load: crate::chaos::LoadReport { cpu_workers: 0, memory_mib: 0 },
                })
            })
            .collect())
    }
}

/// A stored JSON value; one that does not decode (written by another
/// version) is skipped with a warning rather than failing the whole read.
fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Option<T> {
    serde_json::from_str(json)
        .map_err(|err| tracing::warn!(error = %err, "skipping an undecodable coordination record"))
        .ok()
}
