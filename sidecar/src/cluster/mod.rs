//! Experiments across replicas, coordinated through the Redis every replica
//! already shares (no other server).
//!
//! A start with a scope beyond this replica (`all`, a count, a percentage)
//! is written once to Redis with its lease (the key expires at the lease's
//! end) and announced on a pub/sub channel; every replica re-reads the
//! shared experiments when an announcement arrives, and in any case on each
//! heartbeat tick, and applies those that target it. A stop deletes the
//! experiment and announces it, so it ends everywhere; an expiry needs no
//! message (each engine ends the lease on its own clock). A replica that
//! starts later, or comes back after a Redis outage, finds the experiments
//! still in their lease on its next read.
//!
//! Why pub/sub and not streams: the state lives in keys that expire with
//! their leases, so a message only has to say "something changed, read
//! again"; pub/sub needs no trimming or consumer positions, leaves no key
//! behind (bounded by construction), and a lost message (a replica
//! reconnecting) is covered by the periodic re-read. Streams would keep a
//! second, redundant copy of the state that must be trimmed.
//!
//! - [`keys`]: the key names (`chaoslab:chaos:{cluster}:*`), all bounded.
//! - [`link`]: [`Link`], the coordination's own connections (commands; a
//!   RESP3 subscription).
//! - [`sync`]: the background task: heartbeat, re-read, apply, end.

pub mod keys;
pub mod link;
pub mod sync;

use std::sync::Arc;
use std::time::Duration;

use crate::chaos::{
    ChaosEngine, ChaosError, ClusterStatus, Experiment, Fault, FaultKind, ReplicaView, Scope, scope_name,
};
use crate::config::ClusterArgs;
use crate::error::SetupError;
use crate::redis_store::RedisStore;
pub use link::{Link, LinkError};

/// A replica that stopped answering is still shown for this many heartbeat
/// TTLs, then forgotten.
pub const FORGET_AFTER_TTLS: u32 = 10;

/// The replica's side of the coordination. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    /// The replica's engine (it knows the replica's name).
    engine: ChaosEngine,
    /// The coordination connections.
    link: Link,
    /// Heartbeat interval and TTL.
    settings: Arc<Settings>,
}

/// The heartbeat's timing.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How often the heartbeat is written and the experiments re-read.
    pub interval: Duration,
    /// How long a heartbeat lives.
    pub ttl: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self::from_args(&ClusterArgs::default())
    }
}

impl Settings {
    /// From the command line.
    pub fn from_args(args: &ClusterArgs) -> Self {
        Self { interval: *args.heartbeat_interval, ttl: *args.heartbeat_ttl }
    }

    /// How long a silent replica is still listed.
    pub fn forget_after(&self) -> Duration {
        self.ttl * FORGET_AFTER_TTLS
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("replica", &self.engine.replica()).field("settings", &self.settings).finish()
    }
}

impl Cluster {
    /// The coordination of `engine`'s replica through `store`'s Redis, and
    /// its background task (heartbeat, re-read), started here. Must run
    /// inside the Tokio runtime. Redis may be down: the task keeps trying.
    pub fn start(engine: ChaosEngine, store: &RedisStore, settings: Settings) -> Result<Self, SetupError> {
        let (link, pushes) = Link::connect(store)?;
        let cluster = Self { engine, link, settings: Arc::new(settings) };
        if cluster.engine.enabled() {
            tokio::spawn(sync::run(cluster.clone(), pushes));
        }
        Ok(cluster)
    }

    /// Starts an experiment on the replicas of `scope`. `replica` is the
    /// engine's own business (no Redis); any other scope is checked here,
    /// written to Redis (all or nothing), then applied here if this
    /// replica is a target. Redis unreachable: `Unavailable`, nothing applied.
    pub async fn start_experiment(
        &self,
        fault: Fault,
        duration_seconds: u32,
        scope: Scope,
    ) -> Result<Experiment, ChaosError> {
        if scope == Scope::Replica {
            return self.engine.start(fault, duration_seconds);
        }
        self.engine.admit(&fault, duration_seconds, &scope)?;
        let now = self.engine.now_ms();
        let shared = self.link.experiments(now).await.map_err(unavailable)?;
        if let Some(running) = shared.iter().find(|e| e.fault.kind() == fault.kind()) {
            return Err(ChaosError::Conflict(format!(
                "a {} experiment is already running across replicas ({}); stop it first with DELETE /chaos/{}",
                fault.kind(),
                running.id,
                running.id
            )));
        }
        let replicas = self.targets(&scope, now).await?;
        let id = format!("{}{}", keys::SHARED_ID_PREFIX, self.link.next_id().await.map_err(unavailable)?);
        let experiment = crate::chaos::running(id, fault, now, duration_seconds, scope, replicas);
        self.link.put(&experiment, now).await.map_err(unavailable)?;
        tracing::info!(experiment = %experiment.id, scope = scope_name(&experiment.scope),
            replicas = ?experiment.replicas, "shared chaos experiment written to redis");
        if self.engine.is_target(&experiment) {
            self.engine.adopt(experiment.clone());
        }
        Ok(experiment)
    }

    /// The replicas `scope` names now: the live ones (heartbeats in their
    /// TTL, and this one) for `all`, a seeded pick of them for a subset
    /// (all of them when it asks for more than are live).
    async fn targets(&self, scope: &Scope, now: u64) -> Result<Vec<String>, ChaosError> {
        let known = self.link.replicas(now, self.settings.forget_after()).await.map_err(unavailable)?;
        let mut live: Vec<String> = known.into_iter().filter(|r| r.answering).map(|r| r.name).collect();
        live.push(self.engine.replica().to_owned());
        live.sort();
        live.dedup();
        let n = match *scope {
            Scope::Replica => return Ok(vec![self.engine.replica().to_owned()]),
            Scope::All => return Ok(live),
            // More than are live: every live one (the answer names them).
            Scope::Count(n) => n as usize,
            Scope::Percent(p) => (live.len() * p as usize).div_ceil(100).max(1),
        };
        Ok(self.engine.pick(live, n))
    }

    /// Stops experiment `id`: a replica-scoped one here; a shared one
    /// everywhere (removed from Redis first: unreachable → `Unavailable`,
    /// nothing stopped), whether or not it runs here.
    pub async fn stop(&self, id: &str) -> Result<Experiment, ChaosError> {
        if !keys::is_shared_id(id) {
            return self.engine.stop(id);
        }
        self.engine.admit_control()?;
        let removed = self.link.remove(&[id.to_owned()]).await.map_err(unavailable)?;
        let here = self.engine.end_shared(id);
        if here.is_some() || !removed.is_empty() {
            tracing::info!(experiment = id, "shared chaos experiment stopped on every replica");
        }
        here.or_else(|| removed.into_iter().next().map(|e| stopped(e, self.engine.now_ms())))
            .ok_or_else(|| ChaosError::NotFound(id.to_owned()))
    }

    /// Stops every experiment running here; the shared ones among them
    /// everywhere (removed from Redis first: unreachable → `Unavailable`,
    /// nothing stopped).
    pub async fn stop_all(&self) -> Result<Vec<Experiment>, ChaosError> {
        self.engine.admit_control()?;
        let shared = self.engine.shared_ids();
        if !shared.is_empty() {
            self.link.remove(&shared).await.map_err(unavailable)?;
        }
        self.engine.stop_all()
    }

    /// Every replica's view: the heartbeats in Redis, this replica's own
    /// fresh from its engine; answering replicas first.
    pub async fn status(&self) -> Result<ClusterStatus, ChaosError> {
        let own = self.view()?;
        let now = own.seen_at_ms;
        let mut replicas = self.link.replicas(now, self.settings.forget_after()).await.map_err(unavailable)?;
        replicas.retain(|r| r.name != own.name);
        replicas.push(own);
        replicas.sort_by(|a, b| b.answering.cmp(&a.answering).then_with(|| a.name.cmp(&b.name)));
        Ok(ClusterStatus { now_ms: now, replica: self.engine.replica().to_owned(), replicas })
    }

    /// This replica's view now, as its heartbeat carries it.
    fn view(&self) -> Result<ReplicaView, ChaosError> {
        let status = self.engine.status()?;
        Ok(ReplicaView {
            name: self.engine.replica().to_owned(),
            seen_at_ms: status.now_ms,
            answering: true,
            active: status.active,
            load: status.load,
        })
    }

    /// Removes this replica's heartbeat (a clean shutdown), so the others
    /// stop listing it at once; best effort.
    pub async fn leave(&self) {
        if let Err(err) = self.link.leave(self.engine.replica()).await {
            tracing::warn!(error = %err, "could not remove this replica's heartbeat");
        }
    }
}

/// A shared experiment stopped now (one that did not run here).
fn stopped(mut experiment: Experiment, now: u64) -> Experiment {
    experiment.ended_at_ms = Some(now.min(experiment.ends_at_ms));
    experiment.end_reason = Some(crate::chaos::EndReason::Stopped);
    experiment
}

/// A coordination failure, as the chaos error clients see (`503`).
fn unavailable(err: LinkError) -> ChaosError {
    tracing::warn!(error = %err, "chaos coordination failed");
    ChaosError::Unavailable(err.to_string())
}
