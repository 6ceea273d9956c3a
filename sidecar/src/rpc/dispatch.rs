//! `POST /v1/{interface}/{function}`: one endpoint per function of
//! `wit/sidecar.wit`. The body is the function's parameters as a JSON array
//! (in WIT order); the answer is `200` with the return value as JSON, in the
//! serde form of the wire types (`result` as `{"Ok": …}` / `{"Err": …}`,
//! variants as `{"Case": payload}` or `"Case"`; pinned by chaoslab-world's
//! golden test). Transport problems (bad JSON, unknown function) are
//! `application/problem+json` with a 4xx status.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use chaoslab_world::wire::chaos::Fault;
use chaoslab_world::wire::telemetry::Attribute;
use serde::de::DeserializeOwned;

use super::LinkState;
use super::answer::{json, problem};
use crate::Services;

/// Any other path or method.
pub async fn unknown(method: http::Method, uri: http::Uri) -> Response {
    problem(404, "Not Found", &format!("{method} {} is not part of the sidecar link (see wit/README.md)", uri.path()))
}

/// Decodes the parameter array of `function`, or answers 400 naming it.
#[allow(clippy::result_large_err)] // the error is the answer itself, built once per bad call
fn params<T: DeserializeOwned>(function: &str, body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|err| {
        problem(400, "Bad Request", &format!("parameters of {function} must be a JSON array in WIT order: {err}"))
    })
}

/// The header on every call's answer naming this replica, so the bridge
/// knows it (`telemetry.replica`) without a call of its own.
pub const REPLICA_HEADER: &str = "chaoslab-replica";

/// Dispatches one call.
pub async fn call(
    State(state): State<LinkState>,
    Path((interface, function)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (Ok(mut resp) | Err(mut resp)) = dispatch(&state.services, &interface, &function, &body).await;
    // A name that is no valid header value is only left out: the bridge then asks.
    if let Ok(replica) = http::HeaderValue::from_str(&state.services.replica) {
        resp.headers_mut().insert(REPLICA_HEADER, replica);
    }
    resp
}

#[allow(clippy::result_large_err)] // the error is the answer itself
async fn dispatch(s: &Services, interface: &str, function: &str, body: &[u8]) -> Result<Response, Response> {
    let name = format!("{interface}.{function}");
    let resp = match (interface, function) {
        ("store", "incr") => {
            let (key, delta): (String, i64) = params(&name, body)?;
            json(200, &s.incr(&key, delta).await)
        }
        ("store", "get") => {
            let (key,): (String,) = params(&name, body)?;
            json(200, &s.get(&key).await)
        }
        ("store", "set") => {
            let (key, value, ttl_ms): (String, Vec<u8>, Option<u64>) = params(&name, body)?;
            json(200, &s.set(&key, &value, ttl_ms).await)
        }
        ("store", "ping") => {
            let _: [(); 0] = params(&name, body)?;
            json(200, &s.ping().await)
        }
        ("chaos", "authorize") => {
            let (bearer,): (String,) = params(&name, body)?;
            json(200, &s.authorize(&bearer))
        }
        ("chaos", "start") => {
            let (fault, duration_seconds): (Fault, u32) = params(&name, body)?;
            json(200, &s.start(fault, duration_seconds))
        }
        ("chaos", "stop") => {
            let (id,): (String,) = params(&name, body)?;
            json(200, &s.stop(&id))
        }
        ("chaos", "stop-all") => {
            let _: [(); 0] = params(&name, body)?;
            json(200, &s.stop_all())
        }
        ("chaos", "status") => {
            let _: [(); 0] = params(&name, body)?;
            json(200, &s.status())
        }
        ("chaos", "decide") => {
            let (route, method): (String, String) = params(&name, body)?;
            json(200, &s.decide(&route, &method))
        }
        ("chaos", "hold") => {
            let (ms,): (u64,) = params(&name, body)?;
            json(200, &s.hold(ms).await)
        }
        // Inside the link call's span (a child of the request's): see `trace`.
        ("telemetry", "add-event") => {
            let (event, attributes): (String, Vec<Attribute>) = params(&name, body)?;
            Services::add_event(event, attributes);
            json(200, &())
        }
        ("telemetry", "set-attribute") => {
            let (key, value): (String, String) = params(&name, body)?;
            Services::set_attribute(key, value);
            json(200, &())
        }
        ("telemetry", "add-counter") => {
            let (counter, delta, attributes): (String, u64, Vec<Attribute>) = params(&name, body)?;
            Services::add_counter(counter, delta, attributes);
            json(200, &())
        }
        ("telemetry", "replica") => {
            let _: [(); 0] = params(&name, body)?;
            json(200, &s.replica())
        }
        _ => return Err(problem(404, "Not Found", &format!("no function {name} in chaoslab:sidecar"))),
    };
    Ok(resp)
}
