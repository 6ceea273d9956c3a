//! [`Process`]: a child of the test that announces readiness with one line
//! naming its address (`… listening on http://ADDR/` on stderr for ours,
//! `Serving http://ADDR` on stdout for `spin up`), and whose output is
//! collected for log assertions. SIGTERM on drop, SIGKILL after 5 s.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a process may take to print its readiness line.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running child with collected output.
pub struct Process {
    /// The process (None once reaped).
    child: Option<Child>,
    /// Everything it wrote to stderr and stdout so far, line by line.
    log: Arc<Mutex<String>>,
}

/// The process exited before it was ready.
#[derive(Debug)]
pub struct StartFailure {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its stderr.
    pub stderr: String,
}

/// Removes every inherited `CHAOSLAB_*` variable (but the log filter) and
/// every telemetry setting (`OTEL_*`, `APPLICATIONINSIGHTS_*`), so
/// the developer's environment cannot change a test.
pub fn clean_env(cmd: &mut Command) {
    for (key, _) in std::env::vars() {
        let telemetry = key.starts_with("OTEL_") || key.starts_with("APPLICATIONINSIGHTS_");
        if (key.starts_with("CHAOSLAB_") && key != "CHAOSLAB_LOG") || telemetry {
            cmd.env_remove(key);
        }
    }
}

impl Process {
    /// Spawns `cmd` and waits for the line (on stderr or stdout) starting
    /// with `ready_prefix` followed by `ADDR` (and maybe `/`).
    pub fn start(cmd: Command, ready_prefix: &'static str) -> Result<(Self, SocketAddr), StartFailure> {
        Self::start_within(cmd, ready_prefix, START_TIMEOUT)
    }

    /// [`Process::start`], allowing `timeout` for the readiness line (a
    /// first start that compiles a big component takes longer).
    pub fn start_within(
        mut cmd: Command,
        ready_prefix: &'static str,
        timeout: Duration,
    ) -> Result<(Self, SocketAddr), StartFailure> {
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let program = cmd.get_program().to_string_lossy().into_owned();
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawning {program}: {e}"));
        let log = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("piped stderr");
        let stdout = child.stdout.take().expect("piped stdout");
        collect(stderr, ready_prefix, ready_tx.clone(), log.clone());
        collect(stdout, ready_prefix, ready_tx, log.clone());
        let start = Instant::now();
        loop {
            if let Ok(addr) = ready_rx.recv_timeout(Duration::from_millis(20)) {
                let addr = addr.parse().expect("readiness line holds an address");
                return Ok((Self { child: Some(child), log }, addr));
            }
            if let Ok(Some(status)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(50)); // let the reader drain stderr
                let stderr = log.lock().expect("log lock").clone();
                return Err(StartFailure { status, stderr });
            }
            assert!(start.elapsed() < timeout, "{ready_prefix}… not printed within {timeout:?}");
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Its stderr so far.
    pub fn logs(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// Sends `signal`.
    pub fn signal(&self, signal: i32) {
        crate::signal::send(self.pid(), signal).expect("signal the child");
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
            assert!(start.elapsed() < timeout, "process did not exit within {timeout:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Appends each line of `stream` to `log`, and sends the address of the
/// readiness line to `ready`.
fn collect(
    stream: impl std::io::Read + Send + 'static,
    ready_prefix: &'static str,
    ready: mpsc::Sender<String>,
    log: Arc<Mutex<String>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix(ready_prefix) {
                let _ = ready.send(rest.trim_end_matches('/').to_owned());
            }
            let mut log = log.lock().expect("log lock");
            log.push_str(&line);
            log.push('\n');
        }
    });
}

impl Drop for Process {
    /// SIGTERM first, so the process stops its own children (and SIGCONT,
    /// in case a test left it frozen); SIGKILL after 5 s.
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = crate::signal::send(child.id(), libc::SIGTERM);
        let _ = crate::signal::send(child.id(), libc::SIGCONT);
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
