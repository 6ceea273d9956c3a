//! [`ChaosEngine`]: one per replica, owned by app state. It starts, expires
//! and stops experiments, decides each data-plane request's faults with a
//! seeded RNG (same seed + same requests = same decisions), and runs load.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use tokio::sync::watch;

use super::clock::Clock;
use super::limits::Limits;
use super::load::LoadHandle;
use super::model::{
    ChaosError, Decision, EndReason, Experiment, Fault, FaultKind, HEALTH_PROBE, LoadReport, RedisFault, Scope, Status,
    end_reason_name, no_fault, running,
};
use super::validate::validate;
use crate::secret::Secret;

/// How many ended experiments `status` keeps.
pub const RECENT: usize = 50;

/// Settings of one engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// False: every call answers `Disabled` (`--no-chaos`).
    pub enabled: bool,
    /// Bearer token of the control API (`None` only when disabled).
    pub token: Option<Secret>,
    /// RNG seed.
    pub seed: u64,
    /// Parameter bounds.
    pub limits: Limits,
    /// This replica's name (`telemetry.replica`): the target of its own
    /// experiments, and how experiments of a wider scope find it.
    pub replica: Arc<str>,
}

/// The chaos engine. Cheap to clone; clones share state.
#[derive(Debug, Clone)]
pub struct ChaosEngine {
    /// Shared state.
    pub(super) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    /// Settings.
    pub(super) config: EngineConfig,
    /// Time source.
    clock: Arc<dyn Clock>,
    /// Mutable state.
    state: Mutex<State>,
    /// Bumped whenever an experiment is stopped, to release held requests.
    pub(super) released: watch::Sender<u64>,
}

#[derive(Debug)]
pub(super) struct State {
    /// Decisions' randomness, seeded once.
    pub(super) rng: ChaCha8Rng,
    /// Next experiment number.
    next_id: u64,
    /// Running experiments.
    pub(super) active: Vec<Experiment>,
    /// Ended experiments, newest first.
    pub(super) recent: VecDeque<Experiment>,
    /// Load of running `load` experiments, by id.
    pub(super) loads: HashMap<String, LoadHandle>,
}

impl ChaosEngine {
    /// A new engine with no experiments.
    pub fn new(config: EngineConfig, clock: Arc<dyn Clock>) -> Self {
        let state = State {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            next_id: 1,
            active: Vec::new(),
            recent: VecDeque::new(),
            loads: HashMap::new(),
        };
        let (released, _) = watch::channel(0);
        Self { inner: Arc::new(Inner { config, clock, state: Mutex::new(state), released }) }
    }

    /// True when chaos is switched on.
    pub fn enabled(&self) -> bool {
        self.inner.config.enabled
    }

    /// Whether `bearer` is the control API's token (constant time);
    /// `Disabled` when chaos is off, whatever the bearer.
    pub fn authorize(&self, bearer: &str) -> Result<bool, ChaosError> {
        self.check_enabled()?;
        Ok(self.inner.config.token.as_ref().is_some_and(|token| token.matches(bearer)))
    }

    /// Starts an experiment on this replica alone.
    pub fn start(&self, fault: Fault, duration_seconds: u32) -> Result<Experiment, ChaosError> {
        self.admit(&fault, duration_seconds, &Scope::Replica)?;
        let now = self.now();
        let mut state = self.lock(now);
        // Checked again under the lock: a start may have raced in since.
        check_room(&state, &fault, &self.inner.config.limits)?;
        let id = format!("exp-{}", state.next_id);
        state.next_id += 1;
        let replicas = vec![self.inner.config.replica.to_string()];
        let experiment = running(id, fault, now, duration_seconds, Scope::Replica, replicas);
        self.apply(state, experiment.clone(), now);
        Ok(experiment)
    }

    /// Whether an experiment of `fault`, `duration_seconds` and `scope`
    /// may start here: chaos on, parameters within bounds, no experiment
    /// of its kind running here, room under the limit. Starts nothing.
    pub fn admit(&self, fault: &Fault, duration_seconds: u32, scope: &Scope) -> Result<(), ChaosError> {
        self.check_enabled()?;
        let limits = &self.inner.config.limits;
        validate(fault, duration_seconds, scope, limits)?;
        let now = self.now();
        check_room(&self.lock(now), fault, limits)
    }

    /// Adds `experiment` to the running ones (its load started, its expiry
    /// scheduled) with the lock `state` held.
    pub(super) fn apply(&self, mut state: MutexGuard<'_, State>, experiment: Experiment, now: u64) {
        let remaining = Duration::from_millis(experiment.ends_at_ms.saturating_sub(now));
        if let Fault::Load(spec) = &experiment.fault {
            state.loads.insert(experiment.id.clone(), LoadHandle::start(spec, Instant::now() + remaining));
        }
        let (id, fault) = (experiment.id.clone(), experiment.fault.clone());
        state.active.push(experiment);
        drop(state);
        tracing::info!(experiment = %id, kind = fault.kind(), ?fault, remaining_ms = remaining.as_millis() as u64,
            "chaos experiment started");
        self.schedule_expiry(remaining);
    }

    /// Stops one experiment now.
    pub fn stop(&self, id: &str) -> Result<Experiment, ChaosError> {
        self.check_enabled()?;
        let now = self.now();
        let mut state = self.lock(now);
        let index = state.active.iter().position(|e| e.id == id).ok_or_else(|| ChaosError::NotFound(id.to_owned()))?;
        let ended = state.end(index, now, EndReason::Stopped);
        drop(state);
        self.inner.released.send_modify(|n| *n += 1);
        Ok(ended)
    }

    /// Stops every experiment now.
    pub fn stop_all(&self) -> Result<Vec<Experiment>, ChaosError> {
        self.check_enabled()?;
        let now = self.now();
        let mut state = self.lock(now);
        let mut stopped = Vec::new();
        while !state.active.is_empty() {
            stopped.push(state.end(0, now, EndReason::Stopped));
        }
        drop(state);
        self.inner.released.send_modify(|n| *n += 1);
        Ok(stopped)
    }

    /// Active and recent experiments and the load running.
    pub fn status(&self) -> Result<Status, ChaosError> {
        self.check_enabled()?;
        let now = self.now();
        let state = self.lock(now);
        let mut load = LoadReport { cpu_workers: 0, memory_mib: 0 };
        for handle in state.loads.values() {
            let (workers, mib) = handle.report();
            load.cpu_workers += workers;
            load.memory_mib += mib;
        }
        Ok(Status {
            seed: self.inner.config.seed,
            now_ms: now,
            active: state.active.clone(),
            recent: state.recent.iter().cloned().collect(),
            load,
        })
    }

    /// The configured bounds (`--chaos-max-*`); `Disabled` when chaos is off.
    pub fn limits(&self) -> Result<&Limits, ChaosError> {
        self.check_enabled()?;
        Ok(&self.inner.config.limits)
    }

    /// The faults for one data-plane request to `route` (its path) with `method`.
    pub fn decide(&self, route: &str, method: &str) -> Decision {
        let mut decision = no_fault();
        if !self.enabled() {
            return decision;
        }
        let now = self.now();
        let mut state = self.lock(now);
        let State { rng, active, .. } = &mut *state;
        for exp in active.iter() {
            let applied = match &exp.fault {
                Fault::Hang => {
                    decision.hang_ms = Some(exp.ends_at_ms.saturating_sub(now));
                    true
                }
                Fault::Latency(lat) if covers(&lat.routes, &lat.methods, route, method) && roll(rng, lat.percent) => {
                    let jitter = if lat.jitter_ms > 0 { rng.next_u32() % (lat.jitter_ms + 1) } else { 0 };
                    // A delay never outlasts its experiment: one decided a
                    // moment before the end is cut at the end.
                    let remaining = u32::try_from(exp.ends_at_ms.saturating_sub(now)).unwrap_or(u32::MAX);
                    let delay = lat.ms.saturating_add(jitter).min(remaining);
                    decision.delay_ms = decision.delay_ms.saturating_add(delay);
                    true
                }
                Fault::Errors(err) if covers(&err.routes, &err.methods, route, method) && roll(rng, err.percent) => {
                    decision.fail_status = Some(u16::try_from(err.status).unwrap_or(500));
                    true
                }
                _ => false,
            };
            if applied {
                decision.experiments.push(exp.id.clone());
            }
        }
        decision
    }

    /// The Redis fault for one store call, if any.
    pub fn redis_fault(&self) -> Option<RedisFault> {
        if !self.enabled() {
            return None;
        }
        let now = self.now();
        let mut state = self.lock(now);
        let State { rng, active, .. } = &mut *state;
        active.iter().find_map(|exp| match &exp.fault {
            Fault::Redis(spec) if roll(rng, spec.percent) => Some(RedisFault {
                experiment: exp.id.clone(),
                mode: spec.mode,
                delay: Duration::from_millis(spec.latency_ms.into()),
            }),
            _ => None,
        })
    }

    /// Waits `ms`, or less if an experiment is stopped meanwhile (then `false`).
    pub async fn hold(&self, ms: u64) -> bool {
        let mut released = self.inner.released.subscribe();
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(ms)) => true,
            _ = released.changed() => false,
        }
    }

    /// Milliseconds left of the active hang experiment, if one is running.
    /// Draws nothing from the RNG, so probes do not change seeded replays.
    pub fn hang_remaining_ms(&self) -> Option<u64> {
        let now = self.now();
        let state = self.lock(now);
        state.active.iter().find(|e| matches!(e.fault, Fault::Hang)).map(|e| e.ends_at_ms.saturating_sub(now))
    }

    /// Ends experiments whose lease is over (also done lazily on every call).
    pub fn expire(&self) {
        let now = self.now();
        drop(self.lock(now));
    }

    /// Now, on the engine's clock.
    pub(super) fn now(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    pub(super) fn check_enabled(&self) -> Result<(), ChaosError> {
        if self.enabled() { Ok(()) } else { Err(ChaosError::Disabled) }
    }

    /// Locks the state after ending every experiment past its lease.
    pub(super) fn lock(&self, now: u64) -> MutexGuard<'_, State> {
        let mut state = self.inner.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while let Some(index) = state.active.iter().position(|e| e.ends_at_ms <= now) {
            state.end(index, now, EndReason::Expired);
        }
        state
    }

    /// Wakes the engine when a lease ends, so expiry is logged and load freed
    /// on time even when no request comes in.
    fn schedule_expiry(&self, after: Duration) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let weak = Arc::downgrade(&self.inner);
        runtime.spawn(async move {
            tokio::time::sleep(after + Duration::from_millis(5)).await;
            if let Some(inner) = weak.upgrade() {
                ChaosEngine { inner }.expire();
            }
        });
    }
}

/// `Conflict` when an experiment of `fault`'s kind runs, `Limit` when the
/// running ones are at the limit.
fn check_room(state: &State, fault: &Fault, limits: &Limits) -> Result<(), ChaosError> {
    if let Some(running) = state.active.iter().find(|e| e.fault.kind() == fault.kind()) {
        return Err(ChaosError::Conflict(format!(
            "a {} experiment is already running ({}); stop it first with DELETE /chaos/{}",
            fault.kind(),
            running.id,
            running.id
        )));
    }
    if state.active.len() >= limits.max_experiments {
        return Err(ChaosError::Limit(format!("{} experiments are running, the limit", limits.max_experiments)));
    }
    Ok(())
}

impl State {
    /// Moves `active[index]` to `recent` with its end, freeing its load.
    pub(super) fn end(&mut self, index: usize, now: u64, reason: EndReason) -> Experiment {
        let mut exp = self.active.remove(index);
        exp.ended_at_ms = Some(match reason {
            EndReason::Expired => exp.ends_at_ms,
            EndReason::Stopped => now,
        });
        exp.end_reason = Some(reason);
        self.loads.remove(&exp.id);
        tracing::info!(experiment = %exp.id, kind = exp.fault.kind(), reason = end_reason_name(reason), "chaos experiment ended");
        self.recent.push_front(exp.clone());
        self.recent.truncate(RECENT);
        exp
    }
}

/// True when a request to `route` with `method` is covered by the filters:
/// `routes` lists exact paths (`None` = every path but the health probe),
/// `methods` exact methods (`None` = every method).
fn covers(routes: &Option<Vec<String>>, methods: &Option<Vec<String>>, route: &str, method: &str) -> bool {
    let route_ok = match routes {
        None => route != HEALTH_PROBE,
        Some(list) => list.iter().any(|r| r == route),
    };
    route_ok && methods.as_ref().is_none_or(|list| list.iter().any(|m| m == method))
}

/// True with probability `percent`/100; always draws, so replays line up.
fn roll(rng: &mut ChaCha8Rng, percent: u32) -> bool {
    rng.next_u32() % 100 < percent
}
