//! `chaoslab-test-guest`: a component that misbehaves, or mirrors what it
//! gets, on request, so the runtime's and the chaos layer's tests can prove
//! they contain guests and pass requests through untouched:
//! - `/trap` panics (a Wasm trap);
//! - `/loop` spins forever (the runtime's epoch deadline must end it);
//! - `/outbound?url=U` sends a request to `U` (allowed only if listed in
//!   `allowed_outbound_hosts`);
//! - `/env?name=N` echoes the environment variable `N`;
//! - `/sleep?ms=N` sleeps N milliseconds, then answers (for drain tests);
//! - `/echo` answers with the request's body, each chunk sent back as it
//!   arrives (so a client that waits for its first chunk's echo before
//!   sending the next proves both bodies stream), and its method, path with
//!   query and `x-*` headers as `echo-method`, `echo-path-with-query` and
//!   `echo-x-*` headers;
//! - `/bytes?n=N` answers N bytes of [`pattern`], in chunks;
//! - `/count` answers how many requests this instance has served, itself
//!   included (1 in a fresh instance: what `--instance-reuse` tests read);
//! - `/grow?mb=N` grows its linear memory by N MiB, kept until the instance
//!   ends.
//!
//! The route is `/test/...`; Spin passes the rest of the path in the
//! `spin-path-info` header.
//!
//! Deployed as a revision of the api component (routed at `/...`), it is a
//! bad build that looks healthy: `/health` answers like the api's (a Redis
//! PING through the sidecar), while `GET /` answers `500` — what a canary
//! must catch. With a readiness path of `/trap`, `/loop` or `/` it plays a
//! build that fails its health gate.

// The `#[http_component]` and `wit_bindgen` macros expand to the unsafe
// export glue of the component model ABI.
#![allow(unsafe_code)]

use chaoslab_world::wire::store;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::{SinkExt, StreamExt};
use spin_sdk::http::{Fields, IncomingRequest, OutgoingResponse, Request, Response, ResponseOutparam};
use spin_sdk::http_component;

/// Size of the chunks `/bytes` writes.
const CHUNK: usize = 64 * 1024;

/// Requests this instance has served (`/count`).
static SERVED: AtomicU64 = AtomicU64::new(0);

/// Memory `/grow` keeps for the rest of the instance's life.
static GROWN: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    let path_with_query = req.path_with_query().unwrap_or_default();
    let query = path_with_query.split_once('?').map_or("", |(_, q)| q).to_owned();
    let param = |name: &str| {
        query.split('&').find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')).unwrap_or_default().to_owned()
    };
    let number = |name: &str| param(name).parse::<u64>().unwrap_or(0);
    let path_info = header(&req, "spin-path-info");
    let served = SERVED.fetch_add(1, Ordering::SeqCst) + 1;
    match path_info.as_str() {
        "" | "/" => text(out, 500, "this build fails GET /").await,
        "/health" => match store::ping() {
            Ok(_) => text(out, 200, "healthy").await,
            Err(err) => text(out, 503, &format!("unhealthy: {err:?}")).await,
        },
        "/trap" => panic!("test guest asked to trap"),
        "/loop" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "/outbound" => {
            let answer = match spin_sdk::http::send::<_, Response>(Request::get(param("url"))).await {
                Ok(resp) => (200, format!("outbound status {}", resp.status())),
                Err(err) => (502, format!("outbound failed: {err}")),
            };
            text(out, answer.0, &answer.1).await;
        }
        "/env" => text(out, 200, &std::env::var(param("name")).unwrap_or_default()).await,
        "/sleep" => {
            let ms = number("ms");
            std::thread::sleep(std::time::Duration::from_millis(ms));
            text(out, 200, &format!("slept {ms} ms")).await;
        }
        "/echo" => echo(req, out, &path_with_query).await,
        "/bytes" => {
            let n = number("n") as usize;
            let body = pattern(n);
            let response = response(200, &[("content-length".into(), n.to_string().into_bytes())]);
            let mut sink = response.take_body();
            out.set(response);
            for chunk in body.chunks(CHUNK) {
                if sink.send(chunk.to_vec()).await.is_err() {
                    return;
                }
            }
        }
        "/count" => text(out, 200, &served.to_string()).await,
        "/grow" => {
            let mb = number("mb") as usize;
            GROWN.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(vec![1u8; mb << 20]);
            text(out, 200, &format!("grew {mb} MiB")).await;
        }
        other => text(out, 404, &format!("no test route {other}")).await,
    }
}

/// `/echo`: the request mirrored, its body streamed back chunk by chunk.
async fn echo(req: IncomingRequest, out: ResponseOutparam, path_with_query: &str) {
    let mut headers = vec![
        ("echo-method".to_owned(), req.method().to_string().into_bytes()),
        ("echo-path-with-query".to_owned(), path_with_query.as_bytes().to_vec()),
    ];
    for (name, value) in req.headers().entries() {
        if name.starts_with("x-") {
            headers.push((format!("echo-{name}"), value));
        }
    }
    let response = response(200, &headers);
    let mut sink = response.take_body();
    out.set(response);
    let mut body = req.into_body_stream();
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else { return };
        if sink.send(chunk).await.is_err() {
            return;
        }
    }
}

/// The bytes `/bytes?n=N` sends: byte `i` is `(i * 31 + 7) % 251`, a
/// sequence no buffer mix-up or truncation can keep.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}

/// The value of the request header `name`, or "".
fn header(req: &IncomingRequest, name: &str) -> String {
    req.headers().get(name).first().map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default()
}

/// A response head with `status` and `headers`.
fn response(status: u16, headers: &[(String, Vec<u8>)]) -> OutgoingResponse {
    let response = OutgoingResponse::new(Fields::from_list(headers).expect("valid test headers"));
    response.set_status_code(status).expect("a valid status");
    response
}

/// A plain-text answer.
async fn text(out: ResponseOutparam, status: u16, body: &str) {
    let response = response(status, &[("content-type".into(), b"text/plain".to_vec())]);
    // A client that left cannot be told anything.
    let _sent = out.set_with_body(response, body.as_bytes().to_vec()).await;
}
