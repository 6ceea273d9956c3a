//! [`init`]: the process's `tracing` subscriber and, when an exporter is
//! configured, the OpenTelemetry providers behind it.
//!
//! - stderr: the usual `fmt` log, filtered by `CHAOSLAB_LOG` (or `RUST_LOG`).
//! - spans → OpenTelemetry spans (`tracing-opentelemetry`), events inside a
//!   span → span events, and every event → an OpenTelemetry log record with
//!   the trace and span ids (`opentelemetry-appender-tracing`). These layers
//!   have their own filter, so a quiet stderr does not silence telemetry, and
//!   they ignore the exporters' own crates (no feedback loop).
//! - metrics → a periodic reader (`OTEL_METRIC_EXPORT_INTERVAL`, default 60 s).
//!
//! Spans and logs go through the SDK's batch processors: bounded queues
//! (`OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BLRP_MAX_QUEUE_SIZE`, default 2048)
//! exported from their own threads; when the backend is slow or down the
//! queue fills and further items are dropped and counted (the SDK reports
//! the count at shutdown). A request never waits for export.

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{FilterExt, LevelFilter, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::TelemetryArgs;
use crate::error::TelemetryError;
use crate::exporters::{self, Exporters};
use crate::resource::{self, Role};

/// How long shutdown waits for the last batches to reach the backend.
pub const SHUTDOWN_FLUSH: Duration = Duration::from_secs(5);

/// The stderr filter when `CHAOSLAB_LOG`/`RUST_LOG` are unset.
const DEFAULT_LOG: &str = "info,wasmtime_wasi_http=warn,wasmtime_cranelift=warn,azure_core=warn,azure_identity=warn";

/// What is exported: chaoslab's own spans and events at `info` and above;
/// never the exporters' and HTTP clients' own diagnostics.
const EXPORT_FILTER: &str = "info,wasmtime_wasi_http=warn,wasmtime_cranelift=warn,azure_core=warn,\
    azure_identity=warn,opentelemetry=off,opentelemetry_sdk=off,opentelemetry_otlp=off,opentelemetry_http=off,\
    opentelemetry_application_insights=off,reqwest=off,hyper=off,hyper_util=off,h2=off,tonic=off,tower=off";

/// The installed providers. Flushes and shuts them down on [`Telemetry::shutdown`] or drop.
#[derive(Debug, Default)]
pub struct Telemetry {
    /// Spans (None: no exporter configured).
    tracer: Option<SdkTracerProvider>,
    /// Log records.
    logger: Option<SdkLoggerProvider>,
    /// Metrics.
    meter: Option<SdkMeterProvider>,
}

impl Telemetry {
    /// True when something is exported.
    pub fn exporting(&self) -> bool {
        self.tracer.is_some()
    }

    /// Flushes what is queued and stops exporting, all signals at once and
    /// within [`SHUTDOWN_FLUSH`] in total, however slow the backend. Called
    /// on graceful shutdown; idempotent. The SDK logs how many items its
    /// bounded queues dropped (`dropped_span_count=…`).
    pub fn shutdown(&mut self) {
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let mut pending = 0;
        let mut spawn = |name: &str, stop: Box<dyn FnOnce() + Send>| {
            let done = done.clone();
            let spawned = std::thread::Builder::new().name(format!("telemetry-{name}-shutdown")).spawn(move || {
                stop();
                let _ = done.send(());
            });
            pending += usize::from(spawned.is_ok());
        };
        if let Some(meter) = self.meter.take() {
            spawn("metrics", Box::new(move || drop(meter.shutdown_with_timeout(SHUTDOWN_FLUSH))));
        }
        if let Some(tracer) = self.tracer.take() {
            spawn("traces", Box::new(move || drop(tracer.shutdown_with_timeout(SHUTDOWN_FLUSH))));
        }
        if let Some(logger) = self.logger.take() {
            spawn("logs", Box::new(move || drop(logger.shutdown_with_timeout(SHUTDOWN_FLUSH))));
        }
        let deadline = std::time::Instant::now() + SHUTDOWN_FLUSH;
        while pending > 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if finished.recv_timeout(left).is_err() {
                tracing::warn!(timeout = ?SHUTDOWN_FLUSH, "telemetry not fully flushed: the backend is slow or down");
                return;
            }
            pending -= 1;
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn stderr_filter() -> EnvFilter {
    let filter = std::env::var("CHAOSLAB_LOG").ok().or_else(|| std::env::var("RUST_LOG").ok());
    EnvFilter::new(filter.unwrap_or_else(|| DEFAULT_LOG.to_owned()))
}

/// One line per event on stderr. Spans are left to the exporters: every
/// event that matters to an operator carries its own fields (component,
/// path, cause), and a span the stderr layer accepted would be formatted
/// on creation for every request. With no exporter configured no layer
/// takes the request and Redis spans, so they cost next to nothing
/// (issue #17: ~8 µs of CPU per request went to formatting them).
fn stderr_layer<S>() -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // The hint keeps the env filter's level as the process's maximum (an
        // `and` with a hint-less filter has none): `log` records above it
        // (wasmtime logs through `log` at every instantiation) are then
        // dropped at their call site instead of being converted into
        // `tracing` events and filtered one by one (~5 µs per request, #17).
        .with_filter(stderr_filter().and(filter_fn(|meta| meta.is_event()).with_max_level_hint(LevelFilter::TRACE)))
}

/// Logs to stderr only (`chaoslab build`).
pub fn init_plain_logging() {
    let _ = tracing_subscriber::registry().with(stderr_layer()).try_init();
}

/// Installs the subscriber and, when `args` configure an exporter, the
/// providers for `role`. Must run inside the Tokio runtime (the exporters'
/// HTTP client and gRPC channels live there).
pub fn init(args: &TelemetryArgs, role: Role) -> Result<Telemetry, TelemetryError> {
    if !args.enabled() {
        tracing_subscriber::registry().with(stderr_layer()).try_init().map_err(TelemetryError::Subscriber)?;
        return Ok(Telemetry::default());
    }
    let replica = resource::replica();
    let resource = resource::build(&args.service_name, role, &replica);
    let Exporters { appinsights, otlp } = exporters::build(args)?;

    let mut tracer = SdkTracerProvider::builder().with_resource(resource.clone());
    let mut logger = SdkLoggerProvider::builder().with_resource(resource.clone());
    let mut meter = SdkMeterProvider::builder().with_resource(resource);
    if let Some(ai) = appinsights {
        tracer = tracer.with_batch_exporter(ai.clone());
        logger = logger.with_batch_exporter(ai.clone());
        meter = meter.with_reader(PeriodicReader::builder(ai).build());
    }
    if let Some(otlp) = otlp {
        tracer = tracer.with_batch_exporter(otlp.spans);
        logger = logger.with_batch_exporter(otlp.logs);
        meter = meter.with_reader(PeriodicReader::builder(otlp.metrics).build());
    }
    let (tracer, logger, meter) = (tracer.build(), logger.build(), meter.build());
    opentelemetry::global::set_meter_provider(meter.clone());
    opentelemetry::global::set_tracer_provider(tracer.clone());

    let spans = tracing_opentelemetry::layer()
        .with_tracer(tracer.tracer("chaoslab"))
        .with_filter(EnvFilter::new(EXPORT_FILTER));
    let logs = OpenTelemetryTracingBridge::new(&logger).with_filter(EnvFilter::new(EXPORT_FILTER));
    tracing_subscriber::registry()
        .with(stderr_layer())
        .with(spans)
        .with(logs)
        .try_init()
        .map_err(TelemetryError::Subscriber)?;
    tracing::info!(
        role = role.as_str(),
        replica,
        appinsights = args.appinsights_connection_string.is_some(),
        otlp = args.otlp_endpoint.as_deref().unwrap_or(""),
        "exporting telemetry"
    );
    Ok(Telemetry { tracer: Some(tracer), logger: Some(logger), meter: Some(meter) })
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::Layer;
    use tracing_subscriber::Registry;

    #[test]
    fn the_stderr_layer_tells_its_maximum_level() {
        // Without a hint the process's maximum is TRACE, and every `log`
        // record of wasmtime is converted and filtered at run time.
        let hint = super::stderr_layer::<Registry>().max_level_hint();
        assert!(hint.is_some(), "the stderr layer has no max level hint");
        let configured = std::env::var_os("CHAOSLAB_LOG").is_some() || std::env::var_os("RUST_LOG").is_some();
        assert!(configured || hint < Some(tracing_subscriber::filter::LevelFilter::TRACE), "hint {hint:?}");
    }
}
