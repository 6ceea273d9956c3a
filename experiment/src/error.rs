//! Why an experiment could not be read or run.

use std::path::PathBuf;

use crate::model::Invalid;

/// An experiment file that cannot be used, or a run that could not start:
/// each names the file, field or URL at fault. Exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The journal or report could not be written.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not a `.json` file.
    #[error("{}: only JSON experiments (.json) are supported", path.display())]
    NotJson {
        /// The file.
        path: PathBuf,
    },
    /// Malformed JSON.
    #[error("{}: not valid JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Where and why.
        source: serde_json::Error,
    },
    /// A field is wrong.
    #[error("{}: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The field and what is wrong.
        source: Invalid,
    },
    /// A `--var` that is not `name[:type]=value`.
    #[error("--var {var:?}: {reason}")]
    Var {
        /// The argument as given.
        var: String,
        /// What is wrong.
        reason: String,
    },
    /// The target could not be reached.
    #[error("could not reach {url}: {reason}")]
    Unreachable {
        /// The URL that failed.
        url: String,
        /// The transport error, with its causes.
        reason: String,
    },
    /// `--spawn` could not start chaoslab.
    #[error("--spawn: {0}")]
    Spawn(String),
}
