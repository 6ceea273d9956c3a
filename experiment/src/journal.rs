//! The journal: Chaos Toolkit's shape (`status`, `deviated`,
//! `steady_states.before/after`, `run[]`, `rollbacks[]`, each activity with
//! its output, status, start, end and duration), plus our
//! `extensions: [{"name":"chaoslab", …}]` with the load's per-second
//! series, the phases, the fault windows, the platform's restarts and
//! every judged tolerance. The report is drawn from this file alone.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::activity::{ActivityRun, RunStatus};
use crate::faults::FaultWindow;
use crate::judge::{Check, Measured};
use crate::load::stats::Second;
use crate::model::ActivityKind;
use crate::platform::Restart;
use crate::timeline::Timeline;

/// How the run ended, in Chaos Toolkit's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every phase ran.
    Completed,
    /// It stopped early: no steady state before the method, or the target unreachable.
    Failed,
    /// Ctrl-C.
    Interrupted,
}

impl Status {
    /// `completed`, `failed`, `interrupted`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }
}

/// A steady-state check: its probes and whether all were within tolerance.
#[derive(Debug, Clone)]
pub struct SteadyState {
    /// Every probe met its tolerance.
    pub met: bool,
    /// The probes run (the check stops at the first that is not met, as Chaos Toolkit's does).
    pub probes: Vec<ActivityRun>,
}

/// Our part of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChaoslabJournal {
    /// Always `chaoslab`.
    pub name: String,
    /// Who ran it and at what cost.
    pub runner: Runner,
    /// When the phases began and ended, seconds from the run's start.
    pub timeline: Marks,
    /// The load's settings and per-second series.
    pub load: Option<LoadRecord>,
    /// Counts and percentiles per phase, the counter, detection and recovery.
    pub measured: Measured,
    /// Fault windows.
    pub faults: Vec<FaultWindow>,
    /// The platform (`--spawn`): its liveness probe and restarts.
    pub platform: Option<PlatformRecord>,
    /// Every activity on the run's clock, for the report.
    pub activities: Vec<Mark>,
    /// The judged service-level tolerances.
    pub tolerances: Vec<Check>,
    /// The verdict and why.
    pub verdict: Verdict,
}

/// Who ran the experiment, against what, at what CPU cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Runner {
    /// `chaoslab experiment` version.
    pub version: String,
    /// The target's base URL.
    pub target: Option<String>,
    /// The runner started the target (`--spawn`).
    pub spawned: bool,
    /// CPU seconds the runner used while its load ran.
    pub cpu_seconds: Option<f64>,
    /// CPU seconds the spawned target (with its Redis) used meanwhile.
    pub target_cpu_seconds: Option<f64>,
    /// Wall seconds of that window.
    pub load_seconds: Option<f64>,
}

/// Phase boundaries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Marks {
    /// The load started.
    pub load_start_s: Option<f64>,
    /// The method started.
    pub method_start_s: Option<f64>,
    /// The method ended.
    pub method_end_s: Option<f64>,
    /// The load's last request was due.
    pub load_end_s: Option<f64>,
    /// The run ended.
    pub end_s: f64,
}

/// The load's settings and its series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadRecord {
    /// Where it went.
    pub base_url: String,
    /// Requests per second.
    pub rate: u32,
    /// Paths cycled through.
    pub paths: Vec<String>,
    /// Its duration.
    pub duration_seconds: f64,
    /// Load before the method.
    pub warmup_seconds: f64,
    /// Least load after the method.
    pub after_seconds: f64,
    /// One request's deadline.
    pub timeout_ms: u64,
    /// The first transport error, if any.
    pub first_error: Option<String>,
    /// The sample cap stopped it early.
    pub sample_cap_reached: bool,
    /// One entry per second.
    pub series: Vec<Second>,
}

/// The platform's settings and what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformRecord {
    /// The probed path.
    pub liveness_path: String,
    /// Seconds before the first probe.
    pub initial_delay_seconds: f64,
    /// Seconds between probes.
    pub period_seconds: f64,
    /// Seconds a probe may take.
    pub timeout_seconds: f64,
    /// Failures in a row that restart.
    pub failure_threshold: u32,
    /// Each restart.
    pub restarts: Vec<Restart>,
}

/// One activity on the run's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// Its name.
    pub name: String,
    /// `before`, `method`, `after` or `rollback`.
    pub part: String,
    /// `probe` or `action`.
    pub kind: String,
    /// Start, seconds from the run's start.
    pub start_s: f64,
    /// End.
    pub end_s: f64,
    /// `→ 503`, `failed: …`.
    pub outcome: String,
    /// The tolerance (hypothesis probes).
    pub tolerance: Option<String>,
    /// Whether it was met.
    pub tolerance_met: Option<bool>,
}

impl Mark {
    /// The mark of `run`, in `part`.
    pub fn of(run: &ActivityRun, part: &str, tolerance: Option<String>, timeline: &Timeline) -> Self {
        Self {
            name: run.name.clone(),
            part: part.to_owned(),
            kind: kind_name(run.kind).to_owned(),
            start_s: timeline.offset(run.start),
            end_s: timeline.offset(run.end),
            outcome: run.outcome(),
            tolerance,
            tolerance_met: run.tolerance_met,
        }
    }
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// `completed`, `failed`, `interrupted`.
    pub status: Status,
    /// The hypothesis or a service-level tolerance did not hold.
    pub deviated: bool,
    /// 0 held, 1 deviated, 2 could not run.
    pub exit_code: u8,
    /// One line per reason, naming the probe or tolerance and its value.
    pub reasons: Vec<String>,
}

fn kind_name(kind: ActivityKind) -> &'static str {
    match kind {
        ActivityKind::Probe => "probe",
        ActivityKind::Action => "action",
    }
}

/// One activity run in Chaos Toolkit's shape.
pub fn run_record(run: &ActivityRun, timeline: &Timeline) -> Value {
    let mut record = json!({
        "activity": run.activity,
        "output": run.output,
        "start": timeline.iso(run.start),
        "status": if run.status == RunStatus::Succeeded { "succeeded" } else { "failed" },
        "end": timeline.iso(run.end),
        "duration": run.end.saturating_duration_since(run.start).as_secs_f64(),
    });
    if let Some(error) = &run.error {
        record["exception"] = json!([format!("chaoslab_experiment.ActivityFailed: {error}\n")]);
    }
    if let Some(met) = run.tolerance_met {
        record["tolerance_met"] = json!(met);
    }
    record
}

fn steady(state: Option<&SteadyState>, timeline: &Timeline) -> Value {
    state.map_or(Value::Null, |s| {
        json!({
            "steady_state_met": s.met,
            "probes": s.probes.iter().map(|p| run_record(p, timeline)).collect::<Vec<_>>(),
        })
    })
}

/// Everything the journal is made of.
pub struct Parts<'a> {
    /// The experiment as read.
    pub experiment: &'a Value,
    /// The run's clock.
    pub timeline: &'a Timeline,
    /// Before the method.
    pub before: Option<&'a SteadyState>,
    /// After it.
    pub after: Option<&'a SteadyState>,
    /// The method's runs.
    pub method: &'a [ActivityRun],
    /// The rollbacks' runs.
    pub rollbacks: &'a [ActivityRun],
    /// Our extension.
    pub chaoslab: &'a ChaoslabJournal,
}

/// The journal document.
pub fn document(parts: &Parts<'_>) -> Value {
    let timeline = parts.timeline;
    let end = timeline.start + std::time::Duration::from_secs_f64(parts.chaoslab.timeline.end_s);
    let mut experiment = parts.experiment.clone();
    if let Value::Object(obj) = &mut experiment {
        obj.insert("dry".to_owned(), Value::Null);
    }
    json!({
        "chaoslib-version": null,
        "chaoslab-experiment-version": env!("CARGO_PKG_VERSION"),
        "platform": format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        "node": hostname(),
        "experiment": experiment,
        "start": timeline.iso(timeline.start),
        "status": parts.chaoslab.verdict.status.name(),
        "deviated": parts.chaoslab.verdict.deviated,
        "steady_states": {
            "before": steady(parts.before, timeline),
            "after": steady(parts.after, timeline),
            "during": [],
        },
        "run": parts.method.iter().map(|r| run_record(r, timeline)).collect::<Vec<_>>(),
        "rollbacks": parts.rollbacks.iter().map(|r| run_record(r, timeline)).collect::<Vec<_>>(),
        "end": timeline.iso(end),
        "duration": parts.chaoslab.timeline.end_s,
        "extensions": [parts.chaoslab],
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default()
}

/// Our extension, read back from a journal (for the report).
pub fn chaoslab_part(journal: &Value) -> Option<ChaoslabJournal> {
    let extensions = journal.get("extensions")?.as_array()?;
    let ours = extensions.iter().find(|e| e.get("name").and_then(Value::as_str) == Some("chaoslab"))?;
    serde_json::from_value(ours.clone()).ok()
}
