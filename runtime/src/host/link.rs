//! `chaoslab:sidecar/store` linked in-process: each WIT call goes straight to
//! the sidecar library, and its typed error maps to the WIT `error` variant.
//! (`chaos` is in [`super::chaos_link`].)

use chaoslab_sidecar::StoreError;
use wasmtime::component::{HasSelf, Linker};

use super::HostState;

use super::bindings::chaoslab::sidecar::{chaos, store};

/// Adds the `chaoslab:sidecar` interfaces to `linker`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    store::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    chaos::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)
}

/// Maps a sidecar error to the WIT variant, with a client-safe reason.
fn to_wit(err: StoreError) -> store::Error {
    let reason = err.to_string();
    match err {
        StoreError::Unavailable(_) | StoreError::Injected { .. } => store::Error::Unavailable(reason),
        StoreError::Timeout { .. } => store::Error::Timeout(reason),
        StoreError::Denied(_) => store::Error::Denied(reason),
        StoreError::Other(_) | StoreError::Config(_) => store::Error::Other(reason),
    }
}

impl store::Host for HostState {
    async fn incr(&mut self, key: String, delta: i64) -> Result<i64, store::Error> {
        self.sidecar.store.incr(&key, delta).await.map_err(to_wit)
    }

    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, store::Error> {
        self.sidecar.store.get(&key).await.map_err(to_wit)
    }

    async fn set(&mut self, key: String, value: Vec<u8>, ttl_ms: Option<u64>) -> Result<(), store::Error> {
        let ttl = ttl_ms.map(std::time::Duration::from_millis);
        self.sidecar.store.set(&key, &value, ttl).await.map_err(to_wit)
    }

    async fn ping(&mut self) -> Result<u64, store::Error> {
        let rtt = self.sidecar.store.ping().await.map_err(to_wit)?;
        Ok(u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX))
    }
}
