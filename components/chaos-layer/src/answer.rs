//! The layer's own answer: the status an `errors` experiment asked for, as
//! an RFC 9457 problem document naming the experiment — the same document,
//! written by the same [`send`], as the handler components' own answers.

use chaoslab_guest_http::{problem, send};
use chaoslab_world::layer::types::ResponseOutparam;
use serde_json::json;

/// Answers `status` for `experiments` on `response_out`.
pub fn injected(response_out: ResponseOutparam, status: u16, experiments: &[String]) {
    let detail = format!("fault injected by chaos experiment {}", experiments.join(", "));
    let response = problem(status, "Injected fault", &detail, Some(("experiments", json!(experiments))));
    // The layer's bindings and the Spin SDK's name the same `wasi:http@0.2.0`
    // resource; the handle moves from one to the other, as the SDK's own
    // `#[http_component]` moves it from its world's bindings.
    // SAFETY: `take_handle` gives up the layer's ownership of the handle, so
    // the SDK's value is its one owner.
    let response_out = unsafe { spin_sdk::http::ResponseOutparam::from_handle(response_out.take_handle()) };
    send(response_out, response);
}
