//! [`TestCa`]: a throw-away certificate authority and a server certificate
//! for `127.0.0.1` / `localhost`, made with the `openssl` command in a
//! temporary directory, for `redis-server --tls-port` and `rediss://` tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The server side of a [`TestCa`]: certificate, key and CA file paths.
#[derive(Debug, Clone)]
pub struct ServerFiles {
    /// The server certificate.
    cert: PathBuf,
    /// Its private key.
    key: PathBuf,
    /// The CA certificate.
    ca: PathBuf,
}

impl ServerFiles {
    /// `redis-server` arguments serving TLS on `port` with this certificate
    /// (clients are not asked for certificates).
    pub fn redis_args(&self, port: u16) -> Vec<String> {
        let path = |p: &Path| p.display().to_string();
        vec![
            "--tls-port".into(),
            port.to_string(),
            "--tls-cert-file".into(),
            path(&self.cert),
            "--tls-key-file".into(),
            path(&self.key),
            "--tls-ca-cert-file".into(),
            path(&self.ca),
            "--tls-auth-clients".into(),
            "no".into(),
        ]
    }
}

/// A CA and a server certificate it signed (PEM files, EC P-256 keys).
pub struct TestCa {
    /// Holds the files; removed on drop.
    dir: tempfile::TempDir,
}

impl TestCa {
    /// Generates a CA and a server certificate valid for 2 days. Panics,
    /// loudly, when `openssl` is missing: the tests must not silently skip.
    pub fn generate() -> Self {
        let dir = tempfile::Builder::new().prefix("chaoslab-test-ca-").tempdir().expect("tempdir");
        let ca = Self { dir };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        ca.openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
                &[
                    "-subj",
                    "/CN=chaoslab test CA",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ],
            ]
            .concat(),
        );
        ca.openssl(
            &[&["req"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]].concat(),
        );
        std::fs::write(
            ca.dir.path().join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        )
        .expect("write server.ext");
        ca.openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]);
        ca
    }

    /// The CA certificate (what `--redis-ca-file` should name).
    pub fn ca_pem(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server certificate, signed by the CA.
    pub fn server_cert(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    /// The server's private key.
    pub fn server_key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    /// The files `redis-server` needs (valid while `self` lives).
    pub fn server_files(&self) -> ServerFiles {
        ServerFiles { cert: self.server_cert(), key: self.server_key(), ca: self.ca_pem() }
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run openssl ({e}): install it with `sudo apt-get install openssl`"));
        assert!(out.status.success(), "openssl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
}
