//! The open-file limit: raised at start from its soft to its hard value, so
//! a listener can hold as many connections as the system allows, and the
//! connection cap lowered to fit it.

/// Descriptors kept for everything that is not a client connection (Redis,
/// the sidecar link, compiled-component cache files, logs, telemetry).
const RESERVED_FDS: u64 = 256;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the limit now
/// in force (`None` when it cannot be read, e.g. on a platform without it).
pub fn raise() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(err) => {
            tracing::warn!(error = %err, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).ok().map(|(soft, _)| soft)
        }
    }
}

/// `max_connections`, lowered to what an open-file limit of `nofile` allows.
pub fn connection_cap(max_connections: u32, nofile: Option<u64>) -> usize {
    let allowed = nofile.map_or(u64::MAX, |n| n.saturating_sub(RESERVED_FDS).max(1));
    usize::try_from(u64::from(max_connections).min(allowed)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_fits_the_open_file_limit() {
        assert_eq!(connection_cap(10_000, Some(1_048_576)), 10_000);
        assert_eq!(connection_cap(10_000, Some(1024)), 768);
        assert_eq!(connection_cap(10_000, Some(10)), 1);
        assert_eq!(connection_cap(50, None), 50);
    }
}
