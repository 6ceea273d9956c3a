//! Container probes of the sidecar.
//!
//! - `GET /livez`: the process is alive; no Redis call. While a hang
//!   experiment runs it is held unanswered (like the data plane), so the
//!   platform's liveness probe fails and restarts the container, which ends
//!   the hang with it (deploy/azure/modules/app.bicep).
//! - `GET /readyz`: Redis answers a PING within the call deadline; else 503
//!   with the reason.

use axum::extract::State;
use axum::response::Response;

use super::LinkState;
use super::answer::{json, problem};

/// `GET /livez`.
pub async fn livez(State(state): State<LinkState>) -> Response {
    let chaos = &state.services.chaos;
    while let Some(ms) = chaos.hang_remaining_ms() {
        // Re-checked after each wait: a DELETE releases holds early.
        chaos.hold(ms.max(1)).await;
    }
    json(200, &serde_json::json!({ "status": "alive" }))
}

/// `GET /readyz`.
pub async fn readyz(State(state): State<LinkState>) -> Response {
    match state.services.redis.ping().await {
        Ok(rtt) => json(200, &serde_json::json!({ "status": "ready", "redis_rtt_us": rtt.as_micros() as u64 })),
        Err(err) => problem(503, "Service Unavailable", &err.to_string()),
    }
}
