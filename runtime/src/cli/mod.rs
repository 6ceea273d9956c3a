//! The commands of the `chaoslab` binary.

pub mod build;
pub mod experiment;
pub mod revision;
pub mod sidecar;
pub mod up;

/// Logs to stderr (for commands that export no telemetry); `CHAOSLAB_LOG`
/// (or `RUST_LOG`) sets the filter, default `info`.
pub fn init_logging() {
    chaoslab_telemetry::init_plain_logging();
}
