//! `chaoslab:sidecar/store`: each call goes to the Redis store; its typed
//! error maps to the WIT `error` variant with a client-safe reason.

use std::time::Duration;

use chaoslab_world::wire::store::Error;

use crate::Services;
use crate::error::StoreError;

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        let reason = err.to_string();
        match err {
            StoreError::Unavailable(_) | StoreError::Injected { .. } => Self::Unavailable(reason),
            StoreError::Timeout { .. } => Self::Timeout(reason),
            StoreError::Denied(_) => Self::Denied(reason),
            StoreError::Other(_) | StoreError::Config(_) => Self::Other(reason),
        }
    }
}

impl Services {
    /// `store.incr`.
    pub async fn incr(&self, key: &str, delta: i64) -> Result<i64, Error> {
        Ok(self.redis.incr(key, delta).await?)
    }

    /// `store.get`.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.redis.get(key).await?)
    }

    /// `store.set`.
    pub async fn set(&self, key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<(), Error> {
        Ok(self.redis.set(key, value, ttl_ms.map(Duration::from_millis)).await?)
    }

    /// `store.ping`: the round trip in microseconds.
    pub async fn ping(&self) -> Result<u64, Error> {
        let rtt = self.redis.ping().await?;
        Ok(u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX))
    }
}
