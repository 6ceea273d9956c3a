//! `chaoslab wrap` and `chaoslab-wrap` (one command line, two binaries):
//! a handler comes out wrapped; bad input or an unwritable output is one
//! clear line on stderr, a non-zero exit, and nothing written.

use std::path::{Path, PathBuf};
use std::process::Command;

use chaoslab_tests::{ComponentWorld, artifacts};
use rstest::rstest;

/// `chaoslab wrap` or `chaoslab-wrap`, with the program name its errors carry.
fn wrap_command(binary: &str) -> (Command, &'static str) {
    match binary {
        "chaoslab" => {
            let mut cmd = Command::new(artifacts::chaoslab_bin());
            cmd.arg("wrap");
            (cmd, "chaoslab: error: ")
        }
        _ => (Command::new(artifacts::wrap_bin()), "chaoslab-wrap: error: "),
    }
}

/// Runs the wrap of `handler` into `output`; (success, stderr).
fn run(binary: &str, handler: &Path, output: &Path) -> (bool, String) {
    let (mut cmd, _) = wrap_command(binary);
    let out = cmd
        .arg(handler)
        .arg("-o")
        .arg(output)
        .arg("--layer")
        .arg(artifacts::component("chaoslab_chaos_layer.wasm"))
        .output()
        .expect("run the wrap");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Asserts a failure with one line naming `needle`, and no output written.
fn assert_fails(binary: &str, handler: &Path, output: &Path, needle: &str) {
    let (ok, stderr) = run(binary, handler, output);
    let prefix = wrap_command(binary).1;
    assert!(!ok, "wrapping {} succeeded", handler.display());
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with(prefix) && stderr.contains(needle), "expected {prefix}…{needle}…, got {stderr}");
}

#[rstest]
fn wrapping_a_handler_gives_one_component_that_imports_chaos(#[values("chaoslab", "chaoslab-wrap")] binary: &str) {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("wrapped.wasm");
    let (ok, stderr) = run(binary, &artifacts::component("chaoslab_test_guest.wasm"), &output);
    assert!(ok, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("wrapped in the chaos layer"), "{stderr}");
    let world = ComponentWorld::read(&output);
    assert_eq!(world.exports, ["wasi:http/incoming-handler@0.2.0"]);
    assert!(world.imports_from("chaoslab:sidecar/chaos@0.1.0"), "{world:?}");
    // The handler alone knows no chaos (it imports the store: it also plays bad api revisions).
    let handler = ComponentWorld::read(&artifacts::component("chaoslab_test_guest.wasm"));
    assert!(!handler.imports_from("chaoslab:sidecar/chaos"), "{handler:?}");
}

#[rstest]
fn wrap_rejects_what_is_not_a_handler_component(#[values("chaoslab", "chaoslab-wrap")] binary: &str) {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.wasm");
    let write = |name: &str, bytes: &[u8]| -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let core_module = write("module.wasm", b"\0asm\x01\0\0\0");
    assert_fails(binary, &core_module, &output, "is a core WebAssembly module, not a component");
    let text = write("notes.txt", b"not wasm");
    assert_fails(binary, &text, &output, "is not WebAssembly");
    // A component that serves no HTTP: the bridge exports only chaoslab:sidecar/*.
    let bridge = artifacts::component("chaoslab_sidecar_link.wasm");
    assert_fails(binary, &bridge, &output, "does not export wasi:http/incoming-handler@0.2.0");
    assert_fails(binary, &dir.path().join("missing.wasm"), &output, "missing.wasm: No such file");
    assert!(!output.exists(), "a failed wrap wrote {}", output.display());
}

#[rstest]
fn wrap_reports_an_unwritable_output_and_keeps_the_old_one(#[values("chaoslab", "chaoslab-wrap")] binary: &str) {
    let dir = tempfile::tempdir().unwrap();
    let handler = artifacts::component("chaoslab_test_guest.wasm");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"old").unwrap();
    assert_fails(binary, &handler, &file.join("out.wasm"), "Not a directory");
    assert_fails(binary, &handler, &dir.path().join("no/such/dir/out.wasm"), "No such file or directory");
    // A failure while wrapping leaves an existing output as it was.
    assert_fails(binary, &artifacts::component("chaoslab_sidecar_link.wasm"), &file, "does not export");
    assert_eq!(std::fs::read(&file).unwrap(), b"old");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "a temporary file was left behind");
}
