//! Where the binaries and components under test live, built once per test
//! process from the current sources (cargo makes the rebuild a no-op when
//! nothing changed).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// The cargo target directory of this build.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

/// The main `spin.toml`.
pub fn app_manifest() -> PathBuf {
    workspace_root().join("spin.toml")
}

/// The test manifest: the api component plus the misbehaving test guest.
pub fn test_manifest() -> PathBuf {
    workspace_root().join("tests/fixtures/spin.toml")
}

/// Shared compiled-component cache for all test runs.
pub fn cache_dir() -> PathBuf {
    target_dir().join("chaoslab-test-cache")
}

/// The `chaoslab` binary, built (with the components) on first use.
pub fn chaoslab_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        run(Command::new(env!("CARGO")).args([
            "build",
            "--release",
            "--locked",
            "-p",
            "chaoslab-runtime",
            "--bin",
            "chaoslab",
        ]));
        let bin = target_dir().join("release/chaoslab");
        for manifest in [app_manifest(), test_manifest()] {
            run(Command::new(&bin).arg("build").arg("--manifest").arg(manifest));
        }
        bin
    })
}

/// A binary of the workspace (e.g. the benchmark baseline), built in the
/// release profile.
pub fn release_bin(name: &str) -> PathBuf {
    build_workspace();
    target_dir().join("release").join(name)
}

/// `cargo build --release` of the whole workspace (its default members),
/// exactly as `scripts/test` does before `cargo test --release`: building a
/// single package would resolve other features and rebuild wasmtime.
fn build_workspace() {
    run(Command::new(env!("CARGO")).args(["build", "--release", "--locked"]));
}

/// Variables cargo sets for a test process (`CARGO_MANIFEST_DIR`,
/// `CARGO_PKG_NAME`, `OUT_DIR`, …). Build scripts such as ring's declare
/// `rerun-if-env-changed` on them, so a nested cargo that inherits them would
/// see "changed" values and rebuild half the dependency tree.
fn is_test_process_var(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || matches!(
            key,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_MANIFEST_LINKS"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "OUT_DIR"
        )
}

fn run(cmd: &mut Command) {
    for (key, _) in std::env::vars() {
        if is_test_process_var(&key) {
            cmd.env_remove(key);
        }
    }
    let status = cmd.current_dir(workspace_root()).status().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed with {status}");
}
