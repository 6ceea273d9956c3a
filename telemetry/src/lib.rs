//! `chaoslab-telemetry`: OpenTelemetry traces, metrics and logs for the
//! runtime and the sidecar, exported to Application Insights and/or OTLP.
//!
//! Nothing is exported unless configured: without
//! `APPLICATIONINSIGHTS_CONNECTION_STRING` or `OTEL_EXPORTER_OTLP_ENDPOINT`
//! only the usual stderr log is written. Export never blocks a request: the
//! SDK's batch processors keep bounded queues on their own threads and drop
//! (and count) what does not fit; [`Telemetry::shutdown`] flushes, bounded.
//!
//! Code elsewhere instruments with plain `tracing` spans and events (the
//! `otel.*` fields name span kind and status) and the [`metrics`]
//! instruments; this crate bridges them to OpenTelemetry.
//!
//! # Layout
//! - [`config`]: [`TelemetryArgs`], the exporter settings (standard env names).
//! - [`resource`]: service name, role and replica as resource attributes.
//! - [`http_client`]: the exporters' HTTP client (reqwest on the Tokio runtime).
//! - [`exporters`]: Application Insights and OTLP exporters from the settings.
//! - [`setup`]: providers, the `tracing` subscriber, [`Telemetry`] (flush on drop).
//! - [`metrics`]: every instrument chaoslab records, named once.
//! - [`component`]: what components record through `chaoslab:sidecar/telemetry`, bounded.
//! - [`propagation`]: W3C `traceparent` in and out of HTTP headers.
//! - [`error`]: [`TelemetryError`], why set-up failed.

pub mod component;
pub mod config;
pub mod error;
pub mod exporters;
pub mod http_client;
pub mod metrics;
pub mod propagation;
pub mod resource;
pub mod setup;

pub use config::TelemetryArgs;
pub use error::TelemetryError;
pub use resource::Role;
pub use setup::{Telemetry, init, init_plain_logging};
