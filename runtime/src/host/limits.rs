//! [`Limits`]: an instance's memory cap (wasmtime's [`StoreLimits`]) and the
//! largest linear memory it grew to, which decides whether a reused
//! instance may serve another request.

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

/// The limits of one store, and its memory high-water mark.
pub struct Limits {
    /// The caps, enforced by wasmtime's own limiter.
    inner: StoreLimits,
    /// The largest size any of the instance's linear memories was allowed
    /// to grow to, in bytes.
    peak_memory_bytes: usize,
}

impl Limits {
    /// Linear memories capped at `max_memory` bytes each; growing past the
    /// cap fails (`memory.grow` returns -1) instead of trapping, as in Spin.
    pub fn new(max_memory: usize) -> Self {
        Self {
            inner: StoreLimitsBuilder::new().memory_size(max_memory).trap_on_grow_failure(false).build(),
            peak_memory_bytes: 0,
        }
    }

    /// The largest linear memory of the instance so far, in bytes.
    pub fn peak_memory_bytes(&self) -> usize {
        self.peak_memory_bytes
    }
}

impl ResourceLimiter for Limits {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = self.inner.memory_growing(current, desired, maximum)?;
        if allowed {
            self.peak_memory_bytes = self.peak_memory_bytes.max(desired);
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_follows_allowed_growth_only() {
        let mut limits = Limits::new(1 << 20);
        assert!(limits.memory_growing(0, 64 << 10, None).unwrap());
        assert!(limits.memory_growing(64 << 10, 512 << 10, None).unwrap());
        assert!(!limits.memory_growing(512 << 10, 2 << 20, None).unwrap(), "over the cap");
        assert_eq!(limits.peak_memory_bytes(), 512 << 10);
    }
}
