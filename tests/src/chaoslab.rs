//! [`Chaoslab`]: the app under test — the real `chaoslab up` binary, or the
//! real Spin CLI — started on `127.0.0.1:0`; its address is read from its
//! readiness line, and its output kept for log assertions. Killed on drop.
//!
//! Every end-to-end test runs in the [`Link`] modes that apply to it:
//! in-process; loopback, where a real `chaoslab-sidecar` runs beside
//! `chaoslab up --link loopback` exactly as beside `spin up`; and Spin, the
//! real `spin up` beside `chaoslab-sidecar`. Arguments for the sidecar
//! (`--redis-*`, `--chaos-*`, `--no-chaos`) go to whichever process owns Redis
//! and the chaos engine; all others go to `chaoslab up` (and cannot be
//! given under Spin).
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::Duration;

use crate::artifacts;
use crate::http::{HttpResponse, get};
pub use crate::process::StartFailure;
use crate::process::{Process, clean_env};
use crate::sidecar::{LINK_TOKEN, SidecarProcess};
use crate::spin::SpinUp;

/// The readiness line's prefix.
const READY_PREFIX: &str = "chaoslab listening on http://";

/// How the components reach the sidecar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// `chaoslab up` (default): imports linked natively.
    InProcess,
    /// `chaoslab-sidecar` + `chaoslab up --link loopback`: the sidecar-link
    /// bridge composed into each component, over loopback HTTP.
    Loopback,
    /// `chaoslab-sidecar` + the real Spin CLI (`spin up`, see [`crate::spin`]):
    /// the same bridge, composed by Spin. Fails loudly without a `spin`.
    Spin,
}

/// The app process: `chaoslab up`, or `spin up` with its state directory.
enum App {
    /// `chaoslab up`.
    Up(Process),
    /// `spin up`.
    Spin(SpinUp),
}

impl App {
    /// The process, whichever program it runs.
    fn process(&self) -> &Process {
        match self {
            Self::Up(process) => process,
            Self::Spin(spin) => &spin.process,
        }
    }

    /// The process, to wait for.
    fn process_mut(&mut self) -> &mut Process {
        match self {
            Self::Up(process) => process,
            Self::Spin(spin) => &mut spin.process,
        }
    }
}

/// A running app: `chaoslab up`, or `spin up`, and the `chaoslab-sidecar`
/// beside it in the loopback and Spin modes.
pub struct Chaoslab {
    /// The app process.
    app: App,
    /// The address it bound.
    addr: SocketAddr,
    /// The external sidecar (loopback and Spin modes). Dropped after `app`.
    sidecar: Option<SidecarProcess>,
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
    /// The link mode.
    link: Link,
    /// Environment for `chaoslab up` and its sidecar (telemetry settings).
    shared_env: Vec<(String, String)>,
    /// How long `chaoslab up` may take to print its readiness line.
    start_timeout: Duration,
    /// The link token the app presents (loopback and Spin modes); the
    /// sidecar always expects [`LINK_TOKEN`].
    app_link_token: String,
}

/// True for the flags that configure what the sidecar owns.
fn sidecar_flag(arg: &str) -> bool {
    arg.starts_with("--redis") || arg.starts_with("--chaos") || arg == "--no-chaos"
}

/// Splits `args` into (sidecar's, up's): a sidecar flag takes its value along.
fn split_args(args: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut sidecar, mut up) = (Vec::new(), Vec::new());
    let mut iter = args.iter().peekable();
    while let Some(arg) = iter.next() {
        let to = if sidecar_flag(arg) { &mut sidecar } else { &mut up };
        to.push(arg.clone());
        if arg.starts_with("--") && !arg.contains('=') && iter.peek().is_some_and(|next| !next.starts_with("--")) {
            to.push(iter.next().expect("peeked").clone());
        }
    }
    (sidecar, up)
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

    /// Adds an environment variable (to `chaoslab up`).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Adds an environment variable to `chaoslab up` and to the
    /// `chaoslab-sidecar` beside it (telemetry settings go to both
    /// processes); under Spin, to the sidecar only.
    pub fn env_both(mut self, key: &str, value: &str) -> Self {
        self.shared_env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// [`Builder::env_both`] for each pair.
    pub fn envs_both<K: AsRef<str>, V: AsRef<str>>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self {
        for (key, value) in vars {
            self = self.env_both(key.as_ref(), value.as_ref());
        }
        self
    }

    /// Runs in `link` mode.
    pub fn link(mut self, link: Link) -> Self {
        self.link = link;
        self
    }

    /// Allows `timeout` for the readiness line instead of
    /// [`START_TIMEOUT`](crate::process::START_TIMEOUT): for the first start
    /// on a cold compile cache of a component of tens of MB.
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Lets the app present `token` to its sidecar instead of the one the
    /// sidecar expects (loopback and Spin modes).
    pub fn app_link_token(mut self, token: &str) -> Self {
        self.app_link_token = token.to_owned();
        self
    }

    /// Starts it and waits for the readiness line; panics if it fails.
    pub fn start(self) -> Chaoslab {
        let link = self.link;
        match self.try_start() {
            Ok(app) => app,
            Err(failure) => panic!("the app ({link:?}) exited with {}:\n{}", failure.status, failure.stderr),
        }
    }

    /// Starts it; `Err` with its status and stderr if it exits before ready.
    pub fn try_start(self) -> Result<Chaoslab, StartFailure> {
        let mut args = self.args.clone();
        if self.with_test_token {
            args.extend(["--chaos-token".to_owned(), TEST_TOKEN.to_owned()]);
        }
        let (sidecar, args) = match self.link {
            Link::InProcess => (None, args),
            Link::Loopback => {
                let (sidecar_args, mut up_args) = split_args(&args);
                let sidecar = SidecarProcess::try_start_with_env(sidecar_args, "127.0.0.1:0", &self.shared_env)?;
                up_args.extend(
                    ["--link", "loopback", "--sidecar-url", &sidecar.url(), "--link-token", &self.app_link_token]
                        .map(String::from),
                );
                (Some(sidecar), up_args)
            }
            Link::Spin => {
                let (sidecar_args, up_args) = split_args(&args);
                assert!(
                    up_args.is_empty() && self.env.is_empty(),
                    "arguments and environment for `chaoslab up` mean nothing to `spin up`: {up_args:?} {:?}",
                    self.env
                );
                let sidecar = SidecarProcess::try_start_with_env(sidecar_args, "127.0.0.1:0", &self.shared_env)?;
                let (spin, addr) = SpinUp::start(&self.manifest, &sidecar.url(), &self.app_link_token)?;
                return Ok(Chaoslab { app: App::Spin(spin), addr, sidecar: Some(sidecar) });
            }
        };
        let mut cmd = Command::new(artifacts::chaoslab_bin());
        cmd.arg("up")
            .arg("--manifest")
            .arg(&self.manifest)
            .args(["--listen", "127.0.0.1:0"])
            .arg("--cache-dir")
            .arg(artifacts::cache_dir())
            .args(&args)
            .env("CHAOSLAB_LOG", "info");
        clean_env(&mut cmd);
        cmd.envs(self.env.iter().chain(&self.shared_env).map(|(k, v)| (k, v)));
        let (process, addr) = Process::start_within(cmd, READY_PREFIX, self.start_timeout)?;
        Ok(Chaoslab { app: App::Up(process), addr, sidecar })
    }
}

impl Chaoslab {
    /// A builder serving the test manifest (api + chaos + test guest), in-process.
    pub fn builder() -> Builder {
        Builder {
            manifest: artifacts::test_manifest(),
            args: Vec::new(),
            env: Vec::new(),
            with_test_token: true,
            link: Link::InProcess,
            shared_env: Vec::new(),
            start_timeout: crate::process::START_TIMEOUT,
            app_link_token: LINK_TOKEN.to_owned(),
        }
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The app's process id (`chaoslab up` or `spin up`).
    pub fn pid(&self) -> u32 {
        self.app.process().pid()
    }

    /// The process that runs the chaos engine's load: the sidecar in
    /// loopback and Spin modes, else `chaoslab up`.
    pub fn engine_pid(&self) -> u32 {
        self.sidecar.as_ref().map_or_else(|| self.pid(), SidecarProcess::pid)
    }

    /// Every process serving it, for CPU time: the app and what it started
    /// (`spin up`'s trigger process), and the sidecar beside it.
    pub fn pids(&self) -> Vec<u32> {
        let mut pids = crate::proc_stat::with_descendants(self.pid());
        if let Some(sidecar) = &self.sidecar {
            pids.extend(crate::proc_stat::with_descendants(sidecar.pid()));
        }
        pids
    }

    /// The external sidecar (loopback and Spin modes).
    pub fn sidecar(&mut self) -> Option<&mut SidecarProcess> {
        self.sidecar.as_mut()
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `GET path` (5 s deadline; panics if no answer).
    pub async fn get(&self, path: &str) -> HttpResponse {
        get(&self.url(path), Duration::from_secs(5)).await.unwrap_or_else(|e| panic!("GET {path}: {e:#}"))
    }

    /// `GET path` and how long the answer took: (status, duration).
    pub async fn timed_get(&self, path: &str) -> (u16, Duration) {
        let start = std::time::Instant::now();
        let resp = self.get(path).await;
        (resp.status, start.elapsed())
    }

    /// Waits up to 5 s for `needle` to appear on its (or its sidecar's)
    /// stderr (collected by reader threads, so a line may land a moment
    /// after the request).
    pub fn wait_for_log(&self, needle: &str) -> bool {
        crate::poll::until(Duration::from_secs(5), || self.logs().contains(needle))
    }

    /// The app's output so far, followed by the sidecar's when it has one.
    pub fn logs(&self) -> String {
        let sidecar = self.sidecar.as_ref().map(SidecarProcess::logs).unwrap_or_default();
        format!("{}{sidecar}", self.app.process().logs())
    }

    /// Stops the app and its sidecar (loopback mode) with SIGTERM, and waits
    /// for both to exit, so both have flushed their telemetry; panics after
    /// `timeout` each. The app's exit status.
    pub fn shut_down(&mut self, timeout: Duration) -> ExitStatus {
        if let Some(sidecar) = &self.sidecar {
            sidecar.sigterm();
        }
        self.sigterm();
        let status = self.wait(timeout);
        if let Some(sidecar) = &mut self.sidecar {
            sidecar.wait(timeout);
        }
        status
    }

    /// Sends SIGTERM to the app.
    pub fn sigterm(&self) {
        self.app.process().signal(libc::SIGTERM);
    }

    /// Waits for the app to exit; panics after `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        self.app.process_mut().wait(timeout)
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

    /// Whether `GET /chaos/status?scope=all` answers and lists the replica
    /// `name` (any replica when `None`) as answering: its heartbeat, written
    /// by the coordination, is in Redis. False, not a panic, while the
    /// coordination is down.
    pub async fn lists_answering(&self, name: Option<&str>) -> bool {
        let all = self.chaos(http::Method::GET, "/chaos/status?scope=all", "").await;
        all.status == 200
            && all.json()["replicas"].as_array().is_some_and(|replicas| {
                replicas.iter().any(|r| r["answering"] == true && name.is_none_or(|name| r["name"] == name))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::split_args;

    #[test]
    fn sidecar_flags_take_their_values_along() {
        let args: Vec<String> =
            ["--redis-url", "redis://x", "--max-concurrent", "1", "--no-chaos", "--chaos-seed", "7"]
                .map(String::from)
                .to_vec();
        let (sidecar, up) = split_args(&args);
        assert_eq!(sidecar, ["--redis-url", "redis://x", "--no-chaos", "--chaos-seed", "7"]);
        assert_eq!(up, ["--max-concurrent", "1"]);
    }
}
