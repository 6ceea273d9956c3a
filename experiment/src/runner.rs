//! One run, start to end:
//!
//! ```text
//! load starts ── warm-up ── steady state before ── method ── (load goes on) ── steady state after ── load stops ── rollbacks
//!   │ before phase ───────────────────────────────│ during ─│ after phase ─────────────────────────────│
//! ```
//!
//! The load runs `duration_seconds` from its start, and at least
//! `after_seconds` past the method's end. Ctrl-C stops the current
//! step (a program gets SIGTERM and time to clean up) and goes straight to
//! the rollbacks; a second Ctrl-C skips them. Rollbacks run whenever the
//! method started, whatever happened after.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::watch;

use crate::activity::{self, ActivityRun, Context};
use crate::faults::{FaultLog, StatusSource};
use crate::journal::{Status, SteadyState};
use crate::load::{LoadResult, LoadRun, LoadSpec, Phase};
use crate::model::{Activity, ActivityKind, Experiment, Provider};
use crate::plan::Plan;
use crate::platform::Platform;
use crate::progress::Progress;

/// What a run produced, for the journal and the verdict.
pub struct Outcome {
    /// How far it got.
    pub status: Status,
    /// Why it stopped early, if it did.
    pub stopped_because: Option<String>,
    /// The steady state before the method.
    pub before: Option<SteadyState>,
    /// The steady state after it.
    pub after: Option<SteadyState>,
    /// The method's runs.
    pub method: Vec<ActivityRun>,
    /// The rollbacks' runs.
    pub rollbacks: Vec<ActivityRun>,
    /// The load's samples.
    pub load: Option<LoadResult>,
    /// When the method started and ended.
    pub method_window: (Option<Instant>, Option<Instant>),
    /// CPU seconds of the runner and the target while the load ran, and that window's length.
    pub cpu: Option<(f64, Option<f64>, f64)>,
}

/// The shared parts of a run.
pub struct Runner {
    /// The file.
    pub experiment: Experiment,
    /// Its resolved configuration.
    pub plan: Plan,
    /// Activities' context (its `interrupted` flips on the first Ctrl-C).
    pub ctx: Context,
    /// Fault windows.
    pub faults: Arc<FaultLog>,
    /// The platform under `--spawn`.
    pub platform: Option<Arc<Platform>>,
    /// Flips on the second Ctrl-C: rollbacks are skipped.
    pub abort_rollbacks: watch::Receiver<bool>,
    /// The step now running, for the progress line.
    pub step: Arc<Mutex<String>>,
}

impl Runner {
    fn progress(&self) -> &Progress {
        &self.ctx.progress
    }

    fn set_step(&self, step: impl Into<String>) {
        *self.step.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = step.into();
    }

    /// Runs the experiment to its end (or Ctrl-C).
    pub async fn run(&self) -> Outcome {
        let timeline = self.ctx.timeline;
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let status_source = self.plan.status.as_ref().map(|(url, token)| StatusSource {
            url: url.clone(),
            token: token.clone(),
            client: self.ctx.http.clone(),
        });
        if let Some(source) = &status_source {
            tasks.push(tokio::spawn(source.clone().monitor(self.faults.clone(), timeline, stop_rx.clone())));
        }
        if let Some(platform) = &self.platform {
            let play = platform.clone().play(self.ctx.clone(), self.faults.clone(), stop_rx.clone());
            tasks.push(tokio::spawn(play));
        }
        let mut outcome = Outcome {
            status: Status::Completed,
            stopped_because: None,
            before: None,
            after: None,
            method: Vec::new(),
            rollbacks: Vec::new(),
            load: None,
            method_window: (None, None),
            cpu: None,
        };
        let load = self.start_load(&mut outcome);
        let cpu_start = (crate::cpu::seconds("self"), self.target_cpu().await, Instant::now());
        let ticker = load.as_ref().map(|l| self.progress_ticker(l, stop_rx.clone()));

        self.steps(load.as_ref(), &mut outcome).await;

        if let Some(load) = load {
            self.set_step("stopping the load");
            let result = load.stop().await;
            let (runner_start, target_start, started) = cpu_start;
            let runner = crate::cpu::seconds("self").zip(runner_start).map(|(end, start)| end - start);
            let target = self.target_cpu().await.zip(target_start).map(|(end, start)| end - start);
            outcome.cpu = runner.map(|r| (r, target, started.elapsed().as_secs_f64()));
            outcome.load = Some(result);
        }
        if let Some(t) = ticker {
            t.abort();
        }
        if outcome.method_window.0.is_some() {
            self.rollbacks(&mut outcome).await;
        } else if !self.experiment.rollbacks.is_empty() {
            self.progress().event("rollbacks: skipped, the method never started (nothing to undo)");
        }
        if let Some(source) = &status_source {
            source.poll(&self.faults, &timeline).await;
        }
        let _ = stop_tx.send(true);
        for task in tasks {
            let _ = task.await;
        }
        self.progress().clear_status();
        outcome
    }

    async fn target_cpu(&self) -> Option<f64> {
        match &self.platform {
            Some(p) => Some(p.target.lock().await.cpu_seconds()),
            None => None,
        }
    }

    fn start_load(&self, outcome: &mut Outcome) -> Option<LoadRun> {
        let load = self.plan.load()?;
        let spec = LoadSpec {
            base_url: self.plan.load_base_url.clone()?,
            rate: load.rate,
            paths: load.paths.clone(),
            timeout: load.timeout,
        };
        self.progress().event(format!(
            "load: {} req/s to {} {:?} for {:?} (open loop, timeout {:?})",
            spec.rate, spec.base_url, spec.paths, load.duration, spec.timeout
        ));
        match LoadRun::start(spec, self.ctx.timeline) {
            Ok(run) => Some(run),
            Err(err) => {
                outcome.status = Status::Failed;
                outcome.stopped_because = Some(err);
                None
            }
        }
    }

    /// Warm-up, steady state before, method, wait, steady state after.
    async fn steps(&self, load: Option<&LoadRun>, outcome: &mut Outcome) {
        if outcome.status != Status::Completed {
            return;
        }
        if let (Some(load), Some(spec)) = (load, self.plan.load()) {
            self.set_step("warm-up");
            self.ctx.sleep(spec.warmup).await;
            let live = load.live();
            if live.ok == 0
                && live.failed > 0
                && let Some(error) = load.first_error()
            {
                outcome.status = Status::Failed;
                outcome.stopped_because = Some(format!("could not reach {error}"));
                return;
            }
        }
        if self.stop_if_interrupted(outcome) {
            return;
        }
        let before = self.hypothesis("before").await;
        let before_met = before.as_ref().is_none_or(|s| s.met);
        let unreachable = before.as_ref().and_then(|s| s.probes.iter().find_map(|p| p.error.clone()));
        outcome.before = before;
        if self.stop_if_interrupted(outcome) {
            return;
        }
        if let Some(error) = unreachable {
            outcome.status = Status::Failed;
            outcome.stopped_because = Some(format!("steady state before: {error}"));
            return;
        }
        if !before_met {
            outcome.status = Status::Failed;
            outcome.stopped_because =
                Some("the steady state did not hold before the method, so nothing was injected".to_owned());
            return;
        }

        if let Some(load) = load {
            load.set_phase(Phase::During);
        }
        let method_start = Instant::now();
        outcome.method_window.0 = Some(method_start);
        self.progress().event("method: starting");
        outcome.method = self.method().await;
        let method_end = Instant::now();
        outcome.method_window.1 = Some(method_end);
        if let Some(load) = load {
            load.set_phase(Phase::After);
        }
        self.progress().event("method: done");
        if self.stop_if_interrupted(outcome) {
            return;
        }
        if let (Some(load), Some(spec)) = (load, self.plan.load()) {
            let until = (load.started + spec.duration).max(method_end + spec.after);
            self.set_step("recovery: load goes on");
            self.ctx.sleep(until.saturating_duration_since(Instant::now())).await;
            if self.stop_if_interrupted(outcome) {
                return;
            }
        }
        outcome.after = self.hypothesis("after").await;
        self.stop_if_interrupted(outcome);
    }

    fn stop_if_interrupted(&self, outcome: &mut Outcome) -> bool {
        if self.ctx.is_interrupted() {
            outcome.status = Status::Interrupted;
            outcome.stopped_because.get_or_insert_with(|| "interrupted (Ctrl-C)".to_owned());
        }
        self.ctx.is_interrupted()
    }

    /// Probes the steady state; stops at the first probe that fails or is
    /// not within tolerance, as Chaos Toolkit does.
    async fn hypothesis(&self, part: &str) -> Option<SteadyState> {
        let hypothesis = self.experiment.hypothesis.as_ref()?;
        let mut probes = Vec::new();
        let mut met = true;
        for probe in &hypothesis.probes {
            self.set_step(format!("steady state {part}: {}", probe.name));
            let tolerance = probe.tolerance.as_ref().map(ToString::to_string).unwrap_or_default();
            let run = activity::run(probe, &self.ctx, |run| {
                self.progress().event(format!(
                    "steady state {part}: {} {} (tolerance {tolerance}: {})",
                    run.name,
                    run.outcome(),
                    if run.tolerance_met == Some(true) { "met" } else { "NOT met" }
                ));
            })
            .await;
            let ok = run.tolerance_met == Some(true);
            probes.push(run);
            if !ok {
                met = false;
                break;
            }
            if self.ctx.is_interrupted() {
                break;
            }
        }
        Some(SteadyState { met, probes })
    }

    async fn method(&self) -> Vec<ActivityRun> {
        let mut runs = Vec::new();
        let mut background = Vec::new();
        for activity in &self.experiment.method {
            if self.ctx.is_interrupted() {
                break;
            }
            if activity.background {
                self.progress().event(format!("method: {} started in the background", activity.name));
                let (activity, ctx) = (activity.clone(), self.ctx.clone());
                let progress = self.ctx.progress.clone();
                background.push(tokio::spawn(async move {
                    activity::run(&activity, &ctx, |run| progress.event(method_line(run, activity.kind))).await
                }));
                continue;
            }
            self.set_step(format!("method: {}", activity.name));
            runs.push(self.method_activity(activity).await);
        }
        for task in background {
            if let Ok(run) = task.await {
                runs.push(run);
            }
        }
        runs
    }

    async fn method_activity(&self, activity: &Activity) -> ActivityRun {
        activity::run(activity, &self.ctx, |run| {
            if let Provider::Process(_) = activity.provider {
                let timeline = &self.ctx.timeline;
                self.faults.process(&activity.name, timeline.offset(run.start), timeline.offset(run.end));
            }
            self.progress().event(method_line(run, activity.kind));
        })
        .await
    }

    async fn rollbacks(&self, outcome: &mut Outcome) {
        // A rollback is never cut by the first Ctrl-C: only by the second.
        let ctx = Context { interrupted: self.abort_rollbacks.clone(), ..self.ctx.clone() };
        for activity in &self.experiment.rollbacks {
            if *self.abort_rollbacks.borrow() {
                self.progress().event("rollbacks: skipped the rest (second Ctrl-C)");
                break;
            }
            self.set_step(format!("rollback: {}", activity.name));
            let run = activity::run(activity, &ctx, |run| {
                self.progress().event(format!("rollback: {} {}", run.name, run.outcome()));
            })
            .await;
            outcome.rollbacks.push(run);
        }
    }

    fn progress_ticker(&self, load: &LoadRun, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let live = load.live_handle();
        let progress = self.ctx.progress.clone();
        let faults = self.faults.clone();
        let step = self.step.clone();
        let timeline = self.ctx.timeline;
        tokio::spawn(async move {
            loop {
                let l = live.live();
                let active = faults.active_kinds();
                let step = step.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
                progress.set_status(&format!(
                    "[{:>6.1}s] {step} | load: {} sent, {} ok, {} failed, {} in flight | faults: {}",
                    timeline.now(),
                    l.sent,
                    l.ok,
                    l.failed,
                    l.in_flight,
                    if active.is_empty() { "none".to_owned() } else { active.join(", ") }
                ));
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(250)) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        })
    }
}

/// The event line of a method activity; an action answered with an HTTP
/// error is flagged (Chaos Toolkit counts it as done, so the fault may not have started).
fn method_line(run: &ActivityRun, kind: ActivityKind) -> String {
    let http_error = run.output.as_ref().is_some_and(|o| o.get("headers").is_some())
        && run.output_status().is_some_and(|s| s >= 400);
    let warn = if kind == ActivityKind::Action && http_error {
        " (an HTTP error answer counts as done, as in Chaos Toolkit: the fault may not have started)"
    } else {
        ""
    };
    format!("method: {} {}{warn}", run.name, run.outcome())
}

/// Values of `visits` the activities' `200`s carried (`GET /` probes count too).
pub fn activity_visits(outcome: &Outcome) -> Vec<u64> {
    let steady = [&outcome.before, &outcome.after].into_iter().flatten().flat_map(|s| s.probes.iter());
    steady
        .chain(&outcome.method)
        .filter_map(|r| r.output.as_ref())
        .filter(|o| o.get("status").and_then(Value::as_u64) == Some(200))
        .filter_map(|o| match o.get("body") {
            Some(Value::Object(body)) => body.get("visits").and_then(Value::as_u64),
            Some(Value::String(text)) => serde_json::from_str::<Value>(text).ok()?.get("visits")?.as_u64(),
            _ => None,
        })
        .collect()
}
