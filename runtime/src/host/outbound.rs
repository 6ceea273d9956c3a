//! Outbound HTTP policy: a component may only reach the hosts listed in its
//! `allowed_outbound_hosts`; everything else is denied with the WASI
//! `HTTP-request-denied` error, before any connection is made.

use std::sync::Arc;

use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// One `allowed_outbound_hosts` entry: `scheme://host[:port]`, where each of
/// scheme, host and port may be `*`, and the host may be `*.suffix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    /// `http`, `https` or `*`.
    scheme: String,
    /// Lower-case host, `*`, or `*.example.com`.
    host: String,
    /// A port, or `None` for any port.
    port: Option<u16>,
}

/// Why an `allowed_outbound_hosts` entry (or `--sidecar-url`) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowedHostError {
    /// No `scheme://`.
    #[error("{0:?} must look like scheme://host[:port]")]
    Shape(String),
    /// Not http, https or `*`.
    #[error("{0:?}: scheme must be http, https or *")]
    Scheme(String),
    /// The port is not a number.
    #[error("{entry:?}: invalid port {port:?}")]
    Port {
        /// The entry.
        entry: String,
        /// The port as written.
        port: String,
    },
    /// The host is empty or has a path.
    #[error("{entry:?}: invalid host {host:?}")]
    Host {
        /// The entry.
        entry: String,
        /// The host as written.
        host: String,
    },
}

impl AllowedHost {
    /// Parses an entry; the error says what is wrong with it.
    pub fn parse(entry: &str) -> Result<Self, AllowedHostError> {
        let (scheme, rest) = entry.split_once("://").ok_or_else(|| AllowedHostError::Shape(entry.to_owned()))?;
        if !matches!(scheme, "http" | "https" | "*") {
            return Err(AllowedHostError::Scheme(entry.to_owned()));
        }
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((_, "*")) => (rest.rsplit_once(':').map(|(h, _)| h).unwrap_or(rest), None),
            Some((h, p)) => {
                let port =
                    p.parse().map_err(|_| AllowedHostError::Port { entry: entry.to_owned(), port: p.to_owned() })?;
                (h, Some(port))
            }
            None if scheme == "*" => (rest, None),
            None => (rest, Some(if scheme == "https" { 443 } else { 80 })),
        };
        if host.is_empty() || host.contains('/') {
            return Err(AllowedHostError::Host { entry: entry.to_owned(), host: host.to_owned() });
        }
        Ok(Self { scheme: scheme.to_owned(), host: host.to_ascii_lowercase(), port })
    }

    fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host_ok = match self.host.strip_prefix("*.") {
            _ if self.host == "*" => true,
            Some(suffix) => host.strip_suffix(suffix).is_some_and(|h| h.ends_with('.')),
            None => self.host == host,
        };
        (self.scheme == "*" || self.scheme == scheme) && host_ok && self.port.is_none_or(|p| p == port)
    }
}

/// The header on a bridge's `chaos.hold` call that says how long the hold
/// may last; the runtime grants the request that much more time.
pub const HOLD_HEADER: &str = "chaoslab-hold-ms";

/// The hosts one component may reach. Shared by all its requests.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    /// Parsed `allowed_outbound_hosts`.
    allowed: Arc<[AllowedHost]>,
    /// The loopback sidecar (`--link loopback`): its `chaos.hold` calls
    /// extend the request's deadline, as in-process holds do.
    sidecar: Option<Arc<AllowedHost>>,
    /// This request's deadline (set per request).
    deadline: Option<Arc<super::RequestDeadline>>,
}

impl OutboundPolicy {
    /// A policy allowing exactly `allowed`.
    pub fn new(allowed: Vec<AllowedHost>) -> Self {
        Self { allowed: allowed.into(), sidecar: None, deadline: None }
    }

    /// Marks `sidecar` (an `http://host:port` origin) as the loopback sidecar.
    pub fn with_sidecar(mut self, sidecar: AllowedHost) -> Self {
        self.sidecar = Some(Arc::new(sidecar));
        self
    }

    /// This policy for one request with `deadline`.
    pub fn for_request(&self, deadline: Arc<super::RequestDeadline>) -> Self {
        Self { deadline: Some(deadline), ..self.clone() }
    }

    /// True when `uri` is the loopback sidecar's origin.
    fn to_sidecar(&self, uri: &http::Uri) -> bool {
        let Some(sidecar) = &self.sidecar else { return false };
        uri.scheme_str() == Some("http")
            && uri.host().is_some_and(|h| sidecar.allows("http", h, uri.port_u16().unwrap_or(80)))
    }

    /// Grants the request the time of a bridge's hold call to the sidecar.
    fn extend_for_hold(&self, request: &http::Request<WasiBody>) {
        let Some(deadline) = &self.deadline else { return };
        let hold_ms = request.headers().get(HOLD_HEADER).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if let Some(ms) = hold_ms {
            deadline.extend(std::time::Duration::from_millis(ms));
        }
    }

    /// True when a request to this URI may be sent.
    pub fn allows(&self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or("https");
        let Some(host) = uri.host() else { return false };
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let port = uri.port_u16().unwrap_or(if scheme == "https" { 443 } else { 80 });
        self.allowed.iter().any(|a| a.allows(scheme, &host, port))
    }
}

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), HttpError>> + Send>),
                    HttpError,
                >,
            > + Send,
    > {
        drop(fut);
        let mut request = request;
        let allowed = self.allows(request.uri());
        let to_sidecar = allowed && self.to_sidecar(request.uri());
        if to_sidecar {
            self.extend_for_hold(&request);
            // The bridge cannot see the request's trace; the runtime can: the
            // sidecar's spans for this call become children of the request's.
            chaoslab_telemetry::propagation::inject(&tracing::Span::current(), request.headers_mut());
        }
        Box::new(async move {
            if !allowed {
                tracing::warn!(uri = %request.uri(), "outbound request denied: host not in allowed_outbound_hosts");
                return Err(HttpError::HttpRequestDenied);
            }
            if to_sidecar {
                return super::sidecar_client::send(request, options).await;
            }
            use http_body_util::BodyExt;
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((res.map(BodyExt::boxed_unsync), Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        OutboundPolicy::new(entries.iter().map(|e| AllowedHost::parse(e).unwrap()).collect())
    }

    fn uri(s: &str) -> http::Uri {
        s.parse().unwrap()
    }

    #[test]
    fn exact_entry_allows_only_that_origin() {
        let p = policy(&["http://127.0.0.1:7070"]);
        assert!(p.allows(&uri("http://127.0.0.1:7070/v1/store/incr")));
        assert!(!p.allows(&uri("http://127.0.0.1:7071/")));
        assert!(!p.allows(&uri("https://127.0.0.1:7070/")));
        assert!(!p.allows(&uri("http://example.com/")));
    }

    #[test]
    fn default_ports_and_wildcards() {
        let p = policy(&["https://*.example.com", "http://localhost:*"]);
        assert!(p.allows(&uri("https://api.example.com/")));
        assert!(!p.allows(&uri("https://example.com/")));
        assert!(!p.allows(&uri("https://api.example.com:8443/")));
        assert!(p.allows(&uri("http://localhost:1234/")));
    }

    #[test]
    fn empty_policy_denies_everything() {
        assert!(!OutboundPolicy::default().allows(&uri("http://127.0.0.1/")));
    }

    #[test]
    fn bad_entries_are_rejected() {
        assert_eq!(AllowedHost::parse("127.0.0.1:80"), Err(AllowedHostError::Shape("127.0.0.1:80".into())));
        assert_eq!(AllowedHost::parse("ftp://x"), Err(AllowedHostError::Scheme("ftp://x".into())));
        assert!(
            matches!(AllowedHost::parse("http://x:abc"), Err(AllowedHostError::Port { port, .. }) if port == "abc")
        );
    }
}
