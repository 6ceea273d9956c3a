//! The store with Entra ID credentials against a real `redis-server` that
//! requires ACL users, and a fake managed-identity endpoint driving the real
//! azure_identity and redis-rs `entra-id` code: authentication as the
//! identity's object id, re-`AUTH` on every refresh, and renewal that
//! survives an identity endpoint outage longer than the provider's retries.
//!
//! azure_identity reads `IDENTITY_ENDPOINT` / `IDENTITY_HEADER` from the
//! process environment, so this binary holds a single test that sets them
//! before anything else reads the environment.

use std::time::{Duration, Instant};

use chaoslab_sidecar::{RedisArgs, RedisAuth, RedisStore};
use chaoslab_tests::{FakeIdentity, RedisServer};

const OID: &str = "6f1c2a4e-0000-4bbb-8ccc-1234567890ab";
const CLIENT_ID: &str = "0a1b2c3d-1111-4222-8333-444455556666";
/// redis-rs asks for a new token 240 s before expiry: 242 s tokens are
/// renewed about every 2 s.
const SHORT_LIFETIME: Duration = Duration::from_secs(242);

#[allow(unsafe_code)]
fn set_identity_env(fake: &FakeIdentity) {
    for (key, value) in fake.env() {
        // SAFETY: this is the binary's only test and it runs this first: no
        // other thread reads or writes the environment concurrently.
        unsafe { std::env::set_var(key, value) };
    }
}

/// Runs `INCR` every 50 ms for `period`; panics on the first failure.
async fn keep_counting(store: &RedisStore, period: Duration) {
    let start = Instant::now();
    while start.elapsed() < period {
        if let Err(err) = store.incr("visits", 1).await {
            panic!("a call failed {:?} into the period: {err}", start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits up to `within` for `cond`, running `INCR`s (which must succeed) meanwhile.
async fn count_until(store: &RedisStore, within: Duration, what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < within, "no {what} within {within:?}");
        keep_counting(store, Duration::from_millis(100)).await;
    }
}

fn auth_stats(redis: &RedisServer) -> String {
    let info = redis.command(&["INFO", "commandstats"]);
    let info: String = redis::from_redis_value(info).unwrap();
    info.lines().find(|l| l.starts_with("cmdstat_auth:")).unwrap_or_default().to_owned()
}

fn stat(line: &str, name: &str) -> u64 {
    line.split([':', ',']).find_map(|kv| kv.strip_prefix(&format!("{name}="))).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// `CLIENT LIST` lines of `user`'s connections (redis 7.0 has no `USER` filter).
fn clients_of(redis: &RedisServer, user: &str) -> String {
    let list: String = redis::from_redis_value(redis.command(&["CLIENT", "LIST"])).unwrap();
    let needle = format!(" user={user} ");
    list.lines().filter(|line| line.contains(&needle)).collect::<Vec<_>>().join("\n")
}

/// Lets the identity's ACL user log in with exactly tokens `from..from+count`.
fn allow_tokens(redis: &RedisServer, fake: &FakeIdentity, from: usize, count: usize) {
    let passwords: Vec<String> = (from..from + count).map(|n| format!(">{}", fake.token(n))).collect();
    let mut args = vec!["ACL", "SETUSER", OID, "reset", "on", "~*", "&*", "+@all"];
    args.extend(passwords.iter().map(String::as_str));
    redis.command(&args);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_store_re_authenticates_on_refresh_and_renewal_survives_an_identity_outage() {
    let fake = FakeIdentity::start(OID, CLIENT_ID, SHORT_LIFETIME);
    set_identity_env(&fake);
    let mut redis = RedisServer::start();
    redis.require_acl();
    allow_tokens(&redis, &fake, 1, 8);

    let args = RedisArgs {
        auth: Some(RedisAuth::Entra),
        azure_client_id: Some(CLIENT_ID.to_owned()),
        token_retries: 1,
        token_timeout: Duration::from_secs(5).into(),
        ..RedisArgs::for_url(redis.url())
    };
    let store = RedisStore::connect(&args).await.expect("connect with Entra ID");
    assert_eq!(store.auth().user.as_deref(), Some(OID), "the user is the token's oid claim");
    assert!(store.auth().first_token.is_some());
    assert_eq!(store.incr("visits", 1).await.unwrap(), 1);
    assert!(clients_of(&redis, OID).contains(&format!("user={OID}")), "{}", clients_of(&redis, OID));
    assert!(fake.issued() >= 1 && fake.rejected() == 0, "header and client_id as the protocol wants");

    // Refresh: each new token is sent with AUTH on the open connection.
    redis.command(&["CONFIG", "RESETSTAT"]);
    count_until(&store, Duration::from_secs(15), "two refreshes", || fake.issued() >= 3).await;
    keep_counting(&store, Duration::from_millis(300)).await;
    let auth = auth_stats(&redis);
    assert!(stat(&auth, "calls") >= 2, "no re-AUTH after refreshes: {auth:?}");
    assert_eq!(stat(&auth, "failed_calls") + stat(&auth, "rejected_calls"), 0, "{auth:?}");

    // Outage longer than the provider's retries: calls keep working on the
    // current token, and the provider that gave up is replaced.
    fake.go_down();
    let down_requests = fake.requests();
    keep_counting(&store, Duration::from_secs(5)).await;
    assert!(fake.requests() >= down_requests + 3, "refresh attempts during the outage: {}", fake.requests());
    let before = fake.issued();
    fake.go_up();
    count_until(&store, Duration::from_secs(15), "token after the outage", || fake.issued() > before).await;
    keep_counting(&store, Duration::from_millis(300)).await;

    // Only tokens issued after the outage are valid now; a new connection
    // (old ones killed) must log in with the current one.
    let latest = fake.issued();
    allow_tokens(&redis, &fake, latest, 8);
    redis.command(&["CLIENT", "KILL", "USER", OID]);
    let start = Instant::now();
    while store.incr("visits", 1).await.is_err() {
        assert!(start.elapsed() < Duration::from_secs(3), "no reconnect with the renewed token");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    keep_counting(&store, Duration::from_millis(500)).await;
    assert!(clients_of(&redis, OID).contains(&format!("user={OID}")));
}
