//! [`FakeAppInsights`]: `POST /v2/track` with a gzip (or plain) JSON array of
//! Application Insights envelopes, as the real exporter sends them. It
//! serves HTTPS (the exporter upgrades every ingestion endpoint to https)
//! with a throw-away CA; the exporting process trusts it through
//! `SSL_CERT_FILE` ([`FakeAppInsights::env`]).

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::sink::Sink;
use crate::tls_certs::TestCa;

/// A fake ingestion endpoint.
pub struct FakeAppInsights {
    /// The server.
    sink: Sink,
    /// Every envelope received, in order.
    envelopes: Arc<Mutex<Vec<Value>>>,
    /// The CA of its certificate.
    ca: TestCa,
}

impl FakeAppInsights {
    /// Starts it.
    pub fn start() -> Self {
        let envelopes = Arc::new(Mutex::new(Vec::new()));
        let sink_envelopes = envelopes.clone();
        let record = Arc::new(move |path: &str, headers: &http::HeaderMap, body: &[u8]| {
            if path != "/v2/track" {
                return;
            }
            let gzip = headers.get("content-encoding").is_some_and(|v| v == "gzip");
            let mut json = Vec::new();
            if gzip {
                flate2::read::GzDecoder::new(body).read_to_end(&mut json).expect("gzip body");
            } else {
                json.extend_from_slice(body);
            }
            let value: Value = serde_json::from_slice(&json).expect("JSON envelopes");
            let mut list = sink_envelopes.lock().expect("envelopes lock");
            match value {
                Value::Array(items) => list.extend(items),
                other => list.push(other),
            }
        });
        let ca = TestCa::generate();
        let cert = std::fs::read(ca.server_cert()).expect("server certificate");
        let key = std::fs::read(ca.server_key()).expect("server key");
        let identity = native_tls::Identity::from_pkcs8(&cert, &key).expect("TLS identity");
        let sink = Sink::start(record, Some(identity));
        Self { sink, envelopes, ca }
    }

    /// A connection string pointing the real exporter here.
    pub fn connection_string(&self) -> String {
        format!("InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=https://{}/", self.sink.addr)
    }

    /// What an exporting process needs: the connection string, and
    /// `SSL_CERT_FILE` naming the CA (OpenSSL's own variable).
    pub fn env(&self) -> [(&'static str, String); 2] {
        [
            ("APPLICATIONINSIGHTS_CONNECTION_STRING", self.connection_string()),
            ("SSL_CERT_FILE", self.ca.ca_pem().display().to_string()),
        ]
    }

    /// Every envelope so far.
    pub fn envelopes(&self) -> Vec<Value> {
        self.envelopes.lock().expect("envelopes lock").clone()
    }

    /// Envelopes of `base_type` (`RequestData`, `RemoteDependencyData`,
    /// `MessageData`, `EventData`, `MetricData`, …).
    pub fn of_type(&self, base_type: &str) -> Vec<Value> {
        self.envelopes().into_iter().filter(|e| e["data"]["baseType"] == base_type).collect()
    }

    /// Waits up to `within` until `found` holds for the envelopes received.
    pub fn wait_for(&self, within: Duration, found: impl Fn(&[Value]) -> bool) -> bool {
        crate::poll::until(within, || found(&self.envelopes()))
    }

    /// Makes every answer wait `delay`.
    pub fn set_delay(&self, delay: Duration) {
        self.sink.set_delay(delay);
    }
}
