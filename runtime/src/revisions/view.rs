//! What the control API answers about revisions (and what `chaoslab
//! revision` reads back): serde types, one per JSON document.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::canary::{Watch, WatchOutcome};
use super::gate::Readiness;
use super::model::{Failure, RevisionMeta, State};
use super::split::Counts;

/// One revision, as `GET /_chaoslab/revisions/{id}` answers it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RevisionView {
    /// Its immutable facts: `id`, `component`, `number`, `sha256`, `source`, `created_at`.
    #[serde(flatten)]
    pub meta: RevisionMeta,
    /// Where it is in its life.
    pub state: State,
    /// Why it failed (state `failed`), else `null`.
    pub reason: Option<Failure>,
    /// Its share of its component's requests now, in percent.
    pub traffic: u8,
    /// Requests running on it now.
    pub in_flight: usize,
    /// True while its compiled code is kept (it can be activated at once).
    pub loaded: bool,
    /// Size of its compiled code in memory, while kept.
    pub code_bytes: Option<usize>,
    /// The readiness requests of its gate (`null`: instantiation only, or none: revision 1).
    pub readiness: Option<Readiness>,
    /// Its canary watch, when it was deployed with a share below 100.
    pub canary: Option<CanaryView>,
    /// How long its rollout took, stage by stage.
    pub timings: Timings,
}

/// A canary's watch: settings, counts so far (or final), outcome.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CanaryView {
    /// The share it was given, in percent.
    pub share: u8,
    /// The window and threshold.
    pub watch: Watch,
    /// How the watch is going or ended.
    pub outcome: WatchOutcome,
    /// Its answers in the window.
    pub canary: Counts,
    /// The other revisions' answers in the window.
    pub baseline: Counts,
}

/// Durations of a rollout's stages, in ms (`null` until reached).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Timings {
    /// Reading done → compiled (composition included).
    pub compile_ms: Option<u64>,
    /// Compiled → gate passed or failed.
    pub gate_ms: Option<u64>,
}

/// Component → revision id → share (percent).
pub type Traffic = BTreeMap<String, BTreeMap<String, u8>>;

/// `GET /_chaoslab/revisions`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RevisionList {
    /// Every revision, by component then number.
    pub revisions: Vec<RevisionView>,
    /// The current split of each component.
    pub traffic: Traffic,
}

/// `GET` and `PUT /_chaoslab/traffic`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrafficView {
    /// The current split of each component.
    pub traffic: Traffic,
}
