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
//! | `GET /chaos/status?scope=all` | every replica's view, from their heartbeats in Redis |
//! | `DELETE /chaos/{id}` / `DELETE /chaos` | stop one / all |
//! | `GET /openapi.json` | the OpenAPI 3.1 document of the whole service, no token ([`openapi`]) |

// The `#[http_component]` macro expands to the unsafe export glue of the
// component model ABI.
#![allow(unsafe_code)]

mod body;
mod openapi;
mod render;
mod routes;
mod scope;

use chaoslab_guest_http::{JSON, json, not_found, problem};
use chaoslab_world::wire::chaos::{self, Error as ChaosError};
use chaoslab_world::wire::telemetry::replica;
use serde_json::json;
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

use routes::Route;

#[http_component]
fn handle(req: Request) -> Response {
    let route = match routes::route(req.method(), req.path()) {
        Ok(route) => route,
        // Unknown paths and methods are answered after the token check, as
        // before: without the token nothing about /chaos/* is revealed.
        Err(refusal) if refusal.is_public(req.path()) => return refusal.answer(req.path()),
        Err(refusal) => match authorize(&req) {
            Some(refused) => return refused,
            None => return refusal.answer(req.path()),
        },
    };
    if route == Route::OpenApi {
        // The document needs no token and is never affected by chaos.
        return openapi::serve();
    }
    if let Some(refused) = authorize(&req) {
        return refused;
    }
    match route {
        Route::OpenApi => unreachable!("served above"),
        Route::Status => status(req.query()),
        Route::Start(kind) => start(kind, &req),
        Route::StopAll => match chaos::stop_all() {
            Ok(stopped) => {
                let stopped: Vec<_> = stopped.iter().map(|e| render::experiment(e, None)).collect();
                json(200, JSON, &json!({ "stopped": stopped }))
            }
            Err(err) => chaos_error(&err),
        },
        Route::Stop(id) => match chaos::stop(&id) {
            Ok(exp) => json(200, JSON, &render::experiment(&exp, None)),
            Err(err) => chaos_error(&err),
        },
    }
}

/// `None` when the request may go on; else the answer. One call decides:
/// chaos switched off (404, whatever the token), engine unreachable (503),
/// token wrong (401).
fn authorize(req: &Request) -> Option<Response> {
    match authorized(req) {
        Ok(true) => None,
        Ok(false) => {
            let mut resp = problem(401, "Unauthorized", "send Authorization: Bearer <chaos token>", None);
            resp.set_header("www-authenticate", "Bearer realm=\"chaoslab\"");
            Some(resp)
        }
        Err(ChaosError::Disabled) => Some(not_found(req.path())),
        Err(err) => Some(chaos_error(&err)),
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
    // The limits clamp the defaults, so `{}` always means what this replica
    // accepts. A sidecar that cannot say (one older than `chaos.limits`,
    // deployed apart from this component) gets the plain defaults; its
    // engine still checks every bound.
    let limits = match chaos::limits() {
        Ok(limits) => limits,
        Err(ChaosError::Unavailable(_)) => body::UNCLAMPED,
        Err(err) => return chaos_error(&err),
    };
    let content_type = req.header("content-type").and_then(|v| v.as_str());
    let parsed = match body::parse(kind, content_type, req.body(), &limits) {
        Ok(parsed) => parsed,
        Err(err) => return body_error(&err),
    };
    match chaos::start(&parsed.fault, parsed.duration_seconds, parsed.scope) {
        Ok(exp) => {
            let mut resp = json(202, JSON, &render::experiment(&exp, Some(exp.started_at_ms)));
            resp.set_header("location", format!("/chaos/{}", exp.id));
            resp
        }
        Err(err) => chaos_error(&err),
    }
}

/// `GET /chaos/status`: this replica's view, or with `?scope=all` every
/// replica's; any other query is a 400 naming `scope`.
fn status(query: &str) -> Response {
    let all = match routes::status_scope(query) {
        Ok(all) => all,
        Err(detail) => {
            return problem(
                400,
                "Bad Request",
                &detail,
                Some(("errors", json!([{ "field": "scope", "message": detail }]))),
            );
        }
    };
    let answer = if all {
        chaos::status_all().map(|s| render::cluster_status(&s))
    } else {
        chaos::status().map(|s| render::status(&s, &replica()))
    };
    match answer {
        Ok(body) => json(200, JSON, &body),
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

/// The answer for a chaos error (also used by [`openapi`]).
pub(crate) fn chaos_error(err: &ChaosError) -> Response {
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
