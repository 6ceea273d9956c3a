//! [`Sink`]: an HTTP/1.1 server on `127.0.0.1:0` (optionally over TLS)
//! handing each request's path, headers and body to a recorder, answering
//! `200` after an optional delay. Stopped on drop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::server_thread::ServerThread;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// Records one request: path, headers, body.
pub type Recorder = Arc<dyn Fn(&str, &http::HeaderMap, &[u8]) + Send + Sync>;

/// A running receiver.
pub struct Sink {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Milliseconds every answer waits first.
    delay_ms: Arc<AtomicU64>,
    /// The server, stopped on drop.
    _server: ServerThread,
}

impl Sink {
    /// Starts a receiver calling `record` for each request; with `tls`, it
    /// serves HTTPS with that identity.
    pub fn start(record: Recorder, tls: Option<native_tls::Identity>) -> Self {
        let tls = tls.map(|identity| {
            tokio_native_tls::TlsAcceptor::from(native_tls::TlsAcceptor::new(identity).expect("TLS acceptor"))
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fake telemetry receiver");
        listener.set_nonblocking(true).expect("nonblocking listener");
        let addr = listener.local_addr().expect("local addr");
        let delay_ms = Arc::new(AtomicU64::new(0));
        let delay = delay_ms.clone();
        let server = ServerThread::spawn(move |mut stopped| async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            loop {
                let stream = tokio::select! {
                    _ = &mut stopped => return,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => stream,
                        Err(_) => continue,
                    },
                };
                let (record, delay, tls) = (record.clone(), delay.clone(), tls.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let (record, delay) = (record.clone(), delay.clone());
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await?.to_bytes();
                            record(parts.uri.path(), &parts.headers, &body);
                            let wait = delay.load(Ordering::SeqCst);
                            if wait > 0 {
                                tokio::time::sleep(Duration::from_millis(wait)).await;
                            }
                            Ok::<_, hyper::Error>(http::Response::new(Full::new(Bytes::from_static(b"{}"))))
                        }
                    });
                    let http = hyper::server::conn::http1::Builder::new();
                    match tls {
                        None => {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(stream).await {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                    }
                });
            }
        });
        Self { addr, delay_ms, _server: server }
    }

    /// Makes every answer wait `delay` first (a backend in trouble).
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }
}
