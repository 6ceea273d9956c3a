//! [`LinkToken`]: the shared secret between the sidecar and its components'
//! bridge. Every RPC carries it as `Authorization: Bearer <token>`; it is
//! compared in constant time and never logged.

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::LinkState;
use super::rpc::problem;

/// The link secret.
pub struct LinkToken(String);

impl LinkToken {
    /// Wraps a configured token; `Err` when it is too short to be a secret.
    pub fn new(token: String) -> Result<Self, String> {
        if token.len() < 16 {
            return Err("--link-token must be at least 16 characters".to_owned());
        }
        Ok(Self(token))
    }

    /// A fresh random token (32 hex characters from the OS).
    pub fn generate() -> std::io::Result<Self> {
        let mut bytes = [0u8; 16];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
        Ok(Self(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// The secret itself, to hand to a child process or the bridge.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when `presented` is this token (constant time).
    pub fn matches(&self, presented: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(presented.as_bytes()))
    }
}

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken(<redacted>)")
    }
}

/// Middleware: 401 unless the request carries the link token.
pub async fn require_token(State(state): State<LinkState>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if state.token.matches(presented) {
        return next.run(request).await;
    }
    let peer = request.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.to_string());
    let reason = if presented.is_empty() { "no link token" } else { "wrong link token" };
    tracing::warn!(path = %request.uri().path(), peer = peer.as_deref().unwrap_or("?"),
        "refused sidecar call: {reason} (check CHAOSLAB_LINK_TOKEN / SPIN_VARIABLE_LINK_TOKEN on both sides)");
    let mut resp =
        problem(401, "Unauthorized", &format!("{reason}: send Authorization: Bearer <link token>")).into_response();
    resp.headers_mut()
        .insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer realm=\"chaoslab-sidecar\""));
    resp
}
