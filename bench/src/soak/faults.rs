//! The faults cycling through the chaos API during the soak, and the
//! windows in which each was active (as the client saw them), so every
//! answer can be checked against the faults that could explain it.

use std::time::{Duration, Instant};

use chaoslab_tests::Chaoslab;
use http::Method;

/// One fault as it ran.
#[derive(Debug, Clone)]
pub struct Window {
    /// `latency`, `errors`, `redis`, `load` or `hang`.
    pub kind: &'static str,
    /// Its body.
    pub body: &'static str,
    /// Started (the POST was sent), since the run began.
    pub from: Duration,
    /// Ended (lease over, or released by a DELETE), since the run began.
    pub to: Duration,
}

/// One step of the cycle: start `kind` with `body`, then wait `hold`;
/// `release` stops it early after that long (a hang released by hand).
struct Step {
    kind: &'static str,
    body: &'static str,
    lasts: Duration,
    release: Option<Duration>,
    then: Duration,
}

/// The cycle, one minute long: latency, errors, Redis blackhole and fail,
/// CPU and memory load, a hang released by a DELETE, then a quiet moment.
fn cycle() -> Vec<Step> {
    let s = Duration::from_secs;
    vec![
        Step {
            kind: "latency",
            body: r#"{"ms":100,"jitter_ms":50,"percent":50,"duration_seconds":10}"#,
            lasts: s(10),
            release: None,
            then: s(12),
        },
        Step {
            kind: "errors",
            body: r#"{"status":503,"percent":10,"duration_seconds":10}"#,
            lasts: s(10),
            release: None,
            then: s(12),
        },
        Step {
            kind: "redis",
            body: r#"{"mode":"blackhole","percent":20,"duration_seconds":5}"#,
            lasts: s(5),
            release: None,
            then: s(7),
        },
        Step {
            kind: "redis",
            body: r#"{"mode":"fail","percent":20,"duration_seconds":5}"#,
            lasts: s(5),
            release: None,
            then: s(7),
        },
        Step {
            kind: "load",
            body: r#"{"cpu_percent":50,"workers":1,"memory_mb":64,"duration_seconds":10}"#,
            lasts: s(10),
            release: None,
            then: s(12),
        },
        Step { kind: "hang", body: r#"{"duration_seconds":30}"#, lasts: s(30), release: Some(s(3)), then: s(10) },
    ]
}

/// Runs the cycle until `until` (since `origin`); the windows it made.
pub async fn cycle_until(app: &Chaoslab, origin: Instant, until: Duration) -> anyhow::Result<Vec<Window>> {
    let mut windows = Vec::new();
    'outer: loop {
        for step in cycle() {
            if origin.elapsed() + step.then > until {
                break 'outer;
            }
            let from = origin.elapsed();
            let resp = app.chaos(Method::POST, &format!("/chaos/{}", step.kind), step.body).await;
            anyhow::ensure!(
                resp.status == 202,
                "starting {} {}: {} {}",
                step.kind,
                step.body,
                resp.status,
                resp.text()
            );
            let id = resp.json()["id"].as_str().unwrap_or_default().to_owned();
            let to = match step.release {
                Some(after) => {
                    tokio::time::sleep(after).await;
                    let stopped = app.chaos(Method::DELETE, &format!("/chaos/{id}"), "").await;
                    anyhow::ensure!(stopped.status == 200, "releasing {id}: {}", stopped.text());
                    origin.elapsed()
                }
                None => from + step.lasts,
            };
            eprintln!("soak: {:>5.0}s {} {} ({id})", from.as_secs_f64(), step.kind, step.body);
            windows.push(Window { kind: step.kind, body: step.body, from, to });
            let rest = step.then.saturating_sub(origin.elapsed() - from);
            tokio::time::sleep(rest).await;
        }
    }
    Ok(windows)
}
