//! The loopback link's HTTP client: keep-alive connections to the sidecar,
//! pooled across requests (hyper-util's client), instead of one new TCP
//! connection per call as `wasmtime-wasi-http`'s default sender makes. Used
//! only for calls to the configured sidecar origin; every other outbound
//! request keeps the default sender.

use std::sync::LazyLock;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

/// Connecting to a sidecar on loopback is immediate or it is down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

static CLIENT: LazyLock<Client<HttpConnector, WasiBody>> = LazyLock::new(|| {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector)
});

/// What `WasiHttpHooks::send_request` returns: the response and the future
/// driving the connection (nothing to drive here: the pool does it).
pub type Sent = (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), HttpError>> + Send>);

/// Sends `request` over a pooled connection, honouring the guest's
/// first-byte timeout.
pub async fn send(request: http::Request<WasiBody>, options: Option<RequestOptions>) -> Result<Sent, HttpError> {
    let first_byte = options.and_then(|o| o.first_byte_timeout).unwrap_or(Duration::from_secs(600));
    let response = match tokio::time::timeout(first_byte, CLIENT.request(request)).await {
        Err(_elapsed) => return Err(HttpError::HttpResponseTimeout),
        Ok(Err(err)) if err.is_connect() => return Err(HttpError::ConnectionRefused),
        Ok(Err(err)) => return Err(HttpError::InternalError(Some(format!("sidecar link: {err}")))),
        Ok(Ok(response)) => response,
    };
    let response = response.map(|body| body.map_err(HttpError::from).boxed_unsync());
    Ok((response, Box::new(async { Ok(()) })))
}
