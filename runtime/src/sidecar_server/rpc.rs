//! `POST /v1/{interface}/{function}`: one endpoint per function of
//! `wit/sidecar.wit`. The body is the function's parameters as a JSON array
//! (in WIT order); the answer is `200` with the return value as JSON, in the
//! serde form of the WIT types (`result` as `{"Ok": …}` / `{"Err": …}`,
//! variants as `{"Case": payload}` or `"Case"`). Transport problems (bad JSON,
//! unknown function) are `application/problem+json` with a 4xx status.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::LinkState;
use crate::host::Sidecar;
use crate::host::bindings::chaoslab::sidecar::chaos::Fault;
use crate::host::bindings::chaoslab::sidecar::telemetry::Attribute;

/// A JSON answer.
pub fn json(status: u16, value: &impl Serialize) -> Response {
    let body = serde_json::to_vec(value).expect("WIT types serialize");
    let status = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// An RFC 9457 problem answer.
pub fn problem(status: u16, title: &str, detail: &str) -> Response {
    let body = serde_json::json!({ "type": "about:blank", "title": title, "status": status, "detail": detail });
    let status = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(http::header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response()
}

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

/// Dispatches one call.
pub async fn call(
    State(state): State<LinkState>,
    Path((interface, function)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    match dispatch(&state, &interface, &function, &body).await {
        Ok(resp) | Err(resp) => resp,
    }
}

#[allow(clippy::result_large_err)] // the error is the answer itself
async fn dispatch(state: &LinkState, interface: &str, function: &str, body: &[u8]) -> Result<Response, Response> {
    let s = &state.sidecar;
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
            json(200, &Ok::<bool, ()>(s.authorize(&bearer)))
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
            Sidecar::add_event(event, attributes);
            json(200, &())
        }
        ("telemetry", "set-attribute") => {
            let (key, value): (String, String) = params(&name, body)?;
            Sidecar::set_attribute(key, value);
            json(200, &())
        }
        ("telemetry", "add-counter") => {
            let (counter, delta, attributes): (String, u64, Vec<Attribute>) = params(&name, body)?;
            Sidecar::add_counter(counter, delta, attributes);
            json(200, &())
        }
        _ => return Err(problem(404, "Not Found", &format!("no function {name} in chaoslab:sidecar"))),
    };
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use crate::host::bindings::chaoslab::sidecar::{chaos, store};

    /// The wire form the bridge relies on (components/sidecar-link).
    #[test]
    fn wit_types_have_the_documented_json_form() {
        let err: Result<i64, store::Error> = Err(store::Error::Timeout("slow".into()));
        assert_eq!(serde_json::to_string(&err).unwrap(), r#"{"Err":{"Timeout":"slow"}}"#);
        assert_eq!(serde_json::to_string(&Ok::<i64, store::Error>(3)).unwrap(), r#"{"Ok":3}"#);
        let fault = chaos::Fault::Hang;
        assert_eq!(serde_json::to_string(&fault).unwrap(), r#""Hang""#);
        let (f, d): (chaos::Fault, u32) =
            serde_json::from_str(r#"[{"Latency":{"ms":5,"jitter_ms":0,"percent":100,"routes":null}},10]"#).unwrap();
        assert!(matches!(f, chaos::Fault::Latency(l) if l.ms == 5) && d == 10);
        let _: [(); 0] = serde_json::from_str("[]").unwrap();
    }
}
