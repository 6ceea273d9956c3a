//! `chaoslab-chaos`: the chaos control API under `/chaos/*`.
//!
//! Every route needs `Authorization: Bearer <token>` (checked by the sidecar
//! in constant time; the token never enters the sandbox). Bodies are JSON with
//! defaults ([`body`]); bounds are checked by the engine. Every error is an RFC
//! 9457 problem document naming the field at fault.
//!
//! | route | effect |
//! |---|---|
//! | `POST /chaos/{load,hang,latency,errors,redis}` | start → `202` + experiment |
//! | `GET /chaos/status` | active and recent experiments, load running |
//! | `DELETE /chaos/{id}` / `DELETE /chaos` | stop one / all |

// The `#[http_component]` macro expands to the unsafe export glue of the
// component model ABI.
#![allow(unsafe_code)]

mod body;
mod render;

use chaoslab_guest_http::{JSON, json, method_not_allowed, not_found, problem};
use chaoslab_world::wire::chaos::{self, Error as ChaosError};
use chaoslab_world::wire::telemetry::replica;
use serde_json::json;
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

/// The kinds of experiment, as route segments.
const KINDS: [&str; 5] = ["load", "hang", "latency", "errors", "redis"];

#[http_component]
fn handle(req: Request) -> Response {
    // One call decides everything before acting: chaos switched off (404,
    // whatever the token), engine unreachable (503), token wrong (401).
    match authorized(&req) {
        Ok(true) => {}
        Ok(false) => {
            let mut resp = problem(401, "Unauthorized", "send Authorization: Bearer <chaos token>", None);
            resp.set_header("www-authenticate", "Bearer realm=\"chaoslab\"");
            return resp;
        }
        Err(ChaosError::Disabled) => return not_found(req.path()),
        Err(err) => return chaos_error(&err),
    }
    let path = req.path().trim_end_matches('/').to_owned();
    let segments: Vec<&str> = path.split('/').skip(2).collect();
    match (req.method(), segments.as_slice()) {
        (Method::Get, ["status"]) => status(),
        (Method::Post, [kind]) if KINDS.contains(kind) => start(kind, &req),
        (Method::Delete, []) => match chaos::stop_all() {
            Ok(stopped) => {
                let stopped: Vec<_> = stopped.iter().map(|e| render::experiment(e, None)).collect();
                json(200, JSON, &json!({ "stopped": stopped }))
            }
            Err(err) => chaos_error(&err),
        },
        (Method::Delete, [id]) if !KINDS.contains(id) && *id != "status" => match chaos::stop(id) {
            Ok(exp) => json(200, JSON, &render::experiment(&exp, None)),
            Err(err) => chaos_error(&err),
        },
        (method, ["status"]) => method_not_allowed(&method.to_string(), "GET"),
        (method, [kind]) if KINDS.contains(kind) => method_not_allowed(&method.to_string(), "POST"),
        (method, []) => method_not_allowed(&method.to_string(), "DELETE"),
        (method, [_id]) => method_not_allowed(&method.to_string(), "DELETE"),
        _ => not_found(req.path()),
    }
}

/// Ok(true) when the request carries the replica's chaos token; asked of
/// the engine even without one, so a switched-off engine answers `disabled`.
fn authorized(req: &Request) -> Result<bool, ChaosError> {
    let header = req.header("authorization").and_then(|v| v.as_str()).unwrap_or("");
    let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).unwrap_or("");
    chaos::authorize(token.trim())
}

fn start(kind: &str, req: &Request) -> Response {
    let declared = req.header("content-length").and_then(|v| v.as_str()).and_then(|v| v.parse::<usize>().ok());
    if let Some(len) = declared.filter(|len| *len > body::MAX_BODY) {
        return body_error(&body::too_large(len));
    }
    let content_type = req.header("content-type").and_then(|v| v.as_str());
    let parsed = match body::parse(kind, content_type, req.body()) {
        Ok(parsed) => parsed,
        Err(err) => return body_error(&err),
    };
    match chaos::start(&parsed.fault, parsed.duration_seconds) {
        Ok(exp) => {
            let mut resp = json(202, JSON, &render::experiment(&exp, Some(exp.started_at_ms)));
            resp.set_header("location", format!("/chaos/{}", exp.id));
            resp
        }
        Err(err) => chaos_error(&err),
    }
}

fn status() -> Response {
    match chaos::status() {
        Ok(s) => json(200, JSON, &render::status(&s, &replica())),
        Err(err) => chaos_error(&err),
    }
}

fn body_error(err: &body::BodyError) -> Response {
    let title = match err.status {
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        _ => "Bad Request",
    };
    let errors = err.field.as_ref().map(|f| ("errors", json!([{ "field": f, "message": err.detail }])));
    problem(err.status, title, &err.detail, errors)
}

fn chaos_error(err: &ChaosError) -> Response {
    match err {
        ChaosError::Invalid(fields) => {
            let detail = fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ");
            let errors = fields.iter().map(|f| json!({ "field": f.field, "message": f.message })).collect::<Vec<_>>();
            problem(422, "Unprocessable Content", &detail, Some(("errors", json!(errors))))
        }
        ChaosError::Limit(msg) => problem(429, "Too Many Requests", msg, None),
        ChaosError::Conflict(msg) => problem(409, "Conflict", msg, None),
        ChaosError::NotFound(id) => problem(404, "Not Found", &format!("no running experiment {id}"), None),
        ChaosError::Disabled => problem(404, "Not Found", "chaos is disabled on this replica", None),
        ChaosError::Unavailable(msg) => problem(503, "Service Unavailable", msg, None),
    }
}
