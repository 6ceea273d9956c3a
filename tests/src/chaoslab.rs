//! [`Chaoslab`]: the real `chaoslab up` binary, started on `127.0.0.1:0`; its
//! address is read from the readiness line on stderr, which it keeps
//! collecting for log assertions. Killed on drop.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::artifacts;
use crate::http::{HttpResponse, get};

/// How long `chaoslab up` may take to print its readiness line.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The readiness line's prefix.
const READY_PREFIX: &str = "chaoslab listening on http://";

/// A running `chaoslab up`.
pub struct Chaoslab {
    /// The process (None once reaped).
    child: Option<Child>,
    /// The address it bound.
    addr: SocketAddr,
    /// Everything it wrote to stderr so far.
    log: Arc<Mutex<String>>,
}

/// How to start `chaoslab up`.
#[derive(Debug, Clone)]
pub struct Builder {
    /// `--manifest`.
    manifest: PathBuf,
    /// Extra command-line arguments.
    args: Vec<String>,
    /// Extra environment.
    env: Vec<(String, String)>,
    /// Pass `--chaos-token TEST_TOKEN` (else chaoslab generates one).
    with_test_token: bool,
}

/// `chaoslab up` exited before it was ready.
#[derive(Debug)]
pub struct StartFailure {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its stderr.
    pub stderr: String,
}

impl Builder {
    /// Serves `manifest`.
    pub fn manifest(mut self, manifest: impl Into<PathBuf>) -> Self {
        self.manifest = manifest.into();
        self
    }

    /// Adds command-line arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Uses this Redis.
    pub fn redis(self, url: &str) -> Self {
        self.args(["--redis-url", url])
    }

    /// Lets chaoslab generate its chaos token instead of using [`TEST_TOKEN`].
    pub fn generated_token(mut self) -> Self {
        self.with_test_token = false;
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Starts it and waits for the readiness line; panics if it fails.
    pub fn start(self) -> Chaoslab {
        match self.try_start() {
            Ok(app) => app,
            Err(failure) => panic!("chaoslab up exited with {}:\n{}", failure.status, failure.stderr),
        }
    }

    /// Starts it; `Err` with its status and stderr if it exits before ready.
    pub fn try_start(self) -> Result<Chaoslab, StartFailure> {
        let mut cmd = Command::new(artifacts::chaoslab_bin());
        cmd.arg("up")
            .args(if self.with_test_token { vec!["--chaos-token", TEST_TOKEN] } else { vec![] })
            .arg("--manifest")
            .arg(&self.manifest)
            .args(["--listen", "127.0.0.1:0"])
            .arg("--cache-dir")
            .arg(artifacts::cache_dir())
            .args(&self.args)
            .env("CHAOSLAB_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, _) in std::env::vars() {
            if key.starts_with("CHAOSLAB_") && key != "CHAOSLAB_LOG" {
                cmd.env_remove(key);
            }
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        let mut child = cmd.spawn().expect("spawn chaoslab");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix(READY_PREFIX) {
                    let _ = ready_tx.send(rest.trim_end_matches('/').to_owned());
                }
                let mut log = sink.lock().expect("log lock");
                log.push_str(&line);
                log.push('\n');
            }
        });
        let start = Instant::now();
        loop {
            if let Ok(addr) = ready_rx.recv_timeout(Duration::from_millis(20)) {
                let addr = addr.parse().expect("readiness line holds an address");
                return Ok(Chaoslab { child: Some(child), addr, log });
            }
            if let Ok(Some(status)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(50)); // let the reader drain stderr
                let stderr = log.lock().expect("log lock").clone();
                return Err(StartFailure { status, stderr });
            }
            assert!(start.elapsed() < START_TIMEOUT, "chaoslab up not ready within {START_TIMEOUT:?}");
        }
    }
}

impl Chaoslab {
    /// A builder serving the test manifest (api + test guest).
    pub fn builder() -> Builder {
        Builder { manifest: artifacts::test_manifest(), args: Vec::new(), env: Vec::new(), with_test_token: true }
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `GET path` (5 s deadline; panics if no answer).
    pub async fn get(&self, path: &str) -> HttpResponse {
        get(&self.url(path), Duration::from_secs(5)).await.unwrap_or_else(|e| panic!("GET {path}: {e:#}"))
    }

    /// Waits up to 5 s for `needle` to appear on its stderr (collected by a
    /// reader thread, so a line may land a moment after the request).
    pub fn wait_for_log(&self, needle: &str) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if self.logs().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Its stderr so far.
    pub fn logs(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        crate::signal::send(self.pid(), libc::SIGTERM).expect("SIGTERM chaoslab");
    }

    /// Waits for exit; panics after `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("running");
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            assert!(start.elapsed() < timeout, "chaoslab did not exit within {timeout:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Chaoslab {
    /// SIGTERM first, so chaoslab stops its own children; SIGKILL after 5 s.
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = crate::signal::send(child.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The chaos token the test builders configure.
pub const TEST_TOKEN: &str = "test-chaos-token";

impl Chaoslab {
    /// `method path` on the chaos API with the test token and a JSON body.
    pub async fn chaos(&self, method: http::Method, path: &str, body: &str) -> HttpResponse {
        let auth = format!("Bearer {TEST_TOKEN}");
        let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
        crate::http::request(
            method,
            &self.url(path),
            &headers,
            bytes::Bytes::from(body.to_owned()),
            Duration::from_secs(5),
        )
        .await
        .unwrap_or_else(|e| panic!("{path}: {e:#}"))
    }

    /// `POST /chaos/{kind}` with `body`; panics unless it answers 202.
    pub async fn start_experiment(&self, kind: &str, body: &str) -> serde_json::Value {
        let resp = self.chaos(http::Method::POST, &format!("/chaos/{kind}"), body).await;
        assert_eq!(resp.status, 202, "POST /chaos/{kind} {body}: {}", resp.text());
        resp.json()
    }
}
