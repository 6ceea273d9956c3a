//! [`TelemetryError`]: why telemetry could not be set up. Each case keeps
//! its cause; none holds a secret (the connection string is never printed).

/// Set-up failures.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// `APPLICATIONINSIGHTS_CONNECTION_STRING` is malformed.
    #[error("APPLICATIONINSIGHTS_CONNECTION_STRING is not a valid connection string: {0}")]
    ConnectionString(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An OTLP exporter could not be built.
    #[error("cannot build the OTLP {signal} exporter for {endpoint}: {source}")]
    Otlp {
        /// `traces`, `metrics` or `logs`.
        signal: &'static str,
        /// The configured endpoint.
        endpoint: String,
        /// What the SDK said.
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// The exporters' HTTP client could not be built (TLS set-up).
    #[error("cannot build the telemetry HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// Telemetry must be set up inside the Tokio runtime.
    #[error("telemetry must be initialised inside the Tokio runtime: {0}")]
    NoRuntime(#[source] tokio::runtime::TryCurrentError),
    /// A `tracing` subscriber was already installed.
    #[error("a tracing subscriber is already installed: {0}")]
    Subscriber(#[source] tracing_subscriber::util::TryInitError),
}
