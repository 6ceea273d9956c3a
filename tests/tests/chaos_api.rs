//! The chaos control API's contract: auth, every bad-input class with its
//! status and problem fields, stop, status, and switching chaos off.

use std::time::Duration;

use bytes::Bytes;
use chaoslab_tests::chaoslab::TEST_TOKEN;
use chaoslab_tests::{Chaoslab, Link, RedisServer, request};
use http::Method;
use rstest::rstest;

fn app(redis: &RedisServer, link: Link) -> Chaoslab {
    Chaoslab::builder().link(link).redis(&redis.url()).start()
}

async fn raw(
    app: &Chaoslab,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> chaoslab_tests::HttpResponse {
    request(method, &app.url(path), headers, Bytes::from(body), Duration::from_secs(5)).await.unwrap()
}

fn assert_problem(resp: &chaoslab_tests::HttpResponse, status: u16) -> serde_json::Value {
    assert_eq!(resp.status, status, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("application/problem+json"));
    let body = resp.json();
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    body
}

#[rstest]
#[tokio::test]
async fn every_chaos_route_needs_the_bearer_token(#[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link) {
    let redis = RedisServer::start();
    let app = app(&redis, link);
    for (method, path) in [(Method::GET, "/chaos/status"), (Method::POST, "/chaos/hang"), (Method::DELETE, "/chaos")] {
        let none = raw(&app, method.clone(), path, &[], vec![]).await;
        assert_problem(&none, 401);
        assert_eq!(none.header("www-authenticate"), Some("Bearer realm=\"chaoslab\""));
        let wrong = raw(&app, method, path, &[("authorization", "Bearer nope")], vec![]).await;
        assert_problem(&wrong, 401);
    }
    assert!(app.chaos(Method::GET, "/chaos/status", "").await.json()["active"].as_array().unwrap().is_empty());
}

#[rstest]
#[tokio::test]
async fn bad_input_gets_the_right_status_and_names_the_field(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    let redis = RedisServer::start();
    let app = app(&redis, link);
    let auth = format!("Bearer {TEST_TOKEN}");
    let json = [("authorization", auth.as_str()), ("content-type", "application/json")];

    let malformed = raw(&app, Method::POST, "/chaos/latency", &json, b"{\"ms\": ".to_vec()).await;
    assert_problem(&malformed, 400);

    let mistyped = raw(&app, Method::POST, "/chaos/latency", &json, b"{\"ms\": \"slow\"}".to_vec()).await;
    assert_eq!(assert_problem(&mistyped, 400)["errors"][0]["field"], "ms");

    let unknown = raw(&app, Method::POST, "/chaos/load", &json, b"{\"cpu\": 50}".to_vec()).await;
    assert_eq!(assert_problem(&unknown, 400)["errors"][0]["field"], "cpu");

    let missing = raw(&app, Method::POST, "/chaos/redis", &json, b"{}".to_vec()).await;
    assert_eq!(assert_problem(&missing, 400)["errors"][0]["field"], "mode");

    let out_of_range =
        raw(&app, Method::POST, "/chaos/load", &json, b"{\"cpu_percent\": 150, \"duration_seconds\": 7200}".to_vec())
            .await;
    let body = assert_problem(&out_of_range, 422);
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["duration_seconds", "cpu_percent"]);
    assert_eq!(body["errors"][1]["message"], "must be between 1 and 100, got 150");

    let text = [("authorization", auth.as_str()), ("content-type", "text/plain")];
    assert_problem(&raw(&app, Method::POST, "/chaos/hang", &text, b"{}".to_vec()).await, 415);

    // Deep nesting within the size limit: refused, not a stack overflow in
    // the component (its stack is 128 KiB: .cargo/config.toml).
    let deep = format!("{{\"routes\": {}{}}}", "[".repeat(30_000), "]".repeat(30_000)).into_bytes();
    assert_problem(&raw(&app, Method::POST, "/chaos/latency", &json, deep).await, 400);

    let big = vec![b' '; 65 * 1024];
    assert_problem(&raw(&app, Method::POST, "/chaos/hang", &json, big).await, 413);

    let status = app.chaos(Method::GET, "/chaos/status", "").await.json();
    assert!(status["active"].as_array().unwrap().is_empty(), "no bad request started anything: {status}");
    assert_eq!(app.get("/health").await.status, 200, "the process survived");
}

#[rstest]
#[tokio::test]
async fn conflicts_limits_unknown_ids_and_methods(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).args(["--chaos-max-experiments", "2"]).start();
    let first = app.start_experiment("errors", r#"{"status":500,"percent":1,"duration_seconds":60}"#).await;
    let again = app.chaos(Method::POST, "/chaos/errors", "{}").await;
    assert!(assert_problem(&again, 409)["detail"].as_str().unwrap().contains(first["id"].as_str().unwrap()));
    app.start_experiment("latency", r#"{"ms":0,"percent":1}"#).await;
    assert_problem(&app.chaos(Method::POST, "/chaos/hang", "").await, 429);
    assert_problem(&app.chaos(Method::DELETE, "/chaos/exp-999", "").await, 404);
    let wrong_method = app.chaos(Method::GET, "/chaos/hang", "").await;
    assert_eq!(assert_problem(&wrong_method, 405)["status"], 405);
    assert_eq!(wrong_method.header("allow"), Some("POST"));
    let stopped = app.chaos(Method::DELETE, &format!("/chaos/{}", first["id"].as_str().unwrap()), "").await;
    assert_eq!(stopped.json()["end_reason"], "stopped");
    let status = app.chaos(Method::GET, "/chaos/status", "").await.json();
    assert_eq!(status["active"].as_array().unwrap().len(), 1);
    assert_eq!(status["recent"][0]["id"], first["id"]);
    assert_eq!(app.chaos(Method::DELETE, "/chaos", "").await.json()["stopped"].as_array().unwrap().len(), 1);
}

#[rstest]
#[tokio::test]
async fn status_reports_replica_seed_and_remaining_time(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).args(["--chaos-seed", "1234"]).start();
    app.start_experiment("latency", r#"{"ms":1,"duration_seconds":30}"#).await;
    let status = app.chaos(Method::GET, "/chaos/status", "").await.json();
    assert_eq!(status["seed"], "1234");
    assert!(status["replica"].is_string());
    let remaining = status["active"][0]["remaining_ms"].as_u64().unwrap();
    assert!(remaining > 25_000 && remaining <= 30_000, "{remaining}");
}

#[rstest]
#[tokio::test]
async fn no_chaos_turns_every_chaos_route_into_404_and_applies_nothing(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).args(["--no-chaos"]).start();
    assert_problem(&app.chaos(Method::GET, "/chaos/status", "").await, 404);
    assert_problem(&app.chaos(Method::POST, "/chaos/hang", "").await, 404);
    assert_eq!(app.get("/").await.status, 200);
}

#[rstest]
#[test]
fn a_generated_token_is_printed_once_and_works(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).generated_token().start();
    let logs = app.logs();
    let lines: Vec<&str> = logs.lines().filter(|l| l.starts_with("chaos token: ")).collect();
    assert_eq!(lines.len(), 1, "{logs}");
    let token = lines[0].trim_start_matches("chaos token: ").to_owned();
    assert_eq!(token.len(), 32);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let auth = format!("Bearer {token}");
    let resp = rt.block_on(raw(&app, Method::GET, "/chaos/status", &[("authorization", &auth)], vec![]));
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(!logs.contains(TEST_TOKEN));
}

#[rstest]
#[tokio::test]
async fn an_empty_body_starts_with_every_default(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    let auth = format!("Bearer {TEST_TOKEN}");
    let started = raw(&app, Method::POST, "/chaos/hang", &[("authorization", auth.as_str())], vec![]).await;
    assert_eq!(started.status, 202, "{}", started.text());
    let exp = started.json();
    assert_eq!((exp["kind"].as_str(), exp["duration_seconds"].as_u64()), (Some("hang"), Some(300)), "{exp}");
    app.chaos(Method::DELETE, "/chaos", "").await;
}
