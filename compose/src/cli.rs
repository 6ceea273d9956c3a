//! `chaoslab wrap` / `chaoslab-wrap`: the command line of [`crate::wrap`],
//! shared by both binaries so they take the same flags and say the same.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::wrap::wrap;

/// Where `cargo build-components` (the alias in .cargo/config.toml) puts the
/// layer, relative to the workspace root (where spin.toml's build commands
/// run).
pub const DEFAULT_LAYER: &str = "target/wasm32-wasip2/release/chaoslab_chaos_layer.wasm";

/// The handler to wrap, the layer, and where the result goes.
#[derive(Debug, Clone, Args)]
pub struct WrapArgs {
    /// The handler component (.wasm exporting wasi:http/incoming-handler@0.2.x).
    pub handler: PathBuf,

    /// Where to write the wrapped component (replaced atomically).
    #[arg(short, long)]
    pub output: PathBuf,

    /// The chaos layer component.
    #[arg(long, env = "CHAOSLAB_LAYER", default_value = DEFAULT_LAYER)]
    pub layer: PathBuf,
}

/// Reads both components, wraps, writes the result and says so on one line.
pub fn run(args: &WrapArgs) -> anyhow::Result<()> {
    let handler = std::fs::read(&args.handler).with_context(|| format!("reading {}", args.handler.display()))?;
    let layer = std::fs::read(&args.layer).with_context(|| {
        format!(
            "reading the chaos layer {} (build it with `cargo build-components` from the workspace \
             root, or pass --layer)",
            args.layer.display()
        )
    })?;
    let wrapped = wrap(handler, layer).with_context(|| format!("wrapping {}", args.handler.display()))?;
    write_atomically(&args.output, &wrapped).with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!(
        "chaoslab wrap: {} wrapped in the chaos layer: {} ({} bytes)",
        args.handler.display(),
        args.output.display(),
        wrapped.len()
    );
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over
/// `path`: a runtime never loads a half-written component, and a failed
/// wrap leaves the previous one in place. The file gets the mode a plain
/// create would (0666 less the umask), not the temporary file's 0600, so
/// an image that runs as another user can still read it.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut file = builder.tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}
