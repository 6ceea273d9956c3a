//! Telemetry end to end: the real exporters of the real binary against local
//! receivers — a fake Application Insights ingestion endpoint and an
//! OTLP/HTTP collector — and a backend in trouble.

use std::time::{Duration, Instant};

use chaoslab_tests::proc_stat::rss_mib;
use chaoslab_tests::{Chaoslab, FakeAppInsights, FakeOtlp, FakeOtlpGrpc, Link, RedisServer};
use rstest::rstest;
use serde_json::Value;

/// Exports every 100 ms instead of every 5 s, so tests wait little.
fn fast_export(builder: chaoslab_tests::chaoslab::Builder) -> chaoslab_tests::chaoslab::Builder {
    builder
        .env_both("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env_both("OTEL_BLRP_SCHEDULE_DELAY", "100")
        .env_both("OTEL_METRIC_EXPORT_INTERVAL", "500")
}

fn base_data(envelope: &Value) -> &Value {
    &envelope["data"]["baseData"]
}

fn operation_id(envelope: &Value) -> Option<&str> {
    envelope["tags"]["ai.operation.id"].as_str()
}

#[tokio::test]
async fn appinsights_gets_the_request_and_its_redis_dependency_under_one_operation_id() {
    let redis = RedisServer::start();
    let ai = FakeAppInsights::start();
    let app = fast_export(Chaoslab::builder().redis(&redis.url())).envs_both(ai.env()).start();
    assert_eq!(app.get("/").await.status, 200);
    let found = ai.wait_for(Duration::from_secs(10), |all| {
        all.iter().any(|e| e["data"]["baseType"] == "RequestData" && base_data(e)["name"] == "GET /...")
            && all.iter().any(|e| e["data"]["baseType"] == "RemoteDependencyData")
    });
    assert!(found, "no request + dependency envelopes: {:#?}\n{}", ai.envelopes(), app.logs());
    let request = ai.of_type("RequestData").into_iter().find(|e| base_data(e)["name"] == "GET /...").unwrap();
    let dependency = ai.of_type("RemoteDependencyData").into_iter().next().unwrap();
    assert_eq!(base_data(&request)["responseCode"], "200");
    assert_eq!(base_data(&request)["success"], true);
    assert_eq!(base_data(&dependency)["name"], "redis INCRBY");
    assert_eq!(base_data(&dependency)["type"], "redis");
    assert_eq!(base_data(&dependency)["success"], true);
    assert_eq!(operation_id(&request), operation_id(&dependency), "one trace: {request:#}\n{dependency:#}");
    assert_eq!(request["tags"]["ai.cloud.role"], "chaoslab-runtime");
    let request_id = base_data(&request)["id"].as_str().unwrap();
    assert_eq!(dependency["tags"]["ai.operation.parentId"].as_str(), Some(request_id), "the dependency's parent");
}

#[tokio::test]
async fn an_injected_error_is_a_failed_request_and_the_chaos_start_a_trace() {
    let redis = RedisServer::start();
    let ai = FakeAppInsights::start();
    let app = fast_export(Chaoslab::builder().redis(&redis.url())).envs_both(ai.env()).start();
    app.start_experiment("errors", r#"{"status":503,"duration_seconds":30}"#).await;
    assert_eq!(app.get("/").await.status, 503);
    let failed = |e: &Value| {
        e["data"]["baseType"] == "RequestData" && base_data(e)["name"] == "GET /..." && base_data(e)["success"] == false
    };
    let started = |e: &Value| {
        e["data"]["baseType"] == "MessageData"
            && base_data(e)["message"].as_str().is_some_and(|m| m.contains("chaos experiment started"))
    };
    let found = ai.wait_for(Duration::from_secs(10), |all| all.iter().any(failed) && all.iter().any(started));
    assert!(found, "no failed request / chaos trace: {:#?}", ai.envelopes());
    let request = ai.envelopes().into_iter().find(failed).unwrap();
    assert_eq!(base_data(&request)["responseCode"], "503");
    assert_eq!(base_data(&request)["properties"]["chaos.experiments"], "exp-1", "{request:#}");
}

#[rstest]
#[tokio::test]
async fn otlp_receives_the_request_span_with_its_redis_span_as_descendant(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let redis = RedisServer::start();
    let otlp = FakeOtlp::start();
    let mut app = fast_export(Chaoslab::builder().link(link).redis(&redis.url()))
        .env_both("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp.endpoint())
        .start();
    let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let resp = chaoslab_tests::request(
        http::Method::GET,
        &app.url("/"),
        &[("traceparent", traceparent)],
        bytes::Bytes::new(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(resp.status, 200);
    let found = otlp.wait_for_spans(Duration::from_secs(10), |spans| {
        spans.iter().any(|s| s.name == "GET /...") && spans.iter().any(|s| s.name == "redis INCRBY")
    });
    assert!(found, "spans: {:#?}\n{}", otlp.spans(), app.logs());
    let spans = otlp.spans();
    let request = spans.iter().find(|s| s.name == "GET /...").unwrap();
    let redis_span = spans.iter().find(|s| s.name == "redis INCRBY").unwrap();
    assert_eq!(request.trace_id, "0af7651916cd43dd8448eb211c80319c", "the caller's traceparent is honoured");
    assert_eq!(request.parent_span_id, "b7ad6b7169203331");
    assert_eq!(request.kind, 2, "server");
    assert_eq!(request.attr("http.route"), Some("/..."), "the route template of spin.toml");
    assert_eq!(request.attr("http.response.status_code"), Some("200"));
    assert_eq!(redis_span.kind, 3, "client");
    assert_eq!(redis_span.attr("db.system"), Some("redis"));
    assert_eq!(redis_span.attr("outcome"), Some("ok"));
    assert_eq!(redis_span.trace_id, request.trace_id);
    // Walk up from the Redis span: it must reach the request span.
    let mut parent = redis_span.parent_span_id.clone();
    let mut hops = 0;
    while parent != request.span_id {
        let up = spans.iter().find(|s| s.span_id == parent).unwrap_or_else(|| panic!("broken chain: {spans:#?}"));
        parent = up.parent_span_id.clone();
        hops += 1;
        assert!(hops < 4, "{spans:#?}");
    }
    match link {
        Link::InProcess => assert_eq!(hops, 0, "a direct child in-process"),
        Link::Loopback => {
            assert_eq!(hops, 1, "via the sidecar's link span");
            assert_eq!(redis_span.service, "chaoslab-sidecar");
        }
        Link::Spin => unreachable!("not in this test's matrix: under Spin no runtime span exists to join"),
    }
    assert_eq!(request.service, "chaoslab-runtime");
    // Graceful shutdown flushes the metrics.
    app.shut_down(Duration::from_secs(15));
    let metrics = otlp.metric_names();
    assert!(metrics.iter().any(|m| m == "http.server.request.duration"), "{metrics:?}");
}

#[tokio::test]
async fn a_slow_backend_neither_slows_requests_nor_grows_memory_and_drops_are_counted() {
    let redis = RedisServer::start();
    let otlp = FakeOtlp::start();
    otlp.set_delay(Duration::from_secs(30));
    let mut app = fast_export(Chaoslab::builder().redis(&redis.url()))
        .env_both("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp.endpoint())
        .env_both("OTEL_BSP_MAX_QUEUE_SIZE", "64")
        .env_both("OTEL_BLRP_MAX_QUEUE_SIZE", "64")
        .start();
    let url = app.url("/");
    let mut slowest = Duration::ZERO;
    let start = Instant::now();
    let mut rss_after_warmup = 0.0;
    for n in 0..600 {
        if n == 200 {
            rss_after_warmup = rss_mib(app.pid()).unwrap();
        }
        let t = Instant::now();
        assert_eq!(chaoslab_tests::get(&url, Duration::from_secs(5)).await.unwrap().status, 200);
        slowest = slowest.max(t.elapsed());
    }
    let took = start.elapsed();
    let rss = rss_mib(app.pid()).unwrap();
    eprintln!(
        "600 requests, backend stalled: {took:?}, slowest {slowest:?}, rss {rss_after_warmup:.1} -> {rss:.1} MiB"
    );
    assert!(slowest < Duration::from_millis(500), "a request waited for export: {slowest:?}");
    assert!(rss - rss_after_warmup < 16.0, "memory grew with the backlog: {rss_after_warmup} -> {rss} MiB");
    let stopping = Instant::now();
    app.sigterm();
    let status = app.wait(Duration::from_secs(30));
    let shutdown = stopping.elapsed();
    assert!(status.success(), "{}", app.logs());
    assert!(shutdown < Duration::from_secs(8), "the flush is bounded: {shutdown:?}");
    let logs = app.logs();
    let dropped = logs.split("dropped_span_count=").nth(1).and_then(|rest| rest.split_whitespace().next());
    let dropped: u64 = dropped.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no drop count:\n{logs}"));
    eprintln!("dropped spans: {dropped}; shutdown took {shutdown:?}");
    assert!(dropped > 0, "{logs}");
}

#[rstest]
#[tokio::test]
async fn component_events_and_counters_reach_otlp_in_the_request_trace(
    #[values(Link::InProcess, Link::Loopback)] link: Link,
) {
    let redis = RedisServer::start();
    let otlp = FakeOtlp::start();
    let mut app = fast_export(Chaoslab::builder().link(link).redis(&redis.url()))
        .env_both("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp.endpoint())
        .start();
    app.start_experiment("redis", r#"{"mode":"fail","duration_seconds":30}"#).await;
    assert_eq!(app.get("/").await.status, 503);
    let found = otlp.wait_for_spans(Duration::from_secs(10), |spans| {
        spans.iter().any(|s| s.name == "GET /...")
            && spans.iter().any(|s| s.events.iter().any(|e| e == "store call failed"))
    });
    assert!(found, "spans: {:#?}\n{}", otlp.spans(), app.logs());
    let spans = otlp.spans();
    let request = spans.iter().find(|s| s.name == "GET /...").unwrap();
    let marked = spans.iter().find(|s| s.events.iter().any(|e| e == "store call failed")).unwrap();
    assert_eq!(marked.trace_id, request.trace_id, "the component's event is in the request's trace");
    match link {
        Link::InProcess => assert_eq!(marked.span_id, request.span_id, "on the request span itself"),
        Link::Loopback => assert_eq!(marked.parent_span_id, request.span_id, "on the link call, a child"),
        Link::Spin => unreachable!("not in this test's matrix: under Spin no runtime span exists to join"),
    }
    let failed_redis = spans.iter().find(|s| s.name == "redis INCRBY").expect("the Redis span");
    assert_eq!(failed_redis.status, 2, "error status");
    assert_eq!(failed_redis.attr("error.type"), Some("injected"));
    app.shut_down(Duration::from_secs(15));
    let metrics = otlp.metric_names();
    assert!(metrics.iter().any(|m| m == "chaoslab.component.counter"), "{metrics:?}");
    assert!(metrics.iter().any(|m| m == "chaoslab.redis.errors"), "{metrics:?}");
}

#[tokio::test]
async fn otlp_over_grpc_receives_the_request_and_redis_spans() {
    let redis = RedisServer::start();
    let collector = FakeOtlpGrpc::start();
    let app = fast_export(Chaoslab::builder().redis(&redis.url()))
        .env_both("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint())
        .env_both("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .start();
    assert_eq!(app.get("/").await.status, 200);
    let found = collector.wait_for_spans(Duration::from_secs(10), |spans| {
        spans.iter().any(|s| s.name == "GET /...") && spans.iter().any(|s| s.name == "redis INCRBY")
    });
    assert!(found, "spans: {:#?}\n{}", collector.spans(), app.logs());
    let spans = collector.spans();
    let request = spans.iter().find(|s| s.name == "GET /...").unwrap();
    let redis_span = spans.iter().find(|s| s.name == "redis INCRBY").unwrap();
    assert_eq!(redis_span.parent_span_id, request.span_id);
    assert_eq!(redis_span.trace_id, request.trace_id);
}
