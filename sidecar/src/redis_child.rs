//! The embedded default: when no Redis URL is configured, the sidecar runs
//! its own `redis-server` on a private Unix socket (no port to race for) and
//! stops it on exit.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// How long the child may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the child could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RedisChildError {
    /// The program is not installed.
    #[error(
        "{program} not found: chaoslab starts its own Redis when CHAOSLAB_REDIS_URL is unset. \
         Install it (Debian/Ubuntu: `sudo apt-get install redis-server`; macOS: `brew install redis`), \
         or point --redis-url / CHAOSLAB_REDIS_URL at an existing Redis"
    )]
    NotFound {
        /// The program that was looked for.
        program: String,
    },
    /// It could not be spawned or its directory created.
    #[error("could not start {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// It exited or never accepted connections.
    #[error("{program} did not become ready: {reason} (its log: {log})")]
    NotReady {
        /// The program.
        program: String,
        /// What happened.
        reason: String,
        /// Its log file.
        log: String,
    },
}

/// A running `redis-server` child; killed when dropped.
#[derive(Debug)]
pub struct RedisChild {
    /// The process.
    child: Child,
    /// Holds the socket and log; removed on drop.
    dir: tempfile::TempDir,
}

impl RedisChild {
    /// Starts `program` on a Unix socket in a fresh temporary directory and
    /// waits until it answers.
    pub async fn start(program: &Path) -> Result<Self, RedisChildError> {
        let name = program.display().to_string();
        let spawn_err = |source| RedisChildError::Spawn { program: name.clone(), source };
        let dir = tempfile::Builder::new().prefix("chaoslab-redis-").tempdir().map_err(spawn_err)?;
        let socket = dir.path().join("redis.sock");
        let log = dir.path().join("redis.log");
        let mut command = Command::new(program);
        command
            .args(["--port", "0", "--unixsocketperm", "700", "--save", "", "--appendonly", "no"])
            .arg("--unixsocket")
            .arg(&socket)
            .arg("--dir")
            .arg(dir.path())
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        die_with_parent(&mut command);
        let child = command.spawn().map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => RedisChildError::NotFound { program: name.clone() },
            _ => RedisChildError::Spawn { program: name.clone(), source },
        })?;
        let mut this = Self { child, dir };
        this.wait_ready(&name, &socket, &log).await?;
        Ok(this)
    }

    /// The URL to connect to it.
    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket().display())
    }

    /// The Unix socket path.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    /// Stops the server and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    async fn wait_ready(&mut self, name: &str, socket: &Path, log: &Path) -> Result<(), RedisChildError> {
        let not_ready = |reason: String| RedisChildError::NotReady {
            program: name.to_owned(),
            reason,
            log: log.display().to_string(),
        };
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(not_ready(format!("exited with {status}")));
            }
            if ping(socket).await {
                return Ok(());
            }
            if start.elapsed() > START_TIMEOUT {
                return Err(not_ready(format!("no answer within {START_TIMEOUT:?}")));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Asks the kernel to SIGKILL the child when chaoslab dies, even by SIGKILL
/// or a crash, so no `redis-server` is ever orphaned. (The signal follows the
/// spawning thread: `chaoslab up` spawns from the main thread, which lives as
/// long as the process.)
#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec and only calls
    // prctl(2), which is async-signal-safe; it touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// True when a Redis on `socket` answers PING.
async fn ping(socket: &Path) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::UnixStream::connect(socket).await else { return false };
    if stream.write_all(b"PING\r\n").await.is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    stream.read_exact(&mut buf).await.is_ok() && &buf == b"+PONG\r\n"
}
