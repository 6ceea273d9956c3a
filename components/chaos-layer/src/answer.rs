//! The layer's own answer: the status an `errors` experiment asked for, as
//! an RFC 9457 problem document naming the experiment, written through
//! `wasi:http` (the same document the handler components' helpers build).

use chaoslab_guest_http::{PROBLEM_JSON, problem_document};
use chaoslab_world::layer::types::{Fields, OutgoingBody, OutgoingResponse, ResponseOutparam};
use serde_json::json;

/// Most bytes one `blocking-write-and-flush` accepts (wasi:io/streams).
const WRITE_CHUNK: usize = 4096;

/// Answers `status` for `experiments` on `response_out`.
pub fn injected(response_out: ResponseOutparam, status: u16, experiments: &[String]) {
    let detail = format!("fault injected by chaos experiment {}", experiments.join(", "));
    let document = problem_document(status, "Injected fault", &detail, Some(("experiments", json!(experiments))));
    let body = document.to_string().into_bytes();
    let headers = Fields::from_list(&[
        ("content-type".to_owned(), PROBLEM_JSON.as_bytes().to_vec()),
        ("content-length".to_owned(), body.len().to_string().into_bytes()),
        ("cache-control".to_owned(), b"no-store".to_vec()),
    ])
    .expect("static, valid header names and values");
    let response = OutgoingResponse::new(headers);
    // The engine bounds `status` to 400-599, a valid status code.
    response.set_status_code(status).expect("status in 400-599");
    let outgoing = response.body().expect("a new response's body is taken once");
    ResponseOutparam::set(response_out, Ok(response));
    let stream = outgoing.write().expect("a new body's stream is taken once");
    for chunk in body.chunks(WRITE_CHUNK) {
        // A failed write means the client is gone: nobody is left to tell,
        // and the request is over either way.
        if stream.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
    drop(stream);
    // Like a failed write, a failed finish only means the client left.
    let _finished = OutgoingBody::finish(outgoing, None);
}
