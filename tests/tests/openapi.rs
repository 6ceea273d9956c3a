//! `GET /openapi.json` against the real binary, and the drift test: the
//! document served is checked against what the implementation does.
//!
//! - Every documented (operation, status) is produced by a probe below, or
//!   is one of the runtime's failure answers another test produces
//!   ([`ELSEWHERE`]); every probe's status is documented, with its content
//!   type. A route, status or content type changed in the code and not in
//!   the document (or the other way round) fails here.
//! - Every bounded body field is accepted at its documented minimum and
//!   maximum and refused just outside them, naming the field; so the
//!   document's bounds are the engine's, for this configuration.

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use chaoslab_tests::chaoslab::TEST_TOKEN;
use chaoslab_tests::{Chaoslab, HttpResponse, Link, RedisServer, request};
use http::Method;
use rstest::rstest;
use serde_json::{Value, json};

/// Documented statuses produced by other tests (they need a misbehaving
/// guest, a dead sidecar, or a raw socket), with where.
const ELSEWHERE: [(&str, &str); 4] = [
    ("408", "tests/tests/limits.rs: a_trickled_chunked_body_gets_408"),
    ("431", "tests/tests/limits.rs: too_many_or_too_large_headers_get_431"),
    ("500", "tests/tests/guests.rs: trapping guests"),
    ("504", "tests/tests/guests.rs: looping guests"),
];
/// The chaos engine unreachable (503 on /chaos/* and /openapi.json):
/// tests/tests/link.rs kills the sidecar.
const ENGINE_DOWN: &str = "503";

const FLAGS: [&str; 10] = [
    "--chaos-max-duration",
    "2m",
    "--chaos-max-workers",
    "1",
    "--chaos-max-memory-mb",
    "8",
    "--chaos-max-experiments",
    "3",
    "--max-body-kb",
    "256",
];

/// What the probes saw: (operation, status) → content type.
#[derive(Default)]
struct Seen(Vec<(String, u16, Option<String>)>);

impl Seen {
    fn record(&mut self, operation: &str, resp: &HttpResponse) {
        self.0.push((operation.to_owned(), resp.status, resp.header("content-type").map(str::to_owned)));
    }
}

async fn send(app: &Chaoslab, method: Method, path: &str, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    request(method, &app.url(path), headers, Bytes::from(body.to_owned()), Duration::from_secs(10)).await.unwrap()
}

/// A control request with the token and a JSON body.
async fn control(app: &Chaoslab, method: Method, path: &str, body: &str) -> HttpResponse {
    app.chaos(method, path, body).await
}

/// Runs every probe; returns what they saw.
async fn probe_everything(app: &Chaoslab) -> Seen {
    let mut seen = Seen::default();
    let auth = format!("Bearer {TEST_TOKEN}");
    let json_auth = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let big = " ".repeat(300 * 1024);

    for (op, path) in [("GET /", "/"), ("GET /health", "/health"), ("GET /openapi.json", "/openapi.json")] {
        seen.record(op, &send(app, Method::GET, path, &[], "").await);
        seen.record(op, &send(app, Method::GET, path, &[], &big).await); // 413 from the runtime
    }
    // The data plane under faults: a store failure, injected client and server errors.
    app.start_experiment("redis", r#"{"mode":"fail","duration_seconds":30}"#).await;
    seen.record("GET /", &send(app, Method::GET, "/", &[], "").await);
    control(app, Method::DELETE, "/chaos", "").await;
    app.start_experiment("redis", r#"{"mode":"blackhole","duration_seconds":30}"#).await;
    seen.record("GET /health", &send(app, Method::GET, "/health", &[], "").await);
    control(app, Method::DELETE, "/chaos", "").await;
    for status in [418, 502] {
        let body = format!(r#"{{"status":{status},"routes":["/","/health"],"duration_seconds":30}}"#);
        app.start_experiment("errors", &body).await;
        seen.record("GET /", &send(app, Method::GET, "/", &[], "").await);
        seen.record("GET /health", &send(app, Method::GET, "/health", &[], "").await);
        control(app, Method::DELETE, "/chaos", "").await;
    }

    for kind in ["load", "hang", "latency", "errors", "redis"] {
        let path = format!("/chaos/{kind}");
        let op = &format!("POST {path}");
        let valid =
            if kind == "redis" { r#"{"mode":"fail","duration_seconds":5}"# } else { r#"{"duration_seconds":5}"# };
        let started = control(app, Method::POST, &path, valid).await;
        seen.record(op, &started);
        seen.record(op, &control(app, Method::POST, &path, valid).await); // 409
        control(app, Method::DELETE, "/chaos", "").await;
        seen.record(op, &send(app, Method::POST, &path, &[], valid).await); // 401
        seen.record(op, &control(app, Method::POST, &path, r#"{"duration_seconds":"#).await); // 400
        let out_of_bounds = valid.replace(":5}", ":100000}");
        seen.record(op, &control(app, Method::POST, &path, &out_of_bounds).await); // 422
        seen.record(
            op,
            &send(app, Method::POST, &path, &[("authorization", auth.as_str()), ("content-type", "text/plain")], valid)
                .await,
        ); // 415
        seen.record(op, &send(app, Method::POST, &path, &json_auth, &" ".repeat(65 * 1024)).await); // 413 (component)
    }
    // 429: the cap is 3 experiments; each kind is refused while three others run.
    let cheap = |kind: &str| match kind {
        "load" => r#"{"workers":0,"memory_mb":1,"duration_seconds":30}"#,
        "redis" => r#"{"mode":"slow","latency_ms":1,"percent":1,"duration_seconds":30}"#,
        "latency" => r#"{"ms":0,"percent":1,"duration_seconds":30}"#,
        "errors" => r#"{"percent":1,"routes":["/nowhere"],"duration_seconds":30}"#,
        _ => r#"{"duration_seconds":30}"#,
    };
    for (running, refused) in [
        (["hang", "latency", "errors"], ["load", "redis"]),
        (["redis", "load", "errors"], ["hang", "latency"]),
        (["redis", "load", "hang"], ["errors", "errors"]),
    ] {
        for kind in running {
            app.start_experiment(kind, cheap(kind)).await;
        }
        for kind in refused {
            let path = format!("/chaos/{kind}");
            seen.record(&format!("POST {path}"), &control(app, Method::POST, &path, cheap(kind)).await);
        }
        control(app, Method::DELETE, "/chaos", "").await;
    }
    app.start_experiment("hang", cheap("hang")).await;

    seen.record("GET /chaos/status", &control(app, Method::GET, "/chaos/status", "").await);
    seen.record("GET /chaos/status", &control(app, Method::GET, "/chaos/status?scope=all", "").await);
    seen.record("GET /chaos/status", &control(app, Method::GET, "/chaos/status?scope=bogus", "").await); // 400
    seen.record("GET /chaos/status", &send(app, Method::GET, "/chaos/status", &[], "").await);
    let status = control(app, Method::GET, "/chaos/status", "").await.json();
    let id = status["active"][0]["id"].as_str().unwrap().to_owned();
    seen.record("DELETE /chaos/{id}", &send(app, Method::DELETE, &format!("/chaos/{id}"), &[], "").await);
    seen.record("DELETE /chaos/{id}", &control(app, Method::DELETE, &format!("/chaos/{id}"), "").await);
    seen.record("DELETE /chaos/{id}", &control(app, Method::DELETE, &format!("/chaos/{id}"), "").await); // 404
    seen.record("DELETE /chaos", &send(app, Method::DELETE, "/chaos", &[], "").await);
    seen.record("DELETE /chaos", &control(app, Method::DELETE, "/chaos", "").await);
    // The runtime's 413 comes before any component, token or no token.
    for (op, method, path) in [
        ("GET /chaos/status", Method::GET, "/chaos/status"),
        ("DELETE /chaos/{id}", Method::DELETE, "/chaos/exp-1"),
        ("DELETE /chaos", Method::DELETE, "/chaos"),
    ] {
        seen.record(op, &send(app, method, path, &[], &big).await);
    }
    seen
}

/// The response object documented for `code` (or its range), references resolved.
fn documented<'a>(doc: &'a Value, operation: &'a Value, code: u16) -> Option<(String, &'a Value)> {
    let exact = code.to_string();
    let range = format!("{}XX", code / 100);
    let responses = operation["responses"].as_object()?;
    let key = [exact, range].into_iter().find(|k| responses.contains_key(k))?;
    let mut resp = &responses[&key];
    while let Some(target) = resp.get("$ref").and_then(Value::as_str) {
        resp = doc.pointer(target.trim_start_matches('#'))?;
    }
    Some((key, resp))
}

fn operation<'a>(doc: &'a Value, op: &str) -> &'a Value {
    let (method, path) = op.split_once(' ').unwrap();
    let found = &doc["paths"][path][method.to_ascii_lowercase()];
    assert!(found.is_object(), "{op} is not documented");
    found
}

#[rstest]
#[tokio::test]
async fn every_documented_status_is_produced_and_nothing_else(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).args(FLAGS).start();
    let doc = app.get("/openapi.json").await.json();
    let seen = probe_everything(&app).await;

    let mut covered = BTreeSet::new();
    for (op, status, content_type) in &seen.0 {
        let operation = operation(&doc, op);
        let (key, resp) = documented(&doc, operation, *status)
            .unwrap_or_else(|| panic!("{op} answered {status}, which is not documented"));
        if let Some(content) = resp.get("content").and_then(Value::as_object) {
            let ct = content_type.as_deref().unwrap_or("(none)");
            assert!(content.contains_key(ct), "{op} {status}: content type {ct} not documented ({:?})", content.keys());
        }
        covered.insert(format!("{op} {key}"));
    }
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            for code in operation["responses"].as_object().unwrap().keys() {
                let op = format!("{} {path}", method.to_ascii_uppercase());
                let elsewhere = ELSEWHERE.iter().any(|(c, _)| c == code)
                    || (code == ENGINE_DOWN && (path.starts_with("/chaos") || path == "/openapi.json"));
                if !elsewhere && !covered.contains(&format!("{op} {code}")) {
                    missing.push(format!("{op} {code}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "documented but never produced: {missing:?}\nproduced: {covered:?}");
}

/// A body for `kind` with `field` set to `value`, valid otherwise (a load
/// gets 1 MiB of memory, or 1 % of a core, so it loads almost nothing).
fn body_with(kind: &str, field: &str, value: i64) -> Value {
    let mut body = match kind {
        "redis" => json!({ "mode": "fail" }),
        "load" if field == "workers" || field == "memory_mb" => {
            json!({ "workers": 1, "cpu_percent": 1, "memory_mb": 1 })
        }
        "load" => json!({ "workers": 0, "memory_mb": 1 }),
        _ => json!({}),
    };
    body["duration_seconds"] = json!(1);
    body[field] = json!(value);
    body
}

#[rstest]
#[tokio::test]
async fn documented_bounds_are_the_engines(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).args(FLAGS).start();
    let doc = send(&app, Method::GET, "/openapi.json", &[], "").await;
    assert_eq!((doc.status, doc.header("content-type")), (200, Some("application/json")), "no token needed");
    let doc = doc.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["StartHang"]["properties"]["duration_seconds"]["maximum"], 120, "--chaos-max-duration 2m");
    assert_eq!(schemas["StartHang"]["properties"]["duration_seconds"]["default"], 120, "300 s clamped");
    assert_eq!(schemas["StartLoad"]["properties"]["workers"]["maximum"], 1);
    assert_eq!(schemas["StartLoad"]["properties"]["memory_mb"]["maximum"], 8);
    let mut checked = 0;
    for kind in ["load", "hang", "latency", "errors", "redis"] {
        let name = format!("Start{}{}", kind[..1].to_ascii_uppercase(), &kind[1..]);
        for (field, schema) in schemas[&name]["properties"].as_object().unwrap() {
            let (Some(min), Some(max)) = (schema["minimum"].as_i64(), schema["maximum"].as_i64()) else { continue };
            for (value, accepted) in [(min, true), (max, true), (min - 1, false), (max + 1, false)] {
                let body = body_with(kind, field, value);
                let resp = control(&app, Method::POST, &format!("/chaos/{kind}"), &body.to_string()).await;
                if accepted {
                    assert_eq!(resp.status, 202, "{kind} {body}: {}", resp.text());
                    control(&app, Method::DELETE, "/chaos", "").await;
                } else {
                    assert!(matches!(resp.status, 400 | 422), "{kind} {body}: {} {}", resp.status, resp.text());
                    let answer = resp.json();
                    let fields: Vec<&str> =
                        answer["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
                    assert!(fields.contains(&field.as_str()), "{kind} {body}: names {fields:?}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 60, "{checked} bounds checked");
}

#[rstest]
#[tokio::test]
async fn with_chaos_off_the_document_leaves_the_chaos_api_out(#[values(Link::InProcess, Link::Loopback)] link: Link) {
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).args(["--no-chaos"]).start();
    let doc = app.get("/openapi.json").await.json();
    let paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(paths, ["/", "/health", "/openapi.json"]);
    let wrong = send(&app, Method::POST, "/openapi.json", &[], "").await;
    assert_eq!((wrong.status, wrong.header("allow")), (405, Some("GET")));
}
