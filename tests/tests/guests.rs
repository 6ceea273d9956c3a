//! The runtime contains misbehaving guests: a trap or a loop costs only its
//! own request; outbound requests follow `allowed_outbound_hosts`; the
//! concurrency cap answers 503 with Retry-After. The test guest is served
//! wrapped in the chaos layer, so these also prove the layer keeps an inner
//! trap a trap (`500`) and an inner loop under the request timeout (`504`).

use std::time::{Duration, Instant};

use chaoslab_tests::{Chaoslab, Link, RedisServer};
use rstest::rstest;

#[rstest]
#[tokio::test]
async fn trapping_guest_gets_500_and_the_next_request_is_fine(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    let resp = app.get("/test/trap").await;
    assert_eq!(resp.status, 500, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("application/problem+json"));
    assert!(app.wait_for_log("component trapped"), "{}", app.logs());
    assert_eq!(app.get("/health").await.status, 200);
    assert_eq!(app.get("/").await.status, 200);
}

#[rstest]
#[tokio::test]
async fn looping_guest_times_out_and_the_server_keeps_serving(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).args(["--request-timeout", "1s"]).start();
    let start = Instant::now();
    let resp = app.get("/test/loop").await;
    let took = start.elapsed();
    assert_eq!(resp.status, 504, "{}", resp.text());
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(3), "took {took:?}");
    // While another guest loops, the others still answer promptly.
    let looping = tokio::spawn(chaoslab_tests::get(app.url("/test/loop"), Duration::from_secs(5)));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let start = Instant::now();
    assert_eq!(app.get("/health").await.status, 200);
    assert!(start.elapsed() < Duration::from_millis(500), "health took {:?} beside a loop", start.elapsed());
    assert_eq!(looping.await.unwrap().unwrap().status, 504);
    assert_eq!(app.get("/").await.status, 200);
}

#[rstest]
#[tokio::test]
async fn outbound_requests_reach_only_allowed_hosts(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    // A real local HTTP server the guest is allowed to reach ...
    let allowed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let allowed_addr = allowed.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = allowed.accept().await.unwrap();
            let service = hyper::service::service_fn(|_req| async {
                Ok::<_, std::convert::Infallible>(hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(
                    "ok",
                ))))
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
            );
        }
    });
    // ... and one it is not.
    let denied = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let denied_addr = denied.local_addr().unwrap();

    let redis = RedisServer::start();
    let app = Chaoslab::builder()
        .link(link)
        .redis(&redis.url())
        .env("SPIN_VARIABLE_ALLOWED_ORIGIN", &format!("http://{allowed_addr}"))
        .start();
    let ok = app.get(&format!("/test/outbound?url=http://{allowed_addr}/")).await;
    assert_eq!(ok.text(), "outbound status 200");
    let no = app.get(&format!("/test/outbound?url=http://{denied_addr}/")).await;
    assert_eq!(no.status, 502, "{}", no.text());
    assert!(no.text().contains("HttpRequestDenied"), "{}", no.text());
    assert!(app.wait_for_log("outbound request denied"), "{}", app.logs());
}

#[rstest]
#[tokio::test]
async fn component_gets_its_manifest_environment(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    assert_eq!(app.get("/test/env?name=GUEST_GREETING").await.text(), "hello from spin.toml");
    assert_eq!(app.get("/test/env?name=PATH").await.text(), "", "the host environment does not leak in");
}

#[rstest]
#[tokio::test]
async fn requests_beyond_the_concurrency_cap_get_503_with_retry_after(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).args(["--max-concurrent", "1"]).start();
    let slow = tokio::spawn(chaoslab_tests::get(app.url("/test/sleep?ms=1500"), Duration::from_secs(5)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let resp = app.get("/health").await;
    assert_eq!(resp.status, 503, "{}", resp.text());
    assert_eq!(resp.header("retry-after"), Some("1"));
    assert_eq!(slow.await.unwrap().unwrap().status, 200);
    assert_eq!(app.get("/health").await.status, 200);
}

#[rstest]
#[tokio::test]
async fn bodies_over_the_limit_get_413_before_any_component_runs(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).args(["--max-body-kb", "1"]).start();
    let body = bytes::Bytes::from(vec![b'x'; 2048]);
    let resp =
        chaoslab_tests::request(http::Method::POST, &app.url("/"), &[], body, Duration::from_secs(5)).await.unwrap();
    assert_eq!(resp.status, 413, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("application/problem+json"));
    assert_eq!(redis.get_int("chaoslab:visits"), 0);
    assert_eq!(app.get("/").await.status, 200);
}
