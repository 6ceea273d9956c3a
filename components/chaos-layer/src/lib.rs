//! `chaoslab-chaos-layer`: the data-plane faults, outside the handler.
//!
//! The layer exports `wasi:http/incoming-handler` and imports the wrapped
//! handler's, plus `chaoslab:sidecar/chaos` (world `layer`, wit/http.wit).
//! `chaoslab wrap HANDLER.wasm -o OUT.wasm` composes it with any handler,
//! in any language. For each request it asks the chaos engine
//! (`chaos.decide`, with the request's path and method) and applies the
//! decision in the order the engine documents: hold (a hang), delay, then
//! answer the injected status as problem+json ([`answer`]) instead of
//! calling the handler.
//!
//! Otherwise it hands the request over untouched: the original
//! `incoming-request` and `response-outparam` resources move to the inner
//! handler (owned handles cross the import). Method, path, query, headers
//! and both bodies are the runtime's own resources, so they stream straight
//! between the client and the handler and the layer never copies a byte;
//! an inner trap traps the whole call, so the runtime still answers its own
//! `500`, and an inner loop still meets the request timeout.

// The wit_bindgen export glue is unsafe by nature (component model ABI).
#![allow(unsafe_code)]

mod answer;

use chaoslab_guest_http::path_of;
use chaoslab_world::layer::export::Guest;
use chaoslab_world::layer::inner;
use chaoslab_world::layer::types::{IncomingRequest, Method, ResponseOutparam};
use chaoslab_world::wire::chaos;

/// The exported handler.
struct Layer;

impl Guest for Layer {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let decision = chaos::decide(&path_of(request.path_with_query()), &method_name(&request.method()));
        if let Some(ms) = decision.hang_ms {
            chaos::hold(ms);
        }
        if decision.delay_ms > 0 {
            chaos::hold(decision.delay_ms.into());
        }
        match decision.fail_status {
            Some(status) => answer::injected(response_out, status, &decision.experiments),
            None => inner::handle(request, response_out),
        }
    }
}

/// The method as HTTP spells it: what `methods` filters name.
fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Connect => "CONNECT",
        Method::Options => "OPTIONS",
        Method::Trace => "TRACE",
        Method::Patch => "PATCH",
        Method::Other(other) => other,
    }
    .to_owned()
}

chaoslab_world::layer::export!(Layer);
