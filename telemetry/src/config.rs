//! [`TelemetryArgs`]: where telemetry goes. The flags fall back to the
//! standard variables (`APPLICATIONINSIGHTS_CONNECTION_STRING`,
//! `OTEL_EXPORTER_OTLP_*`, `OTEL_SERVICE_NAME`); the OpenTelemetry SDK reads
//! the rest of the `OTEL_*` family itself (headers, timeouts, per-signal
//! endpoints, `OTEL_BSP_*` queue sizes, `OTEL_RESOURCE_ATTRIBUTES`).

use clap::{Args, ValueEnum};

/// The OTLP transport.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OtlpProtocol {
    /// OTLP/gRPC (usually port 4317).
    #[value(name = "grpc")]
    Grpc,
    /// OTLP/HTTP with protobuf bodies (usually port 4318).
    #[default]
    #[value(name = "http/protobuf")]
    HttpProtobuf,
}

/// Exporter settings shared by `chaoslab up` and `chaoslab-sidecar`.
#[derive(Debug, Clone, Default, Args)]
pub struct TelemetryArgs {
    /// Application Insights connection string; set → traces, logs and metrics
    /// go to Application Insights. The instrumentation key is not a secret,
    /// but the value is never printed.
    #[arg(
        long = "appinsights-connection-string",
        env = "APPLICATIONINSIGHTS_CONNECTION_STRING",
        hide_env_values = true
    )]
    pub appinsights_connection_string: Option<String>,

    /// OTLP endpoint (e.g. `http://collector:4318` or, with grpc,
    /// `http://collector:4317`); set → traces, logs and metrics go there.
    #[arg(long = "otlp-endpoint", env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,

    /// OTLP transport: `grpc` or `http/protobuf`.
    #[arg(long = "otlp-protocol", env = "OTEL_EXPORTER_OTLP_PROTOCOL", value_enum, default_value = "http/protobuf")]
    pub otlp_protocol: OtlpProtocol,

    /// `service.name` of the resource; the role is appended
    /// (`chaoslab-runtime`, `chaoslab-sidecar`), which becomes the
    /// Application Insights cloud role.
    #[arg(long = "otel-service-name", env = "OTEL_SERVICE_NAME", default_value = "chaoslab")]
    pub service_name: String,
}

impl TelemetryArgs {
    /// True when some exporter is configured.
    pub fn enabled(&self) -> bool {
        self.appinsights_connection_string.as_deref().is_some_and(|s| !s.trim().is_empty())
            || self.otlp_endpoint.as_deref().is_some_and(|s| !s.trim().is_empty())
    }
}
