//! The engine's side of experiments shared between replicas (any scope but
//! `replica`): [`ChaosEngine::adopt`] applies one written to Redis (by this
//! replica or another), [`ChaosEngine::end_shared`] ends one stopped
//! elsewhere, [`ChaosEngine::pick`] chooses a subset of replicas with the
//! seeded RNG. The Redis side is [`crate::cluster`].

use rand_chacha::rand_core::Rng;

use super::engine::ChaosEngine;
use super::model::{ChaosError, EndReason, Experiment, Scope};

impl ChaosEngine {
    /// Now, on the engine's clock (leases of shared experiments too).
    pub fn now_ms(&self) -> u64 {
        self.now()
    }

    /// `Disabled` when chaos is off: what a stop checks before it acts.
    pub fn admit_control(&self) -> Result<(), ChaosError> {
        self.check_enabled()
    }

    /// This replica's name.
    pub fn replica(&self) -> &str {
        &self.inner.config.replica
    }

    /// True when `experiment` targets this replica: scope `all`, or a
    /// subset that names it.
    pub fn is_target(&self, experiment: &Experiment) -> bool {
        match experiment.scope {
            Scope::Replica => false,
            Scope::All => true,
            Scope::Count(_) | Scope::Percent(_) => experiment.replicas.iter().any(|r| **r == *self.replica()),
        }
    }

    /// Applies a shared experiment, as written: same id, same lease. Does
    /// nothing (false) when chaos is off, when it runs or ran here already
    /// (a stopped one is not brought back by a late read), or when its
    /// lease is over. Bounds were checked where it started; the kind and
    /// count limits are not applied again here, so it reaches every
    /// replica it targets.
    pub fn adopt(&self, experiment: Experiment) -> bool {
        if !self.enabled() {
            return false;
        }
        let now = self.now();
        let state = self.lock(now);
        let known = state.active.iter().chain(&state.recent).any(|e| e.id == experiment.id);
        if known || experiment.ends_at_ms <= now {
            return false;
        }
        self.apply(state, experiment, now);
        true
    }

    /// Ends the shared experiment `id` here because it was stopped (on
    /// this replica or another); `None` when it is not running here.
    pub fn end_shared(&self, id: &str) -> Option<Experiment> {
        let now = self.now();
        let mut state = self.lock(now);
        let index = state.active.iter().position(|e| e.id == id && e.scope != Scope::Replica)?;
        let ended = state.end(index, now, EndReason::Stopped);
        drop(state);
        self.inner.released.send_modify(|n| *n += 1);
        Some(ended)
    }

    /// The ids of the shared experiments running here.
    pub fn shared_ids(&self) -> Vec<String> {
        self.shared_leases().into_iter().map(|(id, _)| id).collect()
    }

    /// The shared experiments running here: id and lease end.
    pub fn shared_leases(&self) -> Vec<(String, u64)> {
        let now = self.now();
        let state = self.lock(now);
        state.active.iter().filter(|e| e.scope != Scope::Replica).map(|e| (e.id.clone(), e.ends_at_ms)).collect()
    }

    /// `n` of `names`, chosen with the engine's seeded RNG (a partial
    /// Fisher-Yates shuffle), sorted. `names` is sorted first, so the same
    /// seed and the same replicas pick the same ones.
    pub fn pick(&self, mut names: Vec<String>, n: usize) -> Vec<String> {
        names.sort();
        names.dedup();
        let n = n.min(names.len());
        let now = self.now();
        let mut state = self.lock(now);
        for i in 0..n {
            let span = u32::try_from(names.len() - i).unwrap_or(u32::MAX);
            let j = i + (state.rng.next_u32() % span) as usize;
            names.swap(i, j);
        }
        drop(state);
        names.truncate(n);
        names.sort();
        names
    }
}
