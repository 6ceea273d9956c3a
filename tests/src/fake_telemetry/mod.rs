//! Local receivers for the real telemetry exporters.
//!
//! - [`FakeAppInsights`]: an Application Insights ingestion endpoint
//!   (`POST /v2/track`, gzip JSON envelopes), for
//!   `IngestionEndpoint=http://127.0.0.1:PORT/` in a connection string.
//! - [`FakeOtlp`]: an OTLP/HTTP receiver (`/v1/traces`, `/v1/logs`,
//!   `/v1/metrics`, protobuf bodies decoded with `opentelemetry-proto`).
//! - [`FakeOtlpGrpc`]: the OTLP/gRPC collector services (tonic).
//!
//! Both run on their own thread and runtime, record what they receive and
//! can be made slow (each answer waits) to test a backend in trouble.

mod appinsights;
mod otlp;
mod otlp_grpc;
mod sink;

pub use appinsights::FakeAppInsights;
pub use otlp::{FakeOtlp, ReceivedSpan};
pub use otlp_grpc::FakeOtlpGrpc;
