//! The revision model: what a revision *is* (immutable once created) and the
//! states it goes through.
//!
//! ```text
//! provisioning ──gate passed──► ready (traffic 0) ──activate / traffic──► active
//!      │                          └──────────── traffic 100 / canary ───► active
//!      └──read, compile, gate failed──► failed(reason)      active ──replaced, drained──► retired
//!                                       canary ──rolled back──► failed(rollback)
//! ```

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a revision is, fixed when it is created.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RevisionMeta {
    /// `{component}-rev-{number}`, unique in the app.
    pub id: String,
    /// The manifest component it is a revision of.
    pub component: String,
    /// 1 for the manifest's build, then one more per deploy of this component.
    pub number: u32,
    /// SHA-256 of the `.wasm` (hex); `None` when its bytes could not be read.
    pub sha256: Option<String>,
    /// Where the bytes came from.
    pub source: Source,
    /// When it was created, RFC 3339 (UTC).
    pub created_at: String,
}

/// Where a revision's bytes came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// The manifest's `source`, at start-up.
    Manifest {
        /// The file.
        path: String,
    },
    /// A path named in `POST /_chaoslab/revisions`.
    Path {
        /// The file, as resolved by the runtime.
        path: String,
    },
    /// The bytes of an `application/wasm` request body.
    Upload {
        /// Their size.
        bytes: usize,
    },
    /// The manifest's `source`, changed on disk (`chaoslab up --watch`).
    Watch {
        /// The file.
        path: String,
    },
}

impl RevisionMeta {
    /// Revision `number` of `component`, from `bytes` (when they could be read).
    pub fn new(component: &str, number: u32, bytes: Option<&[u8]>, source: Source) -> Self {
        Self {
            id: format!("{component}-rev-{number}"),
            component: component.to_owned(),
            number,
            sha256: bytes.map(|b| format!("{:x}", Sha256::digest(b))),
            source,
            created_at: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
        }
    }
}

/// Where a revision is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Being read, compiled and gated.
    Provisioning,
    /// Passed its gate; compiled, serving no traffic.
    Ready,
    /// Serving a share of its component's traffic (or finishing the requests
    /// it started before it lost its share).
    Active,
    /// Never served, or was rolled back; see its [`Failure`].
    Failed,
    /// Replaced, and its last request finished.
    Retired,
}

/// Why a revision failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The stage that failed.
    pub kind: FailureKind,
    /// What happened, in one line.
    pub message: String,
}

/// The stage at which a revision failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Its `.wasm` could not be read.
    Read,
    /// Its declared dependencies could not be plugged (`--link loopback`).
    Compose,
    /// Not a valid component, or it did not compile.
    Compile,
    /// It could not be linked or instantiated, or it exports no HTTP handler.
    Instantiate,
    /// A readiness request trapped.
    Trap,
    /// A readiness request did not answer in time, or the gate's deadline passed.
    Timeout,
    /// A readiness request answered something other than `200`.
    Status,
    /// Rolled back by its canary watch: too many `5xx`.
    Rollback,
}

impl Failure {
    /// A failure of `kind`; `message` is flattened to one line.
    pub fn new(kind: FailureKind, message: impl AsRef<str>) -> Self {
        Self { kind, message: one_line(message.as_ref()) }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = serde_json::to_value(self.kind).ok();
        let kind = kind.as_ref().and_then(|k| k.as_str()).unwrap_or("failure");
        write!(f, "{kind}: {}", self.message)
    }
}

/// Longest failure message kept (wasmtime's traps carry whole backtraces).
const MAX_MESSAGE: usize = 600;

/// `text` on one line (for a log line and a JSON field), whitespace runs
/// collapsed, cut at [`MAX_MESSAGE`] characters.
pub fn one_line(text: &str) -> String {
    let mut line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((cut, _)) = line.char_indices().nth(MAX_MESSAGE) {
        line.truncate(cut);
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revision_is_named_by_its_component_and_number_and_hashes_its_bytes() {
        let meta = RevisionMeta::new("api", 3, Some(b"abc"), Source::Upload { bytes: 3 });
        assert_eq!(meta.id, "api-rev-3");
        assert_eq!(
            meta.sha256.as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            "SHA-256 of \"abc\""
        );
        assert!(meta.created_at.ends_with('Z'), "{}", meta.created_at);
        assert_eq!(RevisionMeta::new("api", 4, None, Source::Path { path: "/x".into() }).sha256, None);
    }

    #[test]
    fn failures_are_one_line_and_name_their_stage() {
        let failure = Failure::new(FailureKind::Trap, "wasm trap:\n  0: func\n  1: other");
        assert_eq!(failure.to_string(), "trap: wasm trap: 0: func 1: other");
        assert_eq!(one_line(&"x".repeat(700)).chars().count(), MAX_MESSAGE + 1);
        let json = serde_json::to_value(&failure).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "trap", "message": "wasm trap: 0: func 1: other"}));
    }
}
