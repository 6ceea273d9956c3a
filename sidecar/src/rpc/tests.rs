//! The RPC router without a socket (`tower::ServiceExt::oneshot`): auth,
//! transport errors, the wire form of answers, probes. Store calls go to a
//! real `redis-server`; the chaos engine is the real one.

use std::sync::Arc;

use axum::body::Body;
use chaoslab_tests::RedisServer;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::{LinkState, RpcLimits, router};
use crate::Services;
use crate::chaos::{ChaosEngine, EngineConfig, Limits, SystemClock};
use crate::config::RedisArgs;
use crate::redis_store::RedisStore;
use crate::secret::Secret;

const LINK: &str = "link-token-0123456789";

async fn state(redis_url: &str, chaos_enabled: bool) -> LinkState {
    let chaos = ChaosEngine::new(
        EngineConfig {
            enabled: chaos_enabled,
            token: Some(Secret::new("chaos-token", 1).unwrap()),
            seed: 7,
            limits: Limits::default(),
            replica: "replica-under-test".into(),
        },
        Arc::new(SystemClock),
    );
    let redis = RedisStore::connect(&RedisArgs::for_url(redis_url)).await.unwrap().with_chaos(chaos.clone());
    LinkState {
        services: Services::new(redis, chaos, Default::default()).unwrap(),
        token: Arc::new(Secret::new(LINK, 16).unwrap()),
        limits: RpcLimits::default(),
    }
}

async fn call(state: &LinkState, path: &str, token: Option<&str>, body: &str) -> (StatusCode, Option<String>, Value) {
    let mut req = Request::post(path).header("content-type", "application/json");
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let resp = router(state.clone()).oneshot(req.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
    let status = resp.status();
    let content_type = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn store_calls_reach_redis_and_answer_in_the_wire_form() {
    let redis = RedisServer::start();
    let state = state(&redis.url(), true).await;
    let (status, _, body) = call(&state, "/v1/store/incr", Some(LINK), r#"["k", 5]"#).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"Ok": 5})));
    let (_, _, body) = call(&state, "/v1/store/get", Some(LINK), r#"["k"]"#).await;
    assert_eq!(body, json!({"Ok": [53]}), "the value \"5\" as bytes");
    let (_, _, body) = call(&state, "/v1/store/ping", Some(LINK), "[]").await;
    assert!(body["Ok"].as_u64().is_some(), "{body}");
}

#[tokio::test]
async fn chaos_calls_drive_the_engine() {
    let state = state("redis://127.0.0.1:1", true).await;
    // Without a scope (a bridge older than it): this replica.
    let start = r#"[{"Errors":{"status":503,"percent":100,"routes":["/"],"methods":null}},60]"#;
    let (status, _, body) = call(&state, "/v1/chaos/start", Some(LINK), start).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((&body["Ok"]["id"], &body["Ok"]["scope"]), (&json!("exp-1"), &json!("Replica")), "{body}");
    // Scope all with Redis unreachable: refused, nothing applied.
    let all = r#"[{"Latency":{"ms":5,"jitter_ms":0,"percent":100,"routes":null,"methods":null}},60,"All"]"#;
    let (_, _, refused) = call(&state, "/v1/chaos/start", Some(LINK), all).await;
    assert!(refused["Err"]["Unavailable"].as_str().is_some_and(|m| m.contains("Redis")), "{refused}");
    let (_, _, status) = call(&state, "/v1/chaos/status", Some(LINK), "[]").await;
    assert_eq!(status["Ok"]["active"].as_array().map(Vec::len), Some(1), "{status}");
    let (_, _, decision) = call(&state, "/v1/chaos/decide", Some(LINK), r#"["/", "GET"]"#).await;
    assert_eq!(decision["fail_status"], 503, "{decision}");
    let (_, _, auth) = call(&state, "/v1/chaos/authorize", Some(LINK), r#"["chaos-token"]"#).await;
    assert_eq!(auth, json!({"Ok": true}));
    let (_, _, stopped) = call(&state, "/v1/chaos/stop", Some(LINK), r#"["exp-1"]"#).await;
    assert_eq!(stopped["Ok"]["end_reason"], "Stopped", "{stopped}");
    let (_, _, missing) = call(&state, "/v1/chaos/stop", Some(LINK), r#"["exp-1"]"#).await;
    assert_eq!(missing, json!({"Err": {"NotFound": "exp-1"}}));
}

#[tokio::test]
async fn a_disabled_engine_says_so_on_authorize() {
    let state = state("redis://127.0.0.1:1", false).await;
    let (_, _, auth) = call(&state, "/v1/chaos/authorize", Some(LINK), r#"["anything"]"#).await;
    assert_eq!(auth, json!({"Err": "Disabled"}));
}

#[tokio::test]
async fn calls_without_the_link_token_are_refused() {
    let state = state("redis://127.0.0.1:1", true).await;
    for token in [None, Some("wrong-token-0123456789")] {
        let (status, content_type, body) = call(&state, "/v1/chaos/status", token, "[]").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(content_type.as_deref(), Some("application/problem+json"));
        assert!(!body.to_string().contains(LINK), "the secret leaked: {body}");
    }
}

#[tokio::test]
async fn transport_errors_are_problems_naming_the_function() {
    let state = state("redis://127.0.0.1:1", true).await;
    let (status, ct, body) = call(&state, "/v1/store/incr", Some(LINK), r#"{"key":1}"#).await;
    assert_eq!((status, ct.as_deref()), (StatusCode::BAD_REQUEST, Some("application/problem+json")));
    assert!(body["detail"].as_str().unwrap().contains("store.incr"), "{body}");
    let (status, _, _) = call(&state, "/v1/store/incr", Some(LINK), r#"["k"]"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "wrong arity");
    let (status, _, body) = call(&state, "/v1/store/nope", Some(LINK), "[]").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["detail"].as_str().unwrap().contains("store.nope"), "{body}");
    let (status, _, _) = call(&state, "/elsewhere", Some(LINK), "[]").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn probes_answer_without_a_token() {
    let state = state("redis://127.0.0.1:1", true).await;
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    let live = router(state.clone()).oneshot(get("/livez")).await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let ready = router(state.clone()).oneshot(get("/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE, "no Redis on port 1");
}

#[tokio::test]
async fn every_answer_names_the_replica_and_telemetry_replica_returns_it() {
    let state = state("redis://127.0.0.1:1", true).await;
    let (status, _, body) = call(&state, "/v1/telemetry/replica", Some(LINK), "[]").await;
    assert_eq!((status, body), (StatusCode::OK, json!("replica-under-test")));
    for (path, params) in [("/v1/chaos/decide", r#"["/", "GET"]"#), ("/v1/store/nope", "[]")] {
        let req = Request::post(path).header("authorization", format!("Bearer {LINK}")).body(Body::from(params));
        let resp = router(state.clone()).oneshot(req.unwrap()).await.unwrap();
        let replica = resp.headers().get(super::dispatch::REPLICA_HEADER).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(replica.as_deref(), Some("replica-under-test"), "{path}");
    }
}
