//! [`TokioHttpClient`]: the HTTP client of both exporters — the reqwest line
//! already in the tree (native-tls), driven on the process's Tokio runtime.
//!
//! The SDK's batch processors export from their own threads with a plain
//! `block_on`, where reqwest (which needs a Tokio reactor) cannot run; each
//! export is therefore spawned onto the runtime captured at set-up and only
//! awaited from the exporter thread. Every export is bounded by `timeout`,
//! so a backend that accepts connections and never answers costs one batch
//! thread a bounded wait, never a request.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use opentelemetry_http::{HttpClient, HttpError};

use crate::error::TelemetryError;

/// Longest one export request may take (connect, send, answer).
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// reqwest on a Tokio runtime handle.
#[derive(Debug, Clone)]
pub struct TokioHttpClient {
    /// The client (connection pool, TLS).
    client: reqwest::Client,
    /// Where the requests run.
    runtime: tokio::runtime::Handle,
}

impl TokioHttpClient {
    /// A client on the current Tokio runtime, each request bounded by `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, TelemetryError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(TelemetryError::NoRuntime)?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(TelemetryError::HttpClient)?;
        Ok(Self { client, runtime })
    }
}

#[async_trait::async_trait]
impl HttpClient for TokioHttpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let request = reqwest::Request::try_from(request)?;
        let task = self.runtime.spawn(async move {
            let response = client.execute(request).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            let mut answer = Response::new(body);
            *answer.status_mut() = status;
            *answer.headers_mut() = headers;
            Ok::<_, reqwest::Error>(answer)
        });
        Ok(task.await??)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dead_endpoint_fails_fast_with_the_cause() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = TokioHttpClient::new(Duration::from_secs(1)).unwrap();
        let request = Request::post(format!("http://{addr}/v1/traces")).body(Bytes::from_static(b"x")).unwrap();
        // Awaited from a plain thread, as the SDK's batch processors do.
        let err = std::thread::spawn(move || futures_block_on(client.send_bytes(request))).join().unwrap();
        let err = err.expect_err("nothing listens there");
        assert!(format!("{err:?}").to_lowercase().contains("connect"), "{err:?}");
    }

    fn futures_block_on<F: std::future::Future>(fut: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(fut)
    }
}
