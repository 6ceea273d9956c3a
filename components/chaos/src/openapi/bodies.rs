//! The request bodies of `POST /chaos/{kind}`, from the parser's defaults
//! ([`crate::body::defaults`], clamped as the parser clamps them) and this
//! replica's limits. The fixed bounds are the engine's (wit/sidecar.wit).

use chaoslab_world::wire::chaos::ChaosLimits;
use serde_json::{Map, Value, json};

use crate::body::{MODES, default_duration, default_workers, defaults};
use crate::scope::SCOPES;

/// Largest `ms`, `jitter_ms` and `latency_ms` (fixed by the engine).
const MAX_LATENCY_MS: u32 = 60_000;
/// Most replicas a `replicas` subset may name (fixed by the engine).
const MAX_REPLICAS: u32 = 1000;
/// Most entries in `routes` and `methods` (fixed by the engine).
const MAX_FILTER_ENTRIES: u32 = 16;
/// Longest route, in characters (fixed by the engine).
const MAX_ROUTE_CHARS: u32 = 256;
/// An HTTP method token (RFC 9110 `tchar`s), at most 32 characters.
const METHOD_PATTERN: &str = r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32}$";

/// The schema name of `kind`'s body: `StartLoad`, `StartHang`, …
pub fn name(kind: &str) -> String {
    let mut chars = kind.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase()).into_iter();
    format!("Start{}", first.chain(chars).collect::<String>())
}

/// An integer field within `min..=max`.
fn int(min: u32, max: u32, default: u32, description: &str) -> Value {
    json!({ "type": "integer", "minimum": min, "maximum": max, "default": default, "description": description })
}

fn duration(kind: &str, limits: &ChaosLimits) -> Value {
    let max = limits.max_duration_seconds;
    int(
        1,
        max,
        default_duration(kind, limits),
        &format!("How long the experiment runs, seconds; it ends by itself then. 1..{max} (`--chaos-max-duration`)."),
    )
}

fn percent() -> Value {
    int(1, 100, defaults::PERCENT, "Share of matching requests (or store calls) affected, 1..100.")
}

fn routes() -> Value {
    json!({
        "type": ["array", "null"], "minItems": 1, "maxItems": MAX_FILTER_ENTRIES, "default": null,
        "items": { "type": "string", "pattern": "^/", "maxLength": MAX_ROUTE_CHARS },
        "description": format!("Exact request paths affected (e.g. [\"/\"]); null = every data-plane path but the \
            health probe `/health` (name it to target it). 1..{MAX_FILTER_ENTRIES} paths starting with '/', \
            each at most {MAX_ROUTE_CHARS} characters."),
    })
}

fn methods() -> Value {
    json!({
        "type": ["array", "null"], "minItems": 1, "maxItems": MAX_FILTER_ENTRIES, "default": null,
        "items": { "type": "string", "pattern": METHOD_PATTERN },
        "description": "HTTP methods affected (e.g. [\"POST\"]), case-sensitive as in HTTP; null = every method.",
    })
}

fn delay(default: u32, description: &str) -> Value {
    int(0, MAX_LATENCY_MS, default, &format!("{description}, milliseconds, 0..{MAX_LATENCY_MS}."))
}

/// The scope fields every body shares.
fn scope_fields(properties: &mut Value) {
    properties["scope"] = json!({
        "type": "string", "enum": SCOPES, "default": "replica",
        "description": "Which replicas the experiment reaches: `replica` (this one, the one the ingress picked; \
            needs no Redis) or `all` (every live replica and those starting while it runs, coordinated through \
            Redis: 503 when Redis cannot be reached, nothing applied). `replicas` or `replicas_percent` imply `all`.",
    });
    properties["replicas"] = json!({
        "type": "integer", "minimum": 1, "maximum": MAX_REPLICAS,
        "description": format!("Reach only this many of the live replicas, picked with the engine's seeded RNG \
            (their names are in the answer's `replicas`), 1..{MAX_REPLICAS}; more than are live reaches every \
            live one."),
    });
    properties["replicas_percent"] = json!({
        "type": "integer", "minimum": 1, "maximum": 100,
        "description": "Reach this share of the live replicas (rounded up, at least one), picked with the \
            engine's seeded RNG. Not with `replicas`.",
    });
}

/// An object schema of `properties` (plus the scope fields) with no other
/// member: `replicas` and `replicas_percent` exclude each other and
/// `scope: "replica"` (the parser's 400s).
fn object(description: &str, mut properties: Value) -> Map<String, Value> {
    scope_fields(&mut properties);
    let subset = json!({ "anyOf": [{ "required": ["replicas"] }, { "required": ["replicas_percent"] }] });
    let value = json!({
        "type": "object", "additionalProperties": false, "description": description, "properties": properties,
        "allOf": [
            { "not": { "required": ["replicas", "replicas_percent"] } },
            { "if": { "properties": { "scope": { "const": "replica" } }, "required": ["scope"] },
              "then": { "not": subset } },
        ],
    });
    let Value::Object(map) = value else { unreachable!("json! object") };
    map
}

/// The body schema of each kind, by [`name`].
pub fn schemas(limits: &ChaosLimits) -> Map<String, Value> {
    let mut load = object(
        "A load needs CPU workers or memory: `workers` and `memory_mb` both 0 is a 422.",
        json!({
            "cpu_percent": int(1, 100, defaults::CPU_PERCENT, "Share of one core each worker burns, 1..100."),
            "workers": int(0, limits.max_workers, default_workers(limits), &format!(
                "CPU worker threads, 0..{} (`--chaos-max-workers`).", limits.max_workers)),
            "memory_mb": int(0, limits.max_memory_mb, defaults::MEMORY_MB, &format!(
                "MiB mapped and touched, 0..{} (`--chaos-max-memory-mb`).", limits.max_memory_mb)),
            "duration_seconds": duration("load", limits),
        }),
    );
    let mut needs = vec![json!({ "required": ["memory_mb"], "properties": { "memory_mb": { "minimum": 1 } } })];
    if default_workers(limits) > 0 {
        needs.push(json!({ "not": { "required": ["workers"] } }));
        needs.push(json!({ "required": ["workers"], "properties": { "workers": { "minimum": 1 } } }));
    }
    load.insert("anyOf".into(), Value::Array(needs));
    let hang = object("", json!({ "duration_seconds": duration("hang", limits) }));
    let latency = object(
        "",
        json!({
            "ms": delay(defaults::LATENCY_MS, "Fixed delay"),
            "jitter_ms": delay(defaults::JITTER_MS, "Extra uniform delay 0..=jitter_ms"),
            "percent": percent(), "routes": routes(), "methods": methods(),
            "duration_seconds": duration("latency", limits),
        }),
    );
    let errors = object(
        "",
        json!({
            "status": int(400, 599, defaults::STATUS, "HTTP status the affected requests answer, 400..599."),
            "percent": percent(), "routes": routes(), "methods": methods(),
            "duration_seconds": duration("errors", limits),
        }),
    );
    let mut redis = object(
        "`mode` is required; `slow` needs `latency_ms` >= 1.",
        json!({
            "mode": { "type": "string", "enum": MODES, "description":
                "blackhole: calls hang until the call deadline (timeout); fail: fail at once; slow: wait latency_ms first." },
            "latency_ms": delay(defaults::REDIS_LATENCY_MS, "Delay of `slow`"),
            "percent": percent(),
            "duration_seconds": duration("redis", limits),
        }),
    );
    redis.insert("required".into(), json!(["mode"]));
    redis.insert("if".into(), json!({ "properties": { "mode": { "const": "slow" } }, "required": ["mode"] }));
    redis
        .insert("then".into(), json!({ "required": ["latency_ms"], "properties": { "latency_ms": { "minimum": 1 } } }));
    [("load", load), ("hang", hang), ("latency", latency), ("errors", errors), ("redis", redis)]
        .into_iter()
        .map(|(kind, schema)| (name(kind), Value::Object(schema)))
        .collect()
}

/// An example body of `kind` that this replica accepts.
pub fn example(kind: &str, limits: &ChaosLimits) -> Value {
    let duration = default_duration(kind, limits);
    match kind {
        "load" if limits.max_workers == 0 => {
            json!({ "memory_mb": limits.max_memory_mb.clamp(1, 64), "duration_seconds": duration })
        }
        "load" => {
            json!({ "cpu_percent": 80, "workers": 1, "memory_mb": limits.max_memory_mb.min(64), "duration_seconds": duration })
        }
        "hang" => json!({ "duration_seconds": duration }),
        "latency" => json!({ "ms": 500, "jitter_ms": 100, "percent": 50, "duration_seconds": duration }),
        "errors" => json!({ "status": 503, "percent": 30, "routes": ["/"], "duration_seconds": duration }),
        _ => json!({ "mode": "blackhole", "duration_seconds": duration }),
    }
}
