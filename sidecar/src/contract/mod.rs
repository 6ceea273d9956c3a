//! The `chaoslab:sidecar` contract served by [`Services`]: one method per WIT
//! function, taking and returning the wire types (chaoslab-world), so the
//! RPC server and the embedded runtime's in-process link answer alike.
//!
//! - [`store`]: `store.*`, sidecar errors mapped to the WIT `error` variant.
//! - [`chaos`]: `chaos.*`, applied faults marked on the current span.
//! - [`telemetry`]: `telemetry.*`, on the current span and the counters.
//!
//! [`Services`]: crate::Services

pub mod chaos;
pub mod store;
pub mod telemetry;
