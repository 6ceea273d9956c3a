//! `rediss://` end to end: a real `redis-server --tls-port` with a CA and a
//! certificate made for the test, and the real `chaoslab up` trusting that CA
//! through `CHAOSLAB_REDIS_CA_FILE` — or another CA, which must fail clearly.

use std::time::{Duration, Instant};

use chaoslab_tests::{Chaoslab, RedisServer, TestCa};

/// `CLIENT LIST` lines of connections made to `port`.
fn clients_on_port(redis: &RedisServer, port: &str) -> Vec<String> {
    let list: String = redis::from_redis_value(redis.command(&["CLIENT", "LIST"])).unwrap();
    list.lines().filter(|l| l.contains(&format!(" laddr=127.0.0.1:{port} "))).map(str::to_owned).collect()
}

#[tokio::test]
async fn rediss_with_the_ca_file_serves_visits_over_tls() {
    let ca = TestCa::generate();
    let redis = RedisServer::start_tls(&ca);
    let url = redis.tls_url();
    let app = Chaoslab::builder().redis(&url).env("CHAOSLAB_REDIS_CA_FILE", &ca.ca_pem().display().to_string()).start();

    let visit = app.get("/").await;
    assert_eq!(visit.status, 200, "{}", visit.text());
    assert_eq!(app.get("/health").await.status, 200);
    let tls_port = url.rsplit(':').next().unwrap();
    assert!(!clients_on_port(&redis, tls_port).is_empty(), "no connection on the TLS port {tls_port}");
    assert!(app.wait_for_log("connected to redis"));
    assert!(app.logs().lines().any(|l| l.contains("redis target") && l.contains("tls=true")), "{}", app.logs());
}

#[tokio::test]
async fn rediss_with_a_wrong_ca_fails_with_a_tls_error() {
    let ca = TestCa::generate();
    let other = TestCa::generate();
    let redis = RedisServer::start_tls(&ca);
    let app = Chaoslab::builder()
        .redis(&redis.tls_url())
        .env("CHAOSLAB_REDIS_CA_FILE", &other.ca_pem().display().to_string())
        .start();

    let start = Instant::now();
    let health = app.get("/health").await;
    assert!(start.elapsed() < Duration::from_secs(1), "/health took {:?}", start.elapsed());
    assert_eq!(health.status, 503, "{}", health.text());
    assert!(app.wait_for_log("redis not usable yet"), "{}", app.logs());
    let line = app.logs().lines().find(|l| l.contains("redis not usable yet")).unwrap().to_owned();
    assert!(line.contains("certificate verify failed"), "not a clear TLS error: {line}");
    assert_eq!(app.get("/").await.status, 503);
}
