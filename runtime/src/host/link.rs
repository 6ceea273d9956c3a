//! `chaoslab:sidecar/store` linked in-process: each WIT call goes straight to
//! the sidecar library, and its typed error maps to the WIT `error` variant.
//! (`chaos` is in [`super::chaos_link`], `telemetry` in `telemetry_link`.)

use chaoslab_sidecar::StoreError;
use wasmtime::component::{HasSelf, Linker};

use super::{HostState, Sidecar};

use super::bindings::chaoslab::sidecar::{chaos, store, telemetry};

/// Adds the `chaoslab:sidecar` interfaces to `linker`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    store::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    chaos::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    telemetry::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)
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
        self.sidecar().incr(&key, delta).await
    }

    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, store::Error> {
        self.sidecar().get(&key).await
    }

    async fn set(&mut self, key: String, value: Vec<u8>, ttl_ms: Option<u64>) -> Result<(), store::Error> {
        self.sidecar().set(&key, &value, ttl_ms).await
    }

    async fn ping(&mut self) -> Result<u64, store::Error> {
        self.sidecar().ping().await
    }
}

/// The store half of the contract, in WIT types: what both the in-process
/// link and the loopback server answer.
impl Sidecar {
    /// `store.incr`.
    pub async fn incr(&self, key: &str, delta: i64) -> Result<i64, store::Error> {
        self.store.incr(key, delta).await.map_err(to_wit)
    }

    /// `store.get`.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, store::Error> {
        self.store.get(key).await.map_err(to_wit)
    }

    /// `store.set`.
    pub async fn set(&self, key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<(), store::Error> {
        let ttl = ttl_ms.map(std::time::Duration::from_millis);
        self.store.set(key, value, ttl).await.map_err(to_wit)
    }

    /// `store.ping`: the round trip in microseconds.
    pub async fn ping(&self) -> Result<u64, store::Error> {
        let rtt = self.store.ping().await.map_err(to_wit)?;
        Ok(u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX))
    }
}
