//! The revisions' control API and its command line, end to end: the chaos
//! token on every route, problem+json errors naming the field, the upload
//! cap, `chaoslab revision …` against a running runtime, the reserved
//! prefix, and the telemetry of revisions (spans, metrics, log records).

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use chaoslab_tests::revisions::{api_build, wasm, wasm_path};
use chaoslab_tests::{Chaoslab, FakeOtlp, Link, RedisServer, artifacts};
use http::Method;
use rstest::rstest;
use serde_json::json;

/// Every control route.
const ROUTES: [(Method, &str); 8] = [
    (Method::GET, "/_chaoslab/revisions"),
    (Method::POST, "/_chaoslab/revisions"),
    (Method::GET, "/_chaoslab/revisions/api-rev-1"),
    (Method::POST, "/_chaoslab/revisions/api-rev-1/activate"),
    (Method::GET, "/_chaoslab/traffic"),
    (Method::PUT, "/_chaoslab/traffic"),
    (Method::GET, "/_chaoslab"),
    (Method::DELETE, "/_chaoslab/anything"),
];

async fn send(
    app: &Chaoslab,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> chaoslab_tests::HttpResponse {
    chaoslab_tests::request(method, &app.url(path), headers, Bytes::from(body.to_owned()), Duration::from_secs(10))
        .await
        .unwrap()
}

#[rstest]
#[tokio::test]
async fn every_control_route_is_401_without_the_chaos_token(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    for (method, path) in ROUTES {
        for headers in [vec![], vec![("authorization", "Bearer wrong-token")], vec![("authorization", "Basic x")]] {
            let mut headers = headers;
            headers.push(("content-type", "application/json"));
            let resp = send(&app, method.clone(), path, &headers, r#"{"component":"api","source":"x"}"#).await;
            assert_eq!(resp.status, 401, "{method} {path} {headers:?}: {}", resp.text());
            assert_eq!(resp.header("www-authenticate"), Some("Bearer realm=\"chaoslab\""));
            assert_eq!(resp.header("content-type"), Some("application/problem+json"));
        }
    }
    assert_eq!(app.revision("api-rev-1").await["state"], "active", "nothing changed");
    let list = app.list().await;
    assert_eq!(list["revisions"].as_array().unwrap().len(), 3, "api, chaos, guest: {list:#}");
}

#[rstest]
#[tokio::test]
async fn control_errors_are_problems_naming_the_field(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).args(["--max-wasm-mb", "1"]).start();
    let post = |body: &str| {
        app.control(Method::POST, "/_chaoslab/revisions", "application/json", Bytes::from(body.to_owned()))
    };
    let field_of =
        |resp: &chaoslab_tests::HttpResponse| resp.json()["errors"][0]["field"].as_str().unwrap_or("").to_owned();
    for (body, status, field) in [
        (r#"{"source":"x.wasm"}"#, 400, "component"),
        (r#"{"component":"api","source":"x.wasm","colour":"red"}"#, 400, "colour"),
        (r#"{"component":"api","source":"x.wasm","readiness":{"successes":"3"}}"#, 400, "readiness.successes"),
        (r#"{"component":"nope","source":"x.wasm"}"#, 422, "component"),
        (r#"{"component":"api","source":"x.wasm","traffic":150}"#, 422, "traffic"),
        (r#"{"component":"api","source":"x.wasm","readiness":{"path":"/chaos/status"}}"#, 422, "readiness.path"),
        (r#"{"component":"chaos","source":"x.wasm"}"#, 422, "readiness.path"),
        (r#"{"component":"api","source":"x.wasm","traffic":100,"watch":{"requests":5}}"#, 422, "watch"),
        (r#"{"component":"api"}"#, 400, "source"),
    ] {
        let resp = post(body).await;
        assert_eq!((resp.status, field_of(&resp)), (status, field.to_owned()), "{body}: {}", resp.text());
        assert_eq!(resp.header("content-type"), Some("application/problem+json"));
    }
    let text = app.control(Method::POST, "/_chaoslab/revisions", "text/plain", Bytes::from("x")).await;
    assert_eq!(text.status, 415, "{}", text.text());
    let big = app
        .control(Method::POST, "/_chaoslab/revisions?component=api", "application/wasm", vec![0; 2 << 20].into())
        .await;
    assert_eq!(big.status, 413, "{}", big.text());
    let put =
        |body: &str| app.control(Method::PUT, "/_chaoslab/traffic", "application/json", Bytes::from(body.to_owned()));
    let resp = put(r#"{"api":{"api-rev-1":90}}"#).await;
    assert_eq!((resp.status, field_of(&resp)), (422, "api".to_owned()), "{}", resp.text());
    let resp = put(r#"{"api":{"rev-9":100}}"#).await;
    assert_eq!((resp.status, field_of(&resp)), (422, "api.rev-9".to_owned()), "{}", resp.text());
    let resp = put(r#"{"api":{"api-rev-1":"all"}}"#).await;
    assert_eq!((resp.status, field_of(&resp)), (400, "api.api-rev-1".to_owned()), "{}", resp.text());
    let resp = put(r#"{"api":{"rev-1":100}}"#).await;
    assert_eq!(resp.status, 200, "the short id is accepted: {}", resp.text());
    let unknown = app.control(Method::POST, "/_chaoslab/revisions/api-rev-9/activate", "", Bytes::new()).await;
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    let failed = app.deploy(json!({"component": "api", "source": "/nonexistent.wasm"})).await;
    let path = format!("/_chaoslab/revisions/{}/activate", failed["id"].as_str().unwrap());
    let refused = app.control(Method::POST, &path, "", Bytes::new()).await;
    assert_eq!(refused.status, 409, "a failed revision never serves: {}", refused.text());
    let delete = app.control(Method::DELETE, "/_chaoslab/revisions", "", Bytes::new()).await;
    assert_eq!((delete.status, delete.header("allow")), (405, Some("GET, POST")), "{}", delete.text());
    assert_eq!(app.get("/").await.header("x-chaoslab-revision"), Some("api-rev-1"));
}

#[tokio::test]
async fn without_chaos_there_is_no_token_and_the_control_api_is_404() {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().redis(&redis.url()).args(["--no-chaos"]).start();
    let resp = app.control(Method::GET, "/_chaoslab/revisions", "", Bytes::new()).await;
    assert_eq!(resp.status, 404, "{}", resp.text());
    assert!(resp.text().contains("--no-chaos"), "{}", resp.text());
}

#[test]
fn a_manifest_route_under_the_control_prefix_is_refused_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("spin.toml");
    let source = wasm_path("chaoslab_api_wrapped.wasm").display().to_string();
    let text = format!(
        "spin_manifest_version = 2\n[application]\nname = \"t\"\n[[trigger.http]]\nroute = \"/_chaoslab/...\"\n\
         component = \"api\"\n[component.api]\nsource = {source:?}\n"
    );
    std::fs::write(&manifest, text).unwrap();
    let failure = Chaoslab::builder().manifest(&manifest).try_start().err().expect("started with a reserved route");
    assert!(
        failure.stderr.contains("[[trigger.http]] route \"/_chaoslab/...\": the prefix /_chaoslab is reserved"),
        "{}",
        failure.stderr
    );
    assert!(!failure.stderr.contains("listening on"), "{}", failure.stderr);
}

/// `chaoslab revision ARGS` against `app`: exit success, stdout, stderr.
fn revision_cli(app: &Chaoslab, token: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(artifacts::chaoslab_bin())
        .arg("revision")
        .args(args)
        .env("CHAOSLAB_URL", app.url(""))
        .env("CHAOSLAB_CHAOS_TOKEN", token)
        .output()
        .expect("run chaoslab revision");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_revision_command_deploys_lists_splits_and_activates(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    let token = chaoslab_tests::chaoslab::TEST_TOKEN;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.wasm");
    std::fs::write(&good, api_build("cli")).unwrap();
    let good = good.display().to_string();

    let (ok, out, err) =
        tokio::task::block_in_place(|| revision_cli(&app, token, &["deploy", "--component", "api", &good]));
    assert!(ok, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("api-rev-2 provisioning: upload of "), "{out}");
    assert!(lines.last().unwrap().starts_with("api-rev-2 active: 100 % of api (compile "), "{out}");

    let guest = wasm_path("chaoslab_test_guest.wasm").display().to_string();
    let args = ["deploy", "--component", "api", "--source", &guest, "--readiness-path", "/trap"];
    let (ok, out, err) = tokio::task::block_in_place(|| revision_cli(&app, token, &args));
    assert!(!ok, "a failed gate exits non-zero: {out}{err}");
    assert!(out.lines().last().unwrap().starts_with("api-rev-3 failed: trap: readiness GET /trap trapped"), "{out}");
    assert!(err.contains("chaoslab: error: revision api-rev-3 failed: trap: "), "{err}");

    let (ok, out, err) = tokio::task::block_in_place(|| {
        revision_cli(&app, token, &["traffic", "--component", "api", "api-rev-1=50", "rev-2=50"])
    });
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "api: api-rev-1 50 %, api-rev-2 50 %");
    let (ok, out, err) = tokio::task::block_in_place(|| revision_cli(&app, token, &["list", "--component", "api"]));
    assert!(ok, "{out}{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.lines().any(|l| l.starts_with("api-rev-3") && l.contains("failed") && l.contains("trap: ")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("api-rev-1") && l.contains(" 50 %")), "{out}");

    let (ok, out, err) = tokio::task::block_in_place(|| revision_cli(&app, token, &["activate", "api-rev-1"]));
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "api-rev-1 active: 100 % of api");
    assert_eq!(app.get("/").await.header("x-chaoslab-revision"), Some("api-rev-1"));

    let (ok, _, err) = tokio::task::block_in_place(|| revision_cli(&app, "wrong", &["list"]));
    assert!(!ok && err.contains("401 Unauthorized") && err.contains("--token"), "{err}");
    let (ok, _, err) = tokio::task::block_in_place(|| revision_cli(&app, token, &["activate", "api-rev-3"]));
    assert!(!ok && err.contains("409 Conflict"), "{err}");
    assert_eq!(redis.get_int("chaoslab:visits"), 1);
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revisions_are_on_every_request_span_and_metric_and_their_events_are_logged(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let redis = RedisServer::start();
    let otlp = FakeOtlp::start();
    let mut app = Chaoslab::builder()
        .link(link)
        .redis(&redis.url())
        .env_both("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env_both("OTEL_BLRP_SCHEDULE_DELAY", "100")
        .env_both("OTEL_METRIC_EXPORT_INTERVAL", "500")
        .env_both("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp.endpoint())
        .start();
    assert_eq!(app.get("/").await.status, 200);
    app.deploy_bytes("component=api", api_build("telemetry")).await;
    assert_eq!(app.settled("api-rev-2", Duration::from_secs(60)).await["state"], "active");
    assert_eq!(app.get("/").await.status, 200);
    let bad = app.deploy_bytes("component=api&readiness.path=%2F", wasm("chaoslab_test_guest.wasm")).await;
    assert_eq!(app.settled(bad["id"].as_str().unwrap(), Duration::from_secs(60)).await["state"], "failed");

    let served_by = |rev: &'static str| {
        move |s: &chaoslab_tests::fake_telemetry::ReceivedSpan| {
            s.name == "GET /..." && s.attr("chaoslab.revision") == Some(rev)
        }
    };
    let found = otlp.wait_for_spans(Duration::from_secs(10), |spans| {
        spans.iter().any(served_by("api-rev-1"))
            && spans.iter().any(served_by("api-rev-2"))
            && spans
                .iter()
                .any(|s| s.name == "rollout api-rev-3" && s.events.iter().any(|e| e.starts_with("revision failed")))
    });
    assert!(found, "spans: {:#?}\n{}", otlp.spans(), app.logs());
    let spans = otlp.spans();
    let rollout = spans.iter().find(|s| s.name == "rollout api-rev-2").expect("the rollout span");
    assert_eq!(rollout.attr("chaoslab.revision"), Some("api-rev-2"));
    for event in [
        "revision deployed: provisioning",
        "revision ready: passed its health gate",
        "revision promoted: serving 100 %",
    ] {
        assert!(rollout.events.iter().any(|e| e == event), "{event}: {rollout:#?}");
    }
    let deploy_request = spans.iter().find(|s| s.span_id == rollout.parent_span_id).expect("the deploy request's span");
    assert_eq!(deploy_request.name, "POST /_chaoslab/...");
    for body in
        ["revision promoted: serving 100 %", "revision failed; the serving revisions keep serving", "revision retired"]
    {
        let logged =
            chaoslab_tests::poll::until(Duration::from_secs(10), || otlp.log_bodies().iter().any(|l| l == body));
        assert!(logged, "{body}: {:#?}", otlp.log_bodies());
    }
    app.shut_down(Duration::from_secs(15));
    let points = otlp.metric_points("http.server.request.duration");
    for rev in ["api-rev-1", "api-rev-2"] {
        assert!(
            points.iter().any(|attrs| attrs.iter().any(|(k, v)| k == "chaoslab.revision" && v == rev)),
            "{rev}: {points:#?}"
        );
    }
}
