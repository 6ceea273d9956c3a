//! Request bodies of the `POST /chaos/*` routes: JSON with documented
//! defaults, unknown fields rejected, every type error naming its field.
//! Bounds are the engine's business (it answers which field is out of range).

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::bindings::chaoslab::sidecar::chaos::{ErrorsSpec, Fault, LatencySpec, LoadSpec, RedisMode, RedisSpec};

/// Largest accepted body.
pub const MAX_BODY: usize = 64 * 1024;

/// Why a body was refused, with the HTTP status it maps to.
pub struct BodyError {
    /// 400, 413 or 415.
    pub status: u16,
    /// What is wrong.
    pub detail: String,
    /// The field at fault, when known.
    pub field: Option<String>,
}

/// A parsed start request.
pub struct StartRequest {
    /// The fault.
    pub fault: Fault,
    /// Its duration.
    pub duration_seconds: u32,
}

/// Parses the body of `POST /chaos/{kind}`; an empty body means all defaults.
pub fn parse(kind: &str, content_type: Option<&str>, body: &[u8]) -> Result<StartRequest, BodyError> {
    if body.len() > MAX_BODY {
        return Err(too_large(body.len()));
    }
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    if !body.is_empty() && !content_type.is_some_and(is_json) {
        return Err(BodyError {
            status: 415,
            detail: format!("content-type must be application/json, got {}", content_type.unwrap_or("none")),
            field: None,
        });
    }
    Ok(match kind {
        "load" => {
            let b: LoadBody = from_json(body)?;
            let fault =
                Fault::Load(LoadSpec { cpu_percent: b.cpu_percent, workers: b.workers, memory_mb: b.memory_mb });
            StartRequest { fault, duration_seconds: b.duration_seconds }
        }
        "hang" => StartRequest { fault: Fault::Hang, duration_seconds: from_json::<HangBody>(body)?.duration_seconds },
        "latency" => {
            let b: LatencyBody = from_json(body)?;
            let spec = LatencySpec { ms: b.ms, jitter_ms: b.jitter_ms, percent: b.percent, routes: b.routes };
            StartRequest { fault: Fault::Latency(spec), duration_seconds: b.duration_seconds }
        }
        "errors" => {
            let b: ErrorsBody = from_json(body)?;
            let spec = ErrorsSpec { status: b.status, percent: b.percent, routes: b.routes };
            StartRequest { fault: Fault::Errors(spec), duration_seconds: b.duration_seconds }
        }
        "redis" => {
            let b: RedisBody = from_json(body)?;
            let mode = match b.mode {
                Mode::Blackhole => RedisMode::Blackhole,
                Mode::Fail => RedisMode::Fail,
                Mode::Slow => RedisMode::Slow,
            };
            let spec = RedisSpec { mode, latency_ms: b.latency_ms, percent: b.percent };
            StartRequest { fault: Fault::Redis(spec), duration_seconds: b.duration_seconds }
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
            (".", _) => None,
            (p, _) => Some(p.to_owned()),
        };
        BodyError { status: 400, detail: format!("malformed JSON body: {inner}"), field }
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadBody {
    #[serde(default = "default::<80>")]
    cpu_percent: u32,
    #[serde(default = "default::<1>")]
    workers: u32,
    #[serde(default)]
    memory_mb: u32,
    #[serde(default = "default::<60>")]
    duration_seconds: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HangBody {
    #[serde(default = "default::<300>")]
    duration_seconds: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencyBody {
    #[serde(default = "default::<500>")]
    ms: u32,
    #[serde(default)]
    jitter_ms: u32,
    #[serde(default = "default::<100>")]
    percent: u32,
    #[serde(default)]
    routes: Option<Vec<String>>,
    #[serde(default = "default::<60>")]
    duration_seconds: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorsBody {
    #[serde(default = "default::<500>")]
    status: u32,
    #[serde(default = "default::<100>")]
    percent: u32,
    #[serde(default)]
    routes: Option<Vec<String>>,
    #[serde(default = "default::<60>")]
    duration_seconds: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Blackhole,
    Fail,
    Slow,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedisBody {
    mode: Mode,
    #[serde(default)]
    latency_ms: u32,
    #[serde(default = "default::<100>")]
    percent: u32,
    #[serde(default = "default::<60>")]
    duration_seconds: u32,
}

/// Serde default for a numeric field: `default = "default::<60>"`.
const fn default<const N: u32>() -> u32 {
    N
}
