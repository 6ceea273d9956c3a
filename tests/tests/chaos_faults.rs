//! Each fault measured for its effect through the real binary, and its end:
//! latency, errors (seeded share and replay), hang, Redis faults. (Load is
//! measured alone, in `chaos_load.rs`.)

use std::time::{Duration, Instant};

use chaoslab_tests::{Chaoslab, Link, RedisServer};
use http::Method;
use rstest::rstest;

#[rstest]
#[tokio::test]
async fn latency_delays_requests_and_stops_at_its_end_without_any_call(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    app.start_experiment("latency", r#"{"ms":300,"duration_seconds":2}"#).await;
    for path in ["/", "/"] {
        let (status, took) = app.timed_get(path).await;
        assert_eq!(status, 200);
        assert!(took >= Duration::from_millis(300), "{path} took {took:?}");
    }
    // Without `routes`, the health probe is spared (wit/sidecar.wit: a fault
    // for users must not fail the platform's readiness probe).
    let (status, took) = app.timed_get("/health").await;
    assert_eq!(status, 200);
    assert!(took < Duration::from_millis(150), "/health delayed without being targeted: {took:?}");
    let chaos_status = Instant::now();
    app.chaos(Method::GET, "/chaos/status", "").await;
    assert!(chaos_status.elapsed() < Duration::from_millis(200), "control routes are exempt");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, took) = app.timed_get("/").await;
    assert_eq!(status, 200);
    assert!(took < Duration::from_millis(150), "still delayed after the end: {took:?}");
}

/// 500 sequential `GET /` under `errors` at 30 %; the statuses in order.
async fn error_run(seed: &str, link: Link) -> Vec<u16> {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).args(["--chaos-seed", seed]).start();
    app.start_experiment("errors", r#"{"status":503,"percent":30,"duration_seconds":120}"#).await;
    let mut statuses = Vec::with_capacity(500);
    for _ in 0..500 {
        statuses.push(app.get("/").await.status);
    }
    let ok = statuses.iter().filter(|s| **s == 200).count() as i64;
    assert_eq!(redis.get_int("chaoslab:visits"), ok, "failed requests must not count a visit");
    statuses
}

#[rstest]
#[tokio::test]
async fn errors_hit_the_requested_share_and_replay_with_the_same_seed(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    let first = error_run("20261128", link).await;
    let failed = first.iter().filter(|s| **s == 503).count();
    assert!(first.iter().all(|s| *s == 200 || *s == 503));
    let share = failed as f64 / first.len() as f64;
    eprintln!("errors at 30 %: {failed} of {} requests failed ({share:.3})", first.len());
    // 500 draws at p = 0.3: sd ≈ 0.0205; ±0.07 is beyond 3 sd.
    assert!((share - 0.30).abs() <= 0.07, "share of errors {share}");
    assert_eq!(first, error_run("20261128", link).await, "same seed, same decisions");
}

#[rstest]
#[tokio::test]
async fn hang_holds_health_keeps_control_routes_and_ends_on_delete_or_time(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    let hang = app.start_experiment("hang", r#"{"duration_seconds":30}"#).await;
    let held = chaoslab_tests::get(app.url("/health"), Duration::from_secs(2)).await;
    assert!(held.is_err(), "/health answered during a hang: {:?}", held.map(|r| r.status));
    let status = app.chaos(Method::GET, "/chaos/status", "").await.json();
    assert_eq!(status["active"][0]["id"], hang["id"]);
    let start = Instant::now();
    app.chaos(Method::DELETE, "/chaos", "").await;
    let (code, took) = app.timed_get("/health").await;
    assert_eq!(code, 200);
    assert!(start.elapsed() < Duration::from_millis(500), "DELETE did not end the hang at once ({took:?})");

    app.start_experiment("hang", r#"{"duration_seconds":1}"#).await;
    let (code, took) = app.timed_get("/").await;
    assert_eq!(code, 200, "a held request is served when the hang ends");
    assert!(took >= Duration::from_millis(800) && took < Duration::from_millis(2000), "{took:?}");
    assert_eq!(app.timed_get("/health").await.0, 200);
}

#[rstest]
#[tokio::test]
async fn redis_blackhole_and_fail_faults_then_recovery(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    app.start_experiment("redis", r#"{"mode":"blackhole","duration_seconds":2}"#).await;
    let start = Instant::now();
    let health = app.get("/health").await;
    assert!(start.elapsed() < Duration::from_secs(1), "took {:?}", start.elapsed());
    assert_eq!(health.status, 503);
    assert!(health.json()["reason"].as_str().unwrap().contains("timeout"), "{}", health.text());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(app.get("/health").await.status, 200);

    let exp = app.start_experiment("redis", r#"{"mode":"fail","duration_seconds":2}"#).await;
    let visit = app.get("/").await;
    assert_eq!(visit.status, 503);
    assert_eq!(visit.header("content-type"), Some("application/problem+json"));
    assert!(visit.json()["detail"].as_str().unwrap().contains(exp["id"].as_str().unwrap()), "{}", visit.text());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(app.get("/").await.status, 200);
}

#[rstest]
#[tokio::test]
async fn filters_target_routes_and_methods_and_the_probe_only_when_named(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    app.start_experiment("errors", r#"{"status":503,"routes":["/health"],"duration_seconds":30}"#).await;
    assert_eq!(app.get("/health").await.status, 503, "named, the probe is targeted");
    assert_eq!(app.get("/").await.status, 200, "other routes are spared");
    app.chaos(Method::DELETE, "/chaos", "").await;
    app.start_experiment("errors", r#"{"status":502,"methods":["POST"],"duration_seconds":30}"#).await;
    assert_eq!(app.get("/").await.status, 200, "GET is not in the methods filter");
    let post = chaoslab_tests::request(Method::POST, &app.url("/"), &[], bytes::Bytes::new(), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(post.status, 502, "POST is: the fault comes before the handler's own 405");
}
