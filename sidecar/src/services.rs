//! [`Services`]: what the sidecar owns — the Redis store, the replica's
//! chaos engine and its name — started once per process ([`Running::start`]) and shared
//! by every caller: the RPC server of `chaoslab-sidecar`, and the embedded
//! runtime's in-process link. The WIT functions themselves are in
//! [`crate::contract`].

use std::sync::Arc;

use crate::chaos::{self, ChaosEngine};
use crate::config::ServicesArgs;
use crate::error::SetupError;
use crate::redis_child::{RedisChild, RedisChildError};
use crate::redis_store::RedisStore;
use crate::secret::SecretError;

/// The sidecar's services. Cheap to clone: clones share the connection and
/// the engine.
#[derive(Debug, Clone)]
pub struct Services {
    /// Redis, with the chaos engine's Redis faults applied to every call.
    pub redis: RedisStore,
    /// The replica's chaos engine.
    pub chaos: ChaosEngine,
    /// The replica's name (`telemetry.replica`): known to this native
    /// process, while components get no host environment under Spin.
    pub replica: Arc<str>,
}

/// Why the services could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The own `redis-server` did not start.
    #[error(transparent)]
    RedisChild(#[from] RedisChildError),
    /// The Redis connection could not be set up.
    #[error("setting up the Redis connection: {0}")]
    Redis(#[from] SetupError),
    /// No randomness for the chaos token or seed.
    #[error("setting up the chaos engine: {0}")]
    Chaos(#[from] SecretError),
}

/// Started services, and the `redis-server` child they own (if any).
#[derive(Debug)]
pub struct Running {
    /// The services.
    pub services: Services,
    /// chaoslab's own Redis, when no URL was configured.
    pub redis_child: Option<RedisChild>,
}

impl Running {
    /// Starts the services: the own `redis-server` when no URL is configured,
    /// the chaos engine (printing a generated chaos token once on stderr) and
    /// the Redis connection. Must run inside the Tokio runtime.
    pub async fn start(args: &ServicesArgs) -> Result<Self, StartError> {
        let mut redis_args = args.redis.clone();
        let redis_child = match &redis_args.url {
            Some(_) => None,
            None => {
                let child = RedisChild::start(&args.redis_server).await?;
                tracing::info!(socket = %child.socket().display(), "started redis-server (no CHAOSLAB_REDIS_URL given)");
                redis_args.url = Some(child.url());
                Some(child)
            }
        };
        let setup = chaos::setup::from_args(&args.chaos)?;
        if let Some(token) = &setup.generated_token {
            eprintln!("chaos token: {}", token.expose());
        }
        let redis = RedisStore::connect(&redis_args).await?.with_chaos(setup.engine.clone());
        crate::telemetry::observe_chaos(&setup.engine);
        tracing::info!(chaos = setup.engine.enabled(), "chaos engine ready");
        let replica = chaoslab_telemetry::resource::replica().into();
        Ok(Self { services: Services { redis, chaos: setup.engine, replica }, redis_child })
    }

    /// Stops the own `redis-server`, if any, and waits for it.
    pub async fn stop(self) {
        if let Some(child) = self.redis_child {
            child.stop().await;
        }
    }
}
