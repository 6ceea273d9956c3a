//! [`Services`]: what the sidecar owns — the Redis store, the replica's
//! chaos engine and its name — started once per process ([`Running::start`]) and shared
//! by every caller: the RPC server of `chaoslab-sidecar`, and the embedded
//! runtime's in-process link. The WIT functions themselves are in
//! [`crate::contract`].

use std::sync::Arc;

use crate::chaos::{self, ChaosEngine};
use crate::cluster::{self, Cluster};
use crate::config::ServicesArgs;
use crate::config::cluster::ClusterArgsError;
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
    /// The engine's coordination with the other replicas through Redis.
    pub cluster: Cluster,
    /// The replica's name (`telemetry.replica`): known to this native
    /// process, while components get no host environment under Spin.
    pub replica: Arc<str>,
}

impl Services {
    /// Services of `redis` and `chaos` (named as the engine's replica),
    /// coordinated with `settings`: what [`Running::start`] assembles, and
    /// tests with an engine of their own. Must run inside the Tokio runtime.
    pub fn new(redis: RedisStore, chaos: ChaosEngine, settings: cluster::Settings) -> Result<Self, SetupError> {
        let cluster = Cluster::start(chaos.clone(), &redis, settings)?;
        let replica = chaos.replica().into();
        Ok(Self { redis, chaos, cluster, replica })
    }
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
    /// The heartbeat settings disagree.
    #[error(transparent)]
    Cluster(#[from] ClusterArgsError),
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
    /// Starts the services of the replica named `replica`
    /// ([`crate::config::ClusterArgs::replica_name`]): the own `redis-server`
    /// when no URL is configured, the chaos engine (printing a generated
    /// chaos token once on stderr), the Redis connection and the
    /// coordination with the other replicas. Must run inside the Tokio runtime.
    pub async fn start(args: &ServicesArgs, replica: &str) -> Result<Self, StartError> {
        args.cluster.validate()?;
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
        let setup = chaos::setup::from_args(&args.chaos, replica)?;
        if let Some(token) = &setup.generated_token {
            eprintln!("chaos token: {}", token.expose());
        }
        let redis = RedisStore::connect(&redis_args).await?.with_chaos(setup.engine.clone());
        crate::telemetry::observe_chaos(&setup.engine);
        tracing::info!(chaos = setup.engine.enabled(), replica, "chaos engine ready");
        let services = Services::new(redis, setup.engine, cluster::Settings::from_args(&args.cluster))?;
        Ok(Self { services, redis_child })
    }

    /// Removes the replica's heartbeat, then stops the own `redis-server`,
    /// if any, and waits for it.
    pub async fn stop(self) {
        if self.services.chaos.enabled() {
            self.services.cluster.leave().await;
        }
        if let Some(child) = self.redis_child {
            child.stop().await;
        }
    }
}
