//! [`Revisions`]: every revision of every routed component, and the
//! operations of the control API on them. The history (`history`)
//! lives behind one mutex, held for bookkeeping only (never across an `await`); requests
//! read their component's split without it (`split`). The slow parts of a
//! rollout — compile, gate, canary watch, drain — run as tasks
//! (`rollout`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::canary::Watch;
use super::gate::{self, Gate};
use super::history::{
    History, Record, Rollout, busy, end_watch, find, forget_beyond_history, log_failure, serving_code, traffic_of, view,
};
use super::model::{Failure, FailureKind, RevisionMeta, Source, State};
use super::split::{ServingRevision, Split};
use super::view::{RevisionList, RevisionView, Timings, TrafficView};
use crate::app::App;
use crate::host::SidecarImports;
use crate::server::guest::GuestRunner;

/// Default of `--keep-revisions`.
pub const DEFAULT_KEEP: u32 = 5;

/// How revisions are kept and gated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Revisions not serving whose compiled code is kept, per component
    /// (the most recent ones): they can be activated at once.
    pub keep: usize,
    /// The runtime's request timeout, which also bounds each readiness request.
    pub request_timeout: Duration,
}

/// What a deploy asks for.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What its gate checks.
    pub gate: Gate,
    /// Its share once it passed: 100 replaces the serving revisions, 0 leaves
    /// it `ready`, anything between starts a canary.
    pub traffic: u8,
    /// The canary's window and threshold.
    pub watch: Watch,
}

/// One deploy: a component, its new bytes (or why they could not be read), where they came from.
#[derive(Debug)]
pub struct Deploy {
    /// The component.
    pub component: String,
    /// The `.wasm`, or what reading it said.
    pub bytes: Result<Vec<u8>, String>,
    /// Where the bytes came from.
    pub source: Source,
    /// What to do with them.
    pub plan: Plan,
}

/// Why a control operation was refused (the control API's 4xx answers).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// A field of the request names something impossible (422).
    #[error("{field}: {message}")]
    Invalid {
        /// The field, e.g. `readiness.path`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// No such revision (404).
    #[error("{0}")]
    NotFound(String),
    /// Not now, or not this revision (409).
    #[error("{0}")]
    Conflict(String),
}

/// Every revision of the app's components.
pub struct Revisions<S: 'static> {
    /// The app: routes, slots, compiler.
    pub(super) app: Arc<App<S>>,
    /// Runs the gates' readiness requests, as the handler runs clients'.
    pub(super) runner: Arc<GuestRunner<S>>,
    /// Bounds the gates holding an instance at once ([`gate::CONCURRENT_GATES`]).
    pub(super) gates: Arc<Semaphore>,
    /// Keeping and gating.
    pub(super) settings: Settings,
    /// Per component: its revisions and any rollout in progress.
    histories: Mutex<BTreeMap<String, History<S>>>,
    /// Tells a canary watch whether it is still the current one.
    generation: AtomicU64,
}

impl<S: SidecarImports> Revisions<S> {
    /// The revisions of `app`: each routed component's revision 1, active.
    pub fn new(app: Arc<App<S>>, runner: Arc<GuestRunner<S>>, settings: Settings) -> Self {
        let histories = app
            .slots()
            .iter()
            .map(|(id, slot)| {
                let first = slot.split().entries()[0].0.clone();
                let record = Record {
                    meta: first.meta.clone(),
                    state: State::Active,
                    reason: None,
                    code: Some(first),
                    readiness: None,
                    canary: None,
                    timings: Timings::default(),
                };
                (id.clone(), History { slot: slot.clone(), records: vec![record], rollout: None })
            })
            .collect();
        let gates = Arc::new(Semaphore::new(gate::CONCURRENT_GATES as usize));
        Self { app, runner, gates, settings, histories: Mutex::new(histories), generation: AtomicU64::new(0) }
    }

    /// The app.
    pub fn app(&self) -> &Arc<App<S>> {
        &self.app
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, BTreeMap<String, History<S>>> {
        // A panic while holding it cannot leave the history half-written in a
        // way that matters more than serving on: take it back.
        self.histories.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Starts a rollout: the revision is created at once (`provisioning`, or
    /// `failed` when its bytes could not be read) and compiled, gated and
    /// placed by a task. Answers the new revision.
    pub fn deploy(self: &Arc<Self>, deploy: Deploy) -> Result<RevisionView, ControlError> {
        self.check_plan(&deploy.component, &deploy.plan)?;
        let mut histories = self.lock();
        let history = histories.get_mut(&deploy.component).expect("checked by check_plan");
        if let Some(rollout) = &history.rollout {
            return Err(ControlError::Conflict(busy(&deploy.component, rollout)));
        }
        let number = history.records.last().map_or(1, |r| r.meta.number + 1);
        forget_beyond_history(history);
        let meta = Arc::new(RevisionMeta::new(&deploy.component, number, deploy.bytes.as_deref().ok(), deploy.source));
        let span = tracing::info_span!(
            "revision rollout",
            otel.name = format!("rollout {}", meta.id),
            otel.kind = "internal",
            chaoslab.revision = %meta.id,
            chaoslab.component = %meta.component,
        );
        let mut record = Record {
            meta: meta.clone(),
            state: State::Provisioning,
            reason: None,
            code: None,
            readiness: deploy.plan.gate.readiness.clone(),
            canary: None,
            timings: Timings::default(),
        };
        match deploy.bytes {
            Err(message) => {
                let failure = Failure::new(FailureKind::Read, message);
                span.in_scope(|| log_failure(&meta, &failure));
                record.state = State::Failed;
                record.reason = Some(failure);
            }
            Ok(bytes) => {
                history.rollout = Some(Rollout::Provisioning(meta.id.clone()));
                let this = self.clone();
                tokio::spawn(tracing::Instrument::instrument(this.provision(meta.clone(), bytes, deploy.plan), span));
            }
        }
        history.records.push(record);
        let record = history.records.last().expect("just pushed");
        Ok(view(history, record))
    }

    /// Checks what a deploy names against the app: the component, the readiness path.
    fn check_plan(&self, component: &str, plan: &Plan) -> Result<(), ControlError> {
        if !self.app.slots().contains_key(component) {
            return Err(ControlError::Invalid {
                field: "component".into(),
                message: format!(
                    "no routed component {component:?} in {} (components: {})",
                    self.app.manifest().path.display(),
                    self.app.slots().keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        }
        let Some(readiness) = &plan.gate.readiness else { return Ok(()) };
        let path = readiness.path.split('?').next().unwrap_or_default();
        let served_by = self.app.route(path).map(|(_, slot)| slot.id.as_str());
        if served_by == Some(component) {
            return Ok(());
        }
        let routes: Vec<String> = self
            .app
            .manifest()
            .routes
            .iter()
            .filter(|(_, id)| id == component)
            .map(|(route, _)| route.to_string())
            .collect();
        let by = served_by.map_or_else(|| "no component".to_owned(), |other| format!("component {other}"));
        Err(ControlError::Invalid {
            field: "readiness.path".into(),
            message: format!(
                "GET {} is served by {by}, not {component}; name a path of its routes ({}), \
                 or set readiness to null to gate on instantiation only",
                readiness.path,
                routes.join(", ")
            ),
        })
    }

    /// Gives revision `id` 100 % of its component at once (no gate: it
    /// passed one, or is the manifest's build). Ends a canary watch.
    pub fn activate(self: &Arc<Self>, id: &str) -> Result<RevisionView, ControlError> {
        let mut histories = self.lock();
        let (component, index) = find(&histories, id)?;
        let history = histories.get_mut(&component).expect("found");
        let revision = serving_code(&history.records[index], &self.settings)?;
        if let Some(Rollout::Provisioning(_)) = &history.rollout {
            return Err(ControlError::Conflict(busy(&component, history.rollout.as_ref().expect("matched"))));
        }
        end_watch(history, "activate");
        if history.slot.split().share_of(id) != 100 {
            self.promote(history, revision, "activate");
        }
        Ok(view(history, &history.records[index]))
    }

    /// Sets the splits of the components named in `traffic` (shares in
    /// percent, adding up to 100 per component; ids with or without the
    /// `{component}-` prefix). All or nothing. Ends canary watches.
    pub fn set_traffic(
        self: &Arc<Self>,
        traffic: &BTreeMap<String, BTreeMap<String, u64>>,
    ) -> Result<TrafficView, ControlError> {
        let mut histories = self.lock();
        let mut plans = Vec::with_capacity(traffic.len());
        for (component, shares) in traffic {
            let history = histories.get(component).ok_or_else(|| ControlError::Invalid {
                field: component.clone(),
                message: format!("no routed component {component:?}"),
            })?;
            if let Some(rollout @ Rollout::Provisioning(_)) = &history.rollout {
                return Err(ControlError::Conflict(busy(component, rollout)));
            }
            let mut entries = Vec::new();
            let mut total = 0_u64;
            for (key, share) in shares {
                let field = format!("{component}.{key}");
                if *share > 100 {
                    return Err(ControlError::Invalid {
                        field,
                        message: format!("{share} is not a percentage (0–100)"),
                    });
                }
                total += share;
                let id =
                    if key.starts_with(&format!("{component}-")) { key.clone() } else { format!("{component}-{key}") };
                let record = history.records.iter().find(|r| r.meta.id == id).ok_or_else(|| ControlError::Invalid {
                    field: field.clone(),
                    message: format!("no revision {id} of {component}"),
                })?;
                if *share > 0 {
                    entries.push((serving_code(record, &self.settings)?, u8::try_from(*share).unwrap_or(100)));
                }
            }
            if total != 100 {
                return Err(ControlError::Invalid {
                    field: component.clone(),
                    message: format!("the shares add up to {total}; they must add up to 100"),
                });
            }
            plans.push((component.clone(), entries));
        }
        for (component, entries) in plans {
            let history = histories.get_mut(&component).expect("checked above");
            end_watch(history, "traffic");
            let split: Vec<String> = entries.iter().map(|(r, share)| format!("{}={share}", r.meta.id)).collect();
            self.replace_split(history, Split::new(entries));
            tracing::info!(component = %component, split = %split.join(","), "traffic set");
        }
        Ok(TrafficView { traffic: traffic_of(&histories) })
    }

    /// Every revision (of `component`, when given), and the current splits.
    pub fn list(&self, component: Option<&str>) -> Result<RevisionList, ControlError> {
        let histories = self.lock();
        if let Some(component) = component.filter(|c| !histories.contains_key(*c)) {
            return Err(ControlError::Invalid {
                field: "component".into(),
                message: format!("no routed component {component:?}"),
            });
        }
        let revisions = histories
            .iter()
            .filter(|(id, _)| component.is_none_or(|c| c == id.as_str()))
            .flat_map(|(_, history)| history.records.iter().map(move |record| view(history, record)))
            .collect();
        Ok(RevisionList { revisions, traffic: traffic_of(&histories) })
    }

    /// One revision.
    pub fn get(&self, id: &str) -> Result<RevisionView, ControlError> {
        let histories = self.lock();
        let (component, index) = find(&histories, id)?;
        let history = &histories[&component];
        Ok(view(history, &history.records[index]))
    }

    /// The current splits.
    pub fn traffic(&self) -> TrafficView {
        TrafficView { traffic: traffic_of(&self.lock()) }
    }

    /// `revision` takes 100 % of its component; the others drain, then retire.
    pub(super) fn promote(self: &Arc<Self>, history: &mut History<S>, revision: Arc<ServingRevision<S>>, by: &str) {
        let replaced: Vec<String> = history
            .slot
            .split()
            .entries()
            .iter()
            .filter(|(r, _)| r.meta.id != revision.meta.id)
            .map(|(r, _)| r.meta.id.clone())
            .collect();
        tracing::info!(
            revision = %revision.meta.id,
            component = %revision.meta.component,
            by,
            replaced = %replaced.join(","),
            "revision promoted: serving 100 %"
        );
        self.replace_split(history, Split::single(revision));
    }

    /// Installs `split`: its revisions become `active`, those that left it
    /// drain and then retire.
    pub(super) fn replace_split(self: &Arc<Self>, history: &mut History<S>, split: Split<S>) {
        let before = history.slot.split();
        for (revision, _) in split.entries() {
            if let Some(record) = history.records.iter_mut().find(|r| r.meta.id == revision.meta.id) {
                record.state = State::Active;
            }
        }
        let leaving: Vec<Arc<ServingRevision<S>>> =
            before.entries().iter().filter(|(r, _)| split.share_of(&r.meta.id) == 0).map(|(r, _)| r.clone()).collect();
        history.slot.set(split);
        for revision in leaving {
            self.clone().retire_when_drained(revision);
        }
    }

    /// Releases the compiled code of the oldest revisions not serving
    /// beyond the [`Settings::keep`] most recent.
    pub(super) fn release_beyond_keep(&self, history: &mut History<S>) {
        let idle: Vec<usize> = (0..history.records.len())
            .filter(|&i| {
                let r = &history.records[i];
                r.code.is_some() && matches!(r.state, State::Ready | State::Retired)
            })
            .collect();
        let excess = idle.len().saturating_sub(self.settings.keep);
        for &i in &idle[..excess] {
            let record = &mut history.records[i];
            record.code = None;
            tracing::debug!(revision = %record.meta.id, "released the compiled code of a revision beyond --keep-revisions");
        }
    }
}
