//! The second-language handler (`examples/python`, componentize-py) serves
//! chaoslab's contract through `chaoslab:sidecar/store`, never imports
//! `chaos`, and gets every data-plane and Redis fault anyway, from the chaos
//! layer it is served wrapped in and from the sidecar's store calls. Both
//! link modes, with `chaoslab up --manifest examples/python/spin.toml`.

use std::time::Duration;

use chaoslab_tests::{Chaoslab, ComponentWorld, Link, RedisServer, artifacts};
use http::Method;
use rstest::rstest;

/// A cold start compiles the 23 MB wrapped component (CPython inside):
/// 15-45 s on a busy 2-core machine, paid once per link mode thanks to the
/// tests' compiled-component cache.
const COLD_START: Duration = Duration::from_secs(240);

/// Held for a whole case: each link mode compiles its own composition, and
/// two cold compiles at once on 2 cores would each take twice as long.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[test]
fn python_handler_imports_store_and_never_chaos() {
    let world = ComponentWorld::read(&artifacts::python_handler());
    assert!(world.imports.iter().any(|i| i == "chaoslab:sidecar/store@0.1.0"), "{:?}", world.imports);
    assert!(!world.imports_from("chaoslab:sidecar/chaos"), "the Python handler imports chaos: {:?}", world.imports);
    assert!(world.exports.iter().any(|e| e == "wasi:http/incoming-handler@0.2.0"), "{:?}", world.exports);
    let others: Vec<&String> =
        world.imports.iter().filter(|i| !i.starts_with("wasi:") && !i.starts_with("chaoslab:sidecar/")).collect();
    assert!(others.is_empty(), "imports beyond WASI and the sidecar: {others:?}");
}

#[rstest]
#[tokio::test]
async fn python_handler_serves_the_contract_and_every_fault_applies(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let redis = RedisServer::start();
    let app = Chaoslab::builder()
        .manifest(artifacts::python_manifest())
        .link(link)
        .redis(&redis.url())
        .start_timeout(COLD_START)
        .start();

    // The contract, as the Rust api serves it.
    let first = app.get("/").await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json()["message"], "Hello from chaoslab");
    assert_eq!(app.get("/").await.json()["visits"], 2);
    assert_eq!(redis.get_int("chaoslab:visits"), 2);
    let health = app.get("/health").await;
    assert_eq!((health.status, health.json()["status"].as_str()), (200, Some("healthy")), "{}", health.text());
    assert_eq!(app.get("/nope").await.status, 404);
    let post = chaoslab_tests::request(Method::POST, &app.url("/"), &[], bytes::Bytes::new(), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!((post.status, post.header("allow")), (405, Some("GET")));

    // Latency: delayed, the probe spared when not named.
    app.start_experiment("latency", r#"{"ms":300,"duration_seconds":30}"#).await;
    let (status, took) = app.timed_get("/").await;
    assert!(status == 200 && took >= Duration::from_millis(300), "{status} after {took:?}");
    let (status, took) = app.timed_get("/health").await;
    assert!(status == 200 && took < Duration::from_millis(250), "/health delayed without being targeted: {took:?}");
    app.chaos(Method::DELETE, "/chaos", "").await;

    // Errors: the layer answers; the handler never runs (no visit counted).
    let exp = app.start_experiment("errors", r#"{"status":503,"duration_seconds":30}"#).await;
    let failed = app.get("/").await;
    assert_eq!(failed.status, 503);
    assert_eq!(failed.header("content-type"), Some("application/problem+json"));
    assert_eq!(failed.json()["experiments"][0], exp["id"]);
    assert_eq!(redis.get_int("chaoslab:visits"), 3, "a failed request counted a visit (2, then 1 delayed)");
    app.chaos(Method::DELETE, "/chaos", "").await;

    // Hang: the probe is held until the hang is stopped.
    app.start_experiment("hang", r#"{"duration_seconds":30}"#).await;
    let held = chaoslab_tests::get(app.url("/health"), Duration::from_secs(2)).await;
    assert!(held.is_err(), "/health answered during a hang: {:?}", held.map(|r| r.status));
    app.chaos(Method::DELETE, "/chaos", "").await;
    assert_eq!(app.get("/health").await.status, 200);

    // Redis faults reach the handler as failing store calls.
    let exp = app.start_experiment("redis", r#"{"mode":"fail","duration_seconds":30}"#).await;
    let visit = app.get("/").await;
    assert_eq!((visit.status, visit.header("retry-after")), (503, Some("1")), "{}", visit.text());
    assert!(visit.json()["detail"].as_str().unwrap().contains(exp["id"].as_str().unwrap()), "{}", visit.text());
    app.chaos(Method::DELETE, "/chaos", "").await;
    app.start_experiment("redis", r#"{"mode":"blackhole","duration_seconds":30}"#).await;
    let (status, took) = app.timed_get("/health").await;
    assert!(status == 503 && took < Duration::from_secs(1), "{status} after {took:?}");
    app.chaos(Method::DELETE, "/chaos", "").await;
    assert_eq!(app.get("/").await.json()["visits"], 4);
}
