//! [`FakeOtlpGrpc`]: an OTLP/gRPC receiver (tonic, the generated collector
//! services of `opentelemetry-proto`), recording like [`super::FakeOtlp`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::server_thread::ServerThread;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{LogsService, LogsServiceServer};
use opentelemetry_proto::tonic::collector::logs::v1::{ExportLogsServiceRequest, ExportLogsServiceResponse};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use tonic::{Request, Response, Status};

use super::otlp::{Received, ReceivedSpan, record_logs, record_metrics, record_traces};

/// The three collector services over one shared record.
#[derive(Clone)]
struct Collector(Arc<Mutex<Received>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        record_traces(&self.0, request.into_inner());
        Ok(Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

#[tonic::async_trait]
impl LogsService for Collector {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        record_logs(&self.0, request.into_inner());
        Ok(Response::new(ExportLogsServiceResponse { partial_success: None }))
    }
}

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        record_metrics(&self.0, request.into_inner());
        Ok(Response::new(ExportMetricsServiceResponse { partial_success: None }))
    }
}

/// A fake OTLP/gRPC collector on `127.0.0.1:0`, stopped on drop.
pub struct FakeOtlpGrpc {
    /// Where it listens.
    addr: SocketAddr,
    /// What arrived.
    received: Arc<Mutex<Received>>,
    /// The server, stopped on drop.
    _server: ServerThread,
}

impl FakeOtlpGrpc {
    /// Starts it.
    pub fn start() -> Self {
        let received = Arc::new(Mutex::new(Received::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fake OTLP/gRPC receiver");
        listener.set_nonblocking(true).expect("nonblocking listener");
        let addr = listener.local_addr().expect("local addr");
        let collector = Collector(received.clone());
        let server = ServerThread::spawn(move |stopped| async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            let incoming = tokio_stream_from(listener);
            let _ = tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(collector.clone()))
                .add_service(LogsServiceServer::new(collector.clone()))
                .add_service(MetricsServiceServer::new(collector))
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self { addr, received, _server: server }
    }

    /// `OTEL_EXPORTER_OTLP_ENDPOINT` for it (with `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Spans so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.received.lock().expect("received lock").spans.clone()
    }

    /// Waits up to `within` until `found` holds for the spans received.
    pub fn wait_for_spans(&self, within: Duration, found: impl Fn(&[ReceivedSpan]) -> bool) -> bool {
        crate::poll::until(within, || found(&self.spans()))
    }
}

/// The accepted connections of `listener` as the stream tonic serves.
fn tokio_stream_from(
    listener: tokio::net::TcpListener,
) -> impl futures_util::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    futures_util::stream::unfold(listener, |listener| async move {
        let accepted = listener.accept().await.map(|(stream, _)| stream);
        Some((accepted, listener))
    })
}
