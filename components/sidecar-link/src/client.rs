//! One RPC to `chaoslab-sidecar`: `POST {sidecar_url}/v1/{interface}/{function}`
//! with the parameters as a JSON array and the link token as a Bearer token,
//! over `wasi:http/outgoing-handler`, bounded by the request's shared
//! [`deadline`]. Failures are typed so each WIT function can map them to its
//! own error variant; transport failures are remembered for the request.
//!
//! The request goes out whole: a `content-length` and the complete body are
//! written *before* `outgoing-handler.handle` takes it, so the host's HTTP
//! client finds head and body ready and sends them in one write. Written
//! after `handle`, the body (chunked, no length) left as a second small
//! segment; Spin 4.0.2 sets no TCP_NODELAY on outbound connections, so Nagle
//! held it until the sidecar's delayed ACK, ~40 ms later, on 10–20 % of
//! calls (issue #18).

use std::sync::OnceLock;

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasi::http::outgoing_handler;
use wasi::http::types::{ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme};
use wasi::io::streams::{OutputStream, StreamError};

use crate::deadline::{self, BUDGET_MS};

/// How long connecting to the sidecar may take at most (it is on loopback).
const CONNECT_TIMEOUT_NS: u64 = 1_000_000_000;
/// The header telling the runtime how long a hold call may take.
const HOLD_HEADER: &str = "chaoslab-hold-ms";
/// The header on every answer naming the sidecar's replica.
const REPLICA_HEADER: &str = "chaoslab-replica";

/// Why a call failed.
#[derive(Debug)]
pub enum CallError {
    /// The sidecar cannot be reached or refused the link (→ `unavailable`).
    Unavailable(String),
    /// The sidecar did not answer in time (→ `timeout`).
    Timeout(String),
    /// The sidecar answered something unexpected (→ `other`).
    Other(String),
}

impl CallError {
    /// The human-readable reason.
    pub fn message(&self) -> &str {
        match self {
            Self::Unavailable(m) | Self::Timeout(m) | Self::Other(m) => m,
        }
    }
}

/// Where the sidecar is and the secret it expects: the component variables
/// `sidecar_url` and `link_token`, inherited from the parent component.
struct Link {
    scheme: Scheme,
    authority: String,
    token: String,
}

/// This instance's link (this request's), read by its first call. Every
/// `variables::get` makes Spin 4.0.2 resolve the variable through its
/// providers (a `block_in_place` hand-off of the worker thread each time):
/// ~100 µs of the host's CPU per variable, so `GET /` (two calls) paid
/// four reads where two do (issue #17).
static LINK: OnceLock<Link> = OnceLock::new();

/// The link, read once per instance.
fn link() -> Result<&'static Link, CallError> {
    if let Some(link) = LINK.get() {
        return Ok(link);
    }
    let link = read_link()?;
    Ok(LINK.get_or_init(|| link))
}

/// Reads the link from the component variables.
fn read_link() -> Result<Link, CallError> {
    let var = |name: &str| {
        spin_sdk::variables::get(name).map_err(|e| {
            CallError::Unavailable(format!(
                "sidecar-link: variable {name} is not available ({e}); set it in [component.<id>.variables] \
                 and SPIN_VARIABLE_{}",
                name.to_uppercase()
            ))
        })
    };
    let url = var("sidecar_url")?;
    let token = var("link_token")?;
    let (scheme, rest) = match url.split_once("://") {
        Some(("http", rest)) => (Scheme::Http, rest),
        Some(("https", rest)) => (Scheme::Https, rest),
        _ => return Err(CallError::Unavailable(format!("sidecar-link: sidecar_url {url:?} must be http://host:port"))),
    };
    Ok(Link { scheme, authority: rest.trim_end_matches('/').to_owned(), token })
}

/// The replica's name as the sidecar's answers give it (this instance's:
/// this request's), once any call was answered.
static REPLICA: OnceLock<String> = OnceLock::new();

/// The replica's name, if a call of this request was answered already.
pub fn replica() -> Option<&'static str> {
    REPLICA.get().map(String::as_str)
}

/// Calls `interface.function` with `params`; `hold_ms` (for `chaos.hold`)
/// extends the request's deadline by the hold and tells the runtime.
pub fn call<P: Serialize, R: DeserializeOwned>(
    interface: &str,
    function: &str,
    params: &P,
    hold_ms: u64,
) -> Result<R, CallError> {
    let result = try_call(interface, function, params, hold_ms);
    if let Err(CallError::Unavailable(_) | CallError::Timeout(_)) = &result {
        deadline::mark_link_failed();
    }
    result
}

fn try_call<P: Serialize, R: DeserializeOwned>(
    interface: &str,
    function: &str,
    params: &P,
    hold_ms: u64,
) -> Result<R, CallError> {
    let link = link()?;
    let body = serde_json::to_vec(params).map_err(|e| CallError::Other(format!("encoding parameters: {e}")))?;
    let (status, answer) = post(link, &format!("/v1/{interface}/{function}"), &body, hold_ms)?;
    let name = format!("{interface}.{function}");
    match status {
        200 => serde_json::from_slice(&answer)
            .map_err(|e| CallError::Other(format!("sidecar answered {name} with unexpected JSON: {e}"))),
        401 => {
            let msg = "sidecar refused the link token (401): the app's link_token \
                       (SPIN_VARIABLE_LINK_TOKEN) must equal the sidecar's CHAOSLAB_LINK_TOKEN";
            eprintln!("sidecar-link: {name}: {msg}");
            Err(CallError::Unavailable(msg.to_owned()))
        }
        status => {
            let detail = String::from_utf8_lossy(&answer[..answer.len().min(300)]).into_owned();
            Err(CallError::Other(format!("sidecar answered {name} with HTTP {status}: {detail}")))
        }
    }
}

fn post(link: &Link, path: &str, body: &[u8], hold_ms: u64) -> Result<(u16, Vec<u8>), CallError> {
    if hold_ms > 0 {
        deadline::extend(hold_ms);
    }
    let left_ns = deadline::remaining_ns();
    if left_ns == 0 {
        return Err(CallError::Timeout(format!(
            "sidecar did not answer in time: the request's {BUDGET_MS}ms for sidecar calls are spent"
        )));
    }
    let internal = |what: &str| CallError::Other(format!("sidecar-link: {what}"));
    let headers = Fields::new();
    let auth = format!("Bearer {}", link.token);
    let length = body.len().to_string();
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("authorization", auth.as_bytes()),
        ("content-type", b"application/json"),
        ("content-length", length.as_bytes()),
    ];
    let hold = hold_ms.to_string();
    if hold_ms > 0 {
        entries.push((HOLD_HEADER, hold.as_bytes()));
    }
    for (name, value) in entries {
        headers.append(&name.to_owned(), &value.to_vec()).map_err(|_| internal("setting a header"))?;
    }
    let request = OutgoingRequest::new(headers);
    request.set_method(&Method::Post).map_err(|()| internal("setting the method"))?;
    request.set_scheme(Some(&link.scheme)).map_err(|()| internal("setting the scheme"))?;
    request.set_authority(Some(&link.authority)).map_err(|()| internal("invalid sidecar_url authority"))?;
    request.set_path_with_query(Some(path)).map_err(|()| internal("setting the path"))?;
    let options = RequestOptions::new();
    // Err(()) means the host does not support the option; the call still works.
    let _ = options.set_connect_timeout(Some(left_ns.min(CONNECT_TIMEOUT_NS)));
    let _ = options.set_first_byte_timeout(Some(left_ns));
    let _ = options.set_between_bytes_timeout(Some(left_ns));
    let outgoing = request.body().map_err(|()| internal("taking the request body"))?;
    let stream = outgoing.write().map_err(|()| internal("taking the body stream"))?;
    // The whole body before `handle` when the host takes it without waiting
    // (wasmtime buffers up to 1 MiB); a larger one streams after `handle`,
    // as nothing drains the buffer before.
    let whole = stream.check_write().is_ok_and(|n| n >= body.len() as u64);
    let unsent = if whole {
        stream.write(body).map_err(|e| internal(&format!("writing the request body: {e:?}")))?;
        drop(stream);
        OutgoingBody::finish(outgoing, None).map_err(|e| internal(&format!("finishing the request body: {e:?}")))?;
        None
    } else {
        Some((stream, outgoing))
    };
    let future = outgoing_handler::handle(request, Some(options)).map_err(|e| transport(e, left_ns))?;
    // When the connection fails, writing fails too: the response future then
    // holds the real cause (refused, timeout), so it is consulted first.
    let written = unsent.map_or(Ok(()), |(stream, outgoing)| stream_body(stream, outgoing, body));
    let response = loop {
        match future.get() {
            None => future.subscribe().block(),
            Some(Ok(Ok(response))) => break response,
            Some(Ok(Err(code))) => return Err(transport(code, left_ns)),
            Some(Err(())) => return Err(internal("response already taken")),
        }
    };
    written.map_err(|e| internal(&format!("writing the request body: {e}")))?;
    if let Some(name) = response.headers().get(&REPLICA_HEADER.to_owned()).first() {
        let _ = REPLICA.set(String::from_utf8_lossy(name).into_owned());
    }
    let status = response.status();
    let incoming = response.consume().map_err(|()| internal("reading the response"))?;
    let mut buf = Vec::new();
    {
        let stream = incoming.stream().map_err(|()| internal("reading the response body"))?;
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => buf.extend(chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(CallError::Unavailable(format!("sidecar connection failed: {}", e.to_debug_string())));
                }
            }
        }
    }
    Ok((status, buf))
}

/// Writes `body` to a request already handed over, then finishes it.
fn stream_body(stream: OutputStream, outgoing: OutgoingBody, body: &[u8]) -> Result<(), String> {
    for chunk in body.chunks(4096) {
        stream.blocking_write_and_flush(chunk).map_err(|e| format!("{e:?}"))?;
    }
    drop(stream);
    OutgoingBody::finish(outgoing, None).map_err(|e| format!("{e:?}"))
}

/// Maps a `wasi:http` error to the call error.
fn transport(code: ErrorCode, left_ns: u64) -> CallError {
    let left_ms = left_ns / 1_000_000;
    match code {
        ErrorCode::ConnectionTimeout => {
            CallError::Timeout(format!("sidecar did not accept the connection within {}ms", left_ms.min(1_000)))
        }
        ErrorCode::HttpResponseTimeout | ErrorCode::ConnectionReadTimeout => CallError::Timeout(format!(
            "sidecar did not answer within {left_ms}ms (the rest of the request's {BUDGET_MS}ms for sidecar calls)"
        )),
        ErrorCode::HttpRequestDenied => CallError::Unavailable(
            "sidecar_url is not in the component's allowed_outbound_hosts (and the bridge inherits them)".into(),
        ),
        ErrorCode::ConnectionRefused => CallError::Unavailable("sidecar is not running (connection refused)".into()),
        other => CallError::Unavailable(format!("sidecar unreachable: {other:?}")),
    }
}
