//! The chaos layer passes everything it does not fault through unchanged,
//! streaming, and faults any handler it wraps. The test manifest serves the
//! test guest wrapped (`/test/...`): it knows nothing of chaos, mirrors what
//! it gets, traps and loops on request (`guests.rs` runs those through the
//! layer too). Both link modes.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use chaoslab_tests::{Chaoslab, ComponentWorld, Link, RedisServer, artifacts};
use http::Method;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::TokioIo;
use rstest::rstest;

/// 1 MiB: the body size the issue asks to pass byte-exact both ways (and
/// the runtime's default `--max-body-kb`).
const MIB: usize = 1024 * 1024;

/// `n` bytes no truncation, reordering or mix-up can keep: a 64-bit LCG.
fn noise(n: usize) -> Vec<u8> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect()
}

/// What the test guest's `/bytes?n=N` sends (its `pattern`).
fn guest_pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}

fn start(link: Link, redis: &RedisServer) -> Chaoslab {
    Chaoslab::builder().link(link).redis(&redis.url()).start()
}

#[rstest]
#[tokio::test]
async fn layer_passes_method_query_headers_and_1_mib_bodies_byte_exact(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let redis = RedisServer::start();
    let app = start(link, &redis);
    let sent = Bytes::from(noise(MIB));
    let query = "/test/echo?a=1&b=two%20words&empty=&a=again";
    let headers = [("x-trace", "abc-123"), ("x-quoted", "\"v\"; q=0.5"), ("content-type", "application/octet-stream")];
    let resp = chaoslab_tests::request(Method::PATCH, &app.url(query), &headers, sent.clone(), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("echo-method"), Some("PATCH"));
    assert_eq!(resp.header("echo-path-with-query"), Some(query));
    assert_eq!(resp.header("echo-x-trace"), Some("abc-123"));
    assert_eq!(resp.header("echo-x-quoted"), Some("\"v\"; q=0.5"));
    assert_eq!(resp.body.len(), MIB);
    assert!(resp.body == sent, "the 1 MiB request body came back altered");

    let resp = app.get(&format!("/test/bytes?n={MIB}")).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-length"), Some(MIB.to_string().as_str()));
    assert!(resp.body == guest_pattern(MIB), "the 1 MiB response body arrived altered");
}

#[rstest]
#[tokio::test]
async fn bodies_stream_both_ways_through_the_layer(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let redis = RedisServer::start();
    let app = start(link, &redis);
    let tcp = tokio::net::TcpStream::connect(app.addr()).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.unwrap();
    tokio::spawn(conn);
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1);
    let frames = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (Ok::<_, Infallible>(Frame::data(chunk)), rx))
    });
    let req =
        http::Request::post("/test/echo").header("host", app.addr().to_string()).body(StreamBody::new(frames)).unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), sender.send_request(req)).await.unwrap().unwrap();
    assert_eq!(resp.status(), 200, "the answer starts before the request body ends");
    let mut body = resp.into_body();
    // 8 chunks of 128 KiB = 1 MiB, each sent only once the previous one came
    // back: were either body buffered whole anywhere (the layer included),
    // the first echo would never arrive.
    for n in 0..8u8 {
        let chunk = Bytes::from(vec![n; MIB / 8]);
        tx.send(chunk.clone()).await.unwrap();
        let mut echoed = Vec::with_capacity(chunk.len());
        while echoed.len() < chunk.len() {
            let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
                .await
                .unwrap_or_else(|_| panic!("chunk {n} was not echoed before the body ended"))
                .expect("the echo ended early")
                .unwrap();
            echoed.extend_from_slice(&frame.into_data().unwrap_or_default());
        }
        assert!(echoed == chunk, "chunk {n} came back altered");
    }
    drop(tx);
    let end = tokio::time::timeout(Duration::from_secs(5), body.frame()).await.unwrap();
    assert!(end.is_none(), "the echo goes on after the request body ended");
}

#[rstest]
#[tokio::test]
async fn layer_faults_a_handler_that_knows_nothing_of_chaos_by_full_path_and_method(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let redis = RedisServer::start();
    let app = start(link, &redis);
    let exp = app
        .start_experiment("errors", r#"{"status":418,"routes":["/test/echo"],"methods":["PUT"],"duration_seconds":30}"#)
        .await;
    let faulted = put(&app, "/test/echo?q=1").await;
    assert_eq!(faulted.status, 418, "{}", faulted.text());
    assert_eq!(faulted.header("content-type"), Some("application/problem+json"));
    assert_eq!(faulted.json()["experiments"][0], exp["id"], "{}", faulted.text());
    assert_eq!(put(&app, "/test/bytes?n=1").await.status, 200, "another path is spared");
    assert_eq!(app.get("/test/echo").await.status, 200, "another method is spared");
    assert_eq!(app.chaos(Method::GET, "/chaos/status", "").await.status, 200, "control routes are never wrapped");

    app.chaos(Method::DELETE, "/chaos", "").await;
    app.start_experiment("latency", r#"{"ms":300,"routes":["/test/echo"],"duration_seconds":30}"#).await;
    let start = std::time::Instant::now();
    assert_eq!(app.get("/test/echo").await.status, 200);
    assert!(start.elapsed() >= Duration::from_millis(300), "not delayed: {:?}", start.elapsed());
}

async fn put(app: &Chaoslab, path: &str) -> chaoslab_tests::HttpResponse {
    let body = Bytes::from_static(b"x");
    chaoslab_tests::request(Method::PUT, &app.url(path), &[], body, Duration::from_secs(5)).await.unwrap()
}

#[test]
fn handlers_carry_no_chaos_import_and_their_wrapped_files_do() {
    let api = ComponentWorld::read(&artifacts::component("chaoslab_api.wasm"));
    assert!(api.imports_from("chaoslab:sidecar/store@"), "{api:?}");
    assert!(!api.imports_from("chaoslab:sidecar/chaos@"), "the api still calls chaos: {:?}", api.imports);
    for wrapped in ["chaoslab_api_wrapped.wasm", "chaoslab_test_guest_wrapped.wasm"] {
        let world = ComponentWorld::read(&artifacts::component(wrapped));
        assert!(world.imports_from("chaoslab:sidecar/chaos@"), "{wrapped}: {world:?}");
        assert_eq!(world.exports, ["wasi:http/incoming-handler@0.2.0"], "{wrapped}");
    }
}
