//! Where the binaries and components under test live.
//!
//! They are built before the tests by `scripts/test` (`cargo build --release`,
//! then `chaoslab build` for each manifest). The tests never run cargo
//! themselves: a nested cargo inherits the test process's `CARGO_*`
//! variables, which several build scripts track, and rebuilt wasmtime in CI.
//! Instead, a missing or stale artifact fails loudly with the command to run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// The cargo target directory of this build.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

/// Where the host binaries are: the cargo profile `CHAOSLAB_PROFILE` names
/// (default `release`, what `scripts/build` builds; `scripts/bench` sets
/// `dist` when asked to measure the shipped images' whole-program build).
pub fn bin_dir() -> PathBuf {
    let profile = std::env::var("CHAOSLAB_PROFILE").unwrap_or_else(|_| "release".into());
    target_dir().join(profile)
}

/// The main `spin.toml`.
pub fn app_manifest() -> PathBuf {
    workspace_root().join("spin.toml")
}

/// The test manifest: the api and chaos components plus the misbehaving test guest.
pub fn test_manifest() -> PathBuf {
    workspace_root().join("tests/fixtures/spin.toml")
}

/// The second-language example's manifest (`examples/python/spin.toml`),
/// checked once to be built: its handler, and that handler wrapped.
pub fn python_manifest() -> PathBuf {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        let sources = ["examples/python/app.py", "examples/python/requirements.txt", CONTRACT[0]];
        check_fresh(&python_handler(), &sources);
        check_fresh(&python_handler().with_file_name("app_wrapped.wasm"), &[&sources[..], LAYER].concat());
    });
    workspace_root().join("examples/python/spin.toml")
}

/// The Python handler as componentize-py built it, before wrapping.
pub fn python_handler() -> PathBuf {
    target_dir().join("examples/python/app.wasm")
}

/// A component built for `wasm32-wasip2` (release), by file name.
pub fn component(file: &str) -> PathBuf {
    target_dir().join("wasm32-wasip2/release").join(file)
}

/// Shared compiled-component cache for all test runs.
pub fn cache_dir() -> PathBuf {
    target_dir().join("chaoslab-test-cache")
}

/// Sources every binary and component that speaks the contract is built from.
const CONTRACT: [&str; 2] = ["wit", "world/src"];

/// Sources of the chaos layer and of the wrapping, which every wrapped
/// component is also built from.
const LAYER: &[&str] = &["components/chaos-layer/src", "components/guest-http/src", "compose/src", "wit", "world/src"];

/// The `chaoslab` binary, checked once to be built and newer than the
/// sources, with the components it serves.
pub fn chaoslab_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = bin_dir().join("chaoslab");
        check_fresh(
            &bin,
            &["runtime/src", "sidecar/src", "compose/src", "experiment/src", CONTRACT[0], CONTRACT[1], "Cargo.lock"],
        );
        check_components();
        bin
    })
}

/// Checks once that every component's `.wasm` is built and newer than its
/// sources (whoever serves them: `chaoslab up` or `spin up`).
pub fn check_components() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        let guest_http = "components/guest-http/src";
        let api = ["components/api/src", guest_http, CONTRACT[0], CONTRACT[1]];
        // The test guest imports the store too (it plays bad api revisions).
        let guest = ["components/test-guest/src", CONTRACT[0], CONTRACT[1]];
        for (wasm, sources) in [
            ("chaoslab_api.wasm", api.to_vec()),
            ("chaoslab_api_wrapped.wasm", [&api[..], LAYER].concat()),
            ("chaoslab_chaos.wasm", vec!["components/chaos/src", guest_http, CONTRACT[0], CONTRACT[1]]),
            ("chaoslab_test_guest.wasm", guest.to_vec()),
            ("chaoslab_test_guest_wrapped.wasm", [&guest[..], LAYER].concat()),
            ("chaoslab_sidecar_link.wasm", vec!["components/sidecar-link/src", CONTRACT[0], CONTRACT[1]]),
        ] {
            check_fresh(&component(wasm), &sources);
        }
    });
}

/// The `chaoslab-sidecar` binary, checked once to be built and fresh.
pub fn sidecar_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = bin_dir().join("chaoslab-sidecar");
        check_fresh(&bin, &["sidecar/src", CONTRACT[0], CONTRACT[1], "Cargo.lock"]);
        bin
    })
}

/// The `chaoslab-wrap` binary, checked once to be built and fresh.
pub fn wrap_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = bin_dir().join("chaoslab-wrap");
        check_fresh(&bin, &["compose/src", "Cargo.lock"]);
        bin
    })
}

/// The benchmark's native baseline, checked to be built and fresh.
pub fn baseline_bin() -> PathBuf {
    let bin = bin_dir().join("chaoslab-baseline");
    check_fresh(&bin, &["bench/src/baseline.rs", "Cargo.lock"]);
    bin
}

/// Panics with the fix when `artifact` is missing or older than any file
/// under `sources` (paths relative to the workspace root).
fn check_fresh(artifact: &Path, sources: &[&str]) {
    let fix = "build first with `scripts/build` (cargo build --release, then `target/release/chaoslab build` \
               for spin.toml, tests/fixtures/spin.toml and examples/python/spin.toml; with CHAOSLAB_PROFILE=dist, \
               `scripts/bench --dist` builds the binaries in that profile)";
    let built = std::fs::metadata(artifact)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("{} is missing: {fix}", artifact.display()));
    let root = workspace_root();
    if let Some(newer) = sources.iter().find_map(|dir| newest_after(&root.join(dir), built)) {
        panic!("{} is older than {}: {fix}", artifact.display(), newer.display());
    }
}

/// A file under `path` modified after `than`, if any. Test-only modules
/// (`tests.rs`) and docs (`*.md`) are skipped: they do not change the
/// release artifacts.
fn newest_after(path: &Path, than: SystemTime) -> Option<PathBuf> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_file() {
        if path.file_name().is_some_and(|n| n == "tests.rs") || path.extension().is_some_and(|e| e == "md") {
            return None;
        }
        return meta.modified().ok().filter(|m| *m > than).map(|_| path.to_path_buf());
    }
    std::fs::read_dir(path).ok()?.flatten().find_map(|entry| newest_after(&entry.path(), than))
}
