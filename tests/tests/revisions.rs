//! Revisions end to end, under load: the real runtime, real components, a
//! client loop calling `GET /` throughout each case, and at the end the
//! Redis counter equal to the number of `200`s. Bad builds fail at their
//! gate (or are rolled back as canaries) while clients see only `200`s
//! from the revision that keeps serving; good builds take over atomically.

use std::time::{Duration, Instant};

use chaoslab_tests::proc_stat::rss_mib;
use chaoslab_tests::revisions::{Answers, ClientLoop, api_build, wasm, wasm_path};
use chaoslab_tests::{Chaoslab, Link, RedisServer};
use rstest::rstest;
use serde_json::{Value, json};

/// Concurrent clients of the loop: enough to keep requests in flight
/// across every swap, few enough for a 2-core machine running other tests.
const CLIENTS: usize = 2;
/// Longest a rollout may take here (compilation on a loaded 2-core machine).
const ROLLOUT: Duration = Duration::from_secs(60);

/// Lets the client loop run a little after a change, so requests meet it.
async fn under_load() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// The test manifest served in `link` mode with its own Redis, the client
/// loop already running.
async fn serving_under_load(link: Link) -> (RedisServer, Chaoslab, ClientLoop) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    let load = ClientLoop::start(app.url("/"), CLIENTS);
    under_load().await;
    (redis, app, load)
}

/// Every answer was a `200`, and Redis counted exactly those (and the
/// test's own `extra` successful `GET /`s).
fn assert_only_200s(answers: &Answers, redis: &RedisServer, extra: usize) {
    assert!(answers.count(200) > 0, "the loop got no answer: {}", answers.summary());
    assert!(answers.not_ok().is_empty(), "clients saw failures: {}", answers.summary());
    assert_counter(answers, redis, extra);
}

/// The visit counter equals the number of `200`s (plus `extra`).
fn assert_counter(answers: &Answers, redis: &RedisServer, extra: usize) {
    let counted = redis.get_int("chaoslab:visits");
    assert_eq!(counted, (answers.count(200) + extra) as i64, "counter vs 200s + {extra}: {}", answers.summary());
}

fn kind(revision: &Value) -> &str {
    revision["reason"]["kind"].as_str().unwrap_or_default()
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_truncated_and_non_http_builds_fail_and_clients_see_only_200s(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let (redis, app, load) = serving_under_load(link).await;

    let missing = app.deploy(json!({"component": "api", "source": "/nonexistent/api.wasm"})).await;
    assert_eq!((missing["state"].as_str(), kind(&missing)), (Some("failed"), "read"), "{missing:#}");
    assert!(missing["reason"]["message"].as_str().unwrap().contains("/nonexistent/api.wasm"), "{missing:#}");
    assert_eq!(missing["sha256"], Value::Null);

    let api = wasm("chaoslab_api.wasm");
    let truncated = app.deploy_bytes("component=api", api[..api.len() / 2].to_vec()).await;
    let truncated = app.settled(truncated["id"].as_str().unwrap(), ROLLOUT).await;
    assert_eq!((truncated["state"].as_str(), kind(&truncated)), (Some("failed"), "compile"), "{truncated:#}");

    // The sidecar-link bridge is a component, but not an HTTP one.
    let bridge = wasm_path("chaoslab_sidecar_link.wasm").display().to_string();
    let no_http = app.deploy(json!({"component": "api", "source": bridge})).await;
    let no_http = app.settled(no_http["id"].as_str().unwrap(), ROLLOUT).await;
    assert_eq!(no_http["state"], "failed", "{no_http:#}");
    let expected = match link {
        Link::InProcess => "instantiate", // no wasi:http/incoming-handler export
        Link::Loopback => "compose",      // nothing for the bridge to plug into
        Link::Spin => unreachable!("the Spin CLI has no revisions"),
    };
    assert_eq!(kind(&no_http), expected, "{no_http:#}");

    under_load().await;
    let answers = load.stop().await;
    assert_only_200s(&answers, &redis, 0);
    assert_eq!(answers.by_revision().keys().collect::<Vec<_>>(), ["api-rev-1"], "{}", answers.summary());
    assert_eq!(app.revision("api-rev-1").await["state"], "active");
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builds_that_trap_fail_or_hang_on_readiness_fail_their_gate_and_clients_see_only_200s(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let (redis, app, load) = serving_under_load(link).await;
    // The test guest as an api build: `/trap` traps, `/` answers 500, `/loop` never answers.
    let guest = wasm("chaoslab_test_guest.wasm");
    for (path, expected, message) in [
        ("%2Ftrap", "trap", "readiness GET /trap trapped: "),
        ("%2F", "status", "readiness GET / answered 500"),
        ("%2Floop", "timeout", "readiness GET /loop did not answer within"),
    ] {
        let query = format!("component=api&readiness.path={path}&readiness.timeout_ms=2000");
        let started = app.deploy_bytes(&query, guest.clone()).await;
        let failed = app.settled(started["id"].as_str().unwrap(), ROLLOUT).await;
        assert_eq!((failed["state"].as_str(), kind(&failed)), (Some("failed"), expected), "{failed:#}");
        assert!(failed["reason"]["message"].as_str().unwrap().starts_with(message), "{failed:#}");
        assert_eq!(failed["traffic"], 0);
        assert!(
            app.logs().contains(&format!(
                "revision failed; the serving revisions keep serving revision={}",
                failed["id"].as_str().unwrap()
            )),
            "{}",
            app.logs()
        );
    }
    under_load().await;
    let answers = load.stop().await;
    assert_only_200s(&answers, &redis, 0);
    assert_eq!(answers.by_revision().keys().collect::<Vec<_>>(), ["api-rev-1"], "{}", answers.summary());
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_build_takes_over_atomically_and_the_old_revision_retires(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let (redis, app, load) = serving_under_load(link).await;
    let build = api_build("good");
    let started = app.deploy_bytes("component=api", build.clone()).await;
    assert_eq!(started["state"], "provisioning");
    assert_eq!(started["source"], json!({"kind": "upload", "bytes": build.len()}));
    let active = app.settled("api-rev-2", ROLLOUT).await;
    assert_eq!((active["state"].as_str(), active["traffic"].as_u64()), (Some("active"), Some(100)), "{active:#}");
    assert!(active["timings"]["compile_ms"].is_u64() && active["timings"]["gate_ms"].is_u64(), "{active:#}");
    let old = app.wait_state("api-rev-1", "retired", Duration::from_secs(10)).await;
    assert_eq!((old["traffic"].as_u64(), old["in_flight"].as_u64()), (Some(0), Some(0)), "{old:#}");
    assert_eq!(old["loaded"], true, "kept for an instant activate");
    under_load().await;
    let answers = load.stop().await;
    assert_only_200s(&answers, &redis, 0);
    let last = answers.0.last().unwrap();
    assert_eq!(last.revision.as_deref(), Some("api-rev-2"), "{}", answers.summary());
    assert!(answers.by_revision()["api-rev-2"][&200] > 0, "{}", answers.summary());
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_swaps_under_load_lose_nothing_and_memory_grows_only_by_the_code_kept(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let redis = RedisServer::start();
    // mimalloc returns freed pages to the OS at once instead of after its
    // purge delay: otherwise RSS right after a rollout carries tens of MiB
    // of its compilation's freed memory (more with --link loopback, which
    // composes), and what is measured is the allocator's cache, not what
    // is still alive.
    let app = Chaoslab::builder().link(link).redis(&redis.url()).env("MIMALLOC_PURGE_DELAY", "0").start();
    let load = ClientLoop::start(app.url("/"), CLIENTS);
    let code_kept = |list: &Value| -> f64 {
        let revisions = list["revisions"].as_array().unwrap().iter();
        revisions.filter_map(|r| r["code_bytes"].as_u64()).sum::<u64>() as f64 / (1024.0 * 1024.0)
    };
    // The lowest of a few looks: requests in flight come and go.
    let rss_floor = || async {
        let mut floor = f64::MAX;
        for _ in 0..5 {
            floor = floor.min(rss_mib(app.pid()).unwrap());
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        floor
    };
    let (mut floors, mut kept) = (Vec::new(), Vec::new());
    let started = Instant::now();
    for n in 2..=21 {
        let id = format!("api-rev-{n}");
        app.deploy_bytes("component=api", api_build(&format!("swap-{n}"))).await;
        let active = app.settled(&id, ROLLOUT).await;
        assert_eq!(active["state"], "active", "{active:#}\n{}", app.logs());
        app.wait_state(&format!("api-rev-{}", n - 1), "retired", Duration::from_secs(10)).await;
        floors.push(rss_floor().await);
        kept.push(code_kept(&app.list().await));
    }
    let took = started.elapsed();
    let list = app.list().await;
    let answers = load.stop().await;
    // From swap 7 on, the revisions not serving fill --keep-revisions (5):
    // the code kept stops growing. Compare the floor of swaps 7-11 with
    // that of swaps 17-21.
    let floor = |swaps: &[f64]| swaps.iter().copied().fold(f64::MAX, f64::min);
    let (before, after) = (floor(&floors[5..10]), floor(&floors[15..20]));
    let (code_before, code_after) = (kept[9], kept[19]);
    eprintln!(
        "{link:?}: 20 swaps in {took:.1?} under load ({}); RSS floor {before:.1} MiB (swaps 7-11) -> {after:.1} MiB \
         (swaps 17-21), code kept {code_before:.1} -> {code_after:.1} MiB; floors {floors:.0?}",
        answers.summary()
    );
    assert_only_200s(&answers, &redis, 0);
    let loaded =
        list["revisions"].as_array().unwrap().iter().filter(|r| r["component"] == "api" && r["loaded"] == true);
    assert_eq!(loaded.count(), 6, "the serving revision and the 5 most recent others: {list:#}");
    assert_eq!(code_before, code_after, "the code kept is bounded by --keep-revisions");
    // A leak of each swap's compiled code (1-3 MiB) raises the floor at
    // every swap: 10-30 MiB over 10 swaps, spread over them. The allocator
    // may instead take one more segment once (a long-lived object pins
    // it: a single step, flat after, seen at ~9 MiB on a slow VM). So the
    // growth less its one largest swap-to-swap jump must stay small (a
    // leak of 0.5 MiB per swap already fails that), and the step bounded.
    let growth = after - before;
    let largest_jump = floors[5..20].windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    assert!(
        growth - largest_jump <= 4.0 && growth <= 16.0,
        "RSS floor {before:.1} -> {after:.1} MiB over 10 swaps, {largest_jump:.1} MiB of it in one swap: {floors:.0?}"
    );
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_canary_is_rolled_back_within_its_window_and_an_older_revision_activates_at_once(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let (redis, app, load) = serving_under_load(link).await;
    // Healthy on /health, 500 on GET /: it passes its gate, its share fails.
    let window = 20;
    let query = format!("component=api&traffic=20&watch.requests={window}&watch.seconds=30");
    let canary = app.deploy_bytes(&query, wasm("chaoslab_test_guest.wasm")).await;
    let started = Instant::now();
    let id = canary["id"].as_str().unwrap().to_owned();
    let rolled_back = app.settled(&id, ROLLOUT).await;
    assert!(started.elapsed() < Duration::from_secs(30) + ROLLOUT, "within the window");
    assert_eq!((rolled_back["state"].as_str(), kind(&rolled_back)), (Some("failed"), "rollback"), "{rolled_back:#}");
    let reason = rolled_back["reason"]["message"].as_str().unwrap();
    assert!(reason.starts_with("5xx ratio 100.0 % (") && reason.contains("against 0.0 %"), "{reason}");
    assert_eq!(rolled_back["canary"]["outcome"], "rolled_back");
    assert_eq!(rolled_back["traffic"], 0);
    assert_eq!(app.revision("api-rev-1").await["traffic"], 100, "the old revision serves everything again");
    under_load().await;

    // A good build replaces api-rev-1; then api-rev-1 comes back at once.
    app.deploy_bytes("component=api", api_build("canary-test")).await;
    assert_eq!(app.settled("api-rev-3", ROLLOUT).await["state"], "active");
    app.wait_state("api-rev-1", "retired", Duration::from_secs(10)).await;
    let activating = Instant::now();
    let resp = app.control(http::Method::POST, "/_chaoslab/revisions/api-rev-1/activate", "", Default::default()).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(app.get("/").await.header("x-chaoslab-revision"), Some("api-rev-1"));
    let activated = activating.elapsed();
    under_load().await;

    let answers = load.stop().await;
    eprintln!(
        "{link:?}: canary rolled back after {:?}; activate took effect within {activated:?}; {}",
        started.elapsed(),
        answers.summary()
    );
    let by_revision = answers.by_revision();
    // Errors only on the canary's share, and only the window's worth of them
    // (plus what the clients had in flight when it closed).
    let failures = answers.not_ok();
    assert!(!failures.is_empty(), "{}", answers.summary());
    assert!(
        failures.iter().all(|a| a.status == 500 && a.revision.as_deref() == Some(id.as_str())),
        "{}",
        answers.summary()
    );
    assert_eq!(by_revision[&id].get(&200), None, "{}", answers.summary());
    // Past the window, only requests that picked it before the rollback
    // took effect (a few per client on a loaded machine).
    assert!(failures.len() <= window + 2 * CLIENTS, "{}", answers.summary());
    assert_counter(&answers, &redis, 1);
    assert!(activated < Duration::from_secs(2), "activate took {activated:?}");
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_deploys_a_rebuilt_api_and_refuses_garbage_without_dropping_a_request(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    // A copy of the test manifest whose api .wasm is a file of this test.
    let dir = tempfile::tempdir().unwrap();
    let api = dir.path().join("api.wasm");
    std::fs::write(&api, wasm("chaoslab_api_wrapped.wasm")).unwrap();
    let fixtures = chaoslab_tests::artifacts::test_manifest();
    let text = std::fs::read_to_string(&fixtures).unwrap();
    let release = wasm_path("chaoslab_api_wrapped.wasm").parent().unwrap().display().to_string();
    let text = text
        .replace(
            "\"../../target/wasm32-wasip2/release/chaoslab_api_wrapped.wasm\"",
            &format!("{:?}", api.display().to_string()),
        )
        .replace("../../target/wasm32-wasip2/release", &release);
    let manifest = dir.path().join("spin.toml");
    std::fs::write(&manifest, text).unwrap();

    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).manifest(&manifest).redis(&redis.url()).args(["--watch"]).start();
    let load = ClientLoop::start(app.url("/"), CLIENTS);
    under_load().await;

    std::fs::write(&api, api_build("watched")).unwrap();
    wait_for_log(&app, "new build of api is live as api-rev-2").await;
    assert_eq!(app.get("/").await.header("x-chaoslab-revision"), Some("api-rev-2"));
    assert_eq!(app.revision("api-rev-2").await["source"], json!({"kind": "watch", "path": api.display().to_string()}));

    std::fs::write(&api, b"not a wasm component, a broken build").unwrap();
    wait_for_log(&app, "new build of api refused, api-rev-2 keeps serving: compile: ").await;
    let refused = app.revision("api-rev-3").await;
    assert_eq!((refused["state"].as_str(), kind(&refused)), (Some("failed"), "compile"), "{refused:#}");
    under_load().await;

    let answers = load.stop().await;
    assert_only_200s(&answers, &redis, 1);
    assert_eq!(answers.0.last().unwrap().revision.as_deref(), Some("api-rev-2"), "{}", answers.summary());
    let refusals = app.logs().lines().filter(|l| l.contains("new build of api refused")).count();
    assert_eq!(refusals, 1, "one line per refused build:\n{}", app.logs());
}

/// Waits (async, so the client loop keeps running) for `needle` in the logs.
async fn wait_for_log(app: &Chaoslab, needle: &str) {
    let start = Instant::now();
    while !app.logs().contains(needle) {
        assert!(start.elapsed() < ROLLOUT, "no {needle:?} in:\n{}", app.logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
