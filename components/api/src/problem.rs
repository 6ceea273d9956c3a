//! This component's problem documents: store failures.

use chaoslab_guest_http::problem;
use chaoslab_world::wire::store::Error as StoreError;
use spin_sdk::http::Response;

/// A short, client-safe description of a store failure.
pub fn describe(err: &StoreError) -> String {
    // The kind (the WIT case), then the sidecar's own reason, which already
    // says what failed ("redis did not answer within 500ms", "sidecar is not running …").
    match err {
        StoreError::Unavailable(why) => format!("unavailable: {why}"),
        StoreError::Timeout(why) => format!("timeout: {why}"),
        StoreError::Denied(why) => format!("denied: {why}"),
        StoreError::Other(why) => format!("error: {why}"),
    }
}

/// `503`: the visit could not be counted because Redis is not usable.
pub fn store_unavailable(err: &StoreError) -> Response {
    let mut resp = problem(503, "Redis unavailable", &describe(err), None);
    resp.set_header("retry-after", "1");
    resp
}
