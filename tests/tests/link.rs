//! The loopback link on its own: what `spin up` + `chaoslab-sidecar` users
//! see when the sidecar is down, restarted, frozen or configured with another
//! secret (under the real Spin CLI and under `chaoslab up --link loopback`);
//! the sidecar's probes and RPC errors; the composition errors of `up --link
//! loopback`; and `up --link loopback` serving its own sidecar.

use std::time::{Duration, Instant};

use bytes::Bytes;
use chaoslab_tests::sidecar::LINK_TOKEN;
use chaoslab_tests::{Chaoslab, FakeOtlp, Link, RedisServer, SidecarProcess, artifacts, get, request};
use http::Method;
use rstest::rstest;

/// `GET url` until it answers `status` (each try bounded by 2 s); the time it took.
async fn wait_for(url: &str, status: u16, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if let Ok(resp) = get(url, Duration::from_secs(2)).await
            && resp.status == status
        {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "{url} did not answer {status} within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[rstest]
#[tokio::test]
async fn sidecar_down_gives_503_within_1s_and_a_restarted_sidecar_recovers(
    #[values(Link::Loopback, Link::Spin)] link: Link,
) {
    let redis = RedisServer::start();
    let mut app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    assert_eq!(app.get("/").await.status, 200);

    app.sidecar().expect("loopback").kill();
    let start = Instant::now();
    let health = app.get("/health").await;
    let took = start.elapsed();
    assert_eq!(health.status, 503, "{}", health.text());
    assert!(took < Duration::from_secs(1), "503 took {took:?}");
    assert!(health.text().contains("sidecar is not running"), "{}", health.text());
    let visit = app.get("/").await;
    assert_eq!(visit.status, 503, "{}", visit.text());
    let status = app.chaos(Method::GET, "/chaos/status", "").await;
    assert_eq!(status.status, 503, "chaos API without its engine: {}", status.text());

    app.sidecar().expect("loopback").restart();
    let recovered = wait_for(&app.url("/"), 200, Duration::from_secs(5)).await;
    eprintln!("sidecar down: /health 503 in {took:?}; recovered {recovered:?} after the restart");
    assert_eq!(redis.get_int("chaoslab:visits"), 2, "one visit before, one after; none lost or doubled");
}

#[rstest]
#[tokio::test]
async fn a_frozen_sidecar_gives_503_within_1_5s_and_a_thawed_one_recovers(
    #[values(Link::Loopback, Link::Spin)] link: Link,
) {
    let redis = RedisServer::start();
    let mut app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    assert_eq!(app.get("/").await.status, 200);

    // Connections are still accepted, nothing answers: every call of a
    // request shares one deadline, and telemetry is dropped after the first
    // failure, so a request costs one budget (1 s), not one timeout per call.
    app.sidecar().expect("a sidecar beside the app").freeze();
    for path in ["/health", "/"] {
        let start = Instant::now();
        let resp = get(&app.url(path), Duration::from_secs(10)).await.expect("answered while the sidecar is frozen");
        let took = start.elapsed();
        eprintln!("frozen sidecar ({link:?}): GET {path} -> {} in {took:?}", resp.status);
        assert_eq!(resp.status, 503, "{path}: {}", resp.text());
        assert!(took <= Duration::from_millis(1500), "{path}: 503 took {took:?}");
        assert!(resp.text().contains("timeout"), "{path}: {}", resp.text());
    }

    app.sidecar().expect("a sidecar beside the app").thaw();
    let recovered = wait_for(&app.url("/"), 200, Duration::from_secs(5)).await;
    eprintln!("frozen sidecar ({link:?}): recovered {recovered:?} after the thaw");
    assert_eq!(redis.get_int("chaoslab:visits"), 2, "one visit before, one after: none counted while frozen");
}

#[rstest]
#[tokio::test]
async fn a_wrong_link_token_is_refused_and_the_app_says_so(#[values(Link::Loopback, Link::Spin)] link: Link) {
    let redis = RedisServer::start();
    let wrong = "another-secret-0123456789";
    let app = Chaoslab::builder().link(link).redis(&redis.url()).app_link_token(wrong).start();
    let health = app.get("/health").await;
    assert_eq!(health.status, 503, "{}", health.text());
    assert!(health.text().contains("refused the link token"), "{}", health.text());
    assert!(app.wait_for_log("sidecar refused the link token (401)"), "{}", app.logs());
    assert!(app.wait_for_log("refused sidecar call: wrong link token"), "{}", app.logs());
    let logs = app.logs();
    assert!(!logs.contains(wrong) && !logs.contains(LINK_TOKEN), "a secret was logged:\n{logs}");
}

#[rstest]
#[tokio::test]
async fn holds_do_not_count_against_the_request_timeout(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).args(["--request-timeout", "1s"]).start();
    app.start_experiment("hang", r#"{"duration_seconds":2}"#).await;
    let start = Instant::now();
    let resp = get(&app.url("/health"), Duration::from_secs(5)).await.unwrap();
    assert_eq!(resp.status, 200, "held past the 1 s timeout, then served: {}", resp.text());
    assert!(start.elapsed() >= Duration::from_millis(1500), "not held: {:?}", start.elapsed());
}

/// The bridge keeps its connections to the sidecar: 400 requests, two
/// sidecar calls each (the chaos decision, the store call), open a handful
/// of connections, not one per call — under `chaoslab up`'s pooled client
/// and under the Spin CLI's own outbound client. Counted by the sidecar's
/// `chaoslab.http.connections`, exported when it stops.
#[rstest]
#[tokio::test]
async fn the_bridge_keeps_its_connections_to_the_sidecar(#[values(Link::Loopback, Link::Spin)] link: Link) {
    const SEQUENTIAL: i64 = 200;
    const CLIENTS: i64 = 8;
    const EACH: i64 = 25;
    let redis = RedisServer::start();
    let otlp = FakeOtlp::start();
    let mut app = Chaoslab::builder()
        .link(link)
        .redis(&redis.url())
        .env_both("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp.endpoint())
        .start();
    for _ in 0..SEQUENTIAL {
        let resp = app.get("/").await;
        assert_eq!(resp.status, 200, "{}", resp.text());
    }
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let url = app.url("/");
        clients.spawn(async move {
            for _ in 0..EACH {
                let resp = get(&url, Duration::from_secs(5)).await.expect("GET /");
                assert_eq!(resp.status, 200, "{}", resp.text());
            }
        });
    }
    while let Some(done) = clients.join_next().await {
        done.expect("a client");
    }
    let requests = SEQUENTIAL + CLIENTS * EACH;
    assert_eq!(redis.get_int("chaoslab:visits"), requests, "every request made its store call");

    let sidecar = app.sidecar().expect("a sidecar process");
    sidecar.sigterm();
    assert!(sidecar.wait(Duration::from_secs(15)).success(), "{}", sidecar.logs());
    let accepted = otlp
        .int_sum_total("chaoslab.http.connections", ("chaoslab.listener", "sidecar"))
        .unwrap_or_else(|| panic!("no connection count from the sidecar: {:?}", otlp.metric_names()));
    eprintln!("{link:?}: {requests} requests, {} sidecar calls, {accepted} connections", 2 * requests);
    assert!(
        accepted <= 2 * CLIENTS,
        "{accepted} connections for {} sidecar calls: the bridge's connections are not reused",
        2 * requests
    );
}

#[tokio::test]
async fn sidecar_probes_follow_redis_and_hangs() {
    let mut redis = RedisServer::start();
    let sidecar = SidecarProcess::start(vec!["--redis-url".into(), redis.url(), "--chaos-token".into(), "tok".into()]);
    let url = |path: &str| format!("{}{path}", sidecar.url());
    assert_eq!(get(url("/livez"), Duration::from_secs(2)).await.unwrap().status, 200);
    let ready = get(url("/readyz"), Duration::from_secs(2)).await.unwrap();
    assert_eq!(ready.status, 200, "{}", ready.text());

    redis.kill();
    let unready = get(url("/readyz"), Duration::from_secs(2)).await.unwrap();
    assert_eq!(unready.status, 503);
    assert_eq!(unready.header("content-type"), Some("application/problem+json"));
    assert_eq!(get(url("/livez"), Duration::from_secs(2)).await.unwrap().status, 200, "liveness ignores Redis");
    redis.restart();
    wait_for(&url("/readyz"), 200, Duration::from_secs(5)).await;

    // A hang holds /livez, so the platform restarts the sidecar; DELETE ends it.
    let app =
        Chaoslab::builder().args(["--link", "loopback", "--sidecar-url", &sidecar.url(), "--link-token", LINK_TOKEN]);
    let app = app.start();
    let hang = request(
        Method::POST,
        &app.url("/chaos/hang"),
        &[("authorization", "Bearer tok"), ("content-type", "application/json")],
        Bytes::from_static(br#"{"duration_seconds":60}"#),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(hang.status, 202, "{}", hang.text());
    assert!(get(url("/livez"), Duration::from_millis(1500)).await.is_err(), "/livez answered during a hang");
    let stop = request(
        Method::DELETE,
        &app.url("/chaos"),
        &[("authorization", "Bearer tok")],
        Bytes::new(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(stop.status, 200);
    assert_eq!(get(url("/livez"), Duration::from_secs(2)).await.unwrap().status, 200);
}

#[tokio::test]
async fn sidecar_rpc_rejects_bad_calls_with_problems() {
    let redis = RedisServer::start();
    let sidecar = SidecarProcess::start(vec!["--redis-url".into(), redis.url()]);
    let auth = format!("Bearer {LINK_TOKEN}");
    let call = |path: &str, headers: Vec<(&'static str, String)>, body: &'static str| {
        let url = format!("{}{path}", sidecar.url());
        async move {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            request(Method::POST, &url, &headers, Bytes::from_static(body.as_bytes()), Duration::from_secs(2))
                .await
                .unwrap()
        }
    };
    let ok = call("/v1/store/incr", vec![("authorization", auth.clone())], r#"["k",5]"#).await;
    assert_eq!((ok.status, ok.text()), (200, r#"{"Ok":5}"#.to_owned()));
    let none = call("/v1/store/incr", vec![], r#"["k",5]"#).await;
    assert_eq!(none.status, 401);
    assert!(none.header("www-authenticate").is_some());
    let bad = call("/v1/store/incr", vec![("authorization", auth.clone())], r#"{"key":"k"}"#).await;
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("store.incr"), "{}", bad.text());
    let unknown = call("/v1/store/flushall", vec![("authorization", auth.clone())], "[]").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.header("content-type"), Some("application/problem+json"));
    assert_eq!(redis.get_int("k"), 5, "rejected calls changed nothing");
}

/// A manifest in a temp dir serving the api component with `component_extra`.
fn manifest_with(component_extra: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let wasm = |name: &str| artifacts::target_dir().join("wasm32-wasip2/release").join(name).display().to_string();
    let text = format!(
        "spin_manifest_version = 2\n[application]\nname = \"t\"\n\
         [variables]\nsidecar_url = {{ default = \"http://127.0.0.1:9\" }}\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"api\"\n\
         [component.api]\nsource = {:?}\nallowed_outbound_hosts = [\"{{{{ sidecar_url }}}}\"]\n{}",
        wasm("chaoslab_api.wasm"),
        component_extra
            .replace("LINK_WASM", &wasm("chaoslab_sidecar_link.wasm"))
            .replace("GUEST_WASM", &wasm("chaoslab_test_guest.wasm")),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// `up --link loopback` on `manifest`: must fail before binding; its stderr.
fn loopback_start_fails(manifest: &std::path::Path) -> String {
    let builder = Chaoslab::builder().manifest(manifest).args([
        "--link",
        "loopback",
        "--sidecar-url",
        "http://127.0.0.1:9",
        "--link-token",
        LINK_TOKEN,
    ]);
    let failure = builder.try_start().err().expect("started despite a broken dependency");
    assert!(!failure.stderr.contains("listening on"), "{}", failure.stderr);
    failure.stderr
}

#[test]
fn composition_errors_name_spin_toml_and_the_key() {
    let cases = [
        ("\"chaoslab:nothing\" = { path = \"LINK_WASM\" }", "\"chaoslab:nothing\"", "matches no import"),
        (
            "\"chaoslab:sidecar\" = { path = \"GUEST_WASM\" }",
            "\"chaoslab:sidecar\"",
            "does not export \"chaoslab:sidecar/",
        ),
        (
            "\"chaoslab:sidecar\" = { path = \"/nonexistent/link.wasm\" }",
            "\"chaoslab:sidecar\"",
            "cannot read /nonexistent/link.wasm",
        ),
    ];
    for (dependency, key, message) in cases {
        let (_dir, path) = manifest_with(&format!(
            "dependencies_inherit_configuration = true\n[component.api.dependencies]\n{dependency}\n"
        ));
        let err = loopback_start_fails(&path);
        let field = format!("[component.api.dependencies] {key}");
        assert!(err.contains(&path.display().to_string()) && err.contains(&field) && err.contains(message), "{err}");
    }
    let (_dir, path) = manifest_with("[component.api.dependencies]\n\"chaoslab:sidecar\" = { path = \"LINK_WASM\" }\n");
    let err = loopback_start_fails(&path);
    assert!(err.contains("set dependencies_inherit_configuration = true"), "{err}");
    let (_dir, path) = manifest_with("");
    let err = loopback_start_fails(&path);
    assert!(err.contains("declare it under [component.api.dependencies]"), "{err}");
}

#[tokio::test]
async fn up_in_loopback_mode_serves_its_own_sidecar() {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().redis(&redis.url()).args(["--link", "loopback"]).start();
    assert!(app.wait_for_log("serving the sidecar link on loopback"), "{}", app.logs());
    assert_eq!(app.get("/").await.json()["visits"], 1);
    app.start_experiment("errors", r#"{"status":418,"percent":100,"duration_seconds":30}"#).await;
    assert_eq!(app.get("/").await.status, 418);
    assert_eq!(redis.get_int("chaoslab:visits"), 1);
}
