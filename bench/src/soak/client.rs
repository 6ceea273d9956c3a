//! The load: keep-alive HTTP/1.1 connections (hyper's client connection,
//! no pool), each sending its share of a fixed request rate (open loop: a
//! slow answer delays that connection's next request, never adds a burst),
//! every answer recorded with its times; and a closed-loop run that
//! measures capacity.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One answer (or failure) seen by the load.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The path asked.
    pub path: &'static str,
    /// When it was sent, since the run began.
    pub sent: Duration,
    /// When the answer (or the failure) came.
    pub done: Duration,
    /// The status, or the transport error.
    pub status: Result<u16, String>,
    /// The body, for answers other than 200.
    pub body: Option<serde_json::Value>,
}

/// A connection that reconnects after a failure.
struct Conn {
    addr: SocketAddr,
    sender: Option<SendRequest<Empty<Bytes>>>,
}

impl Conn {
    async fn send(&mut self, path: &str) -> Result<(u16, Bytes), String> {
        if self.sender.as_ref().is_none_or(SendRequest::is_closed) {
            let stream = TcpStream::connect(self.addr).await.map_err(|e| format!("connect: {e}"))?;
            let _ = stream.set_nodelay(true);
            let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
            tokio::spawn(conn);
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().expect("connected");
        sender.ready().await.map_err(|e| format!("connection: {e}"))?;
        let req = http::Request::get(path).header("host", "soak").body(Empty::new()).expect("request");
        let resp = sender.send_request(req).await.map_err(|e| {
            self.sender = None;
            format!("request: {e}")
        })?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.map_err(|e| format!("body: {e}"))?.to_bytes();
        Ok((status, body))
    }
}

/// The path of the `n`th request: 4 of 5 visit `/`, 1 asks `/health`.
fn path(n: u64) -> &'static str {
    if n % 5 == 4 { "/health" } else { "/" }
}

/// Closed loop: `connections` connections asking back to back for `length`; requests per second.
pub async fn capacity(addr: SocketAddr, connections: usize, length: Duration) -> f64 {
    let start = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            tokio::spawn(async move {
                let mut conn = Conn { addr, sender: None };
                let mut done = 0u64;
                while start.elapsed() < length {
                    if conn.send("/").await.is_ok_and(|(status, _)| status == 200) {
                        done += 1;
                    }
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap_or(0);
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// Open loop at `rate` requests per second over `connections` connections
/// until `stop`; every outcome, times relative to `origin`.
pub async fn run(
    addr: SocketAddr,
    connections: usize,
    rate: f64,
    origin: Instant,
    stop: Arc<AtomicBool>,
) -> Vec<Outcome> {
    let interval = Duration::from_secs_f64(connections as f64 / rate);
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut conn = Conn { addr, sender: None };
                let mut outcomes = Vec::new();
                // Spread the connections over one interval.
                let mut next = Instant::now() + interval.mul_f64(c as f64 / connections as f64);
                let mut n = c as u64;
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep_until(next.into()).await;
                    let path = path(n);
                    n += connections as u64;
                    let sent = origin.elapsed();
                    let result = conn.send(path).await;
                    let done = origin.elapsed();
                    let (status, body) = match result {
                        Ok((200, _)) => (Ok(200), None),
                        Ok((status, body)) => (Ok(status), serde_json::from_slice(&body).ok()),
                        Err(err) => (Err(err), None),
                    };
                    outcomes.push(Outcome { path, sent, done, status, body });
                    next = (next + interval).max(Instant::now());
                }
                outcomes
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap_or_default());
    }
    all
}
