//! The real Spin CLI: `spin up` serving a manifest beside a
//! [`SidecarProcess`](crate::SidecarProcess), for the [`Link::Spin`] cases.
//!
//! Which `spin`: `$SPIN_BIN`, else `spin` on `PATH`. None is a loud failure
//! naming how to get one — a Spin case never passes or skips without Spin.
//! `.ci/run` unpacks the tested Spin 4.0.2 and sets `SPIN_BIN`.
//!
//! `spin up --listen 127.0.0.1:0` binds a free port and prints the address it
//! got (`Serving http://127.0.0.1:PORT` on stdout), so it follows the
//! project's rule (children bind `:0` and report) like our own binaries.
//!
//! [`Link::Spin`]: crate::Link::Spin

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::process::{Process, StartFailure, clean_env};

/// The variable naming the Spin CLI to test with.
pub const SPIN_BIN_ENV: &str = "SPIN_BIN";

/// The Spin release these tests are run with in CI (`.ci/run` unpacks it)
/// and the app image pins (deploy/docker/Dockerfile.app, checked by
/// deploy/tests). Another `spin` runs them too; its version is printed.
pub const TESTED_VERSION: &str = "4.0.2";

/// The readiness line's prefix (stdout).
const READY_PREFIX: &str = "Serving http://";

/// How to get a Spin CLI, for the failure message.
const HOW_TO_GET_SPIN: &str = "the Link::Spin cases run the real Spin CLI: set SPIN_BIN=/path/to/spin or put `spin` \
     on PATH. Spin 4.0.2 (the tested version): `../shared/tools/spin/install DIR` next to this clone, or \
     https://spinframework.dev/install; `.ci/run` unpacks it itself";

/// The Spin CLI, found once: `$SPIN_BIN`, else `spin` on `PATH`. Panics,
/// saying how to get one, when there is none.
pub fn spin_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = match std::env::var_os(SPIN_BIN_ENV) {
            Some(path) => {
                let path = PathBuf::from(path);
                assert!(path.is_file(), "{SPIN_BIN_ENV}={} is not a file; {HOW_TO_GET_SPIN}", path.display());
                path
            }
            None => on_path("spin")
                .unwrap_or_else(|| panic!("no Spin CLI ({SPIN_BIN_ENV} unset, no `spin` on PATH): {HOW_TO_GET_SPIN}")),
        };
        let version = Command::new(&bin).arg("--version").output();
        let version = version.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        eprintln!(
            "Link::Spin: {} is {} (tested: spin {TESTED_VERSION})",
            bin.display(),
            version.unwrap_or_else(|e| format!("not runnable: {e}"))
        );
        bin
    })
}

/// `name` in a directory of `PATH`, if there.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// A running `spin up`, with the state directory it writes (logs), removed
/// after it.
pub struct SpinUp {
    /// The `spin up` process. Dropped (stopped) before `state`.
    pub process: Process,
    /// `--state-dir`: Spin writes `.spin/`-like state beside the manifest
    /// otherwise, inside the source tree.
    _state: tempfile::TempDir,
}

impl SpinUp {
    /// `spin up --from manifest --listen 127.0.0.1:0`, its components
    /// reaching the sidecar at `sidecar_url` with `link_token` (the
    /// manifest's variables, set as Spin's `SPIN_VARIABLE_*`).
    pub fn start(manifest: &Path, sidecar_url: &str, link_token: &str) -> Result<(Self, SocketAddr), StartFailure> {
        crate::artifacts::check_components();
        let state = tempfile::tempdir().expect("a state dir for spin up");
        let mut cmd = Command::new(spin_bin());
        cmd.arg("up")
            .arg("--from")
            .arg(manifest)
            .args(["--listen", "127.0.0.1:0"])
            .arg("--state-dir")
            .arg(state.path())
            .env("SPIN_VARIABLE_SIDECAR_URL", sidecar_url)
            .env("SPIN_VARIABLE_LINK_TOKEN", link_token);
        clean_env(&mut cmd);
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("SPIN_") && k != SPIN_BIN_ENV) {
            if !matches!(key.as_str(), "SPIN_VARIABLE_SIDECAR_URL" | "SPIN_VARIABLE_LINK_TOKEN") {
                cmd.env_remove(key);
            }
        }
        let (process, addr) = Process::start(cmd, READY_PREFIX)?;
        Ok((Self { process, _state: state }, addr))
    }
}
