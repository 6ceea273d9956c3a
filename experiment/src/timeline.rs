//! One clock for a run: monotonic instants for measuring, mapped to wall
//! time for the journal (ISO 8601, as Chaos Toolkit writes) and for
//! chaoslab's `*_at_ms` timestamps.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The run's time origin.
#[derive(Debug, Clone, Copy)]
pub struct Timeline {
    /// When the run started (monotonic).
    pub start: Instant,
    /// The same moment on the wall clock.
    pub start_wall: SystemTime,
}

impl Timeline {
    /// Starts the clock now.
    pub fn start() -> Self {
        Self { start: Instant::now(), start_wall: SystemTime::now() }
    }

    /// Seconds from the start to `at`.
    pub fn offset(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.start).as_secs_f64()
    }

    /// Seconds from the start to now.
    pub fn now(&self) -> f64 {
        self.offset(Instant::now())
    }

    /// `at` on the wall clock.
    pub fn wall(&self, at: Instant) -> SystemTime {
        self.start_wall + at.saturating_duration_since(self.start)
    }

    /// `at` as ISO 8601 UTC with microseconds.
    pub fn iso(&self, at: Instant) -> String {
        iso(self.wall(at))
    }

    /// Seconds from the start to a wall-clock time in Unix milliseconds
    /// (negative when before it).
    pub fn offset_of_unix_ms(&self, unix_ms: f64) -> f64 {
        unix_ms / 1000.0 - unix_seconds(self.start_wall)
    }
}

/// ISO 8601 UTC with microseconds, e.g. `2026-11-30T23:31:03.356961Z`.
pub fn iso(at: SystemTime) -> String {
    humantime::format_rfc3339_micros(at).to_string()
}

/// Seconds since the Unix epoch.
pub fn unix_seconds(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_unix_ms_agree() {
        let t = Timeline::start();
        let later = t.start + Duration::from_millis(1500);
        assert!((t.offset(later) - 1.5).abs() < 1e-9);
        let ms = unix_seconds(t.wall(later)) * 1000.0;
        assert!((t.offset_of_unix_ms(ms) - 1.5).abs() < 1e-3);
        assert!(t.iso(later).ends_with('Z'));
    }
}
