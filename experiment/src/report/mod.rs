//! The HTML report: one self-contained file (inline CSS, inline SVG, no
//! script, nothing fetched), drawn from the journal alone: the verdict and
//! its reasons, the hypothesis and tolerances with measured values, the
//! phases, the faults with detection and recovery, the plots, and every
//! activity.

mod plots;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::Value;

use crate::journal::{ChaoslabJournal, chaoslab_part};
use crate::load::stats::Summary;

const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1040px;color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
.verdict{padding:.6em 1em;border-radius:6px;font-weight:600;margin:1em 0}
.held{background:#e3f4e3;color:#1d5e1d} .deviated{background:#fbe3e3;color:#8a1c1c} .failed{background:#fff2d6;color:#7a5200}
table{border-collapse:collapse;width:100%;margin:.5em 0} th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4} td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1d5e1d;font-weight:600} .bad{color:#8a1c1c;font-weight:600} .muted{color:#777}
figure{margin:1em 0} svg{max-width:100%;height:auto} code{background:#f4f4f4;padding:0 .2em}
";

/// Renders the report of `journal`.
pub fn render(journal: &Value) -> String {
    let title = journal.pointer("/experiment/title").and_then(Value::as_str).unwrap_or("experiment");
    let description = journal.pointer("/experiment/description").and_then(Value::as_str).unwrap_or("");
    let body = match chaoslab_part(journal) {
        Some(j) => body(&j, journal),
        None => html! { p.bad { "This journal has no chaoslab extension: nothing to plot." } },
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "chaoslab experiment: " (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (title) }
                p.muted { (description) }
                (body)
                p.muted { "chaoslab experiment " (journal.get("chaoslab-experiment-version").and_then(Value::as_str).unwrap_or("")) " · started " (journal.get("start").and_then(Value::as_str).unwrap_or("")) " · journal shape: Chaos Toolkit" }
            }
        }
    }
    .into_string()
}

fn body(j: &ChaoslabJournal, journal: &Value) -> Markup {
    let v = &j.verdict;
    let (class, headline) = match v.exit_code {
        0 => ("held", "The hypothesis held"),
        1 => ("deviated", "The hypothesis DEVIATED"),
        _ => ("failed", "The experiment could not run to its end"),
    };
    let plot = |svg: Result<String, String>| match svg {
        Ok(svg) => html! { figure { (PreEscaped(svg)) } },
        Err(e) => html! { p.bad { "plot failed: " (e) } },
    };
    html! {
        div class=(format!("verdict {class}")) { (headline) " — status " (v.status.name()) ", exit code " (v.exit_code) }
        @if !v.reasons.is_empty() {
            ul { @for r in &v.reasons { li { (r) } } }
        }
        h2 { "Steady-state hypothesis" }
        p { (journal.pointer("/experiment/steady-state-hypothesis/title").and_then(Value::as_str).unwrap_or("(none)")) }
        table {
            tr { th { "when" } th { "probe" } th { "tolerance" } th { "measured" } th { "verdict" } }
            @for m in j.activities.iter().filter(|m| m.tolerance.is_some()) {
                tr {
                    td { (m.part) } td { (m.name) } td { code { (m.tolerance.as_deref().unwrap_or("")) } } td { (m.outcome) }
                    td { (met(m.tolerance_met.unwrap_or(false))) }
                }
            }
        }
        h2 { "Service-level tolerances (on the load)" }
        @if j.tolerances.is_empty() { p.muted { "None asked for, or not judged (the run did not complete)." } }
        @else {
            table {
                tr { th { "tolerance" } th { "expected" } th { "measured" } th { "verdict" } }
                @for c in &j.tolerances { tr { td { (c.name) } td { (c.expected) } td { (c.measured) } td { (met(c.met)) } } }
            }
        }
        h2 { "Load by phase" }
        @if let Some(load) = &j.load {
            p { (load.rate) " req/s, open loop, to " code { (load.base_url) } " " (load.paths.join(", ")) "; timeout " (load.timeout_ms) " ms" }
        }
        table {
            tr { th { "phase" } th { "requests" } th { "by status" } th { "error ratio" } th { "p50 ms" } th { "p99 ms" } th { "max ms" } }
            @for (name, s) in [("before", &j.measured.before), ("during", &j.measured.during), ("after", &j.measured.after), ("overall", &j.measured.overall)] {
                (phase_row(name, s))
            }
        }
        @if let Some(c) = &j.measured.counter {
            p { "Redis counter: grew by " (c.increments) " over the run; " (c.ok_responses) " answers of 200 carried it (" (c.distinct) " distinct values) — " (met(c.matches)) }
        }
        h2 { "Faults" }
        @if j.faults.is_empty() { p.muted { "No fault window was recorded." } }
        @else {
            table {
                tr { th { "fault" } th { "kind" } th { "from s" } th { "to s" } th { "ended" } th { "time to detect" } th { "time to recover" } }
                @for w in &j.faults {
                    @let seen = j.measured.faults.iter().find(|f| f.fault == w.id && f.kind == w.kind);
                    tr {
                        td { (w.id) } td { (w.kind) } td.num { (format!("{:.2}", w.start_s)) }
                        td.num { (w.end_s.map_or("—".to_owned(), |e| format!("{e:.2}"))) } td { (w.end_reason.as_deref().unwrap_or("")) }
                        td.num { (secs(seen.and_then(|s| s.time_to_detect_s))) (seen.map_or(String::new(), |s| format!(" ({})", s.by))) }
                        td.num { (secs(seen.and_then(|s| s.time_to_recover_s))) }
                    }
                }
            }
        }
        @if let Some(p) = &j.platform {
            h2 { "Platform (--spawn)" }
            p { "Liveness probe GET " code { (p.liveness_path) } " every " (p.period_seconds) " s, timeout " (p.timeout_seconds) " s, "
                (p.failure_threshold) " failures restart (Azure Container Apps' settings from deploy/azure/modules/app.bicep unless overridden)." }
            @if p.restarts.is_empty() { p.muted { "No restart." } }
            @for r in &p.restarts {
                p { "Restart decided at " (format!("{:.2}", r.detected_s)) " s (first failed probe " (format!("{:.2}", r.first_failed_probe_s)) " s); first 200 "
                    (r.first_200_s.map_or("never".to_owned(), |t| format!("{:.2} s after the decision", t - r.detected_s))) }
            }
        }
        h2 { "Plots" }
        (plot(plots::throughput(j)))
        (plot(plots::latency(j)))
        h2 { "Activities" }
        table {
            tr { th { "part" } th { "activity" } th { "kind" } th { "start s" } th { "duration s" } th { "outcome" } }
            @for m in &j.activities {
                tr { td { (m.part) } td { (m.name) } td { (m.kind) } td.num { (format!("{:.2}", m.start_s)) } td.num { (format!("{:.3}", m.end_s - m.start_s)) } td { (m.outcome) } }
            }
        }
        h2 { "Runner" }
        p {
            "Target " code { (j.runner.target.as_deref().unwrap_or("?")) } (if j.runner.spawned { " (spawned)" } else { "" }) ". "
            @if let (Some(cpu), Some(secs)) = (j.runner.cpu_seconds, j.runner.load_seconds) {
                "While the load ran (" (format!("{secs:.1}")) " s): runner " (format!("{cpu:.2}")) " CPU s"
                @if let Some(t) = j.runner.target_cpu_seconds { ", target " (format!("{t:.2}")) " CPU s" }
                "."
            }
        }
    }
}

fn met(ok: bool) -> Markup {
    html! { @if ok { span.ok { "met" } } @else { span.bad { "NOT met" } } }
}

fn secs(v: Option<f64>) -> String {
    v.map_or("—".to_owned(), |v| format!("{v:.2} s"))
}

fn ms(v: Option<f64>) -> String {
    v.map_or("—".to_owned(), |v| format!("{v:.1}"))
}

fn phase_row(name: &str, s: &Summary) -> Markup {
    let statuses = s.by_status.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ");
    html! {
        tr {
            td { (name) } td.num { (s.requests) } td { (statuses) } td.num { (format!("{:.4}", s.error_ratio)) }
            td.num { (ms(s.p50_ms)) } td.num { (ms(s.p99_ms)) } td.num { (ms(s.max_ms)) }
        }
    }
}
