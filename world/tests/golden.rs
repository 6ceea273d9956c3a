//! The loopback wire format, pinned: for every function of `wit/sidecar.wit`
//! the JSON of its parameters and of sample answers (every error case
//! included), as the sidecar's side ([`wire`], what its RPC server decodes
//! and encodes) and the guest's side ([`bridge`], what the `sidecar-link`
//! component sends) each produce it, compared with `tests/golden/wire.json`.
//!
//! A WIT change that alters the wire fails here, on both sides, naming the
//! function; so does a generator upgrade that changes the serde form. The
//! app and sidecar containers are deployed side by side but built apart: the
//! golden file is the promise both keep. After a deliberate change, rewrite
//! it with `CHAOSLAB_BLESS=1 cargo test -p chaoslab-world --test golden`.

use std::collections::BTreeMap;

use chaoslab_world::{bridge, wire};
use serde_json::{Value, json};

/// `{ "interface.function": { "params": …, "answers": [ … ] } }` built from
/// one rendering's types; `$m` is `wire` or `bridge` (same type names).
macro_rules! samples {
    ($m:ident) => {{
        use $m::{chaos, store, telemetry};
        let latency = chaos::LatencySpec {
            ms: 300,
            jitter_ms: 50,
            percent: 100,
            routes: Some(vec!["/".to_owned()]),
            methods: Some(vec!["GET".to_owned()]),
        };
        let errors = chaos::ErrorsSpec { status: 503, percent: 30, routes: None, methods: None };
        let load = chaos::LoadSpec { cpu_percent: 80, workers: 1, memory_mb: 64 };
        let redis = chaos::RedisSpec { mode: chaos::RedisMode::Slow, latency_ms: 200, percent: 100 };
        let running = chaos::Experiment {
            id: "exp-1".to_owned(),
            fault: chaos::Fault::Latency(latency.clone()),
            started_at_ms: 1_800_000_000_000,
            ends_at_ms: 1_800_000_060_000,
            ended_at_ms: None,
            end_reason: None,
            scope: chaos::Scope::All,
            replicas: vec!["replica-a".to_owned(), "replica-b".to_owned()],
        };
        let ended = chaos::Experiment {
            id: "exp-2".to_owned(),
            fault: chaos::Fault::Hang,
            started_at_ms: 1_800_000_000_000,
            ends_at_ms: 1_800_000_010_000,
            ended_at_ms: Some(1_800_000_005_000),
            end_reason: Some(chaos::EndReason::Stopped),
            scope: chaos::Scope::Replica,
            replicas: vec!["replica-a".to_owned()],
        };
        let status = chaos::ChaosStatus {
            seed: 42,
            now_ms: 1_800_000_001_000,
            active: vec![running.clone()],
            recent: vec![ended.clone()],
            load: chaos::LoadReport { cpu_workers: 1, memory_mib: 64 },
        };
        let invalid = chaos::Error::Invalid(vec![chaos::InvalidField {
            field: "percent".to_owned(),
            message: "must be between 1 and 100, got 0".to_owned(),
        }]);
        let attrs = vec![telemetry::Attribute { key: "store.call".to_owned(), value: "incr".to_owned() }];
        let store_errors: Vec<Result<i64, store::Error>> = vec![
            Ok(7),
            Err(store::Error::Unavailable("sidecar is not running".to_owned())),
            Err(store::Error::Timeout("redis did not answer within 500ms".to_owned())),
            Err(store::Error::Denied("NOAUTH".to_owned())),
            Err(store::Error::Other("not an integer".to_owned())),
        ];
        let v = |x: &dyn erased::Ser| x.to_value();
        let mut calls: BTreeMap<&str, Value> = BTreeMap::new();
        calls.insert("store.incr", json!({
            "params": v(&("chaoslab:visits", 1i64)),
            "answers": store_errors.iter().map(|r| v(r)).collect::<Vec<_>>(),
        }));
        calls.insert("store.get", json!({
            "params": v(&("k",)),
            "answers": [v(&Ok::<_, store::Error>(Some(b"hi".to_vec()))), v(&Ok::<Option<Vec<u8>>, store::Error>(None))],
        }));
        calls.insert("store.set", json!({
            "params": v(&("k", b"hi".to_vec(), Some(1500u64))),
            "answers": [v(&Ok::<(), store::Error>(()))],
        }));
        calls.insert("store.ping", json!({ "params": v(&[(); 0]), "answers": [v(&Ok::<u64, store::Error>(210))] }));
        calls.insert("chaos.authorize", json!({
            "params": v(&("token",)),
            "answers": [v(&Ok::<bool, chaos::Error>(true)), v(&Err::<bool, _>(chaos::Error::Disabled)),
                        v(&Err::<bool, _>(chaos::Error::Unavailable("sidecar is not running".to_owned())))],
        }));
        calls.insert("chaos.start", json!({
            "params": [v(&(chaos::Fault::Latency(latency), 60u32, chaos::Scope::All)),
                       v(&(chaos::Fault::Errors(errors), 60u32, chaos::Scope::Count(2))),
                       v(&(chaos::Fault::Load(load), 60u32, chaos::Scope::Percent(50))),
                       v(&(chaos::Fault::Redis(redis), 60u32, chaos::Scope::Replica)),
                       v(&(chaos::Fault::Hang, 60u32, chaos::Scope::Replica))],
            "answers": [v(&Ok::<_, chaos::Error>(running.clone())), v(&Err::<chaos::Experiment, _>(invalid)),
                        v(&Err::<chaos::Experiment, _>(chaos::Error::Limit("8 experiments are running".to_owned()))),
                        v(&Err::<chaos::Experiment, _>(chaos::Error::Conflict("a hang is running".to_owned()))),
                        v(&Err::<chaos::Experiment, _>(chaos::Error::Unavailable("redis is down".to_owned())))],
        }));
        calls.insert("chaos.stop", json!({
            "params": v(&("exp-2",)),
            "answers": [v(&Ok::<_, chaos::Error>(ended.clone())),
                        v(&Err::<chaos::Experiment, _>(chaos::Error::NotFound("exp-9".to_owned())))],
        }));
        calls.insert("chaos.stop-all", json!({
            "params": v(&[(); 0]), "answers": [v(&Ok::<_, chaos::Error>(vec![ended]))],
        }));
        let cluster = chaos::ClusterStatus {
            now_ms: 1_800_000_001_000,
            replica: "replica-a".to_owned(),
            replicas: vec![
                chaos::ReplicaView {
                    name: "replica-a".to_owned(),
                    seen_at_ms: 1_800_000_000_800,
                    answering: true,
                    active: vec![running.clone()],
                    load: chaos::LoadReport { cpu_workers: 0, memory_mib: 0 },
                },
                chaos::ReplicaView {
                    name: "replica-c".to_owned(),
                    seen_at_ms: 1_799_999_990_000,
                    answering: false,
                    active: Vec::new(),
                    load: chaos::LoadReport { cpu_workers: 0, memory_mib: 0 },
                },
            ],
        };
        calls.insert("chaos.status-all", json!({
            "params": v(&[(); 0]),
            "answers": [v(&Ok::<_, chaos::Error>(cluster)),
                        v(&Err::<chaos::ClusterStatus, _>(chaos::Error::Unavailable("redis is down".to_owned())))],
        }));
        calls.insert("chaos.status", json!({
            "params": v(&[(); 0]), "answers": [v(&Ok::<_, chaos::Error>(status))],
        }));
        calls.insert("chaos.limits", json!({
            "params": v(&[(); 0]),
            "answers": [v(&Ok::<_, chaos::Error>(chaos::ChaosLimits {
                max_duration_seconds: 3600, max_workers: 2, max_memory_mb: 512, max_experiments: 8 })),
                        v(&Err::<chaos::ChaosLimits, _>(chaos::Error::Disabled))],
        }));
        calls.insert("chaos.decide", json!({
            "params": v(&("/", "GET")),
            "answers": [v(&chaos::Decision { hang_ms: Some(1000), delay_ms: 300, fail_status: Some(503),
                                            experiments: vec!["exp-1".to_owned()] })],
        }));
        calls.insert("chaos.hold", json!({ "params": v(&(250u64,)), "answers": [v(&true)] }));
        calls.insert("telemetry.add-event", json!({
            "params": v(&("store call failed", attrs.clone())), "answers": [v(&())],
        }));
        calls.insert("telemetry.set-attribute", json!({ "params": v(&("cart.items", "3")), "answers": [v(&())] }));
        calls.insert("telemetry.add-counter", json!({
            "params": v(&("store.failures", 1u64, attrs)), "answers": [v(&())],
        }));
        calls.insert("telemetry.replica", json!({ "params": v(&[(); 0]), "answers": [v(&"chaoslab--rev1-abc")] }));
        calls
    }};
}

/// Serialize through a trait object, so the macro can list mixed types.
mod erased {
    pub trait Ser {
        fn to_value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_value(&self) -> serde_json::Value {
            serde_json::to_value(self).expect("WIT types serialize")
        }
    }
}

fn golden_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/wire.json")
}

fn check(side: &str, calls: &BTreeMap<&str, Value>) {
    let text = std::fs::read_to_string(golden_path()).expect("tests/golden/wire.json");
    let golden: BTreeMap<String, Value> = serde_json::from_str(&text).expect("golden JSON");
    let names: Vec<&str> = golden.keys().map(String::as_str).collect();
    assert_eq!(calls.keys().copied().collect::<Vec<_>>(), names, "{side}: the set of functions changed");
    for (name, value) in calls {
        assert_eq!(
            value, &golden[*name],
            "{side}: the wire form of {name} changed\n  now:    {value}\n  golden: {}",
            golden[*name]
        );
    }
}

#[test]
fn the_sidecar_side_speaks_the_pinned_wire_format() {
    let calls = samples!(wire);
    if std::env::var_os("CHAOSLAB_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&calls).expect("json") + "\n";
        std::fs::write(golden_path(), text).expect("writing the golden file");
    }
    check("sidecar (wire)", &calls);
}

#[test]
fn the_guest_side_speaks_the_pinned_wire_format() {
    check("guest (bridge)", &samples!(bridge));
}

#[test]
fn every_golden_answer_decodes_on_both_sides() {
    // The sidecar decodes the bridge's parameters; the bridge decodes the
    // sidecar's answers. Decoding the golden JSON proves both directions.
    let golden: BTreeMap<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(golden_path()).unwrap()).unwrap();
    let decision = &golden["chaos.decide"]["answers"][0];
    let w: wire::chaos::Decision = serde_json::from_value(decision.clone()).unwrap();
    let b: bridge::chaos::Decision = serde_json::from_value(decision.clone()).unwrap();
    assert_eq!((w.delay_ms, b.delay_ms), (300, 300));
    for answer in golden["chaos.start"]["answers"].as_array().unwrap() {
        let _: Result<wire::chaos::Experiment, wire::chaos::Error> = serde_json::from_value(answer.clone()).unwrap();
        let _: Result<bridge::chaos::Experiment, bridge::chaos::Error> =
            serde_json::from_value(answer.clone()).unwrap();
    }
    for params in golden["chaos.start"]["params"].as_array().unwrap() {
        let _: (wire::chaos::Fault, u32, wire::chaos::Scope) = serde_json::from_value(params.clone()).unwrap();
    }
    let status = &golden["chaos.status"]["answers"][0];
    let _: Result<bridge::chaos::ChaosStatus, bridge::chaos::Error> = serde_json::from_value(status.clone()).unwrap();
    for answer in golden["chaos.status-all"]["answers"].as_array().unwrap() {
        let _: Result<bridge::chaos::ClusterStatus, bridge::chaos::Error> =
            serde_json::from_value(answer.clone()).unwrap();
    }
}
