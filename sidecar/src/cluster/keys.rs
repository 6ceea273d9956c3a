//! The Redis keys and channel of the chaos coordination, all under
//! `chaoslab:chaos:`, and bounded: besides the id counter (one key), every
//! key expires by itself — an experiment with its lease, a heartbeat with
//! its TTL, the two indexes with their newest member — so neither running
//! experiments nor replicas coming and going make the key count grow.
//!
//! Every key carries the hash tag `{cluster}`, so all of them live in one
//! hash slot: the `MULTI` that writes an experiment and its index entry
//! then stays valid on a sharded Redis (Azure Managed Redis shards behind
//! its one endpoint).

/// The namespace of every coordination key.
pub const PREFIX: &str = "chaoslab:chaos:{cluster}:";

/// The counter of shared experiment ids (`INCR`), the one key without a TTL:
/// ids must never repeat, or a replica that remembers an ended experiment
/// would refuse a new one of the same id.
pub fn seq() -> String {
    format!("{PREFIX}seq")
}

/// Sorted set of the shared experiments' ids, scored by lease end (ms):
/// members past their end are pruned on every write, and the key expires
/// with its newest lease.
pub fn experiments() -> String {
    format!("{PREFIX}experiments")
}

/// One shared experiment (JSON of the WIT `experiment`), expiring with its lease.
pub fn experiment(id: &str) -> String {
    format!("{PREFIX}experiment:{id}")
}

/// Sorted set of replica names, scored by last heartbeat (ms): how replicas
/// that stopped answering are still found (and shown) for a while.
pub fn replicas() -> String {
    format!("{PREFIX}replicas")
}

/// One replica's heartbeat (JSON of the WIT `replica-view`), expiring with
/// the heartbeat TTL.
pub fn heartbeat(replica: &str) -> String {
    format!("{PREFIX}replica:{replica}")
}

/// The pub/sub channel announcing a start or a stop (the message is the id;
/// replicas re-read the experiments, so a lost message costs only time).
pub fn channel() -> String {
    format!("{PREFIX}events")
}

/// The prefix of shared experiment ids: `exp-c7` (replica-scoped ones are
/// `exp-7`, numbered by each engine), so any replica can tell a shared id
/// from its own.
pub const SHARED_ID_PREFIX: &str = "exp-c";

/// True for the id of a shared experiment.
pub fn is_shared_id(id: &str) -> bool {
    id.strip_prefix(SHARED_ID_PREFIX).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_namespaced_and_in_one_slot() {
        for key in [seq(), experiments(), experiment("exp-c1"), replicas(), heartbeat("h:1"), channel()] {
            assert!(key.starts_with("chaoslab:chaos:{cluster}:"), "{key}");
        }
    }

    #[test]
    fn shared_ids_are_told_from_replica_ids() {
        assert!(is_shared_id("exp-c12"));
        for id in ["exp-12", "exp-c", "exp-cx", "c12"] {
            assert!(!is_shared_id(id), "{id}");
        }
    }
}
