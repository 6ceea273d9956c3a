//! [`FakeIdentity`]: a managed-identity endpoint speaking the App Service /
//! Container Apps protocol, so the real azure_identity code path runs without
//! Azure.
//!
//! The client finds it through `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`
//! ([`FakeIdentity::env`]) and asks
//! `GET {endpoint}?api-version=2019-08-01&resource=https://redis.azure.com&client_id=…`
//! with the header `x-identity-header`. The answer is
//! `{"access_token": JWT, "expires_on": "<unix seconds>", "resource", "token_type": "Bearer"}`
//! where the JWT carries the identity's `oid`. Token `n` (1-based) is
//! [`FakeIdentity::token`]`(n)`, known in advance, so a test can put the
//! tokens in a Redis ACL before they are issued.
//!
//! Controls: token lifetime, down (connections are closed without an answer)
//! and up, counts of requests, issued tokens and rejected requests (wrong
//! header, client id, api version or resource). It runs on its own thread and
//! runtime, so blocking test code does not stall it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::server_thread::ServerThread;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// The resource Azure Managed Redis tokens are for.
pub const REDIS_RESOURCE: &str = "https://redis.azure.com";
/// The API version of the App Service / Container Apps protocol.
const API_VERSION: &str = "2019-08-01";

/// A running fake identity endpoint; stopped on drop.
pub struct FakeIdentity {
    /// Where it listens.
    addr: SocketAddr,
    /// Settings and counters shared with the server.
    shared: Arc<Shared>,
    /// The server, stopped on drop.
    _server: ServerThread,
}

/// What the server knows and counts.
struct Shared {
    /// The identity's object id, the `oid` claim and the Redis user.
    oid: String,
    /// The client id the caller must name (a user-assigned identity).
    client_id: String,
    /// The secret the caller must send as `x-identity-header`.
    header: String,
    /// Lifetime of the next tokens, seconds.
    lifetime_s: AtomicU64,
    /// When false, connections are closed without an answer.
    up: AtomicBool,
    /// Every HTTP request received (answered or not).
    requests: AtomicUsize,
    /// Tokens issued so far (token `n` is the n-th).
    issued: AtomicUsize,
    /// Requests refused for a wrong header, client id, version or resource.
    rejected: AtomicUsize,
}

impl FakeIdentity {
    /// Starts an endpoint for the user-assigned identity `client_id` whose
    /// object id is `oid`; tokens live `lifetime` (see [`Self::set_lifetime`]).
    pub fn start(oid: &str, client_id: &str, lifetime: Duration) -> Self {
        let shared = Arc::new(Shared {
            oid: oid.to_owned(),
            client_id: client_id.to_owned(),
            header: format!("identity-header-{}", std::process::id()),
            lifetime_s: AtomicU64::new(lifetime.as_secs()),
            up: AtomicBool::new(true),
            requests: AtomicUsize::new(0),
            issued: AtomicUsize::new(0),
            rejected: AtomicUsize::new(0),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fake identity endpoint");
        listener.set_nonblocking(true).expect("nonblocking listener");
        let addr = listener.local_addr().expect("local addr");
        let server_shared = shared.clone();
        let server = ServerThread::spawn(move |stopped| serve(listener, server_shared, stopped));
        Self { addr, shared, _server: server }
    }

    /// `IDENTITY_ENDPOINT`: the token URL.
    pub fn endpoint(&self) -> String {
        format!("http://{}/msi/token", self.addr)
    }

    /// `IDENTITY_HEADER`: the secret the caller must send back.
    pub fn header(&self) -> &str {
        &self.shared.header
    }

    /// The environment a client needs: `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`.
    pub fn env(&self) -> [(&'static str, String); 2] {
        [("IDENTITY_ENDPOINT", self.endpoint()), ("IDENTITY_HEADER", self.shared.header.clone())]
    }

    /// The identity's object id (the Redis user).
    pub fn oid(&self) -> &str {
        &self.shared.oid
    }

    /// The `n`-th token this endpoint issues (1-based).
    pub fn token(&self, n: usize) -> String {
        token(&self.shared.oid, n)
    }

    /// Sets the lifetime of the tokens issued from now on.
    pub fn set_lifetime(&self, lifetime: Duration) {
        self.shared.lifetime_s.store(lifetime.as_secs(), Ordering::SeqCst);
    }

    /// Stops answering: every connection is closed without a response.
    pub fn go_down(&self) {
        self.shared.up.store(false, Ordering::SeqCst);
    }

    /// Answers again.
    pub fn go_up(&self) {
        self.shared.up.store(true, Ordering::SeqCst);
    }

    /// HTTP requests received so far.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Tokens issued so far.
    pub fn issued(&self) -> usize {
        self.shared.issued.load(Ordering::SeqCst)
    }

    /// Requests refused for a wrong header, client id, version or resource.
    pub fn rejected(&self) -> usize {
        self.shared.rejected.load(Ordering::SeqCst)
    }
}

/// An unsigned-looking JWT (header.payload.signature, base64url) whose
/// payload names `oid`, the Redis audience and the serial `n`.
fn token(oid: &str, n: usize) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
    let payload = serde_json::json!({ "aud": REDIS_RESOURCE, "oid": oid, "sub": oid, "n": n });
    let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
    let signature = URL_SAFE_NO_PAD.encode(format!("fake-signature-{n}"));
    format!("{header}.{payload}.{signature}")
}

async fn serve(listener: std::net::TcpListener, shared: Arc<Shared>, mut stopped: tokio::sync::oneshot::Receiver<()>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        if !shared.up.load(Ordering::SeqCst) {
            shared.requests.fetch_add(1, Ordering::SeqCst);
            drop(stream);
            continue;
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let shared = shared.clone();
                async move { answer(&shared, &req) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// One request: a token, a 400 for a wrong request, or (down) an error that
/// makes hyper close the connection without answering.
fn answer(shared: &Shared, req: &Request<Incoming>) -> Result<Response<Full<Bytes>>, std::io::Error> {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    if !shared.up.load(Ordering::SeqCst) {
        return Err(std::io::Error::other("fake identity endpoint is down"));
    }
    let query = req.uri().query().unwrap_or_default();
    let param = |name: &str| {
        query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| percent_decode(v))
    };
    let header_ok = req.headers().get("x-identity-header").and_then(|v| v.to_str().ok()) == Some(&shared.header);
    let problems = [
        (!header_ok).then_some("missing or wrong x-identity-header"),
        (param("api-version").as_deref() != Some(API_VERSION)).then_some("wrong api-version"),
        (param("resource").as_deref() != Some(REDIS_RESOURCE)).then_some("wrong resource"),
        (param("client_id").as_deref() != Some(shared.client_id.as_str())).then_some("wrong or missing client_id"),
    ];
    if let Some(problem) = problems.into_iter().flatten().next() {
        shared.rejected.fetch_add(1, Ordering::SeqCst);
        let body = serde_json::json!({ "error": "invalid_request", "error_description": problem });
        return Ok(json(400, &body));
    }
    let n = shared.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs();
    let expires_on = now + shared.lifetime_s.load(Ordering::SeqCst);
    let body = serde_json::json!({
        "access_token": token(&shared.oid, n),
        "expires_on": expires_on.to_string(),
        "resource": REDIS_RESOURCE,
        "token_type": "Bearer",
        "client_id": shared.client_id,
    });
    Ok(json(200, &body))
}

fn json(status: u16, body: &serde_json::Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}

/// Decodes `%XX` escapes and `+` of a query value.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_handles_escapes_and_plus() {
        assert_eq!(percent_decode("https%3A%2F%2Fredis.azure.com"), REDIS_RESOURCE);
        assert_eq!(percent_decode("a+b%2"), "a b%2");
    }

    #[test]
    fn tokens_carry_the_oid_and_differ_by_serial() {
        let t1 = token("oid-1", 1);
        let payload = URL_SAFE_NO_PAD.decode(t1.split('.').nth(1).unwrap()).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(claims["oid"], "oid-1");
        assert_ne!(t1, token("oid-1", 2));
    }
}
