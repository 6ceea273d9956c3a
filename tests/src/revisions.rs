//! Test support for revisions: the control API of a [`Chaoslab`] (with the
//! test token), a client loop that keeps calling `GET /` throughout a test
//! and records every answer with the revision that gave it, and distinct
//! builds of the api component made cheaply (its bytes plus a custom
//! section: the same code, another SHA-256, another compilation).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use wasm_encoder::{ComponentSection, CustomSection};

use crate::chaoslab::TEST_TOKEN;
use crate::{Chaoslab, HttpResponse, artifacts};

/// The header naming the revision that answered.
pub const REVISION_HEADER: &str = "x-chaoslab-revision";

/// A compiled component of the workspace, e.g. `chaoslab_api.wasm`.
pub fn wasm_path(name: &str) -> PathBuf {
    artifacts::target_dir().join("wasm32-wasip2/release").join(name)
}

/// The bytes of a compiled component.
pub fn wasm(name: &str) -> Vec<u8> {
    let path = wasm_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A distinct build of the api component as spin.toml serves it (wrapped in
/// the chaos layer): the same code with a custom section naming `tag`, so
/// its SHA-256 (and wasmtime's cache key) differ.
pub fn api_build(tag: &str) -> Vec<u8> {
    let mut bytes = wasm("chaoslab_api_wrapped.wasm");
    CustomSection { name: "chaoslab-test-build".into(), data: tag.as_bytes().into() }.append_to_component(&mut bytes);
    bytes
}

impl Chaoslab {
    /// `method path` on the control API with the test token.
    pub async fn control(&self, method: http::Method, path: &str, content_type: &str, body: Bytes) -> HttpResponse {
        let auth = format!("Bearer {TEST_TOKEN}");
        let headers = [("authorization", auth.as_str()), ("content-type", content_type)];
        crate::http::request(method, &self.url(path), &headers, body, Duration::from_secs(30))
            .await
            .unwrap_or_else(|e| panic!("{path}: {e:#}"))
    }

    /// `POST /_chaoslab/revisions` with a JSON body; panics unless `202`; the new revision.
    pub async fn deploy(&self, body: Value) -> Value {
        let resp =
            self.control(http::Method::POST, "/_chaoslab/revisions", "application/json", body.to_string().into()).await;
        assert_eq!(resp.status, 202, "deploy {body}: {}", resp.text());
        resp.json()
    }

    /// `POST /_chaoslab/revisions?{query}` uploading `bytes`; panics unless `202`.
    pub async fn deploy_bytes(&self, query: &str, bytes: Vec<u8>) -> Value {
        let path = format!("/_chaoslab/revisions?{query}");
        let resp = self.control(http::Method::POST, &path, "application/wasm", bytes.into()).await;
        assert_eq!(resp.status, 202, "upload ?{query}: {}", resp.text());
        resp.json()
    }

    /// `GET /_chaoslab/revisions`: every revision and the splits.
    pub async fn list(&self) -> Value {
        let resp = self.control(http::Method::GET, "/_chaoslab/revisions", "", Bytes::new()).await;
        assert_eq!(resp.status, 200, "{}", resp.text());
        resp.json()
    }

    /// `GET /_chaoslab/revisions/{id}`.
    pub async fn revision(&self, id: &str) -> Value {
        let resp = self.control(http::Method::GET, &format!("/_chaoslab/revisions/{id}"), "", Bytes::new()).await;
        assert_eq!(resp.status, 200, "{id}: {}", resp.text());
        resp.json()
    }

    /// Waits (up to `within`) until revision `id`'s rollout has ended: not
    /// provisioning, not a canary under watch. Its last state.
    pub async fn settled(&self, id: &str, within: Duration) -> Value {
        let start = Instant::now();
        loop {
            let revision = self.revision(id).await;
            let watching = revision["canary"]["outcome"] == "watching";
            if revision["state"] != "provisioning" && !watching {
                return revision;
            }
            assert!(start.elapsed() < within, "{id} still in rollout after {within:?}: {revision:#}\n{}", self.logs());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (up to `within`) until `revision`'s state is `state` (e.g. the old one `retired`).
    pub async fn wait_state(&self, id: &str, state: &str, within: Duration) -> Value {
        let start = Instant::now();
        loop {
            let revision = self.revision(id).await;
            if revision["state"] == state {
                return revision;
            }
            assert!(start.elapsed() < within, "{id} not {state} after {within:?}: {revision:#}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// One answer the client loop got.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status (0: no answer: connection error or 10 s without one).
    pub status: u16,
    /// Its `x-chaoslab-revision`.
    pub revision: Option<String>,
    /// When it arrived.
    pub at: Instant,
}

/// Clients calling `GET url` back to back until stopped.
pub struct ClientLoop {
    /// Set to stop the workers.
    stop: Arc<AtomicBool>,
    /// The workers, each returning its answers.
    workers: Vec<tokio::task::JoinHandle<Vec<Answer>>>,
}

impl ClientLoop {
    /// Starts `workers` clients on `url`, each on its own keep-alive connection.
    pub fn start(url: String, workers: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let workers = (0..workers)
            .map(|_| {
                let (stop, url) = (stop.clone(), url.clone());
                tokio::spawn(async move {
                    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
                    let mut answers = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let req = http::Request::get(&url).body(Empty::new()).expect("request");
                        let answer = tokio::time::timeout(Duration::from_secs(10), async {
                            let resp = client.request(req).await.ok()?;
                            let revision =
                                resp.headers().get(REVISION_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
                            let status = resp.status().as_u16();
                            resp.into_body().collect().await.ok()?;
                            Some((status, revision))
                        })
                        .await;
                        let (status, revision) = answer.ok().flatten().unwrap_or((0, None));
                        answers.push(Answer { status, revision, at: Instant::now() });
                    }
                    answers
                })
            })
            .collect();
        Self { stop, workers }
    }

    /// Stops the clients; everything they got.
    pub async fn stop(self) -> Answers {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        for worker in self.workers {
            all.extend(worker.await.expect("client loop worker"));
        }
        all.sort_by_key(|a| a.at);
        Answers(all)
    }
}

/// The answers of a client loop, in arrival order.
#[derive(Debug)]
pub struct Answers(pub Vec<Answer>);

impl Answers {
    /// How many answered `status`.
    pub fn count(&self, status: u16) -> usize {
        self.0.iter().filter(|a| a.status == status).count()
    }

    /// Answers other than `200`.
    pub fn not_ok(&self) -> Vec<&Answer> {
        self.0.iter().filter(|a| a.status != 200).collect()
    }

    /// Answers by revision, then status.
    pub fn by_revision(&self) -> BTreeMap<String, BTreeMap<u16, usize>> {
        let mut map: BTreeMap<String, BTreeMap<u16, usize>> = BTreeMap::new();
        for a in &self.0 {
            *map.entry(a.revision.clone().unwrap_or_default()).or_default().entry(a.status).or_default() += 1;
        }
        map
    }

    /// A summary for assertion messages.
    pub fn summary(&self) -> String {
        format!("{} answers: {:?}", self.0.len(), self.by_revision())
    }
}
