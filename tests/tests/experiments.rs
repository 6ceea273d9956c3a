//! `chaoslab experiment` end to end: the scenarios of `experiments/` run
//! against a real `chaoslab up` with short durations and hold; a hypothesis
//! that must fail deviates and names its probe; rollbacks run after a
//! failed action and after Ctrl-C; `--spawn` plays the platform for the
//! hang; bad files and unreachable targets exit 2 with one clear error.

use std::time::Duration;

use chaoslab_tests::Chaoslab;
use chaoslab_tests::experiment::{
    Run, active_experiments, assert_journal_shape, assert_report_shape, experiments_dir, fixture, validate,
};

/// Short durations for the gate: 3 s faults inside an 8 s load.
const SHORT: [&str; 2] = ["fault_seconds:int=3", "load_seconds:int=8"];
/// Longest a short scenario may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(90);

#[tokio::test]
async fn local_scenarios_hold_and_leave_a_journal_and_a_report() {
    let app = Chaoslab::builder().start();
    for name in ["redis-block.json", "high-load.json", "bad-deployment.json"] {
        let done = Run::new(&experiments_dir().join(name)).against(&app.url("")).vars(&SHORT).finish(RUN_TIMEOUT);
        assert_eq!(done.code, 0, "{name} did not hold:\n{}", done.stderr);
        assert_journal_shape(done.journal());
        assert_report_shape(done.report());
        assert!(done.report().contains("The hypothesis held"), "{name}: the report does not say so");
        let ours = done.chaoslab();
        for phase in ["before", "during", "after"] {
            assert!(ours["measured"][phase]["requests"].as_u64() > Some(0), "{name}: no load {phase} the method");
        }
        assert_eq!(ours["measured"]["counter"]["matches"], true, "{name}: {}", ours["measured"]["counter"]);
        assert!(active_experiments(&app).await.is_empty(), "{name} left a fault active");
        if name == "redis-block.json" {
            // The block shows: 503s while it lasts, a fault window, detection and recovery measured.
            assert!(
                ours["measured"]["during"]["by_status"]["503"].as_u64() > Some(0),
                "{}",
                ours["measured"]["during"]
            );
            assert_eq!(ours["faults"][0]["kind"], "redis");
            let seen = &ours["measured"]["faults"][0];
            assert!(seen["time_to_detect_s"].as_f64().is_some_and(|t| t < 2.0), "{seen}");
            assert!(seen["time_to_recover_s"].as_f64().is_some_and(|t| t < 2.0), "{seen}");
        }
        if name == "bad-deployment.json" {
            // The new revision failed at its gate; the old one kept all the traffic.
            let run = done.journal()["run"].as_array().expect("run[]");
            let output = |activity: &str| {
                let found = run.iter().find(|a| a["activity"]["name"] == activity);
                found.map(|a| a["output"].clone()).unwrap_or_else(|| panic!("{activity} did not run"))
            };
            assert_eq!(output("deploy-bad-revision")["status"], 202);
            let listed = output("list-api-revisions")["body"].clone();
            let revisions = listed["revisions"].as_array().unwrap_or_else(|| panic!("{listed}"));
            let newest = revisions.iter().max_by_key(|r| r["number"].as_u64()).expect("a revision");
            assert_eq!((&newest["state"], &newest["reason"]["kind"]), (&"failed".into(), &"read".into()), "{newest}");
            assert_eq!(listed["traffic"]["api"], serde_json::json!({"api-rev-1": 100}), "{listed}");
        }
    }
}

#[tokio::test]
async fn a_hypothesis_that_must_fail_deviates_and_names_the_probe_and_value() {
    let app = Chaoslab::builder().start();
    let done = Run::new(&fixture("must-fail.json")).against(&app.url("")).finish(RUN_TIMEOUT);
    assert_eq!(done.code, 1, "expected a deviation:\n{}", done.stderr);
    let journal = done.journal();
    assert_journal_shape(journal);
    assert_eq!(journal["deviated"], true);
    assert_eq!(journal["status"], "completed");
    let probe = &journal["steady_states"]["after"]["probes"][0];
    assert_eq!(
        (&probe["activity"]["name"], &probe["tolerance_met"], &probe["output"]["status"]),
        (&"health-is-200".into(), &false.into(), &503.into())
    );
    let reasons = done.chaoslab()["verdict"]["reasons"].to_string();
    assert!(reasons.contains("health-is-200") && reasons.contains("503"), "{reasons}");
    assert!(reasons.contains("during.max_error_ratio"), "the load's tolerance failed too: {reasons}");
    let report = done.report();
    assert_report_shape(report);
    assert!(
        report.contains("DEVIATED") && report.contains("health-is-200") && report.contains("→ 503"),
        "the report hides the failure"
    );
    assert!(active_experiments(&app).await.is_empty(), "the rollback did not stop the fault");
}

#[tokio::test]
async fn rollbacks_run_after_a_failed_action_and_after_ctrl_c() {
    let app = Chaoslab::builder().start();

    let done = Run::new(&fixture("failed-action.json")).against(&app.url("")).finish(RUN_TIMEOUT);
    assert_eq!(done.code, 0, "a failed action does not fail the run (Chaos Toolkit's rule):\n{}", done.stderr);
    let journal = done.journal();
    assert_journal_shape(journal);
    assert_eq!(journal["run"][1]["status"], "failed", "{}", journal["run"][1]);
    assert!(journal["run"][1]["exception"][0].as_str().is_some_and(|e| e.contains("127.0.0.1:1")));
    assert_eq!(journal["rollbacks"][0]["status"], "succeeded");
    assert!(active_experiments(&app).await.is_empty(), "the rollback after the failed action did not run");

    let running = Run::new(&fixture("interrupt.json")).against(&app.url("")).spawn();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while active_experiments(&app).await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the fault never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    chaoslab_tests::signal::send(running.child.id(), libc::SIGINT).expect("SIGINT the runner");
    let done = running.wait(Duration::from_secs(30));
    assert_eq!(done.code, 2, "an interrupted run could not run to its end:\n{}", done.stderr);
    let journal = done.journal();
    assert_journal_shape(journal);
    assert_eq!(journal["status"], "interrupted");
    assert_eq!(journal["rollbacks"][0]["status"], "succeeded", "{}", journal["rollbacks"]);
    assert!(active_experiments(&app).await.is_empty(), "Ctrl-C left the fault active");
}

#[tokio::test]
async fn spawn_plays_the_platform_and_restarts_a_hung_target() {
    // The liveness probe has Azure Container Apps' settings (10 s period,
    // 5 s timeout, 3 failures): detection takes 25-35 s, as on Azure.
    let manifest = chaoslab_tests::artifacts::test_manifest();
    let done = Run::new(&experiments_dir().join("hang.json"))
        .args(&["--spawn", "--manifest", manifest.to_str().expect("UTF-8 path")])
        .finish(Duration::from_secs(150));
    assert_eq!(done.code, 0, "the hang scenario did not hold:\n{}", done.stderr);
    assert_journal_shape(done.journal());
    assert_report_shape(done.report());
    let ours = done.chaoslab();
    let restarts = ours["platform"]["restarts"].as_array().expect("platform.restarts");
    assert_eq!(restarts.len(), 1, "one restart expected: {restarts:?}");
    assert!(restarts[0]["first_200_s"].is_number(), "no 200 after the restart: {}", restarts[0]);
    let hang = ours["faults"].as_array().and_then(|f| f.iter().find(|w| w["kind"] == "hang")).expect("a hang window");
    assert_eq!(hang["end_reason"], "replica restarted");
    let seen = &ours["measured"]["faults"][0];
    assert_eq!(seen["by"], "liveness probe");
    let detect = seen["time_to_detect_s"].as_f64().expect("time to detect");
    assert!((15.0..=40.0).contains(&detect), "detection after {detect} s; the probe's settings give 20-35 s");
    assert_eq!(ours["runner"]["spawned"], true);
    assert!(ours["runner"]["target_cpu_seconds"].is_number());
}

#[test]
fn bad_files_exit_2_with_one_error_naming_the_field() {
    let cases = [
        ("unknown-provider.json", "method[0].provider.type: unknown provider type \"grpc\""),
        ("missing-tolerance.json", "steady-state-hypothesis.probes[0].tolerance: missing"),
    ];
    let env = [("CHAOSLAB_CHAOS_TOKEN", "t")];
    for (file, message) in cases {
        let done = Run::new(&fixture(file)).env("CHAOSLAB_CHAOS_TOKEN", "t").finish(RUN_TIMEOUT);
        assert_eq!(done.code, 2, "{file}:\n{}", done.stderr);
        assert_one_error(&done.stderr, message);
        assert!(done.journal.is_none(), "{file}: nothing ran, so no journal");
        let (code, stderr) = validate(&[&fixture(file)], &env);
        assert_eq!(code, 2, "validate {file}:\n{stderr}");
        assert_one_error(&stderr, message);
    }
    let (code, stderr) = validate(&[&experiments_dir().join("redis-block.json")], &[]);
    assert_eq!(code, 2);
    assert_one_error(
        &stderr,
        "configuration.token: environment variable CHAOSLAB_CHAOS_TOKEN is not set and has no default",
    );
}

#[test]
fn an_unreachable_target_exits_2_naming_the_url() {
    let done = Run::new(&experiments_dir().join("redis-block.json"))
        .against("http://127.0.0.1:1")
        .vars(&SHORT)
        .finish(RUN_TIMEOUT);
    assert_eq!(done.code, 2, "{}", done.stderr);
    assert_one_error(&done.stderr, "could not reach http://127.0.0.1:1/");
    assert_eq!(done.journal()["status"], "failed");
    assert!(done.journal()["run"].as_array().is_some_and(Vec::is_empty), "the method must not run");
}

#[test]
fn every_experiment_file_validates() {
    let files: Vec<_> = std::fs::read_dir(experiments_dir())
        .expect("experiments/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert!(files.len() >= 8, "the four scenarios, local and Azure: {files:?}");
    let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    let (code, stderr) =
        validate(&paths, &[("CHAOSLAB_CHAOS_TOKEN", "t"), ("CHAOSLAB_URL", "https://chaoslab.example")]);
    assert_eq!(code, 0, "{stderr}");
}

/// Exactly one `error:` line, holding `message`.
fn assert_one_error(stderr: &str, message: &str) {
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error:")).collect();
    assert_eq!(errors.len(), 1, "one error line expected:\n{stderr}");
    assert!(errors[0].contains(message), "{:?} does not say {message:?}", errors[0]);
}
