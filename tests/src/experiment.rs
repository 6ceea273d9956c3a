//! Running `chaoslab experiment` as a user would: the real binary, a
//! journal and a report in a temporary directory, the exit code, stderr;
//! and the checks every journal and report must pass.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::artifacts;
use crate::process::clean_env;

/// The repository's `experiments/` directory.
pub fn experiments_dir() -> PathBuf {
    artifacts::workspace_root().join("experiments")
}

/// A test-only experiment in `tests/fixtures/experiments/`.
pub fn fixture(name: &str) -> PathBuf {
    artifacts::workspace_root().join("tests/fixtures/experiments").join(name)
}

/// What one `chaoslab experiment …` left.
#[derive(Debug)]
pub struct Finished {
    /// The exit code.
    pub code: i32,
    /// Everything it printed on stderr.
    pub stderr: String,
    /// The journal, if it wrote one.
    pub journal: Option<Value>,
    /// The report, if it wrote one.
    pub report: Option<String>,
}

impl Finished {
    /// The journal; panics with stderr when there is none.
    pub fn journal(&self) -> &Value {
        self.journal.as_ref().unwrap_or_else(|| panic!("no journal; stderr:\n{}", self.stderr))
    }

    /// Our extension of the journal.
    pub fn chaoslab(&self) -> &Value {
        let extensions = self.journal()["extensions"].as_array().expect("extensions is a list");
        extensions.iter().find(|e| e["name"] == "chaoslab").expect("the chaoslab extension")
    }

    /// The report; panics when there is none.
    pub fn report(&self) -> &str {
        self.report.as_deref().unwrap_or_else(|| panic!("no report; stderr:\n{}", self.stderr))
    }
}

/// An experiment run in the making: its command and its output files.
pub struct Run {
    /// `chaoslab experiment run …`.
    pub command: Command,
    /// Holds the journal and the report.
    dir: tempfile::TempDir,
}

impl Run {
    /// `chaoslab experiment run FILE --journal DIR/journal.json`, from the
    /// workspace root, with a clean environment and the test cache.
    pub fn new(file: &Path) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut command = Command::new(artifacts::chaoslab_bin());
        clean_env(&mut command);
        command
            .args(["experiment", "run"])
            .arg(file)
            .arg("--journal")
            .arg(dir.path().join("journal.json"))
            .current_dir(artifacts::workspace_root())
            .env("CHAOSLAB_CACHE_DIR", artifacts::cache_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        Self { command, dir }
    }

    /// Points the experiment at `base_url` with the test token.
    pub fn against(mut self, base_url: &str) -> Self {
        self.command.args([
            "--var",
            &format!("base_url={base_url}"),
            "--var",
            &format!("token={}", crate::chaoslab::TEST_TOKEN),
        ]);
        self
    }

    /// Adds `--var` arguments.
    pub fn vars(mut self, vars: &[&str]) -> Self {
        for var in vars {
            self.command.args(["--var", var]);
        }
        self
    }

    /// Sets an environment variable of the runner.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    /// Adds other arguments.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.command.args(args);
        self
    }

    /// Starts it without waiting.
    pub fn spawn(mut self) -> Started {
        let child = self.command.spawn().expect("spawn chaoslab experiment");
        Started { child, dir: self.dir }
    }

    /// Runs it to its end; panics after `timeout`.
    pub fn finish(self, timeout: Duration) -> Finished {
        self.spawn().wait(timeout)
    }
}

/// A running experiment.
pub struct Started {
    /// The runner.
    pub child: Child,
    dir: tempfile::TempDir,
}

impl Started {
    /// Waits for its end (panics after `timeout`) and reads what it left.
    pub fn wait(mut self, timeout: Duration) -> Finished {
        let stderr = self.child.stderr.take().expect("piped stderr");
        let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!("chaoslab experiment did not finish within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let stderr = reader.join().unwrap_or_default();
        let journal = std::fs::read(self.dir.path().join("journal.json")).ok().map(|b| {
            serde_json::from_slice(&b).unwrap_or_else(|e| panic!("the journal is not JSON: {e}\nstderr:\n{stderr}"))
        });
        let report = std::fs::read_to_string(self.dir.path().join("journal.html")).ok();
        Finished { code: status.code().unwrap_or(-1), stderr, journal, report }
    }
}

/// `chaoslab experiment validate ARGS…`: exit code and stderr.
pub fn validate(args: &[&Path], env: &[(&str, &str)]) -> (i32, String) {
    let mut command = Command::new(artifacts::chaoslab_bin());
    clean_env(&mut command);
    let output = command
        .args(["experiment", "validate"])
        .args(args)
        .envs(env.iter().copied())
        .current_dir(artifacts::workspace_root())
        .output()
        .expect("run chaoslab experiment validate");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Asserts the journal has Chaos Toolkit's shape and our extension's parts.
pub fn assert_journal_shape(journal: &Value) {
    for key in ["experiment", "start", "end", "duration", "status", "deviated", "steady_states", "run", "rollbacks"] {
        assert!(journal.get(key).is_some(), "journal lacks {key:?}");
    }
    assert!(["completed", "failed", "interrupted"].contains(&journal["status"].as_str().unwrap_or("")));
    assert!(journal["deviated"].is_boolean());
    for state in ["before", "after"] {
        let s = &journal["steady_states"][state];
        assert!(
            s.is_null() || (s["steady_state_met"].is_boolean() && s["probes"].is_array()),
            "steady_states.{state}: {s}"
        );
        for probe in s["probes"].as_array().into_iter().flatten() {
            assert_run_shape(probe);
            assert!(probe["tolerance_met"].is_boolean(), "a hypothesis probe without tolerance_met: {probe}");
        }
    }
    for run in
        journal["run"].as_array().expect("run[]").iter().chain(journal["rollbacks"].as_array().expect("rollbacks[]"))
    {
        assert_run_shape(run);
    }
    let ours = journal["extensions"]
        .as_array()
        .and_then(|e| e.iter().find(|x| x["name"] == "chaoslab"))
        .expect("our extension");
    for key in ["runner", "timeline", "measured", "faults", "activities", "tolerances", "verdict"] {
        assert!(ours.get(key).is_some(), "the chaoslab extension lacks {key:?}");
    }
    if let Some(load) = ours.get("load").filter(|l| !l.is_null()) {
        let series = load["series"].as_array().expect("load.series");
        assert!(!series.is_empty(), "an empty per-second series");
        assert!(series.iter().all(|s| s["t"].is_number() && s["by_status"].is_object() && s["requests"].is_u64()));
    }
}

fn assert_run_shape(run: &Value) {
    for key in ["activity", "output", "start", "status", "end", "duration"] {
        assert!(run.get(key).is_some(), "an activity run lacks {key:?}: {run}");
    }
    assert!(["succeeded", "failed"].contains(&run["status"].as_str().unwrap_or("")), "{run}");
    if run["status"] == "failed" {
        assert!(run["exception"].is_array(), "a failed run without its exception: {run}");
    }
}

/// Asserts the report is one self-contained page with both plots.
pub fn assert_report_shape(report: &str) {
    assert!(report.starts_with("<!DOCTYPE html>"), "not an HTML page");
    assert_eq!(report.matches("<svg").count(), 2, "two plots expected");
    for caption in ["requests per second by status", "latency from the scheduled send time"] {
        assert!(report.contains(caption), "no plot {caption:?}");
    }
    for outside in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!report.contains(outside), "the report reaches outside itself: {outside}");
    }
}

/// Active experiments on a chaoslab, from `/chaos/status`.
pub async fn active_experiments(app: &crate::Chaoslab) -> Vec<Value> {
    let status = app.chaos(http::Method::GET, "/chaos/status", "").await;
    assert_eq!(status.status, 200, "{}", status.text());
    status.json()["active"].as_array().cloned().unwrap_or_default()
}
