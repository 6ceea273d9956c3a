//! What the terminal shows while an experiment runs: one line per event
//! (`[  3.2s] method: start-chaos-redis → 202`), and on a terminal one
//! progress line below them, redrawn in place (phase, load counts, faults).

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use crate::timeline::Timeline;

/// Widest progress line; longer ones are cut so they never wrap.
const MAX_STATUS_CHARS: usize = 150;

/// The run's terminal output (stderr).
#[derive(Debug)]
pub struct Progress {
    /// Draw the progress line (stderr is a terminal).
    tty: bool,
    /// Event times are offsets from its start.
    timeline: Timeline,
    /// The progress line now shown, if any.
    status: Mutex<Option<String>>,
}

impl Progress {
    /// Output for a run started at `timeline`; the progress line only when
    /// stderr is a terminal.
    pub fn new(timeline: Timeline) -> Self {
        Self::with_tty(timeline, std::io::stderr().is_terminal())
    }

    /// As [`Progress::new`], deciding about the terminal explicitly.
    pub fn with_tty(timeline: Timeline, tty: bool) -> Self {
        Self { tty, timeline, status: Mutex::new(None) }
    }

    /// Prints one event line.
    pub fn event(&self, message: impl Display) {
        let status = self.status.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut err = std::io::stderr().lock();
        if self.tty && status.is_some() {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = writeln!(err, "[{:>6.1}s] {message}", self.timeline.now());
        if self.tty
            && let Some(line) = status.as_deref()
        {
            let _ = write!(err, "{line}");
        }
        let _ = err.flush();
    }

    /// Replaces the progress line (terminal only).
    pub fn set_status(&self, line: &str) {
        if !self.tty {
            return;
        }
        let line: String = line.chars().take(MAX_STATUS_CHARS).collect();
        let mut status = self.status.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        *status = Some(line);
    }

    /// Removes the progress line.
    pub fn clear_status(&self) {
        let mut status = self.status.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.tty && status.take().is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
