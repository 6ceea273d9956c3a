//! The sidecar's store against a real `redis-server`: every operation, the
//! typed errors, and the deadline that turns a black hole into a timeout.

use std::time::{Duration, Instant};

use chaoslab_sidecar::{RedisArgs, RedisStore, SetupError, StoreError};
use chaoslab_tests::RedisServer;

#[tokio::test]
async fn incr_get_set_and_ping_work() {
    let redis = RedisServer::start();
    let store = RedisStore::connect(&RedisArgs::for_url(redis.url())).await.unwrap();
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
    let store = RedisStore::connect(&RedisArgs::for_url(redis.url())).await.unwrap();
    store.set("short", b"x", Some(Duration::from_millis(100))).await.unwrap();
    assert!(store.get("short").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(store.get("short").await.unwrap(), None);
}

#[tokio::test]
async fn incr_on_a_non_integer_is_other() {
    let redis = RedisServer::start();
    let store = RedisStore::connect(&RedisArgs::for_url(redis.url())).await.unwrap();
    store.set("text", b"abc", None).await.unwrap();
    let err = store.incr("text", 1).await.unwrap_err();
    assert!(matches!(err, StoreError::Other(_)), "{err:?}");
}

#[tokio::test]
async fn stopped_redis_is_a_timeout_within_the_call_deadline() {
    let redis = RedisServer::start();
    let store = RedisStore::connect(&RedisArgs::for_url(redis.url())).await.unwrap();
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
    let store = RedisStore::connect(&RedisArgs::for_url(redis.url())).await.unwrap();
    store.ping().await.unwrap();
    redis.kill();
    let err = store.incr("n", 1).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}

#[tokio::test]
async fn wrong_password_is_denied() {
    let redis = RedisServer::start_with_args(&["--requirepass", "right"]);
    let url = format!("redis://:wrong@127.0.0.1:{}", redis.port());
    let store = RedisStore::connect(&RedisArgs::for_url(url)).await.unwrap();
    // Give the background connect time to finish its handshake.
    tokio::time::sleep(Duration::from_millis(800)).await;
    for _ in 0..3 {
        let err = store.ping().await.unwrap_err();
        assert!(err.is_denied(), "{err:?}");
    }
}

#[tokio::test]
async fn invalid_url_is_a_setup_error() {
    let err = RedisStore::connect(&RedisArgs::for_url("http://nope")).await.unwrap_err();
    assert!(matches!(err, SetupError::Url(_)), "{err:?}");
}

#[tokio::test]
async fn a_password_url_refused_by_redis_recovers_once_the_acl_allows_it() {
    let redis = RedisServer::start();
    let url = format!("redis://app:pw1@127.0.0.1:{}", redis.port());
    let store = RedisStore::connect(&RedisArgs::for_url(url)).await.unwrap();
    // No user `app` yet: the handshake fails (once the background connect
    // is done), and redis-rs would keep that failed connection for good.
    let start = Instant::now();
    loop {
        let err = store.ping().await.unwrap_err();
        if err.is_denied() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(3), "not denied: {err:?}");
    }
    let mut admin = redis.client().get_connection().unwrap();
    redis::cmd("ACL").arg(&["SETUSER", "app", "on", ">pw1", "~*", "+@all"][..]).exec(&mut admin).unwrap();
    let start = Instant::now();
    while let Err(err) = store.ping().await {
        assert!(start.elapsed() < Duration::from_secs(3), "still failing after the ACL was fixed: {err:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.incr("n", 1).await.unwrap(), 1);
}
