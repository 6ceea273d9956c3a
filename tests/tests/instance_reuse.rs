//! `--instance-reuse N`: instances of a component that declares itself
//! stateless serve up to `N` requests in sequence; a trap, a timeout or a
//! memory grown past the high-water mark retires one, so a misbehaving
//! request never reaches the next through its instance. Components that do
//! not declare it, and every component by default, get a fresh instance per
//! request (Spin's semantics). The test guest's `/count` answers how many
//! requests its instance served.

use std::time::Duration;

use chaoslab_tests::{Chaoslab, Link, RedisServer, artifacts};

/// A manifest serving the unwrapped test guest at `/...`, declared
/// stateless or not.
fn manifest(stateless: bool) -> (tempfile::TempDir, std::path::PathBuf) {
    let wasm = artifacts::target_dir().join("wasm32-wasip2/release/chaoslab_test_guest.wasm");
    let tool = if stateless { "[component.guest.tool.chaoslab]\nstateless = true\n" } else { "" };
    let text = format!(
        "spin_manifest_version = 2\n[application]\nname = \"reuse\"\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"guest\"\n\
         [component.guest]\nsource = {:?}\n{tool}",
        wasm.display().to_string()
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn start(redis: &RedisServer, stateless: bool, args: &[&str]) -> (tempfile::TempDir, Chaoslab) {
    let (dir, path) = manifest(stateless);
    let app = Chaoslab::builder().manifest(&path).redis(&redis.url()).args(args.iter().copied()).start();
    (dir, app)
}

/// `GET path` and its body, after the previous request's instance is back
/// in the pool: the guest returns just after its response is sent, and
/// only then is the instance kept; a request sent in between would get a
/// fresh instance, which is correct but not what these tests observe.
async fn get(app: &Chaoslab, path: &str) -> (u16, String) {
    tokio::time::sleep(Duration::from_millis(150)).await;
    let resp = app.get(path).await;
    (resp.status, resp.text())
}

async fn counts(app: &Chaoslab, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        let (status, body) = get(app, "/count").await;
        assert_eq!(status, 200, "{body}");
        out.push(body);
    }
    out
}

#[tokio::test]
async fn an_instance_serves_up_to_n_requests_then_a_fresh_one_takes_over() {
    let redis = RedisServer::start();
    let (_dir, app) = start(&redis, true, &["--instance-reuse", "3"]);
    assert!(app.logs().contains("component guest: instances reused for up to 3 requests"), "{}", app.logs());
    assert_eq!(counts(&app, 7).await, ["1", "2", "3", "1", "2", "3", "1"]);
}

#[tokio::test]
async fn a_trap_a_timeout_or_a_bloated_memory_retires_the_instance() {
    let redis = RedisServer::start();
    let (_dir, app) = start(&redis, true, &["--instance-reuse", "100", "--request-timeout", "300ms"]);
    assert_eq!(counts(&app, 2).await, ["1", "2"]);
    assert_eq!(get(&app, "/trap").await.0, 500);
    assert_eq!(counts(&app, 2).await, ["1", "2"], "the trapped instance is gone");
    assert_eq!(get(&app, "/loop").await.0, 504);
    assert_eq!(counts(&app, 2).await, ["1", "2"], "the instance that ran out of time is gone");
    assert_eq!(get(&app, "/grow?mb=1").await.0, 200);
    assert_eq!(counts(&app, 1).await, ["4"], "1 MiB more is under the high-water mark: kept");
    assert_eq!(get(&app, "/grow?mb=20").await.0, 200);
    assert_eq!(counts(&app, 1).await, ["1"], "a memory grown past 16 MiB retires the instance");
}

#[tokio::test]
async fn without_the_declaration_or_the_flag_every_request_gets_a_fresh_instance() {
    let redis = RedisServer::start();
    let (_dir, undeclared) = start(&redis, false, &["--instance-reuse", "3"]);
    assert!(undeclared.logs().contains("component guest: a fresh instance per request"), "{}", undeclared.logs());
    assert_eq!(counts(&undeclared, 3).await, ["1", "1", "1"]);
    let (_dir, default) = start(&redis, true, &[]);
    assert_eq!(counts(&default, 3).await, ["1", "1", "1"]);
}

#[test]
fn instance_reuse_needs_the_in_process_link() {
    let (_dir, path) = manifest(true);
    let failure = Chaoslab::builder()
        .manifest(&path)
        .link(Link::Loopback)
        .redis("redis://127.0.0.1:1")
        .args(["--instance-reuse", "2"])
        .try_start()
        .err()
        .expect("started with --instance-reuse over the loopback link");
    assert!(failure.stderr.contains("--instance-reuse needs --link inprocess"), "{}", failure.stderr);
    assert!(!failure.stderr.contains("listening on"), "bound before failing: {}", failure.stderr);
}
