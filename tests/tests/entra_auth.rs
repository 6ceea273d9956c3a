//! Azure Managed Redis authentication, end to end without Azure: the real
//! `chaoslab up` binary gets `--redis-auth entra` and the environment of a
//! [`FakeIdentity`] endpoint (App Service / Container Apps protocol), and
//! talks to a real `redis-server` that only admits the identity's object id
//! with the tokens the endpoint issues (`ACL SETUSER <oid> on >tok1 >tok2 …`,
//! default user off). The environment goes to the child only.

use std::time::{Duration, Instant};

use chaoslab_tests::chaoslab::Builder;
use chaoslab_tests::{Chaoslab, FakeIdentity, RedisServer};

const OID: &str = "3e2f9a10-aaaa-4bbb-8ccc-0123456789ab";
const CLIENT_ID: &str = "9d8c7b6a-1111-4222-8333-444455556666";
/// redis-rs renews a token 240 s before it expires: these are renewed ~every 2 s.
const SHORT_LIFETIME: Duration = Duration::from_secs(242);
/// A day, like real Entra tokens: no renewal during a test.
const LONG_LIFETIME: Duration = Duration::from_secs(86_400);

/// A Redis that admits only ACL users, with the identity allowed tokens `1..=8`.
fn acl_redis(fake: &FakeIdentity) -> RedisServer {
    let mut redis = RedisServer::start();
    redis.require_acl();
    allow_tokens(&redis, fake, 1, 8);
    redis
}

/// Lets the identity's user log in with exactly tokens `from..from+count`.
fn allow_tokens(redis: &RedisServer, fake: &FakeIdentity, from: usize, count: usize) {
    let passwords: Vec<String> = (from..from + count).map(|n| format!(">{}", fake.token(n))).collect();
    let mut args = vec!["ACL", "SETUSER", OID, "reset", "on", "~*", "&*", "+@all"];
    args.extend(passwords.iter().map(String::as_str));
    redis.command(&args);
}

/// `chaoslab up` with Entra ID auth against `redis`, identity from `fake`.
fn entra_app(redis: &RedisServer, fake: &FakeIdentity) -> Builder {
    let mut builder =
        Chaoslab::builder().redis(&redis.url()).args(["--redis-auth", "entra"]).env("AZURE_CLIENT_ID", CLIENT_ID);
    for (key, value) in fake.env() {
        builder = builder.env(key, &value);
    }
    builder
}

/// `CLIENT LIST` lines of the identity's connections.
fn identity_clients(redis: &RedisServer) -> Vec<String> {
    let list: String = redis::from_redis_value(redis.command(&["CLIENT", "LIST"])).unwrap();
    list.lines().filter(|l| l.contains(&format!(" user={OID} "))).map(str::to_owned).collect()
}

/// `GET /` every 20 ms for `period`; returns (requests, failures as "status body").
async fn visit_for(app: &Chaoslab, period: Duration) -> (usize, Vec<String>) {
    let (mut total, mut failures) = (0, Vec::new());
    let start = Instant::now();
    while start.elapsed() < period {
        let resp = app.get("/").await;
        total += 1;
        if resp.status != 200 {
            failures.push(format!("{} {}", resp.status, resp.text()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (total, failures)
}

/// Panics if any secret the fake endpoint handed out appears in the logs.
fn assert_no_secrets(app: &Chaoslab, fake: &FakeIdentity) {
    let logs = app.logs();
    for n in 1..=fake.issued() + 1 {
        let token = fake.token(n);
        assert!(!logs.contains(&token), "token {n} is in the logs");
        let signature = token.rsplit('.').next().unwrap();
        assert!(!logs.contains(signature), "a token signature is in the logs");
    }
    assert!(!logs.contains(fake.header()), "IDENTITY_HEADER is in the logs");
}

/// The value of `key=` in the log line containing `marker`.
fn log_field(logs: &str, marker: &str, key: &str) -> Option<String> {
    let line = logs.lines().find(|l| l.contains(marker))?;
    let start = line.find(&format!("{key}="))? + key.len() + 1;
    Some(line[start..].split([' ', ',']).next()?.trim_matches('"').to_owned())
}

#[tokio::test]
async fn entra_auth_serves_visits_as_the_identity_oid_and_logs_who_it_is() {
    let fake = FakeIdentity::start(OID, CLIENT_ID, LONG_LIFETIME);
    let redis = acl_redis(&fake);
    let app = entra_app(&redis, &fake).start();

    let visit = app.get("/").await;
    assert_eq!(visit.status, 200, "{}", visit.text());
    assert_eq!(visit.json()["visits"], 1);
    assert_eq!(app.get("/health").await.status, 200);
    let clients = identity_clients(&redis);
    assert!(!clients.is_empty(), "no connection authenticated as {OID}");
    assert_eq!(fake.rejected(), 0, "the endpoint saw a wrong header, client_id, resource or api-version");
    assert_eq!(fake.issued(), 1, "one token for a long-lived token");

    assert!(app.wait_for_log("connected to redis"), "{}", app.logs());
    let logs = app.logs();
    assert_eq!(log_field(&logs, "redis target", "auth").as_deref(), Some("entra"), "{logs}");
    assert_eq!(log_field(&logs, "redis target", "user").as_deref(), Some(OID), "{logs}");
    let token_ms: u64 = log_field(&logs, "connected to redis", "first_token_ms").unwrap().parse().unwrap();
    let command_ms: u64 = log_field(&logs, "connected to redis", "first_command_ms").unwrap().parse().unwrap();
    assert!(token_ms <= command_ms, "{logs}");
    eprintln!("start-up against the fake endpoint: first token {token_ms} ms, first redis command {command_ms} ms");
    assert_no_secrets(&app, &fake);
}

#[tokio::test]
async fn token_rotation_keeps_every_request_succeeding() {
    let fake = FakeIdentity::start(OID, CLIENT_ID, SHORT_LIFETIME);
    let redis = acl_redis(&fake);
    let app = entra_app(&redis, &fake).start();
    redis.command(&["CONFIG", "RESETSTAT"]);

    let (total, failures) = visit_for(&app, Duration::from_secs(5)).await;
    assert!(failures.is_empty(), "{} of {total} failed across refreshes: {failures:?}", failures.len());
    assert!(fake.issued() >= 3, "only {} tokens in 5 s", fake.issued());
    let stats: String = redis::from_redis_value(redis.command(&["INFO", "commandstats"])).unwrap();
    let auth = stats.lines().find(|l| l.starts_with("cmdstat_auth:")).unwrap_or_default();
    let stat = |name: &str| -> u64 {
        auth.split([':', ',']).find_map(|kv| kv.strip_prefix(&format!("{name}="))).map_or(0, |v| v.parse().unwrap())
    };
    assert!(stat("calls") >= 2, "no re-AUTH on refresh: {auth:?}");
    assert_eq!(stat("failed_calls") + stat("rejected_calls"), 0, "a re-AUTH was refused: {auth:?}");

    // Remove every token but the newest from the ACL: nothing fails.
    let latest = fake.issued();
    allow_tokens(&redis, &fake, latest, 8);
    let (total, failures) = visit_for(&app, Duration::from_secs(3)).await;
    assert!(
        failures.is_empty(),
        "{} of {total} failed after the old tokens were removed: {failures:?}",
        failures.len()
    );

    // A new connection logs in with the current token.
    redis.command(&["CLIENT", "KILL", "USER", OID]);
    let start = Instant::now();
    while app.get("/").await.status != 200 {
        assert!(start.elapsed() < Duration::from_secs(3), "no reconnect with the current token");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!identity_clients(&redis).is_empty());
    assert_no_secrets(&app, &fake);
}

#[tokio::test]
async fn identity_endpoint_outage_keeps_requests_working_and_renewal_resumes() {
    let fake = FakeIdentity::start(OID, CLIENT_ID, SHORT_LIFETIME);
    let redis = acl_redis(&fake);
    allow_tokens(&redis, &fake, 1, 40);
    let app = entra_app(&redis, &fake).args(["--redis-token-retries", "1"]).start();
    assert_eq!(app.get("/").await.status, 200);

    fake.go_down();
    let (total, failures) = visit_for(&app, Duration::from_secs(5)).await;
    assert!(failures.is_empty(), "{} of {total} failed during the outage: {failures:?}", failures.len());
    assert!(app.wait_for_log("replacing the credentials provider"), "{}", app.logs());

    let before = fake.issued();
    fake.go_up();
    let start = Instant::now();
    while fake.issued() == before {
        assert!(start.elapsed() < Duration::from_secs(15), "renewal did not resume: {}", app.logs());
        let (_, failures) = visit_for(&app, Duration::from_millis(200)).await;
        assert!(failures.is_empty(), "{failures:?}");
    }
    let (_, failures) = visit_for(&app, Duration::from_secs(1)).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_no_secrets(&app, &fake);
}

#[test]
fn unreachable_identity_endpoint_fails_start_up_within_the_bound() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let endpoint = format!("http://{closed}/msi/token");
    let redis = RedisServer::start();
    let start = Instant::now();
    let failure = Chaoslab::builder()
        .redis(&redis.url())
        .args(["--redis-auth", "entra", "--redis-token-timeout", "2s"])
        .env("IDENTITY_ENDPOINT", &endpoint)
        .env("IDENTITY_HEADER", "h")
        .env("AZURE_CLIENT_ID", CLIENT_ID)
        .try_start()
        .err()
        .expect("chaoslab must not start without a token");
    let took = start.elapsed();
    assert!(!failure.status.success());
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(6), "gave up after {took:?}");
    let expected = format!("could not get an Entra token for Redis from IDENTITY_ENDPOINT={endpoint}");
    assert!(failure.stderr.contains(&expected), "{}", failure.stderr);
    let last_line = failure.stderr.lines().rfind(|l| l.contains(&expected)).unwrap();
    assert!(last_line.contains("Entra token request failed"), "the cause is missing: {last_line}");
}

#[tokio::test]
async fn refused_token_makes_health_503_with_the_reason_until_the_acl_admits_it() {
    let fake = FakeIdentity::start(OID, CLIENT_ID, LONG_LIFETIME);
    let mut redis = RedisServer::start();
    redis.require_acl();
    redis.command(&["ACL", "SETUSER", OID, "on", ">not-the-token", "~*", "+@all"]);
    let app = entra_app(&redis, &fake).start();

    let start = Instant::now();
    let health = loop {
        let health = app.get("/health").await;
        let reason = health.json()["reason"].as_str().unwrap_or_default().to_owned();
        if health.status == 503 && reason.contains("denied") {
            break health;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "no auth failure reported: {}", health.text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(health.json()["status"], "unhealthy");
    assert!(health.json()["reason"].as_str().unwrap().contains("authentication failed"), "{}", health.text());
    assert_eq!(app.get("/").await.status, 503);

    // The access policy gets fixed: the app recovers by itself.
    allow_tokens(&redis, &fake, 1, 8);
    let start = Instant::now();
    while app.get("/health").await.status != 200 {
        assert!(start.elapsed() < Duration::from_secs(5), "still unhealthy after the ACL was fixed: {}", app.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.get("/").await.status, 200);

    // So does the coordination of experiments across replicas, on its own
    // connections: this replica's heartbeat is in Redis again, and a
    // scope-all experiment is written there and applied.
    let start = Instant::now();
    while !app.wait_for_log("chaos coordination restored") || !app.lists_answering(None).await {
        assert!(start.elapsed() < Duration::from_secs(10), "the coordination did not come back: {}", app.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.start_experiment("errors", r#"{"status":418,"scope":"all","duration_seconds":30}"#).await;
    assert_eq!(app.get("/").await.status, 418);
    assert_no_secrets(&app, &fake);
}

#[tokio::test]
async fn password_auth_never_logs_the_password() {
    let redis = RedisServer::start_with_args(&["--requirepass", "pw-7c1d0e9f"]);
    let app = Chaoslab::builder().redis(&format!("redis://:pw-7c1d0e9f@127.0.0.1:{}", redis.port())).start();
    assert_eq!(app.get("/").await.status, 200);
    assert!(app.wait_for_log("connected to redis"));
    let logs = app.logs();
    assert_eq!(log_field(&logs, "redis target", "auth").as_deref(), Some("password"), "{logs}");
    assert!(!logs.contains("pw-7c1d0e9f"), "{logs}");
}
