//! Running one activity: pauses, the provider, the tolerance, and the
//! record the journal keeps (Chaos Toolkit's run shape).
//!
//! Semantics follow Chaos Toolkit so both tools reach the same verdict: an
//! HTTP answer of any status is a succeeded activity; only no answer (a
//! connection error or the provider's timeout) fails it; a process's exit
//! code is its output, not a failure.

mod http;
mod process;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::watch;

use crate::model::{Activity, ActivityKind, Provider};
use crate::progress::Progress;
use crate::timeline::Timeline;
use crate::vars::Vars;

/// Deadline of an HTTP activity without `provider.timeout` (Chaos Toolkit
/// would wait forever; `validate` warns).
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// What every activity needs from the run.
#[derive(Debug, Clone)]
pub struct Context {
    /// Configuration and secrets for `${name}`.
    pub vars: Arc<Vars>,
    /// The HTTP client of activities (verifies TLS).
    pub http: reqwest::Client,
    /// The run's clock.
    pub timeline: Timeline,
    /// Terminal output.
    pub progress: Arc<Progress>,
    /// Extra environment for process providers (`--spawn` sets the URL and token).
    pub env: Arc<Vec<(String, String)>>,
    /// Becomes true on Ctrl-C: pauses end, programs are asked to stop.
    pub interrupted: watch::Receiver<bool>,
}

impl Context {
    /// Waits `duration`, or less if interrupted. True when the wait was cut.
    pub async fn sleep(&self, duration: Duration) -> bool {
        let mut interrupted = self.interrupted.clone();
        if *interrupted.borrow() {
            return true;
        }
        tokio::select! {
            () = tokio::time::sleep(duration) => false,
            _ = interrupted.wait_for(|i| *i) => true,
        }
    }

    /// True once Ctrl-C was pressed.
    pub fn is_interrupted(&self) -> bool {
        *self.interrupted.borrow()
    }
}

/// Whether an activity's provider gave an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// It answered (any HTTP status, any exit code).
    Succeeded,
    /// No answer: connection error, timeout, program not started, interrupted.
    Failed,
}

/// One activity's run, as the journal records it.
#[derive(Debug, Clone)]
pub struct ActivityRun {
    /// Its name.
    pub name: String,
    /// Probe or action.
    pub kind: ActivityKind,
    /// The activity as written.
    pub activity: Value,
    /// The provider's output (`{"status","headers","body"}` or `{"status","stdout","stderr"}`).
    pub output: Option<Value>,
    /// Succeeded or failed.
    pub status: RunStatus,
    /// Why it failed.
    pub error: Option<String>,
    /// When the provider started (after the `before` pause).
    pub start: Instant,
    /// When it ended (before the `after` pause).
    pub end: Instant,
    /// For hypothesis probes: whether the output is within the tolerance.
    pub tolerance_met: Option<bool>,
}

impl ActivityRun {
    /// The HTTP status or exit code of the output, for terminal lines and the report.
    pub fn output_status(&self) -> Option<i64> {
        self.output.as_ref().and_then(|o| o.get("status")).and_then(Value::as_i64)
    }

    /// A short account of the outcome: `→ 503`, `→ exit 0`, `failed: …`.
    pub fn outcome(&self) -> String {
        match (&self.error, self.output_status(), &self.output) {
            (Some(err), _, _) => format!("failed: {err}"),
            (None, Some(status), Some(o)) if o.get("stdout").is_some() => format!("→ exit {status}"),
            (None, Some(status), _) => format!("→ {status}"),
            (None, None, _) => "→ done".to_owned(),
        }
    }
}

/// Runs `activity`: pause before, the provider, `done` (told the outcome
/// before the pause after), pause after; judges the tolerance when it has one.
pub async fn run(activity: &Activity, ctx: &Context, done: impl FnOnce(&ActivityRun)) -> ActivityRun {
    if let Some(before) = &activity.pauses.before {
        ctx.sleep(pause_seconds(&ctx.vars.substitute(before))).await;
    }
    let start = Instant::now();
    let result = if ctx.is_interrupted() {
        Err("interrupted before it started".to_owned())
    } else {
        match &activity.provider {
            Provider::Http(provider) => http::run(provider, ctx).await,
            Provider::Process(provider) => process::run(provider, &activity.name, ctx).await,
        }
    };
    let end = Instant::now();
    let (output, error) = match result {
        Ok(output) => (Some(output), None),
        Err(error) => (None, Some(error)),
    };
    let tolerance_met = activity.tolerance.as_ref().map(|tolerance| {
        output.as_ref().is_some_and(|o| tolerance.met(o, |pattern| ctx.vars.substitute_text(pattern)))
    });
    let status = if error.is_some() { RunStatus::Failed } else { RunStatus::Succeeded };
    let run = ActivityRun {
        name: activity.name.clone(),
        kind: activity.kind,
        activity: activity.raw.clone(),
        output,
        status,
        error,
        start,
        end,
        tolerance_met,
    };
    done(&run);
    if let Some(after) = &activity.pauses.after {
        ctx.sleep(pause_seconds(&ctx.vars.substitute(after))).await;
    }
    run
}

/// A pause after substitution, in seconds (checked by `plan`, so never negative here).
pub fn pause_seconds(value: &Value) -> Duration {
    Duration::from_secs_f64(value.as_f64().filter(|s| s.is_finite() && *s >= 0.0).unwrap_or(0.0))
}

/// The error and its causes on one line.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
