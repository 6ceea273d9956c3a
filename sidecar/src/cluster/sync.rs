//! The coordination's background task, one per replica: on every tick of
//! `--chaos-heartbeat-interval` it subscribes (again: a subscription
//! connection replaced after refused credentials starts without one),
//! writes the heartbeat and re-reads the shared experiments; on every announcement it
//! re-reads at once. A re-read applies the experiments that target this
//! replica and are not applied yet, and ends those applied here before it
//! that are no longer in Redis (stopped on another replica). Failures are
//! logged once per outage, not once per tick.

use std::collections::HashSet;

use redis::{PushInfo, PushKind};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::MissedTickBehavior;

use super::{Cluster, LinkError};
use crate::chaos::{ChaosEngine, Experiment};

/// A shared experiment this close (ms) to its lease end is left to expire
/// here rather than ended as "stopped" when Redis no longer has it: the
/// key expires on Redis's clock, which may run a little ahead of ours.
const CLOCK_SLACK_MS: u64 = 1000;

/// Runs until the process ends (or the push channel closes with the link).
pub async fn run(cluster: Cluster, mut pushes: UnboundedReceiver<PushInfo>) {
    let mut tick = tokio::time::interval(cluster.settings.interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut healthy = true;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let outcome = async {
                    // A subscription that failed does not hold up the
                    // heartbeat and the re-read; it is reported after them.
                    let subscribed = cluster.link.subscribe().await;
                    heartbeat(&cluster).await?;
                    reconcile(&cluster).await?;
                    subscribed
                }
                .await;
                report(&mut healthy, outcome);
            }
            push = pushes.recv() => {
                let Some(push) = push else { return };
                if push.kind == PushKind::Message {
                    // Coalesce a burst of announcements into one re-read.
                    while pushes.try_recv().is_ok() {}
                    report(&mut healthy, reconcile(&cluster).await);
                } else if push.kind == PushKind::Disconnection {
                    tracing::debug!("coordination connection lost; redis-rs reconnects and resubscribes");
                }
            }
        }
    }
}

/// Logs the first failure of an outage and the recovery.
fn report(healthy: &mut bool, outcome: Result<(), LinkError>) {
    match (outcome, *healthy) {
        (Err(err), true) => {
            tracing::warn!(error = %err, "chaos coordination lost; replica-scoped experiments keep working");
            *healthy = false;
        }
        (Ok(()), false) => {
            tracing::info!("chaos coordination restored");
            *healthy = true;
        }
        _ => {}
    }
}

/// Writes this replica's heartbeat.
async fn heartbeat(cluster: &Cluster) -> Result<(), LinkError> {
    // Chaos switched off never starts this task; a view always exists.
    let Ok(view) = cluster.view() else { return Ok(()) };
    cluster.link.heartbeat(&view, cluster.settings.ttl, cluster.settings.forget_after()).await
}

/// Brings this replica in line with the shared experiments in Redis.
async fn reconcile(cluster: &Cluster) -> Result<(), LinkError> {
    let engine = &cluster.engine;
    // What ran here before the read. Only those can have been stopped
    // elsewhere: one this replica starts while the read is on its way is
    // written to Redis and then adopted, so the read may miss it, and ending
    // it would keep it off this replica for good (an ended id is never
    // adopted again).
    let before = engine.shared_leases();
    let now = engine.now_ms();
    let shared = cluster.link.experiments(now).await?;
    apply(engine, &before, shared, now);
    Ok(())
}

/// Ends the experiments of `before` that `shared` (read after `before` was
/// taken) no longer has, and adopts those of `shared` that target this replica.
fn apply(engine: &ChaosEngine, before: &[(String, u64)], shared: Vec<Experiment>, now: u64) {
    let in_redis: HashSet<&str> = shared.iter().map(|e| e.id.as_str()).collect();
    for (id, ends_at_ms) in before {
        if !in_redis.contains(id.as_str()) && *ends_at_ms > now + CLOCK_SLACK_MS && engine.end_shared(id).is_some() {
            tracing::info!(experiment = %id, "shared chaos experiment stopped from another replica");
        }
    }
    for experiment in shared {
        if engine.is_target(&experiment) {
            let id = experiment.id.clone();
            if engine.adopt(experiment) {
                tracing::info!(experiment = %id, "shared chaos experiment applied on this replica");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chaos::Scope;
    use crate::chaos::tests::{T0, engine, shared};

    #[test]
    fn a_read_that_missed_an_experiment_started_here_meanwhile_leaves_it_running() {
        let (engine, _) = engine(1);
        let before = engine.shared_leases();
        // The read goes out; meanwhile this replica starts one: written, then adopted.
        assert!(engine.adopt(shared("exp-c1", Scope::All, &[], 30_000)));
        apply(&engine, &before, Vec::new(), T0);
        assert_eq!(engine.shared_ids(), vec!["exp-c1".to_owned()], "the stale read ended it");
    }

    #[test]
    fn a_read_without_an_experiment_that_ran_before_it_ends_it_and_adopts_what_is_new() {
        let (engine, _) = engine(1);
        assert!(engine.adopt(shared("exp-c1", Scope::All, &[], 30_000)));
        let before = engine.shared_leases();
        apply(&engine, &before, vec![shared("exp-c2", Scope::All, &[], 30_000)], T0);
        assert_eq!(engine.shared_ids(), vec!["exp-c2".to_owned()], "c1 was stopped elsewhere, c2 is new");
    }
}
