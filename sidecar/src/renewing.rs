//! [`Renewing`]: a redis-rs `ConnectionManager` that is replaced when Redis
//! refused its credentials.
//!
//! redis-rs keeps a connection whose handshake failed (`AUTH` refused: an
//! ACL user missing or off, a wrong password, an Entra token Redis would not
//! take) failed until an I/O error, so it would fail every call even after
//! the ACL or the token is right again. After such a failure a fresh manager
//! connects in the background, with the current credentials, and takes over
//! once its handshake is done: the next calls succeed without a restart.
//! The store's connection and both coordination connections are each one.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, RedisResult};

use crate::error::{SetupError, StoreError, StoreResult};

/// The current connection manager and the recipe for a fresh one.
pub struct Renewing {
    /// The manager in use, with a generation number bumped on each replacement.
    current: RwLock<(u64, ConnectionManager)>,
    /// Client (URL, TLS, protocol) the managers are built from.
    client: redis::Client,
    /// Timeouts, retries, credentials provider and push sender of every manager.
    config: ConnectionManagerConfig,
    /// A replacement is connecting in the background (at most one at a time).
    renewing: AtomicBool,
    /// Which connection this is, for the log lines ("store", "coordination",
    /// "subscription").
    role: &'static str,
}

impl Renewing {
    /// A manager for `client` with `config`; connects lazily, on first use.
    pub fn new(
        client: redis::Client,
        config: ConnectionManagerConfig,
        role: &'static str,
    ) -> Result<Arc<Self>, SetupError> {
        let manager =
            ConnectionManager::new_lazy_with_config(client.clone(), config.clone()).map_err(SetupError::Url)?;
        Ok(Arc::new(Self {
            current: RwLock::new((0, manager)),
            client,
            config,
            renewing: AtomicBool::new(false),
            role,
        }))
    }

    /// The manager in use and its generation.
    fn get(&self) -> (u64, ConnectionManager) {
        self.current.read().expect("connection lock").clone()
    }

    /// Runs `call` on the manager in use, its error mapped by cause (a
    /// redis-rs response timeout is a [`StoreError::Timeout`] after
    /// `deadline`); a refusal of the credentials has the manager replaced.
    /// The caller bounds the whole call with `deadline`.
    pub async fn call<T, F>(
        self: &Arc<Self>,
        deadline: Duration,
        call: impl FnOnce(ConnectionManager) -> F,
    ) -> StoreResult<T>
    where
        F: Future<Output = RedisResult<T>>,
    {
        let (generation, manager) = self.get();
        call(manager).await.map_err(|err| {
            self.recover(generation, &err);
            if err.is_timeout() { StoreError::Timeout { after: deadline } } else { StoreError::from(err) }
        })
    }

    /// The client the managers are built from.
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// The settings every manager is built with.
    pub fn config(&self) -> &ConnectionManagerConfig {
        &self.config
    }

    /// After `err` on the manager of `generation`: when Redis refused the
    /// credentials, a fresh manager connects in the background and replaces
    /// it. Calls meanwhile fail fast, as before; other errors change nothing
    /// (redis-rs reconnects by itself after I/O errors).
    fn recover(self: &Arc<Self>, generation: u64, err: &RedisError) {
        if err.kind() != ErrorKind::AuthenticationFailed || self.renewing.swap(true, Ordering::AcqRel) {
            return;
        }
        let role = self.role;
        tracing::warn!(connection = role, error = %err, "redis refused the credentials; reconnecting in the background");
        let this = self.clone();
        tokio::spawn(async move {
            match ConnectionManager::new_lazy_with_config(this.client.clone(), this.config.clone()) {
                Ok(fresh) => {
                    let outcome = redis::cmd("PING").query_async::<()>(&mut fresh.clone()).await;
                    let mut current = this.current.write().expect("connection lock");
                    if current.0 == generation {
                        *current = (generation + 1, fresh);
                    }
                    drop(current);
                    match outcome {
                        Ok(()) => tracing::info!(connection = role, "redis accepted the credentials again"),
                        Err(err) => {
                            tracing::warn!(connection = role, error = %err, "redis still refuses the credentials")
                        }
                    }
                }
                Err(build) => tracing::warn!(connection = role, error = %build, "cannot rebuild the redis connection"),
            }
            this.renewing.store(false, Ordering::Release);
        });
    }
}
