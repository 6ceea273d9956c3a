//! The answers' schemas — problems, experiments, the engine's status, the
//! data plane's bodies — and the documented response headers. They describe
//! what [`crate::render`], `chaoslab-guest-http` and the api component send.

use serde_json::{Map, Value, json};

use super::reference;
use crate::body::MODES;
use crate::routes::KINDS;
use crate::scope::SCOPES;

/// Pattern of an experiment id: `exp-N` on one replica, `exp-cN` shared.
pub const ID_PATTERN: &str = "^exp-c?[0-9]+$";

fn integer() -> Value {
    json!({ "type": "integer", "minimum": 0 })
}

fn strict(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "additionalProperties": false, "required": required, "properties": properties })
}

/// The parameters each kind's experiment reports, by kind.
fn parameters() -> Vec<(&'static str, &'static str, Value)> {
    let names = json!({ "type": ["array", "null"], "items": { "type": "string" } });
    vec![
        (
            "load",
            "LoadParameters",
            strict(
                &["cpu_percent", "workers", "memory_mb"],
                json!({ "cpu_percent": integer(), "workers": integer(), "memory_mb": integer() }),
            ),
        ),
        ("hang", "HangParameters", json!({ "type": "object", "additionalProperties": false, "maxProperties": 0 })),
        (
            "latency",
            "LatencyParameters",
            strict(
                &["ms", "jitter_ms", "percent", "routes", "methods"],
                json!({ "ms": integer(), "jitter_ms": integer(), "percent": integer(), "routes": names, "methods": names }),
            ),
        ),
        (
            "errors",
            "ErrorsParameters",
            strict(
                &["status", "percent", "routes", "methods"],
                json!({ "status": integer(), "percent": integer(), "routes": names, "methods": names }),
            ),
        ),
        (
            "redis",
            "RedisParameters",
            strict(
                &["mode", "latency_ms", "percent"],
                json!({ "mode": { "enum": MODES }, "latency_ms": integer(), "percent": integer() }),
            ),
        ),
    ]
}

/// Every answer schema, by name.
pub fn answers() -> Map<String, Value> {
    let mut schemas = Map::new();
    let by_kind: Vec<Value> = parameters()
        .iter()
        .map(|(kind, name, _)| {
            json!({
                "if": { "properties": { "kind": { "const": kind } }, "required": ["kind"] },
                "then": { "properties": { "parameters": reference("schemas", name) } },
            })
        })
        .collect();
    for (_, name, schema) in parameters() {
        schemas.insert(name.into(), schema);
    }
    schemas.insert("Experiment".into(), json!({
        "type": "object", "additionalProperties": false,
        "required": ["id", "kind", "parameters", "started_at_ms", "ends_at_ms", "duration_seconds", "scope", "replicas"],
        "properties": {
            "id": { "type": "string", "pattern": ID_PATTERN, "examples": ["exp-1"] },
            "kind": { "type": "string", "enum": KINDS },
            "parameters": { "type": "object" },
            "started_at_ms": { "type": "integer", "minimum": 0, "description": "Start, Unix epoch ms." },
            "ends_at_ms": { "type": "integer", "minimum": 0, "description": "Planned end (the lease), Unix epoch ms." },
            "duration_seconds": integer(),
            "remaining_ms": { "type": "integer", "minimum": 0, "description": "Running experiments only." },
            "ended_at_ms": { "type": "integer", "minimum": 0, "description": "Ended experiments only." },
            "end_reason": { "type": "string", "enum": ["expired", "stopped"], "description": "Ended experiments only." },
            "scope": { "type": "string", "enum": SCOPES, "description": "Which replicas it reaches." },
            "replicas": { "type": "array", "items": { "type": "string" }, "description": "The replicas it targets: \
                this one for `replica`; the picked ones for a subset; for `all` the ones live when it started \
                (replicas starting later join too)." },
            "replicas_requested": { "type": "integer", "minimum": 1, "description": "A subset by number only." },
            "replicas_percent": { "type": "integer", "minimum": 1, "maximum": 100, "description": "A subset by share only." },
        },
        "allOf": by_kind,
    }));
    schemas.insert("RunningExperiment".into(), json!({ "allOf": [reference("schemas", "Experiment"), {
        "required": ["remaining_ms"], "not": { "anyOf": [{ "required": ["ended_at_ms"] }, { "required": ["end_reason"] }] },
    }] }));
    schemas.insert(
        "EndedExperiment".into(),
        json!({ "allOf": [reference("schemas", "Experiment"), {
        "required": ["ended_at_ms", "end_reason"], "not": { "required": ["remaining_ms"] },
    }] }),
    );
    schemas.insert("ChaosStatus".into(), strict(&["replica", "seed", "now_ms", "active", "recent", "load"], json!({
        "replica": { "type": "string" },
        "seed": { "type": "string", "pattern": "^[0-9]{1,20}$", "description": "The engine's RNG seed (a u64 as a decimal string)." },
        "now_ms": integer(),
        "active": { "type": "array", "items": reference("schemas", "RunningExperiment"), "maxItems": KINDS.len() },
        "recent": { "type": "array", "items": reference("schemas", "EndedExperiment"), "maxItems": 50,
                    "description": "The most recent ended experiments, newest first." },
        "load": strict(&["cpu_workers", "memory_mib"], json!({ "cpu_workers": integer(), "memory_mib": integer() })),
    })));
    schemas.insert("ReplicaView".into(), strict(&["name", "answering", "seen_at_ms", "active", "load"], json!({
        "name": { "type": "string" },
        "answering": { "type": "boolean", "description": "False once its heartbeat expired: the replica stopped \
            answering (crashed, scaled in, cut off from Redis); listed for ten heartbeat TTLs, then dropped." },
        "seen_at_ms": { "type": "integer", "minimum": 0, "description": "Its last heartbeat, Unix epoch ms." },
        "active": { "type": "array", "items": reference("schemas", "RunningExperiment"),
                    "description": "Its experiments running at its last heartbeat." },
        "load": strict(&["cpu_workers", "memory_mib"], json!({ "cpu_workers": integer(), "memory_mib": integer() })),
    })));
    schemas.insert(
        "ClusterStatus".into(),
        strict(
            &["replica", "now_ms", "replicas"],
            json!({
                "replica": { "type": "string", "description": "The replica that answered." },
                "now_ms": integer(),
                "replicas": { "type": "array", "items": reference("schemas", "ReplicaView"), "minItems": 1,
                              "description": "Answering replicas first, each group by name." },
            }),
        ),
    );
    schemas.insert(
        "Problem".into(),
        json!({
            "type": "object",
            "description": "RFC 9457 problem details. Extension members: `errors` (the fields at fault), `experiments` \
                (the chaos experiments that injected this answer).",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": { "type": "string", "default": "about:blank" },
                "title": { "type": "string" },
                "status": { "type": "integer", "minimum": 400, "maximum": 599 },
                "detail": { "type": "string" },
                "errors": { "type": "array", "minItems": 1, "items": strict(&["field", "message"],
                    json!({ "field": { "type": "string" }, "message": { "type": "string" } })) },
                "experiments": { "type": "array", "minItems": 1, "items": { "type": "string", "pattern": ID_PATTERN } },
            },
        }),
    );
    schemas.insert(
        "InjectedFault".into(),
        json!({
            "description": "The answer of a chaos `errors` experiment: the status it was started with.",
            "allOf": [reference("schemas", "Problem"), {
                "type": "object", "required": ["experiments"], "properties": { "title": { "const": "Injected fault" } },
            }],
        }),
    );
    schemas.insert("Visit".into(), strict(&["message", "visits", "replica"], json!({
        "message": { "const": "Hello from chaoslab" }, "visits": { "type": "integer" }, "replica": { "type": "string" },
    })));
    schemas.insert(
        "Healthy".into(),
        strict(
            &["status", "replica", "redis"],
            json!({
                "status": { "const": "healthy" }, "replica": { "type": "string" },
                "redis": strict(&["latency_ms"], json!({ "latency_ms": { "type": "number", "minimum": 0 } })),
            }),
        ),
    );
    schemas.insert(
        "Unhealthy".into(),
        strict(
            &["status", "replica", "reason"],
            json!({
                "status": { "const": "unhealthy" }, "replica": { "type": "string" }, "reason": { "type": "string" },
            }),
        ),
    );
    schemas
}

/// The response headers, by name.
pub fn headers() -> Value {
    json!({
        "CacheControl": { "description": "Every answer of a component is `no-store`.", "required": true,
                          "schema": { "type": "string", "const": "no-store" } },
        "RetryAfter": { "description": "Seconds to wait: `1` for Redis unavailable and for the `--max-concurrent` \
                         cap (absent on an injected 503).", "required": false, "schema": { "type": "integer", "minimum": 0 } },
        "Location": { "description": "The started experiment: `/chaos/{id}`.", "required": true,
                      "schema": { "type": "string", "pattern": "^/chaos/exp-c?[0-9]+$" } },
        "Allow": { "description": "The method the resource answers.", "required": true, "schema": { "type": "string" } },
        "WWWAuthenticate": { "description": "`Bearer realm=\"chaoslab\"`.", "required": true,
                             "schema": { "type": "string", "pattern": "^Bearer " } },
    })
}
