//! Request bodies of the `POST /chaos/*` routes: JSON with documented
//! defaults, unknown fields rejected, every type error naming its field.
//! Bounds are the engine's business (it answers which field is out of range).

use serde::Deserialize;
use serde::de::DeserializeOwned;

use chaoslab_world::wire::chaos::{ErrorsSpec, Fault, LatencySpec, LoadSpec, RedisMode, RedisSpec};

/// Largest accepted body.
pub const MAX_BODY: usize = 64 * 1024;

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
}

/// Parses the body of `POST /chaos/{kind}`. An empty body (or only white
/// space) means all defaults, whatever its content type; any other body must
/// be JSON (`415` otherwise).
pub fn parse(kind: &str, content_type: Option<&str>, body: &[u8]) -> Result<StartRequest, BodyError> {
    if body.len() > MAX_BODY {
        return Err(too_large(body.len()));
    }
    let empty = body.iter().all(u8::is_ascii_whitespace);
    if !empty && !content_type.is_some_and(is_json) {
        return Err(BodyError {
            status: 415,
            detail: format!("content-type must be application/json, got {}", content_type.unwrap_or("none")),
            field: None,
        });
    }
    let body: &[u8] = if empty { b"{}" } else { body };
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
            let spec = LatencySpec {
                ms: b.ms,
                jitter_ms: b.jitter_ms,
                percent: b.percent,
                routes: b.routes,
                methods: b.methods,
            };
            StartRequest { fault: Fault::Latency(spec), duration_seconds: b.duration_seconds }
        }
        "errors" => {
            let b: ErrorsBody = from_json(body)?;
            let spec = ErrorsSpec { status: b.status, percent: b.percent, routes: b.routes, methods: b.methods };
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
            // "." is the whole body; "?" is serde_path_to_error's "no position" (e.g. cut-off JSON).
            ("." | "?", _) => None,
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
    #[serde(default)]
    methods: Option<Vec<String>>,
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
    #[serde(default)]
    methods: Option<Vec<String>>,
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

#[cfg(test)]
mod tests {
    //! The parser on the host (`cargo test -p chaoslab-chaos`): defaults,
    //! content types, and the field named in every refusal.

    use super::*;

    const JSON: Option<&str> = Some("application/json");

    fn refused(kind: &str, content_type: Option<&str>, body: &str) -> BodyError {
        parse(kind, content_type, body.as_bytes()).expect_err("accepted")
    }

    #[test]
    fn an_empty_body_means_every_default_whatever_its_content_type() {
        for content_type in [None, JSON, Some("text/plain")] {
            let hang = parse("hang", content_type, b"").unwrap();
            assert!(matches!(hang.fault, Fault::Hang) && hang.duration_seconds == 300, "{hang:?}");
        }
        let load = parse("load", None, b"  \n").unwrap();
        assert!(matches!(load.fault, Fault::Load(LoadSpec { cpu_percent: 80, workers: 1, memory_mb: 0 })));
        assert_eq!(load.duration_seconds, 60);
        let Fault::Latency(lat) = parse("latency", None, b"").unwrap().fault else { panic!("not latency") };
        assert_eq!((lat.ms, lat.percent, lat.routes, lat.methods), (500, 100, None, None));
    }

    #[test]
    fn a_body_must_be_json() {
        let err = refused("hang", Some("text/plain"), r#"{"duration_seconds":5}"#);
        assert_eq!(err.status, 415, "{err:?}");
        let err = refused("hang", None, r#"{"duration_seconds":5}"#);
        assert_eq!(err.status, 415, "{err:?}");
        assert!(parse("hang", Some("application/problem+json; charset=utf-8"), br#"{"duration_seconds":5}"#).is_ok());
    }

    #[test]
    fn refusals_name_the_field_at_fault() {
        let err = refused("latency", JSON, r#"{"ms":10,"bogus":1}"#);
        assert_eq!((err.status, err.field.as_deref()), (400, Some("bogus")), "{err:?}");
        let err = refused("errors", JSON, r#"{"status":"five hundred"}"#);
        assert_eq!((err.status, err.field.as_deref()), (400, Some("status")), "{err:?}");
        let err = refused("redis", JSON, "{}");
        assert_eq!((err.status, err.field.as_deref()), (400, Some("mode")), "{err:?}");
        let err = refused("redis", None, "");
        assert_eq!(err.field.as_deref(), Some("mode"), "redis has no default mode: {err:?}");
        let err = refused("latency", JSON, r#"{"methods":"GET"}"#);
        assert_eq!(err.field.as_deref(), Some("methods"), "{err:?}");
        let err = refused("load", JSON, "{");
        assert_eq!((err.status, err.field), (400, None), "malformed JSON");
    }

    #[test]
    fn filters_and_modes_are_read() {
        let body = br#"{"status":503,"percent":30,"routes":["/"],"methods":["POST"],"duration_seconds":5}"#;
        let Fault::Errors(spec) = parse("errors", JSON, body).unwrap().fault else { panic!("not errors") };
        assert_eq!((spec.status, spec.percent), (503, 30));
        assert_eq!((spec.routes.unwrap(), spec.methods.unwrap()), (vec!["/".to_owned()], vec!["POST".to_owned()]));
        let Fault::Redis(spec) = parse("redis", JSON, br#"{"mode":"slow","latency_ms":50}"#).unwrap().fault else {
            panic!("not redis")
        };
        assert_eq!((spec.mode, spec.latency_ms, spec.percent), (RedisMode::Slow, 50, 100));
    }

    #[test]
    fn bodies_over_the_limit_are_refused() {
        let big = vec![b' '; MAX_BODY + 1];
        assert_eq!(parse("hang", JSON, &big).unwrap_err().status, 413);
    }
}
