//! Redis failures as chaos users cause them: killed, restarted, frozen.
//! chaoslab must answer 503 quickly and recover by itself.

use std::time::{Duration, Instant};

use chaoslab_tests::{Chaoslab, Link, RedisServer};
use rstest::rstest;

/// Polls `GET path` until it answers `status`; returns how long it took.
async fn wait_for_status(app: &Chaoslab, path: &str, status: u16, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let resp = app.get(path).await;
        if resp.status == status {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "GET {path} still {} after {within:?}: {}", resp.status, resp.text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[rstest]
#[tokio::test]
async fn redis_killed_gives_503_within_1s_and_recovers_after_restart(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    let mut redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    assert_eq!(app.get("/").await.status, 200);

    redis.kill();
    for _ in 0..3 {
        let start = Instant::now();
        let health = app.get("/health").await;
        assert!(start.elapsed() < Duration::from_secs(1), "/health took {:?}", start.elapsed());
        assert_eq!(health.status, 503, "{}", health.text());
        assert_eq!(health.json()["status"], "unhealthy");
        assert!(health.json()["reason"].as_str().is_some_and(|r| r.contains("redis")));

        let start = Instant::now();
        let visit = app.get("/").await;
        assert!(start.elapsed() < Duration::from_secs(1), "/ took {:?}", start.elapsed());
        assert_eq!(visit.status, 503, "{}", visit.text());
        assert_eq!(visit.header("content-type"), Some("application/problem+json"));
        assert_eq!(visit.json()["status"], 503);
    }

    redis.restart();
    let took = wait_for_status(&app, "/", 200, Duration::from_secs(5)).await;
    eprintln!("recovered {took:?} after the restart");
    assert_eq!(app.get("/health").await.status, 200);
    assert_eq!(redis.get_int("chaoslab:visits"), 1, "fresh server counts from the recovery on");
}

#[rstest]
#[tokio::test]
async fn redis_frozen_black_hole_gives_503_within_1s_then_recovers(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    assert_eq!(app.get("/health").await.status, 200);

    redis.freeze();
    for _ in 0..3 {
        let start = Instant::now();
        let health = app.get("/health").await;
        let took = start.elapsed();
        assert_eq!(health.status, 503, "{}", health.text());
        assert!(took < Duration::from_secs(1), "/health took {took:?} with Redis black-holed");
        assert!(health.json()["reason"].as_str().is_some_and(|r| r.contains("timeout")), "{}", health.text());
    }

    redis.thaw();
    wait_for_status(&app, "/health", 200, Duration::from_secs(5)).await;
    wait_for_status(&app, "/", 200, Duration::from_secs(5)).await;
}

#[rstest]
#[tokio::test]
async fn starts_while_redis_is_down_and_connects_when_it_appears(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let mut redis = RedisServer::start();
    redis.kill();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    assert_eq!(app.get("/health").await.status, 503);
    redis.restart();
    wait_for_status(&app, "/", 200, Duration::from_secs(5)).await;
}
