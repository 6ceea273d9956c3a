//! `--spawn`: the runner starts `chaoslab up` itself (the same binary), on
//! `127.0.0.1:0` with its own Redis, and reads the address from its
//! readiness line. The chaos token is the runner's, handed over in the
//! environment, so it survives restarts. A restart reuses the address the
//! first process bound, as a replica keeps its port, so the experiment's
//! `base_url` stays valid.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use crate::child;

/// The readiness line's prefix (`chaoslab listening on http://ADDR/`).
const READY_PREFIX: &str = "chaoslab listening on http://";
/// How long a start may take (the first compiles the components).
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a stopped process may drain before it is killed, as a platform's grace period.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
/// `--shutdown-grace` of the spawned process: short, its held requests are the experiment's.
const CHILD_SHUTDOWN_GRACE: &str = "2s";
/// Lines of its stderr kept for error messages.
const LOG_LINES: usize = 40;

/// How to start the target.
#[derive(Debug, Clone)]
pub struct SpawnOptions {
    /// The `chaoslab` binary (this one).
    pub exe: PathBuf,
    /// `--manifest` for `chaoslab up`.
    pub manifest: PathBuf,
    /// The chaos token it will require.
    pub token: String,
}

/// A running `chaoslab up` the runner owns.
#[derive(Debug)]
pub struct Spawned {
    options: SpawnOptions,
    child: Child,
    /// The address it serves (kept across restarts).
    pub addr: SocketAddr,
    /// Its last stderr lines.
    log: Arc<Mutex<VecDeque<String>>>,
    /// CPU seconds of the processes already replaced.
    cpu_of_replaced: f64,
}

impl Spawned {
    /// Starts it on a free port and waits for its readiness line.
    pub async fn start(options: SpawnOptions) -> Result<Self, String> {
        let (child, addr, log) = launch(&options, "127.0.0.1:0").await?;
        Ok(Self { options, child, addr, log, cpu_of_replaced: 0.0 })
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The process id now serving.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops it (SIGTERM, then SIGKILL after [`STOP_GRACE`]) and starts a
    /// new one on the same address.
    pub async fn restart(&mut self) -> Result<(), String> {
        self.cpu_of_replaced += self.cpu_seconds_now();
        child::stop(&mut self.child, STOP_GRACE).await;
        let (child, _, log) = launch(&self.options, &self.addr.to_string()).await?;
        (self.child, self.log) = (child, log);
        Ok(())
    }

    /// CPU seconds of every process it ran so far (with their Redis).
    pub fn cpu_seconds(&self) -> f64 {
        self.cpu_of_replaced + self.cpu_seconds_now()
    }

    fn cpu_seconds_now(&self) -> f64 {
        self.pid().and_then(crate::cpu::with_children).unwrap_or(0.0)
    }

    /// Stops it for good.
    pub async fn shutdown(&mut self) {
        child::stop(&mut self.child, STOP_GRACE).await;
    }

    /// Its last stderr lines.
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }
}

fn tail(log: &Mutex<VecDeque<String>>) -> String {
    log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().cloned().collect::<Vec<_>>().join("\n")
}

async fn launch(
    options: &SpawnOptions,
    listen: &str,
) -> Result<(Child, SocketAddr, Arc<Mutex<VecDeque<String>>>), String> {
    let mut command = Command::new(&options.exe);
    command
        .arg("up")
        .arg("--manifest")
        .arg(&options.manifest)
        .args(["--listen", listen, "--shutdown-grace", CHILD_SHUTDOWN_GRACE])
        // Its own Redis: chaoslab starts one when no URL is given.
        .env_remove("CHAOSLAB_REDIS_URL")
        .env_remove("CHAOSLAB_LISTEN")
        .env("CHAOSLAB_CHAOS_TOKEN", &options.token)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    child::isolate(&mut command);
    let mut child = command.spawn().map_err(|e| format!("could not start {} up: {e}", options.exe.display()))?;
    let stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let log = Arc::new(Mutex::new(VecDeque::new()));
    let (ready_tx, ready_rx) = oneshot::channel();
    tokio::spawn(read_stderr(stderr, log.clone(), ready_tx));
    let ready = tokio::time::timeout(READY_TIMEOUT, ready_rx).await;
    match ready {
        Ok(Ok(addr)) => Ok((child, addr, log)),
        Ok(Err(_)) => {
            let status = child.wait().await.map(|s| s.to_string()).unwrap_or_default();
            Err(format!("chaoslab up exited ({status}) before it was ready:\n{}", tail(&log)))
        }
        Err(_) => {
            child::stop(&mut child, STOP_GRACE).await;
            Err(format!("chaoslab up was not ready within {READY_TIMEOUT:?}:\n{}", tail(&log)))
        }
    }
}

async fn read_stderr(
    stderr: tokio::process::ChildStderr,
    log: Arc<Mutex<VecDeque<String>>>,
    ready: oneshot::Sender<SocketAddr>,
) {
    let mut ready = Some(ready);
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(addr) = line.strip_prefix(READY_PREFIX).and_then(|rest| rest.trim_end_matches('/').parse().ok())
            && let Some(tx) = ready.take()
        {
            let _ = tx.send(addr);
        }
        let mut log = log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if log.len() == LOG_LINES {
            log.pop_front();
        }
        log.push_back(line);
    }
}
