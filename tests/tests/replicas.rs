//! Experiments across replicas: several real `chaoslab up` processes (each
//! its own replica, named `host:port`) on one real `redis-server`, in both
//! link modes. One chaos call reaches every replica through Redis; a stop on
//! any replica ends it everywhere; expiry needs no call; a replica started
//! later picks it up; a killed replica leaves `status?scope=all`; Redis down
//! refuses `scope: "all"` with 503 while replica-scoped experiments work;
//! a replica refused by Redis's ACL coordinates once it is admitted; the
//! coordination's keys do not grow with the experiments run.
//!
//! The Spin mode (three real `spin up`, each beside its `chaoslab-sidecar`)
//! runs the first test only: there the engine and its coordination are the
//! same `chaoslab-sidecar` as in the loopback mode, reached through the same
//! bridge, so the others would multiply this file's time without exercising
//! anything the loopback mode does not.

use std::time::{Duration, Instant};

use chaoslab_tests::{Chaoslab, Link, RedisServer};
use http::Method;
use rstest::rstest;
use serde_json::Value;

/// Short heartbeats, so a killed replica leaves the status in about a second.
const HEARTBEAT: [&str; 4] = ["--chaos-heartbeat-interval", "200ms", "--chaos-heartbeat-ttl", "1s"];
/// The issue's budget: every replica applies (or ends) a shared experiment within 1 s.
const APPLY_WITHIN: Duration = Duration::from_secs(1);
/// The latency the tests inject, and what counts as a slow answer.
const LATENCY_MS: u64 = 600;

/// One replica on `redis`.
fn replica(redis: &RedisServer, link: Link) -> Chaoslab {
    Chaoslab::builder().link(link).redis(&redis.url()).args(HEARTBEAT).start()
}

/// `GET /chaos/status` (`?scope=all` when `all`), as JSON; panics unless 200.
async fn status(app: &Chaoslab, all: bool) -> Value {
    let path = if all { "/chaos/status?scope=all" } else { "/chaos/status" };
    let resp = app.chaos(Method::GET, path, "").await;
    assert_eq!(resp.status, 200, "{path}: {}", resp.text());
    resp.json()
}

/// The ids of the experiments running on `app`.
async fn active(app: &Chaoslab) -> Vec<String> {
    status(app, false).await["active"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls `check` every 20 ms until it holds; how long that took, or `None`
/// after `within`.
async fn time_until<F: AsyncFnMut() -> bool>(within: Duration, mut check: F) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < within {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// Asserts that `id` runs on `app` (or, with `running` false, no longer
/// does) within [`APPLY_WITHIN`]; returns the time it took.
async fn applies(app: &Chaoslab, id: &str, running: bool, what: &str) -> Duration {
    // Generous poll window, strict assertion: the failure message says how late it was.
    let took = time_until(APPLY_WITHIN * 10, async || active(app).await.iter().any(|a| a == id) == running).await;
    let took = took.unwrap_or_else(|| panic!("{what}: {id} running={running} not seen within 10 s"));
    assert!(took <= APPLY_WITHIN, "{what}: {id} running={running} after {took:?}, budget {APPLY_WITHIN:?}");
    took
}

/// Whether a data-plane request to `app` is delayed by the injected latency.
async fn slow(app: &Chaoslab) -> bool {
    app.timed_get("/").await.1 >= Duration::from_millis(LATENCY_MS)
}

/// The names of the replicas `app` lists in `status?scope=all` as answering
/// (`true`) or not (`false`).
async fn listed(app: &Chaoslab, answering: bool) -> Vec<String> {
    let all = status(app, true).await;
    all["replicas"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["answering"] == answering)
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The replica's own name, as its status says.
async fn name(app: &Chaoslab) -> String {
    status(app, false).await["replica"].as_str().unwrap().to_owned()
}

/// Waits until `app` lists exactly `names` as answering.
async fn wait_for_replicas(app: &Chaoslab, names: &[&str]) {
    let mut want: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    want.sort();
    let seen = time_until(Duration::from_secs(10), async || listed(app, true).await == want).await;
    assert!(seen.is_some(), "replicas {want:?} never all listed; last: {:?}", status(app, true).await);
}

#[rstest]
#[tokio::test]
async fn a_scope_all_experiment_reaches_every_replica_and_a_stop_on_any_ends_it_everywhere(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    let redis = RedisServer::start();
    let (a, b, c) = (replica(&redis, link), replica(&redis, link), replica(&redis, link));
    let names = [name(&a).await, name(&b).await, name(&c).await];
    assert!(names[0] != names[1] && names[1] != names[2] && names[0] != names[2], "distinct names: {names:?}");
    wait_for_replicas(&a, &names.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(!slow(&b).await && !slow(&c).await, "no latency before the experiment");

    let body = format!(r#"{{"ms":{LATENCY_MS},"scope":"all","duration_seconds":60}}"#);
    let started = a.start_experiment("latency", &body).await;
    let id = started["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("exp-c"), "a shared id: {started}");
    assert_eq!(started["scope"], "all");
    let mut targeted: Vec<String> =
        started["replicas"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect();
    targeted.sort();
    let mut all = names.to_vec();
    all.sort();
    assert_eq!(targeted, all, "the answer names every live replica");
    let (on_b, on_c) = (applies(&b, &id, true, "B").await, applies(&c, &id, true, "C").await);
    eprintln!("applied on B after {on_b:?}, on C after {on_c:?} (from A's answer, polled)");
    assert!(slow(&a).await && slow(&b).await && slow(&c).await, "every replica is slow");

    let stopped = c.chaos(Method::DELETE, &format!("/chaos/{id}"), "").await;
    assert_eq!(stopped.status, 200, "{}", stopped.text());
    assert_eq!(stopped.json()["end_reason"], "stopped");
    let (off_a, off_b) = (applies(&a, &id, false, "A").await, applies(&b, &id, false, "B").await);
    eprintln!("ended on A after {off_a:?}, on B after {off_b:?} (from C's answer, polled)");
    assert!(!slow(&a).await && !slow(&b).await, "back to normal everywhere");

    // Expiry needs no call: a 2 s experiment ends everywhere by itself.
    let short =
        a.start_experiment("latency", &format!(r#"{{"ms":{LATENCY_MS},"scope":"all","duration_seconds":2}}"#)).await;
    let short_id = short["id"].as_str().unwrap().to_owned();
    applies(&c, &short_id, true, "C").await;
    let ends_in = Duration::from_millis(short["ends_at_ms"].as_u64().unwrap().saturating_sub(now_ms()));
    tokio::time::sleep(ends_in).await;
    for (app, who) in [(&a, "A"), (&b, "B"), (&c, "C")] {
        applies(app, &short_id, false, who).await;
        let recent = status(app, false).await["recent"].clone();
        let ended = recent.as_array().unwrap().iter().find(|e| e["id"] == short_id.as_str()).cloned();
        assert_eq!(ended.map(|e| e["end_reason"].clone()), Some("expired".into()), "{who}: {recent}");
    }
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

#[rstest]
#[tokio::test]
async fn a_replica_started_mid_experiment_applies_it_and_a_killed_one_leaves_the_status(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let redis = RedisServer::start();
    let (a, b, c) = (replica(&redis, link), replica(&redis, link), replica(&redis, link));
    let names = [name(&a).await, name(&b).await, name(&c).await];
    wait_for_replicas(&a, &names.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let started = a.start_experiment("errors", r#"{"status":503,"scope":"all","duration_seconds":60}"#).await;
    let id = started["id"].as_str().unwrap().to_owned();

    let d = replica(&redis, link);
    let on_d = applies(&d, &id, true, "D (started mid-experiment)").await;
    eprintln!("the late replica applied it {on_d:?} after its readiness line");
    assert_eq!(d.get("/").await.status, 503, "the late replica answers the injected status");

    // SIGKILL B (its engine and app): its heartbeat expires after the TTL.
    let victim = names[1].clone();
    for pid in [b.engine_pid(), b.pid()] {
        let _ = chaoslab_tests::signal::send(pid, libc::SIGKILL);
    }
    let killed = Instant::now();
    let gone = time_until(Duration::from_secs(10), async || !listed(&a, true).await.contains(&victim)).await;
    let gone = gone.unwrap_or_else(|| panic!("{victim} still answering 10 s after SIGKILL"));
    eprintln!("the killed replica left the answering ones after {:?}", killed.elapsed());
    // TTL 1 s after its last heartbeat (at most one 200 ms interval before the kill), plus a loaded machine's slack.
    assert!(gone <= Duration::from_millis(2500), "{victim} listed as answering {gone:?} after SIGKILL");
    assert!(listed(&a, false).await.contains(&victim), "listed as not answering: {}", status(&a, true).await);
    let mut answering = listed(&c, true).await;
    answering.sort();
    let mut expected = vec![names[0].clone(), names[2].clone(), name(&d).await];
    expected.sort();
    assert_eq!(answering, expected, "the others still answer");
    drop(b);
}

#[rstest]
#[tokio::test]
async fn with_redis_down_scope_all_is_503_replica_scope_works_and_the_replicas_agree_again(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let redis = RedisServer::start();
    let (a, b) = (replica(&redis, link), replica(&redis, link));
    let names = [name(&a).await, name(&b).await];
    wait_for_replicas(&a, &[&names[0], &names[1]]).await;

    redis.freeze();
    let refused = a.chaos(Method::POST, "/chaos/latency", r#"{"scope":"all","duration_seconds":30}"#).await;
    assert_eq!(refused.status, 503, "{}", refused.text());
    let problem = refused.json();
    assert!(problem["detail"].as_str().unwrap().contains("Redis"), "the reason names Redis: {problem}");
    assert!(active(&a).await.is_empty() && active(&b).await.is_empty(), "nothing half-applied");
    let down = a.chaos(Method::GET, "/chaos/status?scope=all", "").await;
    assert_eq!(down.status, 503, "{}", down.text());
    let own = a.start_experiment("errors", r#"{"status":418,"routes":["/health"],"duration_seconds":30}"#).await;
    assert_eq!(own["scope"], "replica");
    assert_eq!(a.get("/health").await.status, 418, "a replica-scoped experiment works without Redis");
    assert_eq!(b.get("/health").await.status, 503, "and stays on its replica (B's Redis is down: unhealthy)");
    let stopped = a.chaos(Method::DELETE, &format!("/chaos/{}", own["id"].as_str().unwrap()), "").await;
    assert_eq!(stopped.status, 200, "a replica-scoped stop needs no Redis: {}", stopped.text());

    redis.thaw();
    let back = time_until(Duration::from_secs(10), async || {
        a.chaos(Method::POST, "/chaos/errors", r#"{"status":502,"scope":"all","duration_seconds":30}"#).await.status
            == 202
    })
    .await;
    assert!(back.is_some(), "scope all works again once Redis is back");
    let id = status(&a, false).await["active"][0]["id"].as_str().unwrap().to_owned();
    applies(&b, &id, true, "B after the outage").await;
    wait_for_replicas(&b, &[&names[0], &names[1]]).await;
    // Their views agree (names and who answers; heartbeat times differ).
    for answering in [true, false] {
        let (mut on_a, mut on_b) = (listed(&a, answering).await, listed(&b, answering).await);
        on_a.sort();
        on_b.sort();
        assert_eq!(on_a, on_b, "answering={answering}");
    }
}

/// A replica started before Redis admits its ACL user: once the user is
/// created, the coordination comes back by itself, as the store does (its
/// connections are replaced after refused credentials; redis-rs alone would
/// keep them failing until an I/O error). In-process only: the sidecar's
/// coordination is the same code under both links.
#[tokio::test]
async fn a_replica_refused_by_the_acl_coordinates_once_it_is_admitted() {
    let mut redis = RedisServer::start();
    redis.require_acl();
    let url = format!("redis://replica-user:pw-4f1e@127.0.0.1:{}", redis.port());
    let app = Chaoslab::builder().redis(&url).args(HEARTBEAT).start();
    // Until redis-rs gives up its connect retries, calls time out; then Redis's
    // refusal is the reason given.
    let refused = time_until(Duration::from_secs(5), async || {
        let all = app.chaos(Method::GET, "/chaos/status?scope=all", "").await;
        all.status == 503 && all.text().contains("denied")
    })
    .await;
    assert!(refused.is_some(), "the coordination was not refused: {}", app.logs());

    redis.command(&["ACL", "SETUSER", "replica-user", "on", ">pw-4f1e", "~*", "&*", "+@all"]);
    let name = name(&app).await;
    let back = time_until(Duration::from_secs(5), async || app.lists_answering(Some(&name)).await).await;
    assert!(back.is_some(), "the coordination did not come back after the ACL was fixed: {}", app.logs());
    let started = app.start_experiment("errors", r#"{"status":418,"scope":"all","duration_seconds":30}"#).await;
    assert_eq!(started["scope"], "all");
    assert_eq!(app.get("/").await.status, 418, "the shared experiment applies here");
}

#[rstest]
#[tokio::test]
async fn the_redis_key_count_is_the_same_after_1000_experiments_as_after_10(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let redis = RedisServer::start();
    let (a, b) = (replica(&redis, link), replica(&redis, link));
    let names = [name(&a).await, name(&b).await];
    wait_for_replicas(&a, &[&names[0], &names[1]]).await;
    let keys = || match redis.command(&["KEYS", "chaoslab:chaos:*"]) {
        redis::Value::Array(keys) => keys.len(),
        other => panic!("KEYS: {other:?}"),
    };
    let kinds = ["latency", "errors", "hang", "redis", "load"];
    let run = async |from: usize, to: usize| {
        for n in from..to {
            let kind = kinds[n % kinds.len()];
            let body = match kind {
                "redis" => r#"{"mode":"slow","latency_ms":1,"percent":1,"scope":"all","duration_seconds":60}"#,
                "load" => r#"{"workers":0,"memory_mb":1,"scope":"all","duration_seconds":60}"#,
                "latency" => r#"{"ms":0,"percent":1,"scope":"all","duration_seconds":60}"#,
                "errors" => r#"{"percent":1,"routes":["/nowhere"],"scope":"all","duration_seconds":60}"#,
                _ => r#"{"scope":"all","duration_seconds":1}"#,
            };
            let started = a.start_experiment(kind, body).await;
            // Stopped where it started: a stop from another replica reaches
            // the starter by an announcement, and the next start of the kind
            // must not race it (stops from any replica are tested above).
            let resp = a.chaos(Method::DELETE, &format!("/chaos/{}", started["id"].as_str().unwrap()), "").await;
            assert_eq!(resp.status, 200, "stop {n} ({kind}): {}", resp.text());
        }
    };
    run(0, 10).await;
    let after_10 = keys();
    let started = Instant::now();
    run(10, 1000).await;
    let after_1000 = keys();
    eprintln!("keys after 10 experiments: {after_10}, after 1000: {after_1000} ({:?} for 990)", started.elapsed());
    assert_eq!(after_10, after_1000, "{:?}", redis.command(&["KEYS", "chaoslab:chaos:*"]));
    // The id counter, the replica index, one heartbeat per replica; no experiment is left.
    assert_eq!(after_1000, 4, "{:?}", redis.command(&["KEYS", "chaoslab:chaos:*"]));
}

#[rstest]
#[tokio::test]
async fn a_subset_reaches_only_the_replicas_picked_and_names_them(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let redis = RedisServer::start();
    let (a, b, c) = (replica(&redis, link), replica(&redis, link), replica(&redis, link));
    let apps = [(name(&a).await, &a), (name(&b).await, &b), (name(&c).await, &c)];
    wait_for_replicas(&a, &apps.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()).await;

    let too_many = a.start_experiment("errors", r#"{"status":418,"replicas":4,"duration_seconds":30}"#).await;
    assert_eq!(too_many["replicas"].as_array().unwrap().len(), 3, "more than are live: every live one: {too_many}");
    let stopped = b.chaos(Method::DELETE, &format!("/chaos/{}", too_many["id"].as_str().unwrap()), "").await;
    assert_eq!(stopped.status, 200, "{}", stopped.text());
    for (name, app) in &apps {
        applies(app, too_many["id"].as_str().unwrap(), false, name).await;
    }

    for (body, picked) in [
        (r#"{"status":418,"replicas":2,"duration_seconds":30}"#, 2),
        (
            r#"{"status":418,"replicas_percent":34,"duration_seconds":30}"#,
            2, // 34 % of 3, rounded up
        ),
    ] {
        let started = a.start_experiment("errors", body).await;
        let id = started["id"].as_str().unwrap().to_owned();
        let names: Vec<&str> = started["replicas"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        assert_eq!(names.len(), picked, "{started}");
        assert_eq!(started["scope"], "all");
        for (name, app) in &apps {
            if names.contains(&name.as_str()) {
                applies(app, &id, true, name).await;
                assert_eq!(app.get("/").await.status, 418, "{name} was picked");
            }
        }
        tokio::time::sleep(APPLY_WITHIN).await;
        for (name, app) in &apps {
            if !names.contains(&name.as_str()) {
                assert!(!active(app).await.contains(&id), "{name} was not picked");
                assert_ne!(app.get("/").await.status, 418, "{name} was not picked");
            }
        }
        // Stopped from a replica it may not run on: gone everywhere.
        let stopped = c.chaos(Method::DELETE, &format!("/chaos/{id}"), "").await;
        assert_eq!(stopped.status, 200, "{}", stopped.text());
        for (name, app) in &apps {
            applies(app, &id, false, name).await;
        }
    }
}
