//! The sidecar's store against a real `redis-server`: every operation, the
//! typed errors, and the deadline that turns a black hole into a timeout.

use std::time::{Duration, Instant};

use chaoslab_sidecar::{RedisArgs, Store, StoreError};
use chaoslab_tests::RedisServer;

#[tokio::test]
async fn incr_get_set_and_ping_work() {
    let redis = RedisServer::start();
    let store = Store::connect(&RedisArgs::for_url(redis.url())).unwrap();
    assert_eq!(store.incr("n", 1).await.unwrap(), 1);
    assert_eq!(store.incr("n", 41).await.unwrap(), 42);
    assert_eq!(store.get("missing").await.unwrap(), None);
    store.set("k", b"v", None).await.unwrap();
    assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert!(store.ping().await.unwrap() < Duration::from_millis(500));
    assert_eq!(store.target(), format!("127.0.0.1:{}", redis.port()));
}

#[tokio::test]
async fn set_with_ttl_expires() {
    let redis = RedisServer::start();
    let store = Store::connect(&RedisArgs::for_url(redis.url())).unwrap();
    store.set("short", b"x", Some(Duration::from_millis(100))).await.unwrap();
    assert!(store.get("short").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(store.get("short").await.unwrap(), None);
}

#[tokio::test]
async fn incr_on_a_non_integer_is_other() {
    let redis = RedisServer::start();
    let store = Store::connect(&RedisArgs::for_url(redis.url())).unwrap();
    store.set("text", b"abc", None).await.unwrap();
    let err = store.incr("text", 1).await.unwrap_err();
    assert!(matches!(err, StoreError::Other(_)), "{err:?}");
}

#[tokio::test]
async fn stopped_redis_is_a_timeout_within_the_call_deadline() {
    let redis = RedisServer::start();
    let store = Store::connect(&RedisArgs::for_url(redis.url())).unwrap();
    store.ping().await.unwrap();
    redis.freeze();
    let start = Instant::now();
    let err = store.ping().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(start.elapsed() < Duration::from_millis(800), "took {:?}", start.elapsed());
    redis.thaw();
}

#[tokio::test]
async fn killed_redis_is_unavailable() {
    let mut redis = RedisServer::start();
    let store = Store::connect(&RedisArgs::for_url(redis.url())).unwrap();
    store.ping().await.unwrap();
    redis.kill();
    let err = store.incr("n", 1).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}

#[tokio::test]
async fn wrong_password_is_denied() {
    let redis = RedisServer::start_with_args(&["--requirepass", "right"]);
    let url = format!("redis://:wrong@127.0.0.1:{}", redis.port());
    let store = Store::connect(&RedisArgs::for_url(url)).unwrap();
    // Give the background connect time to finish its handshake.
    tokio::time::sleep(Duration::from_millis(800)).await;
    for _ in 0..3 {
        let err = store.ping().await.unwrap_err();
        assert!(err.is_denied(), "{err:?}");
    }
}

#[test]
fn invalid_url_is_a_config_error() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _guard = rt.enter();
    let err = Store::connect(&RedisArgs::for_url("http://nope")).unwrap_err();
    assert!(matches!(err, StoreError::Config(_)), "{err:?}");
}
