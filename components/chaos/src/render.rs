//! JSON renderings of experiments and status for the API's answers.

use serde_json::{Value, json};

use chaoslab_world::wire::chaos::{ChaosStatus, ClusterStatus, EndReason, Experiment, Fault, RedisMode, Scope};

/// The kind's name, as in the route.
pub fn kind(fault: &Fault) -> &'static str {
    match fault {
        Fault::Load(_) => "load",
        Fault::Hang => "hang",
        Fault::Latency(_) => "latency",
        Fault::Errors(_) => "errors",
        Fault::Redis(_) => "redis",
    }
}

fn parameters(fault: &Fault) -> Value {
    match fault {
        Fault::Load(l) => json!({ "cpu_percent": l.cpu_percent, "workers": l.workers, "memory_mb": l.memory_mb }),
        Fault::Hang => json!({}),
        Fault::Latency(l) => json!({
            "ms": l.ms, "jitter_ms": l.jitter_ms, "percent": l.percent, "routes": l.routes, "methods": l.methods,
        }),
        Fault::Errors(e) => {
            json!({ "status": e.status, "percent": e.percent, "routes": e.routes, "methods": e.methods })
        }
        Fault::Redis(r) => {
            let mode = match r.mode {
                RedisMode::Blackhole => "blackhole",
                RedisMode::Fail => "fail",
                RedisMode::Slow => "slow",
            };
            json!({ "mode": mode, "latency_ms": r.latency_ms, "percent": r.percent })
        }
    }
}

/// One experiment; `now_ms` adds `remaining_ms` to running ones.
pub fn experiment(e: &Experiment, now_ms: Option<u64>) -> Value {
    let mut v = json!({
        "id": e.id,
        "kind": kind(&e.fault),
        "parameters": parameters(&e.fault),
        "started_at_ms": e.started_at_ms,
        "ends_at_ms": e.ends_at_ms,
        "duration_seconds": (e.ends_at_ms - e.started_at_ms) / 1000,
        "scope": crate::scope::name(&e.scope),
        "replicas": e.replicas,
    });
    match e.scope {
        Scope::Count(n) => v["replicas_requested"] = json!(n),
        Scope::Percent(p) => v["replicas_percent"] = json!(p),
        Scope::Replica | Scope::All => {}
    }
    match (&e.ended_at_ms, now_ms) {
        (Some(ended), _) => {
            v["ended_at_ms"] = json!(ended);
            v["end_reason"] = json!(e.end_reason.map(|r| match r {
                EndReason::Expired => "expired",
                EndReason::Stopped => "stopped",
            }));
        }
        (None, Some(now)) => v["remaining_ms"] = json!(e.ends_at_ms.saturating_sub(now)),
        (None, None) => {}
    }
    v
}

/// `GET /chaos/status`.
pub fn status(s: &ChaosStatus, replica: &str) -> Value {
    json!({
        "replica": replica,
        "seed": s.seed.to_string(),
        "now_ms": s.now_ms,
        "active": s.active.iter().map(|e| experiment(e, Some(s.now_ms))).collect::<Vec<_>>(),
        "recent": s.recent.iter().map(|e| experiment(e, None)).collect::<Vec<_>>(),
        "load": { "cpu_workers": s.load.cpu_workers, "memory_mib": s.load.memory_mib },
    })
}

/// `GET /chaos/status?scope=all`.
pub fn cluster_status(s: &ClusterStatus) -> Value {
    let replicas: Vec<Value> = s
        .replicas
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "answering": r.answering,
                "seen_at_ms": r.seen_at_ms,
                "active": r.active.iter().map(|e| experiment(e, Some(s.now_ms))).collect::<Vec<_>>(),
                "load": { "cpu_workers": r.load.cpu_workers, "memory_mib": r.load.memory_mib },
            })
        })
        .collect();
    json!({ "replica": s.replica, "now_ms": s.now_ms, "replicas": replicas })
}
