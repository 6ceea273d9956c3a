//! [`SidecarProcess`]: the real `chaoslab-sidecar` binary on `127.0.0.1:0`,
//! as `spin up`'s partner; tests can stop it and start it again on the same
//! port, or freeze it (SIGSTOP: connections still accepted, never answered).

use std::net::SocketAddr;
use std::process::Command;

use crate::artifacts;
use crate::process::{Process, StartFailure, clean_env};

/// The readiness line's prefix.
const READY_PREFIX: &str = "chaoslab sidecar listening on http://";

/// The link token the tests' sidecars and apps share.
pub const LINK_TOKEN: &str = "test-link-token-0123456789";

/// A running (or stopped) `chaoslab-sidecar`.
pub struct SidecarProcess {
    /// The process; None while stopped.
    process: Option<Process>,
    /// The bound address (kept across restarts).
    addr: SocketAddr,
    /// Its arguments, to start it again the same way.
    args: Vec<String>,
    /// Logs of earlier runs (before restarts).
    earlier_logs: String,
}

impl SidecarProcess {
    /// Starts `chaoslab-sidecar --link-token LINK_TOKEN` with `args`.
    pub fn start(args: Vec<String>) -> Self {
        Self::try_start(args, "127.0.0.1:0")
            .unwrap_or_else(|f| panic!("chaoslab-sidecar exited with {}:\n{}", f.status, f.stderr))
    }

    /// Starts it on `listen`; `Err` with its status and stderr if it exits first.
    pub fn try_start(args: Vec<String>, listen: &str) -> Result<Self, StartFailure> {
        Self::try_start_with_env(args, listen, &[])
    }

    /// Starts it on `listen` with extra environment (e.g. telemetry settings).
    pub fn try_start_with_env(args: Vec<String>, listen: &str, env: &[(String, String)]) -> Result<Self, StartFailure> {
        let mut cmd = Command::new(artifacts::sidecar_bin());
        cmd.args(["--listen", listen, "--link-token", LINK_TOKEN]).args(&args).env("CHAOSLAB_LOG", "info");
        clean_env(&mut cmd);
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        let (process, addr) = Process::start(cmd, READY_PREFIX)?;
        Ok(Self { process: Some(process), addr, args, earlier_logs: String::new() })
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.process.as_ref().expect("sidecar running").pid()
    }

    /// Everything it (and its earlier runs) wrote to stderr.
    pub fn logs(&self) -> String {
        let current = self.process.as_ref().map(Process::logs).unwrap_or_default();
        format!("{}{current}", self.earlier_logs)
    }

    /// Sends SIGTERM (graceful stop).
    pub fn sigterm(&self) {
        if let Some(process) = &self.process {
            process.signal(libc::SIGTERM);
        }
    }

    /// Waits for it to exit (after [`Self::sigterm`]); panics after `timeout`.
    pub fn wait(&mut self, timeout: std::time::Duration) -> std::process::ExitStatus {
        self.process.as_mut().expect("sidecar running").wait(timeout)
    }

    /// Stops it with SIGKILL (no goodbye), like a crash.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.signal(libc::SIGKILL);
            process.wait(std::time::Duration::from_secs(5));
            self.earlier_logs.push_str(&process.logs());
        }
    }

    /// Freezes it (SIGSTOP): the kernel still accepts connections on its
    /// port, but nothing answers them — a hung process, not a dead one.
    pub fn freeze(&self) {
        self.process.as_ref().expect("sidecar running").signal(libc::SIGSTOP);
    }

    /// Resumes a frozen sidecar (SIGCONT).
    pub fn thaw(&self) {
        self.process.as_ref().expect("sidecar running").signal(libc::SIGCONT);
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let again = Self::try_start(self.args.clone(), &self.addr.to_string())
            .unwrap_or_else(|f| panic!("chaoslab-sidecar restart exited with {}:\n{}", f.status, f.stderr));
        self.process = again.process;
    }
}
