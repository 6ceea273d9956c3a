//! [`send`]: a complete [`Response`] written straight through `wasi:http`.
//!
//! What the Spin SDK's `IntoResponse` path does too, in fewer host calls: the
//! body is already whole, so it goes out with `blocking-write-and-flush`
//! (one call per 4 KiB) instead of the SDK's asynchronous sink, which polls
//! the stream's readiness before each write. A `GET /` crosses into the host
//! once per step below, each a canonical-ABI call (issue #17).

use spin_sdk::http::{Fields, OutgoingBody, OutgoingResponse, Response, ResponseOutparam};

/// Most bytes one `blocking-write-and-flush` accepts (wasi:io/streams).
const WRITE_CHUNK: usize = 4096;

/// Sends `response` — status, headers, body — as the answer on `response_out`.
///
/// Headers the host refuses (a name or value `wasi:http` forbids) make the
/// answer a bare `500`: the handler's helpers only build valid ones.
pub fn send(response_out: ResponseOutparam, response: Response) {
    let headers: Vec<(String, Vec<u8>)> =
        response.headers().map(|(name, value)| (name.to_owned(), value.as_bytes().to_vec())).collect();
    let (status, fields) = match Fields::from_list(&headers) {
        Ok(fields) => (*response.status(), fields),
        Err(_refused) => (500, Fields::new()),
    };
    let outgoing = OutgoingResponse::new(fields);
    if outgoing.set_status_code(status).is_err() {
        // Not a status HTTP has (the helpers take theirs from the code): a 500.
        let _always_valid = outgoing.set_status_code(500);
    }
    let body = outgoing.body().expect("a new response's body is taken once");
    response_out.set(outgoing);
    let stream = body.write().expect("a new body's stream is taken once");
    for chunk in response.body().chunks(WRITE_CHUNK) {
        // A failed write means the client is gone: nobody is left to tell,
        // and the request is over either way.
        if stream.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
    drop(stream);
    // Like a failed write, a failed finish only means the client left.
    let _finished = OutgoingBody::finish(body, None);
}
