//! Request bodies of the `POST /chaos/*` routes: JSON objects with
//! documented defaults, unknown fields rejected, every type error naming its
//! field. Integers may be written as whole floats (`60.0`: JSON Schema counts
//! it as an integer). Bounds are the engine's business (it answers which
//! field is out of range); the defaults of `duration_seconds` and `workers`
//! are clamped to the configured limits, so `{}` always means "the defaults
//! this replica accepts". The defaults are named constants ([`defaults`]),
//! which the OpenAPI document ([`crate::openapi`]) reads too.

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Unexpected, Visitor};

use chaoslab_world::wire::chaos::{ChaosLimits, ErrorsSpec, Fault, LatencySpec, LoadSpec, RedisMode, RedisSpec, Scope};

use crate::scope;

/// Largest accepted body.
pub const MAX_BODY: usize = 64 * 1024;

/// The defaults of every field, before clamping to the limits.
pub mod defaults {
    /// `load.cpu_percent`.
    pub const CPU_PERCENT: u32 = 80;
    /// `load.workers` (clamped to `--chaos-max-workers`).
    pub const WORKERS: u32 = 1;
    /// `load.memory_mb`.
    pub const MEMORY_MB: u32 = 0;
    /// `duration_seconds` of every kind but `hang` (clamped to `--chaos-max-duration`).
    pub const DURATION_SECONDS: u32 = 60;
    /// `hang.duration_seconds` (clamped to `--chaos-max-duration`).
    pub const HANG_DURATION_SECONDS: u32 = 300;
    /// `latency.ms`.
    pub const LATENCY_MS: u32 = 500;
    /// `latency.jitter_ms`.
    pub const JITTER_MS: u32 = 0;
    /// `percent` of latency, errors and redis.
    pub const PERCENT: u32 = 100;
    /// `errors.status`.
    pub const STATUS: u32 = 500;
    /// `redis.latency_ms`.
    pub const REDIS_LATENCY_MS: u32 = 0;
}

/// Why a body was refused, with the HTTP status it maps to.
#[derive(Debug)]
pub struct BodyError {
    /// 400, 413 or 415.
    pub status: u16,
    /// What is wrong.
    pub detail: String,
    /// The field at fault, when known.
    pub field: Option<String>,
}

/// A parsed start request.
#[derive(Debug)]
pub struct StartRequest {
    /// The fault.
    pub fault: Fault,
    /// Its duration.
    pub duration_seconds: u32,
    /// The replicas it reaches.
    pub scope: Scope,
}

/// Limits that clamp nothing: the plain defaults.
pub const UNCLAMPED: ChaosLimits = ChaosLimits {
    max_duration_seconds: u32::MAX,
    max_workers: u32::MAX,
    max_memory_mb: u32::MAX,
    max_experiments: u32::MAX,
};

/// The default duration of `kind`, clamped to the configured maximum.
pub fn default_duration(kind: &str, limits: &ChaosLimits) -> u32 {
    let default = if kind == "hang" { defaults::HANG_DURATION_SECONDS } else { defaults::DURATION_SECONDS };
    default.min(limits.max_duration_seconds)
}

/// The default number of CPU workers, clamped to the configured maximum.
pub fn default_workers(limits: &ChaosLimits) -> u32 {
    defaults::WORKERS.min(limits.max_workers)
}

/// Parses the body of `POST /chaos/{kind}`. An empty body (or only white
/// space) means all defaults, whatever its content type; any other body must
/// be JSON (`415` otherwise) and an object (`400`).
pub fn parse(
    kind: &str,
    content_type: Option<&str>,
    body: &[u8],
    limits: &ChaosLimits,
) -> Result<StartRequest, BodyError> {
    if body.len() > MAX_BODY {
        return Err(too_large(body.len()));
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some() && !content_type.is_some_and(is_json) {
        return Err(BodyError {
            status: 415,
            detail: format!("content-type must be application/json, got {}", content_type.unwrap_or("none")),
            field: None,
        });
    }
    // serde reads a struct from a JSON array too (positionally): only an object is a body.
    if first.is_some_and(|b| *b != b'{') {
        return Err(BodyError { status: 400, detail: "the body must be a JSON object".into(), field: None });
    }
    let body: &[u8] = if first.is_none() { b"{}" } else { body };
    let duration = |given: Option<u32>| given.unwrap_or_else(|| default_duration(kind, limits));
    Ok(match kind {
        "load" => {
            let b: LoadBody = from_json(body)?;
            let workers = b.workers.unwrap_or_else(|| default_workers(limits));
            let fault = Fault::Load(LoadSpec { cpu_percent: b.cpu_percent, workers, memory_mb: b.memory_mb });
            StartRequest {
                fault,
                duration_seconds: duration(b.duration_seconds),
                scope: scope::read(b.scope, b.replicas, b.replicas_percent)?,
            }
        }
        "hang" => {
            let b: HangBody = from_json(body)?;
            StartRequest {
                fault: Fault::Hang,
                duration_seconds: duration(b.duration_seconds),
                scope: scope::read(b.scope, b.replicas, b.replicas_percent)?,
            }
        }
        "latency" => {
            let b: LatencyBody = from_json(body)?;
            let spec = LatencySpec {
                ms: b.ms,
                jitter_ms: b.jitter_ms,
                percent: b.percent,
                routes: b.routes,
                methods: b.methods,
            };
            let scope = scope::read(b.scope, b.replicas, b.replicas_percent)?;
            StartRequest { fault: Fault::Latency(spec), duration_seconds: duration(b.duration_seconds), scope }
        }
        "errors" => {
            let b: ErrorsBody = from_json(body)?;
            let scope = scope::read(b.scope, b.replicas, b.replicas_percent)?;
            let spec = ErrorsSpec { status: b.status, percent: b.percent, routes: b.routes, methods: b.methods };
            StartRequest { fault: Fault::Errors(spec), duration_seconds: duration(b.duration_seconds), scope }
        }
        "redis" => {
            let b: RedisBody = from_json(body)?;
            let mode = match b.mode {
                Mode::Blackhole => RedisMode::Blackhole,
                Mode::Fail => RedisMode::Fail,
                Mode::Slow => RedisMode::Slow,
            };
            let spec = RedisSpec { mode, latency_ms: b.latency_ms, percent: b.percent };
            StartRequest {
                fault: Fault::Redis(spec),
                duration_seconds: duration(b.duration_seconds),
                scope: scope::read(b.scope, b.replicas, b.replicas_percent)?,
            }
        }
        other => unreachable!("router only passes known kinds, got {other}"),
    })
}

/// The error for a body over [`MAX_BODY`].
pub fn too_large(len: usize) -> BodyError {
    BodyError { status: 413, detail: format!("body is {len} bytes; the limit is {MAX_BODY}"), field: None }
}

fn is_json(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // For an unknown field the path is its parent; the name is in the message.
        let field = match (path.as_str(), inner.to_string()) {
            (_, msg) if msg.starts_with("unknown field `") || msg.starts_with("missing field `") => {
                msg.split('`').nth(1).map(str::to_owned)
            }
            // "." is the whole body; "?" is serde_path_to_error's "no position" (e.g. cut-off JSON).
            ("." | "?", _) => None,
            (p, _) => Some(p.to_owned()),
        };
        BodyError { status: 400, detail: format!("malformed JSON body: {inner}"), field }
    })
}

/// Reads a `u32` written as a JSON integer or as a whole float (`60.0`).
fn whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    deserializer.deserialize_any(Whole)
}

/// [`whole`] for a field whose default depends on the limits: absent is
/// `None`, `null` is refused like any other non-number.
fn some_whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    whole(deserializer).map(Some)
}

/// The visitor of [`whole`].
struct Whole;

impl Visitor<'_> for Whole {
    type Value = u32;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a whole number from 0 to 4294967295")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u32, E> {
        u32::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u32, E> {
        u32::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u32, E> {
        if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
            Ok(v as u32)
        } else {
            Err(E::invalid_value(Unexpected::Float(v), &self))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadBody {
    #[serde(default = "default::<{ defaults::CPU_PERCENT }>", deserialize_with = "whole")]
    cpu_percent: u32,
    #[serde(default, deserialize_with = "some_whole")]
    workers: Option<u32>,
    #[serde(default = "default::<{ defaults::MEMORY_MB }>", deserialize_with = "whole")]
    memory_mb: u32,
    #[serde(default, deserialize_with = "some_whole")]
    duration_seconds: Option<u32>,
    #[serde(default, deserialize_with = "scope::present")]
    scope: Option<scope::ScopeName>,
    #[serde(default, deserialize_with = "some_whole")]
    replicas: Option<u32>,
    #[serde(default, deserialize_with = "some_whole")]
    replicas_percent: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HangBody {
    #[serde(default, deserialize_with = "some_whole")]
    duration_seconds: Option<u32>,
    #[serde(default, deserialize_with = "scope::present")]
    scope: Option<scope::ScopeName>,
    #[serde(default, deserialize_with = "some_whole")]
    replicas: Option<u32>,
    #[serde(default, deserialize_with = "some_whole")]
    replicas_percent: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencyBody {
    #[serde(default = "default::<{ defaults::LATENCY_MS }>", deserialize_with = "whole")]
    ms: u32,
    #[serde(default = "default::<{ defaults::JITTER_MS }>", deserialize_with = "whole")]
    jitter_ms: u32,
    #[serde(default = "default::<{ defaults::PERCENT }>", deserialize_with = "whole")]
    percent: u32,
    #[serde(default)]
    routes: Option<Vec<String>>,
    #[serde(default)]
    methods: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some_whole")]
    duration_seconds: Option<u32>,
    #[serde(default, deserialize_with = "scope::present")]
    scope: Option<scope::ScopeName>,
    #[serde(default, deserialize_with = "some_whole")]
    replicas: Option<u32>,
    #[serde(default, deserialize_with = "some_whole")]
    replicas_percent: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorsBody {
    #[serde(default = "default::<{ defaults::STATUS }>", deserialize_with = "whole")]
    status: u32,
    #[serde(default = "default::<{ defaults::PERCENT }>", deserialize_with = "whole")]
    percent: u32,
    #[serde(default)]
    routes: Option<Vec<String>>,
    #[serde(default)]
    methods: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some_whole")]
    duration_seconds: Option<u32>,
    #[serde(default, deserialize_with = "scope::present")]
    scope: Option<scope::ScopeName>,
    #[serde(default, deserialize_with = "some_whole")]
    replicas: Option<u32>,
    #[serde(default, deserialize_with = "some_whole")]
    replicas_percent: Option<u32>,
}

/// The redis fault modes, as in the API.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Blackhole,
    Fail,
    Slow,
}

/// The names of [`Mode`]'s cases (the OpenAPI document's enum).
pub const MODES: [&str; 3] = ["blackhole", "fail", "slow"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedisBody {
    mode: Mode,
    #[serde(default = "default::<{ defaults::REDIS_LATENCY_MS }>", deserialize_with = "whole")]
    latency_ms: u32,
    #[serde(default = "default::<{ defaults::PERCENT }>", deserialize_with = "whole")]
    percent: u32,
    #[serde(default, deserialize_with = "some_whole")]
    duration_seconds: Option<u32>,
    #[serde(default, deserialize_with = "scope::present")]
    scope: Option<scope::ScopeName>,
    #[serde(default, deserialize_with = "some_whole")]
    replicas: Option<u32>,
    #[serde(default, deserialize_with = "some_whole")]
    replicas_percent: Option<u32>,
}

/// Serde default for a numeric field: `default = "default::<60>"`.
const fn default<const N: u32>() -> u32 {
    N
}

#[cfg(test)]
mod tests;
