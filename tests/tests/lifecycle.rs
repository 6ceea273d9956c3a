//! Start-up and shutdown of `chaoslab up`: configuration errors before
//! binding, the embedded Redis default, graceful drain on SIGTERM.

use std::time::Duration;

use chaoslab_tests::{Chaoslab, Link, RedisServer, artifacts};
use rstest::rstest;

/// Writes a manifest into a temp dir and returns `(dir, path)`.
fn manifest(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// A valid manifest pointing at the built api component.
fn api_manifest(extra: &str) -> String {
    let wasm = artifacts::target_dir().join("wasm32-wasip2/release/chaoslab_api.wasm");
    format!(
        "spin_manifest_version = 2\n[application]\nname = \"t\"\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"api\"\n\
         [component.api]\nsource = {:?}\n{extra}",
        wasm.display().to_string()
    )
}

/// Starts chaoslab expecting a start-up failure; returns its stderr.
fn start_fails(builder: chaoslab_tests::chaoslab::Builder) -> String {
    let failure = match builder.try_start() {
        Ok(_) => panic!("chaoslab started, but the configuration is invalid"),
        Err(failure) => failure,
    };
    assert!(!failure.status.success());
    assert!(!failure.stderr.contains("listening on"), "bound before failing: {}", failure.stderr);
    failure.stderr
}

#[rstest]
#[test]
fn unreadable_manifest_is_a_clear_error(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let err =
        start_fails(Chaoslab::builder().link(link).manifest("/nonexistent/spin.toml").redis("redis://127.0.0.1:1"));
    assert!(err.contains("cannot read manifest /nonexistent/spin.toml"), "{err}");
    assert_eq!(err.matches("(os error 2)").count(), 1, "the cause said once: {err}");
}

#[rstest]
#[test]
fn unknown_component_is_a_clear_error(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let (_dir, path) = manifest(&api_manifest("[[trigger.http]]\nroute = \"/x\"\ncomponent = \"nope\"\n"));
    let err = start_fails(Chaoslab::builder().link(link).manifest(&path).redis("redis://127.0.0.1:1"));
    assert!(
        err.contains(&format!("{}: [[trigger.http]] route \"/x\" component: no component \"nope\"", path.display())),
        "{err}"
    );
}

#[rstest]
#[test]
fn route_clash_is_a_clear_error(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let (_dir, path) = manifest(&api_manifest("[[trigger.http]]\nroute = \"/...\"\ncomponent = \"api\"\n"));
    let err = start_fails(Chaoslab::builder().link(link).manifest(&path).redis("redis://127.0.0.1:1"));
    assert!(err.contains("[[trigger.http]] route \"/...\": clashes with route \"/...\""), "{err}");
}

#[rstest]
#[test]
fn missing_wasm_is_a_clear_error(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let (_dir, path) = manifest(
        "spin_manifest_version = 2\n[application]\nname = \"t\"\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"api\"\n\
         [component.api]\nsource = \"missing.wasm\"\n[component.api.build]\ncommand = \"make api\"\n",
    );
    let err = start_fails(Chaoslab::builder().link(link).manifest(&path).redis("redis://127.0.0.1:1"));
    assert!(err.contains("[component.api] source:") && err.contains("missing.wasm does not exist"), "{err}");
    assert!(err.contains("build it with `make api`"), "{err}");
}

#[rstest]
#[test]
fn unknown_manifest_field_is_a_clear_error(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let (_dir, path) = manifest(&api_manifest("allowed_hosts = []\n"));
    let err = start_fails(Chaoslab::builder().link(link).manifest(&path).redis("redis://127.0.0.1:1"));
    assert!(err.contains("unknown field `allowed_hosts`"), "{err}");
}

#[rstest]
#[test]
fn missing_redis_server_says_how_to_fix_it(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let err = start_fails(Chaoslab::builder().link(link).args(["--redis-server", "/nonexistent/redis-server"]));
    assert!(err.contains("/nonexistent/redis-server not found"), "{err}");
    assert!(err.contains("apt-get install redis-server") && err.contains("CHAOSLAB_REDIS_URL"), "{err}");
}

#[rstest]
#[tokio::test]
async fn without_a_redis_url_it_runs_its_own_redis(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let app = Chaoslab::builder().link(link).manifest(artifacts::app_manifest()).start();
    assert_eq!(app.get("/").await.json()["visits"], 1);
    assert_eq!(app.get("/").await.json()["visits"], 2);
    assert_eq!(app.get("/health").await.status, 200);
    assert!(app.logs().contains("started redis-server"));
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests_and_exits_0(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let redis = RedisServer::start();
    let mut app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    let in_flight: Vec<_> = (0..3)
        .map(|_| tokio::spawn(chaoslab_tests::get(app.url("/test/sleep?ms=1500"), Duration::from_secs(10))))
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.sigterm();
    for request in in_flight {
        let resp = request.await.unwrap().expect("in-flight request completes");
        assert_eq!(resp.status, 200, "{}", resp.text());
        assert_eq!(resp.text(), "slept 1500 ms");
    }
    let status = tokio::task::spawn_blocking(move || {
        let status = app.wait(Duration::from_secs(10));
        app.wait_for_log("draining");
        (status, app.logs())
    })
    .await
    .unwrap();
    assert!(status.0.success(), "exit status {:?}; logs:\n{}", status.0, status.1);
    assert!(status.1.contains("draining"), "{}", status.1);
}

/// Pids of the direct children of `pid`.
fn children(pid: u32) -> Vec<u32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("children")).ok())
        .flat_map(|s| s.split_whitespace().filter_map(|p| p.parse().ok()).collect::<Vec<u32>>())
        .collect()
}

#[rstest]
#[test]
fn its_own_redis_dies_with_it_even_on_sigkill(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let mut app = Chaoslab::builder().link(link).manifest(artifacts::app_manifest()).start();
    let redis_pids = children(app.engine_pid());
    assert_eq!(redis_pids.len(), 1, "expected exactly the redis-server child, got {redis_pids:?}");
    // SIGKILL whichever process owns Redis: the sidecar in loopback mode.
    if let Some(sidecar) = app.sidecar() {
        sidecar.kill();
    } else {
        chaoslab_tests::signal::send(app.pid(), libc::SIGKILL).unwrap();
        app.wait(Duration::from_secs(5));
    }
    let start = std::time::Instant::now();
    while std::path::Path::new(&format!("/proc/{}", redis_pids[0])).exists() {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", redis_pids[0])).unwrap_or_default();
        if stat.contains(") Z ") {
            break; // a zombie waiting for init to reap it: dead
        }
        assert!(start.elapsed() < Duration::from_secs(2), "redis-server {} outlived chaoslab", redis_pids[0]);
        std::thread::sleep(Duration::from_millis(20));
    }
}
