//! `POST /v1/{interface}/{function}`: one endpoint per function of
//! `wit/sidecar.wit`. The body is the function's parameters as a JSON array
//! (in WIT order); the answer is `200` with the return value as JSON, in the
//! serde form of the wire types (`result` as `{"Ok": …}` / `{"Err": …}`,
//! variants as `{"Case": payload}` or `"Case"`; pinned by chaoslab-world's
//! golden test). Transport problems are `application/problem+json`: a body
//! over the limit `413` (announced or chunked), one not received in time
//! `408`, parameters that do not decode `400`, an unknown function `404`.
//!
//! Decoding is a pure function ([`decode`]: bytes to a [`Call`]), fuzzed
//! with proptest (`tests/tests/rpc_fuzz.rs`); [`execute`] then runs the call.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use chaoslab_world::wire::chaos::{Fault, Scope};
use chaoslab_world::wire::telemetry::Attribute;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;

use super::answer::{json, problem};
use super::{LinkState, RpcLimits};
use crate::Services;

/// One decoded call of a WIT function, with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `store.incr(key, delta)`.
    Incr(String, i64),
    /// `store.get(key)`.
    Get(String),
    /// `store.set(key, value, ttl-ms)`.
    Set(String, Vec<u8>, Option<u64>),
    /// `store.ping()`.
    Ping,
    /// `chaos.authorize(bearer)`.
    Authorize(String),
    /// `chaos.start(fault, duration-seconds, scope)`.
    Start(Fault, u32, Scope),
    /// `chaos.stop(id)`.
    Stop(String),
    /// `chaos.stop-all()`.
    StopAll,
    /// `chaos.status()`.
    Status,
    /// `chaos.status-all()`.
    StatusAll,
    /// `chaos.limits()`.
    Limits,
    /// `chaos.decide(route, method)`.
    Decide(String, String),
    /// `chaos.hold(ms)`.
    Hold(u64),
    /// `telemetry.add-event(name, attributes)`.
    AddEvent(String, Vec<Attribute>),
    /// `telemetry.set-attribute(key, value)`.
    SetAttribute(String, String),
    /// `telemetry.add-counter(name, delta, attributes)`.
    AddCounter(String, u64, Vec<Attribute>),
    /// `telemetry.replica()`.
    Replica,
}

/// Why a call could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// No such function in the contract (404).
    #[error("no function {0} in chaoslab:sidecar")]
    UnknownFunction(String),
    /// The parameters are not the function's (400): malformed JSON, wrong
    /// arity, wrong types.
    #[error("parameters of {function} must be a JSON array in WIT order: {source}")]
    Params {
        /// `interface.function`.
        function: String,
        /// What serde said.
        source: serde_json::Error,
    },
}

/// Decodes the parameter array of `function`.
fn params<T: DeserializeOwned>(function: &str, body: &[u8]) -> Result<T, DecodeError> {
    serde_json::from_slice(body).map_err(|source| DecodeError::Params { function: function.to_owned(), source })
}

/// Decodes a call of `interface.function` with the parameters in `body`.
pub fn decode(interface: &str, function: &str, body: &[u8]) -> Result<Call, DecodeError> {
    let name = format!("{interface}.{function}");
    Ok(match (interface, function) {
        ("store", "incr") => params(&name, body).map(|(key, delta)| Call::Incr(key, delta))?,
        ("store", "get") => params(&name, body).map(|(key,)| Call::Get(key))?,
        ("store", "set") => params(&name, body).map(|(key, value, ttl)| Call::Set(key, value, ttl))?,
        ("store", "ping") => params::<[(); 0]>(&name, body).map(|_| Call::Ping)?,
        ("chaos", "authorize") => params(&name, body).map(|(bearer,)| Call::Authorize(bearer))?,
        ("chaos", "start") => params(&name, body)
            .map(|(fault, seconds, scope)| Call::Start(fault, seconds, scope))
            // A bridge older than the `scope` parameter sends two: this replica.
            .or_else(|err| {
                params(&name, body).map(|(fault, seconds)| Call::Start(fault, seconds, Scope::Replica)).map_err(|_| err)
            })?,
        ("chaos", "stop") => params(&name, body).map(|(id,)| Call::Stop(id))?,
        ("chaos", "stop-all") => params::<[(); 0]>(&name, body).map(|_| Call::StopAll)?,
        ("chaos", "status") => params::<[(); 0]>(&name, body).map(|_| Call::Status)?,
        ("chaos", "status-all") => params::<[(); 0]>(&name, body).map(|_| Call::StatusAll)?,
        ("chaos", "limits") => params::<[(); 0]>(&name, body).map(|_| Call::Limits)?,
        ("chaos", "decide") => params(&name, body).map(|(route, method)| Call::Decide(route, method))?,
        ("chaos", "hold") => params(&name, body).map(|(ms,)| Call::Hold(ms))?,
        ("telemetry", "add-event") => params(&name, body).map(|(event, attrs)| Call::AddEvent(event, attrs))?,
        ("telemetry", "set-attribute") => params(&name, body).map(|(key, value)| Call::SetAttribute(key, value))?,
        ("telemetry", "add-counter") => {
            params(&name, body).map(|(counter, delta, attrs)| Call::AddCounter(counter, delta, attrs))?
        }
        ("telemetry", "replica") => params::<[(); 0]>(&name, body).map(|_| Call::Replica)?,
        _ => return Err(DecodeError::UnknownFunction(name)),
    })
}

/// Runs a decoded call; the answer is `200` with its return value.
pub async fn execute(s: &Services, call: Call) -> Response {
    match call {
        Call::Incr(key, delta) => json(200, &s.incr(&key, delta).await),
        Call::Get(key) => json(200, &s.get(&key).await),
        Call::Set(key, value, ttl_ms) => json(200, &s.set(&key, &value, ttl_ms).await),
        Call::Ping => json(200, &s.ping().await),
        Call::Authorize(bearer) => json(200, &s.authorize(&bearer)),
        Call::Start(fault, duration_seconds, scope) => json(200, &s.start(fault, duration_seconds, scope).await),
        Call::Stop(id) => json(200, &s.stop(&id).await),
        Call::StopAll => json(200, &s.stop_all().await),
        Call::Status => json(200, &s.status()),
        Call::StatusAll => json(200, &s.status_all().await),
        Call::Limits => json(200, &s.limits()),
        Call::Decide(route, method) => json(200, &s.decide(&route, &method)),
        Call::Hold(ms) => json(200, &s.hold(ms).await),
        // Inside the link call's span (a child of the request's): see `trace`.
        Call::AddEvent(event, attributes) => {
            Services::add_event(event, attributes);
            json(200, &())
        }
        Call::SetAttribute(key, value) => {
            Services::set_attribute(key, value);
            json(200, &())
        }
        Call::AddCounter(counter, delta, attributes) => {
            Services::add_counter(counter, delta, attributes);
            json(200, &())
        }
        Call::Replica => json(200, &s.replica()),
    }
}

/// Any other path or method.
pub async fn unknown(method: http::Method, uri: http::Uri) -> Response {
    problem(404, "Not Found", &format!("{method} {} is not part of the sidecar link (see wit/README.md)", uri.path()))
}

/// Reads a body within `limits`; the error is the answer (`413`, `408`, `400`).
#[allow(clippy::result_large_err)] // the error is the answer itself, built once per bad call
pub async fn read_body(headers: &http::HeaderMap, body: Body, limits: RpcLimits) -> Result<bytes::Bytes, Response> {
    let max = limits.max_body_bytes;
    let too_large =
        |len: String| problem(413, "Content Too Large", &format!("body is {len} bytes; the limit is {max}"));
    let declared = headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(len) = declared.filter(|len| *len > max as u64) {
        return Err(too_large(len.to_string()));
    }
    match tokio::time::timeout(limits.body_timeout, Limited::new(body, max).collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(err)) if err.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(format!("over {max}"))),
        Ok(Err(err)) => Err(problem(400, "Bad Request", &format!("could not read the body: {err}"))),
        Err(_) => {
            Err(problem(408, "Request Timeout", &format!("the body did not arrive within {:?}", limits.body_timeout)))
        }
    }
}

/// The header on every call's answer naming this replica, so the bridge
/// knows it (`telemetry.replica`) without a call of its own.
pub const REPLICA_HEADER: &str = "chaoslab-replica";

/// Reads, decodes and runs one call; every answer names the replica.
pub async fn call(
    State(state): State<LinkState>,
    Path((interface, function)): Path<(String, String)>,
    headers: http::HeaderMap,
    body: Body,
) -> Response {
    let mut resp = match read_body(&headers, body, state.limits).await {
        Ok(body) => match decode(&interface, &function, &body) {
            Ok(call) => execute(&state.services, call).await,
            Err(err @ DecodeError::UnknownFunction(_)) => problem(404, "Not Found", &err.to_string()),
            Err(err @ DecodeError::Params { .. }) => problem(400, "Bad Request", &err.to_string()),
        },
        Err(answer) => answer,
    };
    // A name that is no valid header value is only left out: the bridge then asks.
    if let Ok(replica) = http::HeaderValue::from_str(&state.services.replica) {
        resp.headers_mut().insert(REPLICA_HEADER, replica);
    }
    resp
}
