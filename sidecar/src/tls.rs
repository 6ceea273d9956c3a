//! The redis-rs [`Client`] for a URL: plain TCP, a Unix socket, or TLS
//! (`rediss://`, native-tls on OpenSSL) with an optional root CA file.
//!
//! Azure Managed Redis serves TLS only, on port 10000, with a certificate
//! from a public CA: the system's roots verify it and no CA file is needed.
//! `--redis-ca-file` is for private CAs and tests; its certificates are
//! trusted *instead of* the system's roots (redis-rs replaces the store).

use std::path::Path;

use redis::{Client, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, TlsCertificates};

use crate::error::SetupError;

/// Parses `url` (errors never repeat it: it may hold a password).
pub fn parse(url: &str) -> Result<ConnectionInfo, SetupError> {
    url.into_connection_info().map_err(SetupError::Url)
}

/// True for `rediss://` targets.
pub fn is_tls(info: &ConnectionInfo) -> bool {
    matches!(info.addr(), ConnectionAddr::TcpTls { .. })
}

/// The client for `info`, trusting the PEM root CA(s) of `ca_file` when given.
pub fn client(info: ConnectionInfo, ca_file: Option<&Path>) -> Result<Client, SetupError> {
    let Some(path) = ca_file else { return Client::open(info).map_err(SetupError::Url) };
    if !is_tls(&info) {
        return Err(SetupError::CaWithoutTls);
    }
    let pem = std::fs::read(path).map_err(|source| SetupError::CaFile { path: path.to_owned(), source })?;
    Client::build_with_tls(info, TlsCertificates { client_tls: None, root_cert: Some(pem) }).map_err(SetupError::Tls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_needs_a_tls_url() {
        let info = parse("redis://127.0.0.1:6379").unwrap();
        let err = client(info, Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(matches!(err, SetupError::CaWithoutTls), "{err:?}");
    }

    #[test]
    fn an_unreadable_ca_file_names_the_file() {
        let info = parse("rediss://127.0.0.1:6380").unwrap();
        let err = client(info, Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(matches!(err, SetupError::CaFile { .. }), "{err:?}");
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn a_ca_file_that_is_not_pem_is_a_tls_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n").unwrap();
        let err = client(parse("rediss://127.0.0.1:6380").unwrap(), Some(&path)).unwrap_err();
        assert!(matches!(err, SetupError::Tls(_)), "{err:?}");
    }

    #[test]
    fn rediss_is_tls_and_redis_is_not() {
        assert!(is_tls(&parse("rediss://host.example:10000").unwrap()));
        assert!(!is_tls(&parse("redis://host.example:6379").unwrap()));
    }
}
