//! The sidecar's RPC decoder under property-based fuzzing (proptest): any
//! interface, function and body — malformed JSON, wrong arity and types,
//! huge bodies, announced or streamed — decodes to a call or to a clear
//! refusal (`400` parameters, `404` function, `413` body), never a panic.
//! The router runs without a socket (`tower::ServiceExt::oneshot`), against
//! the real chaos engine and a real `redis-server`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use chaoslab_sidecar::chaos::{ChaosEngine, EngineConfig, Limits, SystemClock};
use chaoslab_sidecar::rpc::dispatch::{Call, DecodeError, decode};
use chaoslab_sidecar::rpc::{LinkState, RpcLimits, router};
use chaoslab_sidecar::{RedisArgs, RedisStore, Secret, Services};
use chaoslab_tests::RedisServer;
use http_body_util::BodyExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Every function of `wit/sidecar.wit`, as `(interface, function)`.
const FUNCTIONS: [(&str, &str); 17] = [
    ("store", "incr"),
    ("store", "get"),
    ("store", "set"),
    ("store", "ping"),
    ("chaos", "authorize"),
    ("chaos", "start"),
    ("chaos", "stop"),
    ("chaos", "stop-all"),
    ("chaos", "status"),
    ("chaos", "status-all"),
    ("chaos", "limits"),
    ("chaos", "decide"),
    ("chaos", "hold"),
    ("telemetry", "add-event"),
    ("telemetry", "set-attribute"),
    ("telemetry", "add-counter"),
    ("telemetry", "replica"),
];
const LINK: &str = "fuzz-link-token-0123456789";
/// The body limit of the fuzzed router: small, so "huge" is cheap to make.
const MAX_BODY: usize = 1024;

fn known(interface: &str, function: &str) -> bool {
    FUNCTIONS.contains(&(interface, function))
}

/// Any JSON value, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        prop::sample::select(vec![
            "Hang",
            "Load",
            "Latency",
            "Errors",
            "Redis",
            "Blackhole",
            "Replica",
            "All",
            "exp-1",
            "exp-c1",
            "GET",
            "/"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A body: raw bytes, any JSON, or a parameter array of any arity.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(json_value(), 0..5).prop_map(|v| Value::Array(v).to_string().into_bytes()),
        // Around and over the limit.
        (MAX_BODY - 8..MAX_BODY * 4).prop_map(|n| {
            let mut body = b"[\"k\", \"".to_vec();
            body.resize(n.saturating_sub(3), b'x');
            body.extend_from_slice(b"\"]");
            body
        }),
    ]
}

/// An interface and function: a real one, or anything.
fn function() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        3 => prop::sample::select(FUNCTIONS.to_vec()).prop_map(|(i, f)| (i.to_owned(), f.to_owned())),
        1 => ("[a-z-]{0,10}", "[a-z-]{0,12}"),
    ]
}

#[test]
fn any_body_decodes_to_a_call_or_a_clear_refusal() {
    let mut runner = TestRunner::new(Config { cases: 4000, ..Config::default() });
    runner
        .run(&(function(), body()), |((interface, function), body)| {
            match decode(&interface, &function, &body) {
                Ok(_) => prop_assert!(known(&interface, &function)),
                Err(DecodeError::UnknownFunction(name)) => {
                    prop_assert!(!known(&interface, &function));
                    prop_assert_eq!(name, format!("{interface}.{function}"));
                }
                Err(DecodeError::Params { function: name, .. }) => {
                    prop_assert!(known(&interface, &function));
                    prop_assert_eq!(name, format!("{interface}.{function}"));
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn well_formed_parameters_decode_to_their_call() {
    let mut runner = TestRunner::new(Config { cases: 1000, ..Config::default() });
    let cases = (".{0,16}", any::<i64>(), any::<u64>(), prop::collection::vec(any::<u8>(), 0..16));
    runner
        .run(&cases, |(text, signed, unsigned, bytes)| {
            let check = |interface: &str, function: &str, params: Value, expected: Call| {
                let decoded = decode(interface, function, params.to_string().as_bytes());
                assert_eq!(decoded.ok(), Some(expected), "{interface}.{function} {params}");
            };
            check("store", "incr", json!([text, signed]), Call::Incr(text.clone(), signed));
            check(
                "store",
                "set",
                json!([text, bytes, unsigned]),
                Call::Set(text.clone(), bytes.clone(), Some(unsigned)),
            );
            check("chaos", "decide", json!([text, text]), Call::Decide(text.clone(), text.clone()));
            check("chaos", "hold", json!([unsigned]), Call::Hold(unsigned));
            check("chaos", "limits", json!([]), Call::Limits);
            check("chaos", "status-all", json!([]), Call::StatusAll);
            check("telemetry", "replica", json!([]), Call::Replica);
            // One parameter too many or too few is refused.
            prop_assert!(decode("store", "incr", json!([text]).to_string().as_bytes()).is_err());
            prop_assert!(decode("store", "incr", json!([text, signed, 1]).to_string().as_bytes()).is_err());
            prop_assert!(decode("chaos", "status", json!([text]).to_string().as_bytes()).is_err());
            Ok(())
        })
        .unwrap();
}

async fn link_state(redis_url: &str) -> LinkState {
    // No worker and no memory: a fuzzed load start is refused, never burns the machine.
    let limits = Limits { max_workers: 0, max_memory_mb: 0, ..Limits::default() };
    let config = EngineConfig {
        enabled: true,
        token: Some(Secret::new("fuzz-chaos", 1).unwrap()),
        seed: 1,
        limits,
        replica: "fuzz-replica".into(),
    };
    let chaos = ChaosEngine::new(config, Arc::new(SystemClock));
    let redis = RedisStore::connect(&RedisArgs::for_url(redis_url)).await.unwrap().with_chaos(chaos.clone());
    let limits = RpcLimits { max_body_bytes: MAX_BODY, body_timeout: Duration::from_secs(5) };
    let services = Services::new(redis, chaos, Default::default()).unwrap();
    LinkState { services, token: Arc::new(Secret::new(LINK, 16).unwrap()), limits }
}

#[test]
fn the_router_answers_every_fuzzed_call_with_a_documented_status() {
    let redis = RedisServer::start();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let state = rt.block_on(link_state(&redis.url()));
    let mut runner = TestRunner::new(Config { cases: 1500, ..Config::default() });
    // `hold` waits as long as it is asked: its decoding is fuzzed above.
    let strategy = (function().prop_filter("no hold", |(_, f)| f != "hold"), body(), any::<bool>());
    runner
        .run(&strategy, |((interface, function), body, announced)| {
            let len = body.len();
            let resp = rt.block_on(async {
                let mut req = http::Request::post(format!("/v1/{interface}/{function}"))
                    .header("authorization", format!("Bearer {LINK}"))
                    .header("content-type", "application/json");
                let body = if announced {
                    req = req.header("content-length", len);
                    Body::from(body)
                } else {
                    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                        body.chunks(100).map(|c| Ok(c.to_vec())).collect();
                    Body::from_stream(futures_util::stream::iter(chunks))
                };
                let call = router(state.clone()).oneshot(req.body(body).unwrap());
                let resp = tokio::time::timeout(Duration::from_secs(5), call).await.expect("answered within 5 s");
                let resp = resp.unwrap();
                let status = resp.status().as_u16();
                let content_type = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
                let bytes = resp.into_body().collect().await.unwrap().to_bytes();
                (status, content_type, bytes)
            });
            let (status, content_type, bytes) = resp;
            let text = String::from_utf8_lossy(&bytes);
            let path = format!("/v1/{interface}/{function}");
            match status {
                200 => prop_assert!(known(&interface, &function) && len <= MAX_BODY, "{path}: {text}"),
                413 => prop_assert!(len > MAX_BODY, "{path} {len} bytes: {text}"),
                400 => prop_assert!(known(&interface, &function) && len <= MAX_BODY, "{path}: {text}"),
                404 => prop_assert!(
                    !known(&interface, &function) || interface.is_empty() || function.is_empty(),
                    "{path}: {text}"
                ),
                other => prop_assert!(false, "{path} {len} bytes: unexpected {other}: {text}"),
            }
            if status != 200 {
                prop_assert_eq!(content_type.as_deref(), Some("application/problem+json"), "{}: {}", path, text);
                let problem: Value = serde_json::from_slice(&bytes).unwrap();
                prop_assert_eq!(&problem["status"], &json!(status));
            } else {
                prop_assert!(serde_json::from_slice::<Value>(&bytes).is_ok(), "{}: {}", path, text);
            }
            Ok(())
        })
        .unwrap();
    rt.block_on(async { state.services.chaos.stop_all().unwrap() });
}
