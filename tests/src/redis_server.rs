//! [`RedisServer`]: a real `redis-server` on a free loopback port, owned by
//! one test. It can be killed, restarted on the same port, frozen (SIGSTOP, a
//! black hole: connections are accepted by the kernel but never answered)
//! and thawed. Killed and reaped on drop. It can also serve TLS on a second
//! port ([`RedisServer::start_tls`]) and require ACL users, as Azure Managed
//! Redis does ([`RedisServer::require_acl`]).
//!
//! `redis-server` cannot bind port 0 and report the port it chose, so the
//! port is picked by binding `127.0.0.1:0` first; if another process takes it
//! in between, the start is retried on a new port.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How many ports to try before giving up.
const START_ATTEMPTS: usize = 5;
/// How long one start may take to answer PING.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// A `redis-server` child process.
pub struct RedisServer {
    /// The running process, if not killed.
    child: Option<Child>,
    /// Its TCP port, kept across restarts.
    port: u16,
    /// Working directory with the log file.
    dir: tempfile::TempDir,
    /// Extra arguments (e.g. `--requirepass`), kept across restarts.
    extra_args: Vec<String>,
    /// TLS port and the certificate files, when serving TLS too.
    tls: Option<(u16, crate::tls_certs::ServerFiles)>,
    /// User and password of the test's own admin user, once ACLs are required.
    admin: Option<(String, String)>,
}

impl RedisServer {
    /// Starts a server on a free port. Panics, loudly, if `redis-server` is
    /// not installed: the tests must not silently skip.
    pub fn start() -> Self {
        Self::start_with_args(&[])
    }

    /// Starts a server with extra `redis-server` arguments.
    pub fn start_with_args(extra: &[&str]) -> Self {
        let dir = tempfile::Builder::new().prefix("chaoslab-test-redis-").tempdir().expect("tempdir");
        let server = Self {
            child: None,
            port: 0,
            dir,
            extra_args: extra.iter().map(|s| (*s).to_owned()).collect(),
            tls: None,
            admin: None,
        };
        server.start_on_free_ports()
    }

    /// Starts a server that also serves TLS with `ca`'s server certificate
    /// (see [`Self::tls_url`]); the plain port stays for the test's own checks.
    pub fn start_tls(ca: &crate::TestCa) -> Self {
        let dir = tempfile::Builder::new().prefix("chaoslab-test-redis-").tempdir().expect("tempdir");
        let tls = Some((0, ca.server_files()));
        Self { child: None, port: 0, dir, extra_args: Vec::new(), tls, admin: None }.start_on_free_ports()
    }

    fn start_on_free_ports(mut self) -> Self {
        for attempt in 1..=START_ATTEMPTS {
            self.port = free_port();
            if let Some((tls_port, _)) = &mut self.tls {
                *tls_port = free_port();
            }
            match self.spawn() {
                Ok(()) => return self,
                Err(why) if attempt < START_ATTEMPTS => eprintln!("redis-server start attempt {attempt} failed: {why}"),
                Err(why) => panic!("redis-server did not start after {START_ATTEMPTS} attempts: {why}"),
            }
        }
        unreachable!()
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `rediss://127.0.0.1:TLS_PORT` (only for [`Self::start_tls`]).
    pub fn tls_url(&self) -> String {
        let (port, _) = self.tls.as_ref().expect("started with start_tls");
        format!("rediss://127.0.0.1:{port}")
    }

    /// A redis-rs client for assertions (as the admin user once ACLs are required).
    pub fn client(&self) -> redis::Client {
        let url = match &self.admin {
            Some((user, pass)) => format!("redis://{user}:{pass}@127.0.0.1:{}", self.port),
            None => self.url(),
        };
        redis::Client::open(url).expect("valid url")
    }

    /// Requires ACL users, as Azure Managed Redis does: adds an admin user for
    /// the test's own checks and switches the default user off.
    pub fn require_acl(&mut self) {
        self.command(&["ACL", "SETUSER", "chaoslab-test-admin", "on", ">admin-secret", "~*", "&*", "+@all"]);
        self.admin = Some(("chaoslab-test-admin".to_owned(), "admin-secret".to_owned()));
        self.command(&["ACL", "SETUSER", "default", "off"]);
    }

    /// Runs one command on a fresh connection (as the admin user once ACLs are required).
    pub fn command(&self, args: &[&str]) -> redis::Value {
        let mut conn = self.client().get_connection().expect("connect to test redis");
        let mut cmd = redis::cmd(args[0]);
        for arg in &args[1..] {
            cmd.arg(*arg);
        }
        cmd.query(&mut conn).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    /// Reads an integer key (0 when missing).
    pub fn get_int(&self, key: &str) -> i64 {
        let mut conn = self.client().get_connection().expect("connect to test redis");
        redis::cmd("GET").arg(key).query::<Option<i64>>(&mut conn).expect("GET").unwrap_or(0)
    }

    /// Kills the server (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match self.spawn() {
                Ok(()) => return,
                Err(why) if Instant::now() < deadline => {
                    eprintln!("redis-server restart on port {} failed ({why}); retrying", self.port);
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(why) => panic!("redis-server did not restart on port {}: {why}", self.port),
            }
        }
    }

    /// Freezes the server (SIGSTOP): a black hole for its clients.
    pub fn freeze(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// Resumes a frozen server (SIGCONT).
    pub fn thaw(&self) {
        self.signal(libc::SIGCONT);
    }

    fn signal(&self, sig: libc::c_int) {
        let child = self.child.as_ref().expect("redis-server is running");
        crate::signal::send(child.id(), sig).unwrap_or_else(|e| panic!("signal {sig} to redis-server: {e}"));
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mut child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(self.log_path())
            .args(self.tls.as_ref().map(|(port, files)| files.redis_args(*port)).unwrap_or_default())
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run redis-server ({e}). The tests need a real Redis: \
                     install it with `sudo apt-get install redis-server` (or run .ci/run)"
                )
            });
        let start = Instant::now();
        while start.elapsed() < READY_TIMEOUT {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
                return Err(format!("exited with {status}; log tail: {}", tail(&log)));
            }
            if answers_ping(self.port) {
                self.child = Some(child);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(format!("no PONG within {READY_TIMEOUT:?}"))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A loopback port free right now (bound, read, released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind 127.0.0.1:0").port()
}

fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 64];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read(&mut buf).is_ok_and(|n| buf[..n].starts_with(b"+PONG") || buf[..n].starts_with(b"-NOAUTH"))
}

fn tail(log: &str) -> String {
    log.lines().rev().take(3).collect::<Vec<_>>().join(" | ")
}
