//! From a finished run to the verdict and the journal document.

use serde_json::Value;

use crate::cli::{EXIT_COULD_NOT_RUN, EXIT_DEVIATED, EXIT_HELD};
use crate::journal::{
    self, ChaoslabJournal, LoadRecord, Mark, Marks, Parts, PlatformRecord, Runner as RunnerInfo, Status, SteadyState,
    Verdict,
};
use crate::judge::{self, Check, Measured};
use crate::load::stats;
use crate::runner::{Outcome, Runner, activity_visits};

/// The journal of `outcome` (with the verdict in our extension).
pub fn journal(runner: &Runner, outcome: &Outcome, target: Option<String>) -> Value {
    let timeline = &runner.ctx.timeline;
    let end_s = timeline.now();
    let windows = runner.faults.windows(end_s);
    let restarts = runner.platform.as_ref().map(|p| p.restarts()).unwrap_or_default();
    let samples = outcome.load.as_ref().map_or(&[][..], |l| l.samples.as_slice());
    let mut measured = Measured::from_samples(samples, &activity_visits(outcome), &windows, &restarts);
    if outcome.load.is_none() {
        measured.counter = None;
    }
    let checks = if outcome.status == Status::Completed {
        judge::service_checks(&runner.plan.extension.tolerances, &measured)
    } else {
        Vec::new()
    };
    let verdict = verdict(outcome, &checks, runner);
    let load = runner.plan.load().zip(outcome.load.as_ref()).map(|(spec, result)| LoadRecord {
        base_url: runner.plan.load_base_url.clone().unwrap_or_default(),
        rate: spec.rate,
        paths: spec.paths.clone(),
        duration_seconds: spec.duration.as_secs_f64(),
        warmup_seconds: spec.warmup.as_secs_f64(),
        after_seconds: spec.after.as_secs_f64(),
        timeout_ms: u64::try_from(spec.timeout.as_millis()).unwrap_or(u64::MAX),
        first_error: result.first_error.clone(),
        sample_cap_reached: result.cap_reached,
        series: stats::series(&result.samples, result.started_s, result.stopped_s),
    });
    let platform = runner.platform.as_ref().map(|p| PlatformRecord {
        liveness_path: p.liveness.path.clone(),
        initial_delay_seconds: p.liveness.initial_delay.as_secs_f64(),
        period_seconds: p.liveness.period.as_secs_f64(),
        timeout_seconds: p.liveness.timeout.as_secs_f64(),
        failure_threshold: p.liveness.failure_threshold,
        restarts: restarts.clone(),
    });
    let chaoslab = ChaoslabJournal {
        name: crate::model::EXTENSION_NAME.to_owned(),
        runner: RunnerInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            target,
            spawned: runner.platform.is_some(),
            cpu_seconds: outcome.cpu.map(|c| c.0),
            target_cpu_seconds: outcome.cpu.and_then(|c| c.1),
            load_seconds: outcome.cpu.map(|c| c.2),
        },
        timeline: Marks {
            load_start_s: outcome.load.as_ref().map(|l| l.started_s),
            method_start_s: outcome.method_window.0.map(|t| timeline.offset(t)),
            method_end_s: outcome.method_window.1.map(|t| timeline.offset(t)),
            load_end_s: outcome.load.as_ref().map(|l| l.stopped_s),
            end_s,
        },
        load,
        measured,
        faults: windows,
        platform,
        activities: marks(runner, outcome),
        tolerances: checks,
        verdict,
    };
    journal::document(&Parts {
        experiment: &runner.experiment.raw,
        timeline,
        before: outcome.before.as_ref(),
        after: outcome.after.as_ref(),
        method: &outcome.method,
        rollbacks: &outcome.rollbacks,
        chaoslab: &chaoslab,
    })
}

fn marks(runner: &Runner, outcome: &Outcome) -> Vec<Mark> {
    let timeline = &runner.ctx.timeline;
    let tolerance_of = |name: &str| {
        let probes = runner.experiment.hypothesis.iter().flat_map(|h| h.probes.iter());
        probes.clone().find(|p| p.name == name).and_then(|p| p.tolerance.as_ref()).map(ToString::to_string)
    };
    let steady = |state: &Option<SteadyState>, part: &str| -> Vec<Mark> {
        state.iter().flat_map(|s| s.probes.iter()).map(|r| Mark::of(r, part, tolerance_of(&r.name), timeline)).collect()
    };
    let mut all = steady(&outcome.before, "before");
    all.extend(outcome.method.iter().map(|r| Mark::of(r, "method", None, timeline)));
    all.extend(steady(&outcome.after, "after"));
    all.extend(outcome.rollbacks.iter().map(|r| Mark::of(r, "rollback", None, timeline)));
    all
}

fn verdict(outcome: &Outcome, checks: &[Check], runner: &Runner) -> Verdict {
    let mut reasons = Vec::new();
    if let Some(why) = &outcome.stopped_because {
        reasons.push(why.clone());
    }
    for (part, state) in [("before", &outcome.before), ("after", &outcome.after)] {
        for probe in state.iter().flat_map(|s| s.probes.iter()).filter(|p| p.tolerance_met == Some(false)) {
            let tolerance = runner
                .experiment
                .hypothesis
                .iter()
                .flat_map(|h| h.probes.iter())
                .find(|p| p.name == probe.name)
                .and_then(|p| p.tolerance.as_ref())
                .map(ToString::to_string)
                .unwrap_or_default();
            reasons.push(format!(
                "steady state {part}: probe {:?} {}; tolerance {tolerance} not met",
                probe.name,
                probe.outcome()
            ));
        }
    }
    for check in checks.iter().filter(|c| !c.met) {
        reasons.push(format!("tolerance {}: expected {}, measured {}", check.name, check.expected, check.measured));
    }
    let after_failed = outcome.after.as_ref().is_some_and(|s| !s.met);
    let deviated = outcome.status == Status::Completed && (after_failed || checks.iter().any(|c| !c.met));
    let exit_code = if deviated {
        EXIT_DEVIATED
    } else if outcome.status == Status::Completed {
        EXIT_HELD
    } else {
        EXIT_COULD_NOT_RUN
    };
    Verdict { status: outcome.status, deviated, exit_code, reasons }
}
