//! The commands of the `chaoslab` binary.

pub mod build;
pub mod sidecar;
pub mod up;

/// Logs to stderr; `CHAOSLAB_LOG` (or `RUST_LOG`) sets the filter, default `info`.
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("CHAOSLAB_LOG").ok().or_else(|| std::env::var("RUST_LOG").ok()).unwrap_or_else(|| {
        "info,wasmtime_wasi_http=warn,wasmtime_cranelift=warn,azure_core=warn,azure_identity=warn".to_owned()
    });
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
