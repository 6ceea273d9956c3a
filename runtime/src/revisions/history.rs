//! One component's history: its revisions, oldest first, what became of
//! each ([`Record`]), the rollout in progress, and the bookkeeping the
//! control operations of [`super::registry`] share: finding a revision,
//! whether it may serve, forgetting the oldest, the views.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::canary::WatchOutcome;
use super::gate;
use super::model::{Failure, RevisionMeta, State};
use super::registry::{ControlError, Settings};
use super::split::{ComponentSlot, Counts, ServingRevision};
use super::view::{CanaryView, RevisionView, Timings, Traffic};

/// Revisions remembered per component (like the 100 inactive revisions
/// Azure Container Apps keeps): older ones that are failed or retired
/// without code are forgotten, so a long `--watch` session stays bounded.
pub(super) const MAX_HISTORY: usize = 100;

/// One component's revisions.
pub(super) struct History<S: 'static> {
    /// Its slot (the split requests follow).
    pub(super) slot: Arc<ComponentSlot<S>>,
    /// Every revision, oldest first.
    pub(super) records: Vec<Record<S>>,
    /// The rollout in progress, if any: one at a time per component.
    pub(super) rollout: Option<Rollout>,
}

/// A rollout in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Rollout {
    /// This revision is being compiled and gated.
    Provisioning(String),
    /// This revision is a canary under watch; `generation` identifies the watch.
    Watching {
        /// The canary.
        id: String,
        /// The watch's generation.
        generation: u64,
    },
}

/// One revision and what became of it.
pub(super) struct Record<S: 'static> {
    /// Its facts.
    pub(super) meta: Arc<RevisionMeta>,
    /// Its state.
    pub(super) state: State,
    /// Why it failed.
    pub(super) reason: Option<Failure>,
    /// Its compiled code, while kept.
    pub(super) code: Option<Arc<ServingRevision<S>>>,
    /// Its gate's readiness requests.
    pub(super) readiness: Option<gate::Readiness>,
    /// Its canary watch.
    pub(super) canary: Option<CanaryView>,
    /// Stage durations.
    pub(super) timings: Timings,
}

/// Logs a revision's failure (a log record, and an event of the current span).
pub(super) fn log_failure(meta: &RevisionMeta, failure: &Failure) {
    tracing::warn!(
        revision = %meta.id,
        component = %meta.component,
        kind = ?failure.kind,
        reason = %failure.message,
        "revision failed; the serving revisions keep serving"
    );
}

/// Forgets the oldest revisions beyond [`MAX_HISTORY`] that can no longer
/// serve (failed, or retired with their code released).
pub(super) fn forget_beyond_history<S>(history: &mut History<S>) {
    while history.records.len() >= MAX_HISTORY {
        let forgettable =
            history.records.iter().position(|r| r.code.is_none() && matches!(r.state, State::Failed | State::Retired));
        match forgettable {
            Some(index) => drop(history.records.remove(index)),
            None => break,
        }
    }
}

/// Why `component` cannot start another rollout now.
pub(super) fn busy(component: &str, rollout: &Rollout) -> String {
    match rollout {
        Rollout::Provisioning(id) => format!("{id} of {component} is being provisioned; wait for its gate"),
        Rollout::Watching { id, .. } => format!(
            "{id} of {component} is a canary under watch; wait for its verdict, or end it with \
             activate or PUT /_chaoslab/traffic"
        ),
    }
}

/// Ends the canary watch of `history`, if one is running (an operator took over).
pub(super) fn end_watch<S>(history: &mut History<S>, by: &str) {
    let Some(Rollout::Watching { id, .. }) = history.rollout.clone() else { return };
    history.rollout = None;
    if let Some(canary) = history.records.iter_mut().find(|r| r.meta.id == id).and_then(|r| r.canary.as_mut()) {
        canary.outcome = WatchOutcome::Cancelled;
    }
    tracing::info!(revision = %id, by, "canary watch cancelled: traffic set by an operator");
}

/// The component and index of revision `id`.
pub(super) fn find<S>(histories: &BTreeMap<String, History<S>>, id: &str) -> Result<(String, usize), ControlError> {
    histories
        .iter()
        .find_map(|(component, h)| h.records.iter().position(|r| r.meta.id == id).map(|i| (component.clone(), i)))
        .ok_or_else(|| ControlError::NotFound(format!("no revision {id}")))
}

/// The code of a revision that may be given traffic, or why not.
pub(super) fn serving_code<S>(
    record: &Record<S>,
    settings: &Settings,
) -> Result<Arc<ServingRevision<S>>, ControlError> {
    let id = &record.meta.id;
    match (&record.state, &record.code) {
        (State::Failed, _) => Err(ControlError::Conflict(format!(
            "{id} failed ({}); it cannot serve: deploy a new revision",
            record.reason.as_ref().map_or_else(String::new, ToString::to_string)
        ))),
        (State::Provisioning, _) => Err(ControlError::Conflict(format!("{id} is still being provisioned"))),
        (_, Some(code)) => Ok(code.clone()),
        (_, None) => Err(ControlError::Conflict(format!(
            "{id} was retired and its compiled code released (only the {} most recent revisions not \
             serving are kept, --keep-revisions); deploy it again",
            settings.keep
        ))),
    }
}

/// The view of `record`.
pub(super) fn view<S>(history: &History<S>, record: &Record<S>) -> RevisionView {
    let code = record.code.as_ref();
    RevisionView {
        meta: (*record.meta).clone(),
        state: record.state.clone(),
        reason: record.reason.clone(),
        traffic: history.slot.split().share_of(&record.meta.id),
        in_flight: code.map_or(0, |c| c.in_flight()),
        loaded: code.is_some(),
        code_bytes: code.map(|c| c.code.code_bytes),
        readiness: record.readiness.clone(),
        canary: record.canary.clone(),
        timings: record.timings,
    }
}

/// The current split of every component.
pub(super) fn traffic_of<S>(histories: &BTreeMap<String, History<S>>) -> Traffic {
    histories
        .iter()
        .map(|(component, h)| {
            let split = h.slot.split();
            (component.clone(), split.entries().iter().map(|(r, share)| (r.meta.id.clone(), *share)).collect())
        })
        .collect()
}

/// Sum of the answers of `revisions`.
pub(super) fn total(revisions: &[Arc<ServingRevision<impl Sized + 'static>>]) -> Counts {
    revisions.iter().fold(Counts::default(), |sum, r| sum + r.counts())
}
