//! The coordination link against a real `redis-server`, subscribed to its own
//! announcements while it publishes them: every reply reaches the command
//! that asked for it, however the commands interleave.
//!
//! Redis before 7.2 writes a RESP3 push message for a client's own `PUBLISH`
//! inside that client's `EXEC` reply, and the reply then ends with one
//! element too many, which redis-rs hands to the next command in flight on
//! the connection ("Invalid response when parsing multi response"). A link
//! that publishes on the connection holding its subscription fails this
//! test on such a Redis (Debian's 7.0 among them).

use std::time::{Duration, Instant};

use chaoslab_sidecar::cluster::Link;
use chaoslab_sidecar::error::StoreError;
use chaoslab_sidecar::{RedisArgs, RedisStore};
use chaoslab_tests::RedisServer;
use redis::PushKind;

/// Concurrent callers, and stops each runs.
const CALLERS: usize = 8;
const STOPS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stops_announced_to_a_subscribed_link_keep_every_reply_in_step() {
    let redis = RedisServer::start();
    let store = RedisStore::connect(&RedisArgs::for_url(redis.url())).await.unwrap();
    let (link, mut pushes) = Link::connect(&store).unwrap();
    link.subscribe().await.unwrap();
    let callers: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let link = link.clone();
            tokio::spawn(async move {
                for stop in 0..STOPS {
                    let ids = [format!("c{caller}-{stop}-a"), format!("c{caller}-{stop}-b")];
                    let removed = link.remove(&ids).await.map_err(|err| format!("stop {stop}: {err}"))?;
                    assert!(removed.is_empty(), "nothing was stored, yet {removed:?}");
                    let running = link.experiments(0).await.map_err(|err| format!("read {stop}: {err}"))?;
                    assert!(running.is_empty(), "nothing was stored, yet {running:?}");
                }
                Ok::<_, String>(())
            })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap().unwrap();
    }
    // The subscription did receive the announcements: the link still
    // listens, on a connection of its own.
    let mut messages = 0;
    while let Ok(Some(push)) = tokio::time::timeout(Duration::from_secs(2), pushes.recv()).await {
        if push.kind == PushKind::Message {
            messages += 1;
        }
        if messages == CALLERS * STOPS * 2 {
            break;
        }
    }
    assert_eq!(messages, CALLERS * STOPS * 2, "announcements received");
}

/// Like the store (tests/store.rs), the coordination recovers from refused
/// credentials by itself: redis-rs keeps a connection whose handshake failed
/// failed until an I/O error, so a replica started before its ACL user
/// existed (or whose Entra token was refused at a reconnect) would never
/// coordinate again, while its store calls recovered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_refused_by_redis_recovers_once_the_acl_allows_it() {
    let redis = RedisServer::start();
    let url = format!("redis://coord:pw1@127.0.0.1:{}", redis.port());
    let store = RedisStore::connect(&RedisArgs::for_url(url)).await.unwrap();
    let (link, mut pushes) = Link::connect(&store).unwrap();
    // No user `coord` yet: both connections' handshakes fail.
    let start = Instant::now();
    loop {
        let err = link.next_id().await.unwrap_err();
        let cause = std::error::Error::source(&err).and_then(|cause| cause.downcast_ref::<StoreError>());
        if cause.is_some_and(StoreError::is_denied) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(3), "not refused: {err}");
    }
    assert!(link.subscribe().await.is_err(), "subscribed without a user");

    let mut admin = redis.client().get_connection().unwrap();
    redis::cmd("ACL").arg(&["SETUSER", "coord", "on", ">pw1", "~*", "&*", "+@all"][..]).exec(&mut admin).unwrap();
    let start = Instant::now();
    while let Err(err) = link.next_id().await {
        assert!(start.elapsed() < Duration::from_secs(3), "commands still failing after the ACL was fixed: {err}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    while let Err(err) = link.subscribe().await {
        assert!(start.elapsed() < Duration::from_secs(3), "cannot subscribe after the ACL was fixed: {err}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The subscription hears an announcement: it lives on the connection
    // that replaced the refused one.
    link.remove(&["after-acl".to_owned()]).await.unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(push) = pushes.recv().await {
            if push.kind == PushKind::Message {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(heard, Ok(true), "no announcement reached the subscription");
}
