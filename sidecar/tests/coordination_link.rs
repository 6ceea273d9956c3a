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

use std::time::Duration;

use chaoslab_sidecar::cluster::Link;
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
