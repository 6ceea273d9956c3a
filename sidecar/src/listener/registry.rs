//! [`Registry`]: the open connections of one listener, oldest first, with
//! the cap on their number. At the cap, the oldest connection with no
//! request in flight is evicted for each new one, so thousands of idle (or
//! trickling) connections never lock new clients out; only when every
//! connection is busy does the accept loop wait.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::conn::ConnState;

/// The open connections of one listener.
#[derive(Debug)]
pub struct Registry {
    /// Most connections at once.
    cap: usize,
    /// Open connections by id (ids grow: the first is the oldest).
    open: Mutex<BTreeMap<u64, Arc<ConnState>>>,
    /// Next id.
    next_id: AtomicU64,
    /// Signalled whenever a connection closes.
    closed: Notify,
}

/// A connection's place in the registry; dropping it (the connection's task
/// ends) removes it.
#[derive(Debug)]
pub struct Registered {
    /// The registry.
    registry: Arc<Registry>,
    /// Its id.
    id: u64,
    /// Its state.
    pub state: Arc<ConnState>,
}

impl Registry {
    /// An empty registry for at most `cap` connections.
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap: cap.max(1),
            open: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(0),
            closed: Notify::new(),
        })
    }

    fn open(&self) -> MutexGuard<'_, BTreeMap<u64, Arc<ConnState>>> {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Connections open now.
    pub fn len(&self) -> usize {
        self.open().len()
    }

    /// True when no connection is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Makes room for one more connection: true when there is room, or a
    /// connection was evicted to make some; false when every connection is
    /// busy (the caller waits for [`Registry::closed`]).
    pub fn make_room(&self) -> bool {
        let open = self.open();
        if open.len() < self.cap {
            return true;
        }
        // Connections already told to go still count until they are gone.
        let evicting = open.values().filter(|s| s.is_evicted()).count();
        if open.len() - evicting < self.cap {
            return true;
        }
        open.values().find(|s| !s.is_busy() && !s.is_evicted()).is_some_and(|victim| victim.evict())
    }

    /// Waits until a connection closes.
    pub async fn closed(&self) {
        self.closed.notified().await;
    }

    /// Registers a new connection.
    pub fn register(self: &Arc<Self>) -> Registered {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnState::new());
        self.open().insert(id, state.clone());
        Registered { registry: self.clone(), id, state }
    }

    /// Waits until every connection has closed.
    pub async fn drained(&self) {
        loop {
            let closed = self.closed.notified();
            if self.is_empty() {
                return;
            }
            closed.await;
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.open().remove(&self.id);
        self.registry.closed.notify_waiters();
        self.registry.closed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let registry = Registry::new(2);
        let first = registry.register();
        let second = registry.register();
        assert!(!first.state.is_evicted());
        assert!(registry.make_room(), "an idle connection can go");
        assert!(first.state.is_evicted() && !second.state.is_evicted(), "the oldest goes first");
        let _third = registry.register();
        assert!(registry.make_room(), "again, the next oldest");
        assert!(second.state.is_evicted());
        drop(first);
        assert_eq!(registry.len(), 2);
    }
}
