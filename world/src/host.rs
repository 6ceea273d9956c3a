//! The embedded runtime's side of the handler world: wasmtime's `bindgen!`
//! (async imports), and [`Mirror`] between its types and [`crate::wire`]'s.
//!
//! The runtime implements the generated `Host` traits by calling the sidecar
//! library, which speaks wire types; each WIT type's fields are listed once
//! below, and the macros derive both directions from that one list, so a
//! field added to the WIT fails to compile here rather than going missing.
#![allow(missing_docs)] // generated code

wasmtime::component::bindgen!({
    world: "handler",
    path: "../wit",
    imports: { default: async },
    additional_derives: [PartialEq],
});

pub use chaoslab::sidecar::{chaos, store, telemetry};

use crate::wire;

/// A value of one rendering of a WIT type turned into the other rendering.
pub trait Mirror<T> {
    /// The same value, as `T`.
    fn mirror(self) -> T;
}

macro_rules! same {
    ($($t:ty),*) => { $(impl Mirror<$t> for $t { fn mirror(self) -> $t { self } })* };
}
same!(bool, u8, u16, u32, u64, i64, String);

impl<A: Mirror<B>, B> Mirror<Option<B>> for Option<A> {
    fn mirror(self) -> Option<B> {
        self.map(Mirror::mirror)
    }
}

impl<A: Mirror<B>, B> Mirror<Vec<B>> for Vec<A> {
    fn mirror(self) -> Vec<B> {
        self.into_iter().map(Mirror::mirror).collect()
    }
}

impl<A: Mirror<B>, B, E: Mirror<F>, F> Mirror<Result<B, F>> for Result<A, E> {
    fn mirror(self) -> Result<B, F> {
        self.map(Mirror::mirror).map_err(Mirror::mirror)
    }
}

/// Both directions for a record: `iface::Type { field, … }`.
macro_rules! record {
    ($iface:ident :: $ty:ident { $($field:ident),* $(,)? }) => {
        record!(@one $iface::$ty => wire::$iface::$ty { $($field),* });
        record!(@one wire::$iface::$ty => $iface::$ty { $($field),* });
    };
    (@one $from:ty => $to:ty { $($field:ident),* }) => {
        impl Mirror<$to> for $from {
            fn mirror(self) -> $to {
                type To = $to;
                To { $($field: Mirror::mirror(self.$field)),* }
            }
        }
    };
}

/// Both directions for a variant or enum: `iface::Type { Case(payload), Case, … }`.
macro_rules! variant {
    ($iface:ident :: $ty:ident { $($case:ident $(($x:ident))?),* $(,)? }) => {
        variant!(@one $iface::$ty => wire::$iface::$ty { $($case $(($x))?),* });
        variant!(@one wire::$iface::$ty => $iface::$ty { $($case $(($x))?),* });
    };
    (@one $from:ty => $to:ty { $($case:ident $(($x:ident))?),* }) => {
        impl Mirror<$to> for $from {
            fn mirror(self) -> $to {
                type To = $to;
                match self {
                    $(Self::$case $(($x))? => To::$case $((Mirror::mirror($x)))?),*
                }
            }
        }
    };
}

variant!(store::Error { Unavailable(m), Timeout(m), Denied(m), Other(m) });

record!(chaos::LoadSpec { cpu_percent, workers, memory_mb });
record!(chaos::LatencySpec { ms, jitter_ms, percent, routes, methods });
record!(chaos::ErrorsSpec { status, percent, routes, methods });
variant!(chaos::RedisMode { Blackhole, Fail, Slow });
record!(chaos::RedisSpec { mode, latency_ms, percent });
variant!(chaos::Fault { Load(x), Hang, Latency(x), Errors(x), Redis(x) });
variant!(chaos::EndReason { Expired, Stopped });
variant!(chaos::Scope { Replica, All, Count(x), Percent(x) });
record!(chaos::Experiment { id, fault, started_at_ms, ends_at_ms, ended_at_ms, end_reason, scope, replicas });
record!(chaos::ReplicaView { name, seen_at_ms, answering, active, load });
record!(chaos::ClusterStatus { now_ms, replica, replicas });
record!(chaos::LoadReport { cpu_workers, memory_mib });
record!(chaos::ChaosStatus { seed, now_ms, active, recent, load });
record!(chaos::InvalidField { field, message });
record!(chaos::ChaosLimits { max_duration_seconds, max_workers, max_memory_mb, max_experiments });
variant!(chaos::Error { Invalid(x), Limit(m), Conflict(m), NotFound(m), Disabled, Unavailable(m) });
record!(chaos::Decision { hang_ms, delay_ms, fail_status, experiments });

record!(telemetry::Attribute { key, value });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_crosses_both_ways_unchanged() {
        let wire = wire::chaos::Fault::Latency(wire::chaos::LatencySpec {
            ms: 5,
            jitter_ms: 1,
            percent: 50,
            routes: Some(vec!["/".into()]),
            methods: None,
        });
        let host: chaos::Fault = wire.clone().mirror();
        assert!(
            matches!(&host, chaos::Fault::Latency(l) if l.ms == 5 && l.routes.as_deref() == Some(&["/".to_owned()][..]))
        );
        let back: wire::chaos::Fault = host.mirror();
        assert_eq!(back, wire);
    }

    #[test]
    fn errors_keep_their_case_and_reason() {
        let err: Result<i64, store::Error> = Err(store::Error::Timeout("slow".into()));
        let wire: Result<i64, wire::store::Error> = err.mirror();
        assert_eq!(wire, Err(wire::store::Error::Timeout("slow".into())));
        let disabled: wire::chaos::Error = chaos::Error::Disabled.mirror();
        assert_eq!(disabled, wire::chaos::Error::Disabled);
    }
}
