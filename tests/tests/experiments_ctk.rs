//! The real Chaos Toolkit (`chaostoolkit` from PyPI, pinned in
//! `experiments/requirements.txt`, in the venv `scripts/test` creates)
//! accepts every file of `experiments/`, and reaches the same verdict as
//! `chaoslab experiment run` on the same chaoslab: the Redis block holds
//! for both, the hypothesis that must fail deviates for both. Their
//! journals have the same shape.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use chaoslab_tests::Chaoslab;
use chaoslab_tests::chaoslab::TEST_TOKEN;
use chaoslab_tests::experiment::{Run, active_experiments, experiments_dir, fixture};

/// The `chaos` program: `$CHAOSLAB_CTK`, which `scripts/test` sets.
fn chaos_bin() -> PathBuf {
    let hint = "Chaos Toolkit is needed: run scripts/test (it creates the venv), or \
                `python3 -m venv V && V/bin/pip install -r experiments/requirements.txt` and set CHAOSLAB_CTK=V/bin/chaos";
    let bin =
        std::env::var_os("CHAOSLAB_CTK").map(PathBuf::from).unwrap_or_else(|| panic!("CHAOSLAB_CTK is unset. {hint}"));
    assert!(bin.is_file(), "{} does not exist. {hint}", bin.display());
    bin
}

/// `chaos --no-version-check --no-log-file ARGS…` from the workspace root: exit code and stderr.
fn chaos(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = Command::new(chaos_bin())
        .args(["--no-version-check", "--no-log-file"])
        .args(args)
        .envs(env.iter().copied())
        .current_dir(chaoslab_tests::artifacts::workspace_root())
        .output()
        .expect("run chaos");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn chaos_toolkit_validates_every_experiment_file() {
    let env = [("CHAOSLAB_CHAOS_TOKEN", "t"), ("CHAOSLAB_URL", "https://chaoslab.example")];
    let files = std::fs::read_dir(experiments_dir()).expect("experiments/").flatten().map(|e| e.path());
    let mut checked = 0;
    for file in files.filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let (code, stderr) = chaos(&["validate", file.to_str().expect("UTF-8 path")], &env);
        assert_eq!(code, 0, "chaos validate {}:\n{stderr}", file.display());
        checked += 1;
    }
    assert!(checked >= 8, "the four scenarios, local and Azure");
}

#[tokio::test]
async fn chaos_toolkit_and_chaoslab_reach_the_same_verdicts() {
    let app = Chaoslab::builder().start();
    let base = app.url("");
    let env = [
        ("CHAOSLAB_URL", base.as_str()),
        ("CHAOSLAB_CHAOS_TOKEN", TEST_TOKEN),
        ("CHAOSLAB_FAULT_SECONDS", "3"),
        ("CHAOSLAB_LOAD_SECONDS", "8"),
    ];
    let dir = tempfile::tempdir().expect("temporary directory");
    for (file, code, deviated) in
        [(experiments_dir().join("redis-block.json"), 0, false), (fixture("must-fail.json"), 1, true)]
    {
        let journal_path = dir.path().join("ctk-journal.json");
        let args = ["run", "--journal-path", journal_path.to_str().expect("UTF-8"), file.to_str().expect("UTF-8")];
        let (ctk_code, stderr) = chaos(&args, &env);
        assert_eq!(ctk_code, code, "chaos run {}:\n{stderr}", file.display());
        let ctk: Value =
            serde_json::from_slice(&std::fs::read(&journal_path).expect("chaos wrote a journal")).expect("JSON");
        assert_eq!(ctk["deviated"], deviated);
        assert!(active_experiments(&app).await.is_empty(), "Chaos Toolkit's rollback did not run");

        let mut ours = Run::new(&file);
        for (key, value) in env {
            ours = ours.env(key, value);
        }
        let done = ours.finish(Duration::from_secs(90));
        assert_eq!(done.code, code, "chaoslab experiment run {}:\n{}", file.display(), done.stderr);
        let journal = done.journal();
        assert_eq!(
            (&journal["deviated"], &journal["status"]),
            (&ctk["deviated"], &ctk["status"]),
            "{}",
            file.display()
        );
        assert_same_shape(&ctk, journal);
    }
}

/// Every key Chaos Toolkit writes (top level, steady states, activity runs) is in ours.
fn assert_same_shape(ctk: &Value, ours: &Value) {
    let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<BTreeSet<_>>()).unwrap_or_default();
    let missing = |a: &Value, b: &Value| keys(a).difference(&keys(b)).cloned().collect::<Vec<_>>();
    // `platform`/`node` hold different machines' words; the version key is Chaos Toolkit's own.
    let top: Vec<_> = missing(ctk, ours).into_iter().filter(|k| k != "chaoslib-version").collect();
    assert!(top.is_empty(), "our journal lacks {top:?}");
    for state in ["before", "after"] {
        assert!(
            missing(&ctk["steady_states"][state], &ours["steady_states"][state]).is_empty(),
            "steady_states.{state}"
        );
        let (theirs, mine) = (&ctk["steady_states"][state]["probes"][0], &ours["steady_states"][state]["probes"][0]);
        assert!(missing(theirs, mine).is_empty(), "a probe run lacks {:?}", missing(theirs, mine));
    }
    let (theirs, mine) = (&ctk["run"][0], &ours["run"][0]);
    assert!(missing(theirs, mine).is_empty(), "an activity run lacks {:?}", missing(theirs, mine));
}
