//! The visit counter and health check, end to end: real binaries (and the
//! real Spin CLI), real Redis, the api component compiled from source.

use std::collections::HashMap;

use chaoslab_tests::{Chaoslab, Link, RedisServer};
use rstest::rstest;

#[rstest]
#[tokio::test]
async fn counter_increments_and_matches_the_value_in_redis(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    for expected in 1..=5 {
        let resp = app.get("/").await;
        assert_eq!(resp.status, 200, "{}", resp.text());
        assert_eq!(resp.header("content-type"), Some("application/json"));
        let body = resp.json();
        assert_eq!(body["visits"], expected);
        assert!(body["message"].is_string());
        assert!(body["replica"].as_str().is_some_and(|r| !r.is_empty() && r != "unknown"), "{body}");
    }
    assert_eq!(redis.get_int("chaoslab:visits"), 5);
}

#[rstest]
#[tokio::test]
async fn replica_is_the_sidecars_container_apps_replica(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    // Azure Container Apps sets the variable in every container of a
    // replica; components read it through the sidecar (`telemetry.replica`),
    // as under Spin they get no host environment.
    let redis = RedisServer::start();
    let app = Chaoslab::builder()
        .link(link)
        .redis(&redis.url())
        .env_both("CONTAINER_APP_REPLICA_NAME", "chaoslab--rev1-abc")
        .start();
    assert_eq!(app.get("/").await.json()["replica"], "chaoslab--rev1-abc");
    assert_eq!(app.get("/health").await.json()["replica"], "chaoslab--rev1-abc");
    let status = app.chaos(http::Method::GET, "/chaos/status", "").await.json();
    assert_eq!(status["replica"], "chaoslab--rev1-abc", "{status}");
}

#[rstest]
#[tokio::test]
async fn health_is_200_with_redis_latency(#[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    let resp = app.get("/health").await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let body = resp.json();
    assert_eq!(body["status"], "healthy");
    assert!(body["redis"]["latency_ms"].as_f64().is_some_and(|ms| (0.0..500.0).contains(&ms)), "{body}");
}

#[rstest]
#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    let resp = app.get("/nope").await;
    assert_eq!(resp.status, 404);
    assert_eq!(resp.header("content-type"), Some("application/problem+json"));
    assert_eq!(resp.json()["status"], 404);

    let resp = chaoslab_tests::request(
        http::Method::POST,
        &app.url("/"),
        &[],
        bytes::Bytes::new(),
        std::time::Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(resp.status, 405);
    assert_eq!(resp.header("allow"), Some("GET"));
    assert_eq!(resp.header("content-type"), Some("application/problem+json"));
    assert_eq!(redis.get_int("chaoslab:visits"), 0, "a rejected request must not count");
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_requests_lose_nothing(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    let url = app.url("/");
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { chaoslab_tests::get(url, std::time::Duration::from_secs(30)).await })
        })
        .collect();
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    let mut visits = Vec::new();
    for task in tasks {
        let resp = task.await.unwrap().expect("every request is answered");
        *statuses.entry(resp.status).or_default() += 1;
        if resp.status == 200 {
            visits.push(resp.json()["visits"].as_i64().unwrap());
        }
    }
    assert_eq!(statuses.get(&200), Some(&200), "statuses: {statuses:?}");
    visits.sort_unstable();
    assert_eq!(visits, (1..=200).collect::<Vec<_>>(), "each request saw a distinct count");
    assert_eq!(redis.get_int("chaoslab:visits"), 200);
}
