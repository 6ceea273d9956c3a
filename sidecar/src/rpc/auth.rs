//! Middleware: every RPC must carry the link token (the shared secret
//! between the sidecar and its components' bridge) as
//! `Authorization: Bearer <token>`; compared in constant time, never logged.

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::LinkState;
use super::answer::problem;

/// 401 unless the request carries the link token.
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
