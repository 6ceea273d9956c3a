//! The exporters the settings ask for, as [`Exporters`] to plug into the
//! providers: Application Insights (`/v2/track`, gzip JSON) and OTLP
//! (HTTP/protobuf or gRPC). Both may be configured at once.

use opentelemetry_application_insights::Exporter as AppInsights;
use opentelemetry_otlp::{LogExporter, MetricExporter, SpanExporter, WithExportConfig, WithHttpConfig};

use crate::config::{OtlpProtocol, TelemetryArgs};
use crate::error::TelemetryError;
use crate::http_client::{EXPORT_TIMEOUT, TokioHttpClient};

/// The OTLP exporters, one per signal.
#[derive(Debug)]
pub struct Otlp {
    /// Spans.
    pub spans: SpanExporter,
    /// Log records.
    pub logs: LogExporter,
    /// Metrics.
    pub metrics: MetricExporter,
}

/// Everything configured.
#[derive(Debug, Default)]
pub struct Exporters {
    /// Application Insights (one exporter serves all three signals).
    pub appinsights: Option<AppInsights<TokioHttpClient>>,
    /// OTLP.
    pub otlp: Option<Otlp>,
}

/// Builds the configured exporters. Must run inside the Tokio runtime.
pub fn build(args: &TelemetryArgs) -> Result<Exporters, TelemetryError> {
    let mut exporters = Exporters::default();
    if let Some(conn) = args.appinsights_connection_string.as_deref().filter(|s| !s.trim().is_empty()) {
        let client = TokioHttpClient::new(EXPORT_TIMEOUT)?;
        let exporter =
            AppInsights::new_from_connection_string(conn, client).map_err(TelemetryError::ConnectionString)?;
        exporters.appinsights = Some(exporter);
    }
    if let Some(endpoint) = args.otlp_endpoint.as_deref().filter(|s| !s.trim().is_empty()) {
        exporters.otlp = Some(otlp(endpoint.trim_end_matches('/'), args.otlp_protocol)?);
    }
    Ok(exporters)
}

/// The OTLP exporters for `endpoint`. Over HTTP each signal posts to
/// `{endpoint}/v1/{signal}` (as the spec says for `OTEL_EXPORTER_OTLP_ENDPOINT`)
/// unless its own `OTEL_EXPORTER_OTLP_{SIGNAL}_ENDPOINT` is set, which the
/// SDK then reads. Headers, timeouts and compression come from the SDK's
/// `OTEL_EXPORTER_OTLP_*` variables.
fn otlp(endpoint: &str, protocol: OtlpProtocol) -> Result<Otlp, TelemetryError> {
    let err = |signal: &'static str| {
        let endpoint = endpoint.to_owned();
        move |source| TelemetryError::Otlp { signal, endpoint, source }
    };
    let http_url = |signal: &str| {
        let own = format!("OTEL_EXPORTER_OTLP_{}_ENDPOINT", signal.to_uppercase());
        std::env::var(own).is_err().then(|| format!("{endpoint}/v1/{signal}"))
    };
    Ok(match protocol {
        OtlpProtocol::Grpc => Otlp {
            spans: SpanExporter::builder().with_tonic().with_endpoint(endpoint).build().map_err(err("traces"))?,
            logs: LogExporter::builder().with_tonic().with_endpoint(endpoint).build().map_err(err("logs"))?,
            metrics: MetricExporter::builder().with_tonic().with_endpoint(endpoint).build().map_err(err("metrics"))?,
        },
        OtlpProtocol::HttpProtobuf => {
            let client = TokioHttpClient::new(EXPORT_TIMEOUT)?;
            let mut spans = SpanExporter::builder().with_http().with_http_client(client.clone());
            if let Some(url) = http_url("traces") {
                spans = spans.with_endpoint(url);
            }
            let mut logs = LogExporter::builder().with_http().with_http_client(client.clone());
            if let Some(url) = http_url("logs") {
                logs = logs.with_endpoint(url);
            }
            let mut metrics = MetricExporter::builder().with_http().with_http_client(client);
            if let Some(url) = http_url("metrics") {
                metrics = metrics.with_endpoint(url);
            }
            Otlp {
                spans: spans.build().map_err(err("traces"))?,
                logs: logs.build().map_err(err("logs"))?,
                metrics: metrics.build().map_err(err("metrics"))?,
            }
        }
    })
}
