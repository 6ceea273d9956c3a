//! The tasks of a rollout, after the control API has answered: compile off
//! the request path, gate, place (100 %, `ready`, or a canary), watch the
//! canary, and retire the replaced revisions once their requests are done.
//! Each runs inside the rollout's span, so its log records are also events
//! of that span.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::canary::{Verdict, Watch, WatchOutcome};
use super::gate;
use super::history::{History, Record, Rollout, log_failure, total};
use super::model::{Failure, FailureKind, RevisionMeta, State};
use super::registry::{Plan, Revisions};
use super::split::{Counts, ServingRevision, Split};
use super::view::CanaryView;
use crate::app::{CompileError, DependencyError};
use crate::host::SidecarImports;
use chaoslab_compose::ComposeError;

/// How often a canary watch and a drain look at their counters.
const TICK: Duration = Duration::from_millis(10);

impl<S: SidecarImports> Revisions<S> {
    /// Compiles, gates and places a new revision.
    pub(super) async fn provision(self: Arc<Self>, meta: Arc<RevisionMeta>, bytes: Vec<u8>, plan: Plan) {
        tracing::info!(
            revision = %meta.id,
            component = %meta.component,
            sha256 = meta.sha256.as_deref().unwrap_or(""),
            source = ?meta.source,
            "revision deployed: provisioning"
        );
        let started = Instant::now();
        let (app, component) = (self.app.clone(), meta.component.clone());
        let compiled = tokio::task::spawn_blocking(move || app.compiler().compile(&component, &bytes)).await;
        let compile_ms = gate::millis(started.elapsed());
        self.update(&meta, |r| r.timings.compile_ms = Some(compile_ms));
        let code = match compiled {
            Ok(Ok(code)) => code,
            Ok(Err(err)) => return self.fail(&meta, compile_failure(&err)),
            Err(join) => {
                return self
                    .fail(&meta, Failure::new(FailureKind::Compile, format!("the compiler task failed: {join}")));
            }
        };
        let revision = Arc::new(ServingRevision::new(meta.clone(), code));
        let gated = Instant::now();
        let passed =
            gate::run(&self.runner, &self.app, &revision.code, &plan.gate, self.settings.request_timeout, &self.gates)
                .await;
        let gate_ms = gate::millis(gated.elapsed());
        self.update(&meta, |r| r.timings.gate_ms = Some(gate_ms));
        if let Err(failure) = passed {
            return self.fail(&meta, failure);
        }
        tracing::info!(revision = %meta.id, compile_ms, gate_ms, "revision ready: passed its health gate");
        self.place(revision, &plan);
    }

    /// Applies `change` to the record of `meta`.
    fn update(&self, meta: &RevisionMeta, change: impl FnOnce(&mut Record<S>)) {
        let mut histories = self.lock();
        let record =
            histories.get_mut(&meta.component).and_then(|h| h.records.iter_mut().find(|r| r.meta.id == meta.id));
        if let Some(record) = record {
            change(record);
        }
    }

    /// Marks a provisioning revision failed; nothing changes for clients.
    fn fail(&self, meta: &RevisionMeta, failure: Failure) {
        log_failure(meta, &failure);
        let mut histories = self.lock();
        let Some(history) = histories.get_mut(&meta.component) else { return };
        history.rollout = None;
        if let Some(record) = history.records.iter_mut().find(|r| r.meta.id == meta.id) {
            record.state = State::Failed;
            record.reason = Some(failure);
        }
    }

    /// Gives a revision that passed its gate the share its plan asks for.
    fn place(self: &Arc<Self>, revision: Arc<ServingRevision<S>>, plan: &Plan) {
        let mut histories = self.lock();
        let Some(history) = histories.get_mut(&revision.meta.component) else { return };
        history.rollout = None;
        let Some(record) = history.records.iter_mut().find(|r| r.meta.id == revision.meta.id) else { return };
        record.code = Some(revision.clone());
        match plan.traffic {
            0 => {
                record.state = State::Ready;
                self.release_beyond_keep(history);
            }
            100 => self.promote(history, revision, "gate"),
            share => self.start_canary(history, revision, share, plan.watch),
        }
    }

    /// Gives `canary` `share` % and the serving revisions the rest (in
    /// proportion to their shares), and starts its watch.
    fn start_canary(
        self: &Arc<Self>,
        history: &mut History<S>,
        canary: Arc<ServingRevision<S>>,
        share: u8,
        watch: Watch,
    ) {
        let previous = history.slot.split();
        let rest: Vec<u8> = previous.entries().iter().map(|(_, s)| *s).collect();
        let mut entries: Vec<(Arc<ServingRevision<S>>, u8)> = previous
            .entries()
            .iter()
            .zip(scale(&rest, 100 - share))
            .filter(|(_, scaled)| *scaled > 0)
            .map(|((r, _), scaled)| (r.clone(), scaled))
            .collect();
        entries.push((canary.clone(), share));
        let generation = self.next_generation();
        history.rollout = Some(Rollout::Watching { id: canary.meta.id.clone(), generation });
        if let Some(record) = history.records.iter_mut().find(|r| r.meta.id == canary.meta.id) {
            record.canary = Some(CanaryView {
                share,
                watch,
                outcome: WatchOutcome::Watching,
                canary: Counts::default(),
                baseline: Counts::default(),
            });
        }
        tracing::info!(
            revision = %canary.meta.id,
            share,
            window_requests = watch.requests,
            window_seconds = watch.seconds,
            max_error_ratio_delta = watch.max_error_ratio_delta,
            "revision canary started"
        );
        self.replace_split(history, Split::new(entries));
        let this = self.clone();
        tokio::spawn(tracing::Instrument::in_current_span(this.watch_canary(canary, previous, generation, watch)));
    }

    /// Watches a canary until its window closes, then promotes it or rolls it back.
    async fn watch_canary(
        self: Arc<Self>,
        canary: Arc<ServingRevision<S>>,
        previous: Arc<Split<S>>,
        generation: u64,
        watch: Watch,
    ) {
        let id = canary.meta.id.clone();
        let others: Vec<Arc<ServingRevision<S>>> =
            previous.entries().iter().map(|(r, _)| r.clone()).filter(|r| r.meta.id != id).collect();
        let others_ids: Vec<&str> = others.iter().map(|r| r.meta.id.as_str()).collect();
        let (canary_start, others_start) = (canary.counts(), total(&others));
        canary.close_window_at(canary_start.answered.saturating_add(watch.requests));
        let started = Instant::now();
        let (ours, theirs) = loop {
            tokio::select! {
                () = tokio::time::sleep(TICK) => {}
                () = canary.window_closed() => {}
            }
            let (ours, theirs) = (canary.counts().since(canary_start), total(&others).since(others_start));
            let mut histories = self.lock();
            let Some(history) = histories.get_mut(&canary.meta.component) else { return };
            if history.rollout != (Some(Rollout::Watching { id: id.clone(), generation })) {
                return; // ended by an operator
            }
            if let Some(view) = history.records.iter_mut().find(|r| r.meta.id == id).and_then(|r| r.canary.as_mut()) {
                (view.canary, view.baseline) = (ours, theirs);
            }
            if watch.closed(ours, started.elapsed()) {
                break (ours, theirs);
            }
        };
        let verdict = watch.judge(ours, theirs, &others_ids.join(","));
        let mut histories = self.lock();
        let Some(history) = histories.get_mut(&canary.meta.component) else { return };
        if history.rollout != (Some(Rollout::Watching { id: id.clone(), generation })) {
            return;
        }
        history.rollout = None;
        let record = history.records.iter_mut().find(|r| r.meta.id == id).expect("a canary has a record");
        match verdict {
            Verdict::Promote => {
                if let Some(view) = record.canary.as_mut() {
                    view.outcome = WatchOutcome::Promoted;
                }
                self.promote(history, canary, "canary");
            }
            Verdict::RollBack(reason) => {
                let failure = Failure::new(FailureKind::Rollback, reason);
                tracing::warn!(
                    revision = %id,
                    reason = %failure.message,
                    restored = %others_ids.join(","),
                    "revision rolled back by its canary watch"
                );
                if let Some(view) = record.canary.as_mut() {
                    view.outcome = WatchOutcome::RolledBack;
                }
                record.state = State::Failed;
                record.reason = Some(failure);
                // Its requests in flight hold its code; nothing else will.
                record.code = None;
                history.slot.set(Split::new(previous.entries().to_vec()));
            }
        }
    }

    /// Marks `revision` retired once it is out of its split and its last
    /// request has finished.
    pub(super) fn retire_when_drained(self: Arc<Self>, revision: Arc<ServingRevision<S>>) {
        let limit = self.settings.request_timeout.saturating_mul(2);
        let task = async move {
            let started = Instant::now();
            // Two quiet looks in a row: a request that picked it just before
            // the swap has marked itself in flight by the second.
            let mut quiet = 0;
            while quiet < 2 && started.elapsed() < limit {
                tokio::time::sleep(TICK).await;
                quiet = if revision.in_flight() == 0 { quiet + 1 } else { 0 };
            }
            let mut histories = self.lock();
            let Some(history) = histories.get_mut(&revision.meta.component) else { return };
            if history.slot.split().share_of(&revision.meta.id) > 0 {
                return; // serving again
            }
            let Some(record) = history.records.iter_mut().find(|r| r.meta.id == revision.meta.id) else { return };
            if record.state == State::Active {
                record.state = State::Retired;
                tracing::info!(revision = %revision.meta.id, in_flight = revision.in_flight(), "revision retired");
                self.release_beyond_keep(history);
            }
        };
        tokio::spawn(tracing::Instrument::in_current_span(task));
    }
}

/// The failure of a revision that did not compile, by stage.
fn compile_failure(err: &CompileError) -> Failure {
    let kind = match err {
        // The bytes are no component at all: nothing to do with its dependencies.
        CompileError::Dependency { cause, .. }
            if matches!(**cause, DependencyError::Compose(ComposeError::InvalidComponent { .. })) =>
        {
            FailureKind::Compile
        }
        CompileError::Dependency { .. } => FailureKind::Compose,
        CompileError::Compile(_) => FailureKind::Compile,
        CompileError::Link(_) | CompileError::NotHttp(_) => FailureKind::Instantiate,
    };
    Failure::new(kind, err.to_string())
}

/// `shares` scaled to add up to `to` (largest remainder: the sum is exact).
fn scale(shares: &[u8], to: u8) -> Vec<u8> {
    let sum: u32 = shares.iter().map(|s| u32::from(*s)).sum::<u32>().max(1);
    let exact: Vec<u32> = shares.iter().map(|s| u32::from(*s) * u32::from(to)).collect();
    let mut scaled: Vec<u32> = exact.iter().map(|e| e / sum).collect();
    let mut left = u32::from(to) - scaled.iter().sum::<u32>();
    let mut by_remainder: Vec<usize> = (0..shares.len()).collect();
    by_remainder.sort_by_key(|&i| std::cmp::Reverse(exact[i] % sum));
    for &i in by_remainder.iter().cycle().take(shares.len() * 2) {
        if left == 0 {
            break;
        }
        scaled[i] += 1;
        left -= 1;
    }
    scaled.into_iter().map(|s| u8::try_from(s).unwrap_or(u8::MAX)).collect()
}

#[cfg(test)]
mod tests {
    use super::scale;

    #[test]
    fn shares_scale_to_the_rest_exactly() {
        assert_eq!(scale(&[100], 80), [80]);
        assert_eq!(scale(&[50, 50], 90), [45, 45]);
        assert_eq!(scale(&[90, 10], 75), [68, 7]);
        assert_eq!(scale(&[34, 33, 33], 50).iter().map(|s| u32::from(*s)).sum::<u32>(), 50);
    }
}
