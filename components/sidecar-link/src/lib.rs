//! `chaoslab-sidecar-link`: the bridge component between chaoslab's handler
//! components and `chaoslab-sidecar`, for running under the Spin CLI.
//!
//! It exports `chaoslab:sidecar/store`, `chaos` and `telemetry` and
//! implements every function as one loopback HTTP call to the sidecar
//! ([`client`]; wire format in wit/README.md). Spin plugs it into each handler
//! as a component dependency (`[component.<id>.dependencies]` in spin.toml);
//! it reads `sidecar_url` and `link_token` from the parent's variables and
//! may reach only the parent's `allowed_outbound_hosts`.
//!
//! Failures keep the contract's meaning: a sidecar that is down or refuses
//! the link is `unavailable`, one that does not answer in time is `timeout`;
//! `decide` falls back to "no fault" and `hold` returns `false` at once.
//!
//! - [`client`]: one call, sent whole (head and body in one write).
//! - [`deadline`]: the one deadline all calls of a request share, and
//!   whether the link failed already in this request (then telemetry calls
//!   are dropped), so a frozen sidecar costs a request one budget, not one
//!   timeout per call.

// The wit_bindgen export glue is unsafe by nature (component model ABI).
#![allow(unsafe_code)]

mod client;
mod deadline;

use chaoslab_world::bridge::{chaos, store, telemetry};
use client::{CallError, call};

/// The exported implementation.
struct Bridge;

fn store_error(err: CallError) -> store::Error {
    match err {
        CallError::Unavailable(m) => store::Error::Unavailable(m),
        CallError::Timeout(m) => store::Error::Timeout(m),
        CallError::Other(m) => store::Error::Other(m),
    }
}

fn chaos_error(err: CallError) -> chaos::Error {
    chaos::Error::Unavailable(err.message().to_owned())
}

/// A call whose answer is a WIT `result`, with transport failures mapped.
fn rpc<P: serde::Serialize, T: serde::de::DeserializeOwned, E: serde::de::DeserializeOwned>(
    interface: &str,
    function: &str,
    params: &P,
    map: fn(CallError) -> E,
) -> Result<T, E> {
    call::<P, Result<T, E>>(interface, function, params, 0).map_err(map)?
}

impl store::Guest for Bridge {
    fn incr(key: String, delta: i64) -> Result<i64, store::Error> {
        rpc("store", "incr", &(key, delta), store_error)
    }

    fn get(key: String) -> Result<Option<Vec<u8>>, store::Error> {
        rpc("store", "get", &(key,), store_error)
    }

    fn set(key: String, value: Vec<u8>, ttl_ms: Option<u64>) -> Result<(), store::Error> {
        rpc("store", "set", &(key, value, ttl_ms), store_error)
    }

    fn ping() -> Result<u64, store::Error> {
        rpc("store", "ping", &[(); 0], store_error)
    }
}

impl chaos::Guest for Bridge {
    fn authorize(bearer: String) -> Result<bool, chaos::Error> {
        rpc("chaos", "authorize", &(bearer,), chaos_error)
    }

    fn start(
        fault: chaos::Fault,
        duration_seconds: u32,
        scope: chaos::Scope,
    ) -> Result<chaos::Experiment, chaos::Error> {
        rpc("chaos", "start", &(fault, duration_seconds, scope), chaos_error)
    }

    fn stop(id: String) -> Result<chaos::Experiment, chaos::Error> {
        rpc("chaos", "stop", &(id,), chaos_error)
    }

    fn stop_all() -> Result<Vec<chaos::Experiment>, chaos::Error> {
        rpc("chaos", "stop-all", &[(); 0], chaos_error)
    }

    fn status() -> Result<chaos::ChaosStatus, chaos::Error> {
        rpc("chaos", "status", &[(); 0], chaos_error)
    }

    fn status_all() -> Result<chaos::ClusterStatus, chaos::Error> {
        rpc("chaos", "status-all", &[(); 0], chaos_error)
    }

    fn limits() -> Result<chaos::ChaosLimits, chaos::Error> {
        rpc("chaos", "limits", &[(); 0], chaos_error)
    }

    fn decide(route: String, method: String) -> chaos::Decision {
        call("chaos", "decide", &(route, method), 0).unwrap_or_else(|err| {
            eprintln!("sidecar-link: chaos.decide failed, serving without faults: {}", err.message());
            chaos::Decision { hang_ms: None, delay_ms: 0, fail_status: None, experiments: Vec::new() }
        })
    }

    fn hold(ms: u64) -> bool {
        call("chaos", "hold", &(ms,), ms).unwrap_or(false)
    }
}

/// A best-effort telemetry call: dropped once the link failed in this
/// request (it would only wait for the same failure again).
fn best_effort<P: serde::Serialize>(function: &str, params: &P) {
    if !deadline::link_failed() {
        let _ = call::<_, ()>("telemetry", function, params, 0);
    }
}

/// Telemetry is best-effort: a call the sidecar cannot take is dropped (the
/// request goes on); the sidecar records it inside the link call's span.
impl telemetry::Guest for Bridge {
    fn add_event(name: String, attributes: Vec<telemetry::Attribute>) {
        best_effort("add-event", &(name, attributes));
    }

    fn set_attribute(key: String, value: String) {
        best_effort("set-attribute", &(key, value));
    }

    fn add_counter(name: String, delta: u64, attributes: Vec<telemetry::Attribute>) {
        best_effort("add-counter", &(name, delta, attributes));
    }

    /// From the answer of an earlier call of this request when there was
    /// one (every answer names the replica), else asked for.
    fn replica() -> String {
        if let Some(name) = client::replica() {
            return name.to_owned();
        }
        if deadline::link_failed() {
            return "unknown".to_owned();
        }
        call("telemetry", "replica", &[(); 0], 0).unwrap_or_else(|_| "unknown".to_owned())
    }
}

chaoslab_world::bridge::export!(Bridge with_types_in chaoslab_world::bridge);
