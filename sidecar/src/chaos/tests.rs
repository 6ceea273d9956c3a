//! Engine unit tests with a manual clock: leases, overlap rules, bounds,
//! seeded replay. No runtime, no Redis.

use std::sync::Arc;

use super::*;
use crate::secret::Secret;

/// The manual clock's start (ms since the epoch).
pub(crate) const T0: u64 = 1_800_000_000_000;

/// An enabled engine of replica `replica-a` on a manual clock at [`T0`].
pub(crate) fn engine(seed: u64) -> (ChaosEngine, ManualClock) {
    let clock = ManualClock::at(T0);
    let config = EngineConfig {
        enabled: true,
        token: Some(token("s3cret")),
        seed,
        limits: Limits::default(),
        replica: "replica-a".into(),
    };
    (ChaosEngine::new(config, Arc::new(clock.clone())), clock)
}

fn token(value: &str) -> Secret {
    Secret::new(value, 1).unwrap()
}

fn errors(percent: u32) -> Fault {
    Fault::Errors(ErrorsSpec { status: 503, percent, routes: None, methods: None })
}

#[test]
fn experiments_expire_at_their_lease_without_any_stop() {
    let (engine, clock) = engine(1);
    let exp = engine.start(Fault::Hang, 10).unwrap();
    assert_eq!(exp.ends_at_ms, T0 + 10_000);
    assert_eq!(engine.decide("/", "GET").hang_ms, Some(10_000));
    clock.advance_ms(9_999);
    assert_eq!(engine.decide("/health", "GET").hang_ms, Some(1));
    clock.advance_ms(1);
    assert_eq!(engine.decide("/", "GET"), no_fault());
    let status = engine.status().unwrap();
    assert!(status.active.is_empty());
    assert_eq!(status.recent[0].end_reason, Some(EndReason::Expired));
    assert_eq!(status.recent[0].ended_at_ms, Some(T0 + 10_000));
}

#[test]
fn stop_ends_one_and_stop_all_ends_every_experiment() {
    let (engine, clock) = engine(1);
    let hang = engine.start(Fault::Hang, 60).unwrap();
    engine.start(errors(100), 60).unwrap();
    clock.advance_ms(500);
    let stopped = engine.stop(&hang.id).unwrap();
    assert_eq!((stopped.end_reason, stopped.ended_at_ms), (Some(EndReason::Stopped), Some(T0 + 500)));
    assert_eq!(engine.stop(&hang.id), Err(ChaosError::NotFound(hang.id.clone())));
    assert_eq!(engine.stop_all().unwrap().len(), 1);
    assert!(engine.status().unwrap().active.is_empty());
    assert_eq!(engine.status().unwrap().recent.len(), 2);
}

#[test]
fn one_experiment_per_kind_and_a_cap_on_all() {
    let (engine, _) = engine(1);
    let first = engine.start(errors(10), 60).unwrap();
    let err = engine.start(errors(20), 60).unwrap_err();
    assert!(matches!(&err, ChaosError::Conflict(m) if m.contains(&first.id)), "{err:?}");
    // Different kinds overlap freely, up to the cap (8 by default; 5 kinds here).
    engine.start(Fault::Hang, 60).unwrap();
    let lat = LatencySpec { ms: 10, jitter_ms: 0, percent: 100, routes: None, methods: None };
    engine.start(Fault::Latency(lat), 60).unwrap();
    let redis = RedisSpec { mode: RedisMode::Fail, latency_ms: 0, percent: 100 };
    engine.start(Fault::Redis(redis), 60).unwrap();
    assert_eq!(engine.status().unwrap().active.len(), 4);
}

#[test]
fn experiment_cap_answers_limit() {
    let clock = ManualClock::at(T0);
    let limits = Limits { max_experiments: 1, ..Limits::default() };
    let config = EngineConfig { enabled: true, token: Some(token("t")), seed: 0, limits, replica: "r".into() };
    let engine = ChaosEngine::new(config, Arc::new(clock));
    engine.start(Fault::Hang, 5).unwrap();
    assert!(matches!(engine.start(errors(10), 5), Err(ChaosError::Limit(_))));
}

#[test]
fn bounds_name_every_field_at_fault() {
    let (engine, _) = engine(1);
    let load = LoadSpec { cpu_percent: 0, workers: 10_000, memory_mb: 1 << 20 };
    let Err(ChaosError::Invalid(fields)) = engine.start(Fault::Load(load), 0) else { panic!("accepted") };
    let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["duration_seconds", "cpu_percent", "workers", "memory_mb"]);
    assert_eq!(fields[0].message, "must be between 1 and 3600, got 0");
    let bad =
        ErrorsSpec { status: 200, percent: 101, routes: Some(vec!["x".into()]), methods: Some(vec!["G T".into()]) };
    let Err(ChaosError::Invalid(fields)) = engine.start(Fault::Errors(bad), 5) else { panic!("accepted") };
    let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["status", "percent", "routes", "methods"]);
    let slow = RedisSpec { mode: RedisMode::Slow, latency_ms: 0, percent: 100 };
    assert!(matches!(engine.start(Fault::Redis(slow), 5), Err(ChaosError::Invalid(f)) if f[0].field == "latency_ms"));
    assert!(engine.status().unwrap().active.is_empty(), "nothing invalid starts");
}

#[test]
fn same_seed_replays_the_same_decisions() {
    let run = |seed| {
        let (engine, _) = engine(seed);
        engine.start(errors(30), 60).unwrap();
        (0..1000).map(|_| engine.decide("/", "GET").fail_status.is_some()).collect::<Vec<_>>()
    };
    let a = run(42);
    assert_eq!(a, run(42));
    assert_ne!(a, run(43));
    let share = a.iter().filter(|hit| **hit).count() as f64 / a.len() as f64;
    assert!((share - 0.30).abs() < 0.05, "share {share}");
}

#[test]
fn route_filters_limit_latency_and_errors() {
    let (engine, _) = engine(1);
    let lat = LatencySpec { ms: 100, jitter_ms: 50, percent: 100, routes: Some(vec!["/health".into()]), methods: None };
    engine.start(Fault::Latency(lat), 60).unwrap();
    assert_eq!(engine.decide("/", "GET").delay_ms, 0);
    let d = engine.decide("/health", "GET").delay_ms;
    assert!((100..=150).contains(&d), "{d}");
}

#[test]
fn faults_without_routes_spare_the_health_probe_but_a_hang_holds_it() {
    let (engine, _) = engine(1);
    engine.start(errors(100), 60).unwrap();
    let lat = LatencySpec { ms: 100, jitter_ms: 0, percent: 100, routes: None, methods: None };
    engine.start(Fault::Latency(lat), 60).unwrap();
    let visit = engine.decide("/", "GET");
    assert_eq!((visit.fail_status, visit.delay_ms), (Some(503), 100));
    assert_eq!(engine.decide("/orders/7", "POST").fail_status, Some(503), "every data-plane path");
    assert_eq!(engine.decide(HEALTH_PROBE, "GET"), no_fault());
    engine.start(Fault::Hang, 60).unwrap();
    assert_eq!(engine.decide(HEALTH_PROBE, "GET").hang_ms, Some(60_000));
}

#[test]
fn method_filters_limit_latency_and_errors() {
    let (engine, _) = engine(1);
    let spec = ErrorsSpec { status: 500, percent: 100, routes: None, methods: Some(vec!["POST".into()]) };
    engine.start(Fault::Errors(spec), 60).unwrap();
    assert_eq!(engine.decide("/", "GET").fail_status, None);
    assert_eq!(engine.decide("/", "POST").fail_status, Some(500));
    assert_eq!(engine.decide("/", "post").fail_status, None, "methods are case-sensitive, as in HTTP");
}

#[test]
fn redis_fault_applies_to_store_calls() {
    let (engine, clock) = engine(1);
    assert_eq!(engine.redis_fault(), None);
    let exp =
        engine.start(Fault::Redis(RedisSpec { mode: RedisMode::Blackhole, latency_ms: 0, percent: 100 }), 2).unwrap();
    assert_eq!(engine.redis_fault().unwrap().experiment, exp.id);
    clock.advance_ms(2_000);
    assert_eq!(engine.redis_fault(), None);
}

#[test]
fn token_comparison_and_disabled_engine() {
    let (engine, _) = engine(1);
    assert_eq!(engine.authorize("s3cret"), Ok(true));
    assert_eq!(engine.authorize("s3cre"), Ok(false));
    assert_eq!(engine.authorize("s3cret!"), Ok(false));
    assert_eq!(engine.authorize(""), Ok(false));
    let config = EngineConfig {
        enabled: false,
        token: Some(token("t")),
        seed: 0,
        limits: Limits::default(),
        replica: "r".into(),
    };
    let off = ChaosEngine::new(config, Arc::new(ManualClock::at(T0)));
    assert_eq!(off.authorize("t"), Err(ChaosError::Disabled), "disabled says so itself, whatever the bearer");
    assert_eq!(off.start(Fault::Hang, 5), Err(ChaosError::Disabled));
    assert_eq!(off.decide("/", "GET"), no_fault());
}

#[test]
fn recent_keeps_the_last_fifty_newest_first() {
    let (engine, _) = engine(1);
    for _ in 0..60 {
        let exp = engine.start(Fault::Hang, 5).unwrap();
        engine.stop(&exp.id).unwrap();
    }
    let recent = engine.status().unwrap().recent;
    assert_eq!(recent.len(), engine::RECENT);
    assert_eq!(recent[0].id, "exp-60");
}

#[test]
fn a_latency_delay_never_outlasts_its_experiment() {
    let (engine, clock) = engine(1);
    let lat = LatencySpec { ms: 60_000, jitter_ms: 0, percent: 100, routes: None, methods: None };
    engine.start(Fault::Latency(lat), 10).unwrap();
    assert_eq!(engine.decide("/", "GET").delay_ms, 10_000, "cut at the lease");
    clock.advance_ms(9_750);
    assert_eq!(engine.decide("/", "GET").delay_ms, 250, "a moment before the end, only what is left");
}

#[test]
fn route_lengths_are_counted_in_characters() {
    let (engine, _) = engine(1);
    let route = |n: usize| format!("/{}", "é".repeat(n - 1));
    let spec = |r: String| ErrorsSpec { status: 503, percent: 1, routes: Some(vec![r]), methods: None };
    assert!(engine.start(Fault::Errors(spec(route(256))), 5).is_ok(), "256 characters (511 bytes) fit");
    engine.stop_all().unwrap();
    let Err(ChaosError::Invalid(fields)) = engine.start(Fault::Errors(spec(route(257))), 5) else { panic!("accepted") };
    assert_eq!(fields[0].field, "routes");
}

#[test]
fn starting_a_memory_load_does_not_hold_the_engine() {
    let (engine, _) = engine(1);
    let started = std::time::Instant::now();
    engine.start(Fault::Load(LoadSpec { cpu_percent: 1, workers: 0, memory_mb: 256 }), 5).unwrap();
    let decide = engine.decide("/", "GET");
    let took = started.elapsed();
    assert_eq!(decide, no_fault());
    // Touching 256 MiB takes hundreds of ms; the start and the next decision must not wait for it.
    assert!(took < std::time::Duration::from_millis(100), "start + decide took {took:?}");
    let filled = (0..500).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        engine.status().unwrap().load.memory_mib == 256
    });
    assert!(filled, "the balloon was filled in the background: {:?}", engine.status().unwrap().load);
    engine.stop_all().unwrap();
    assert_eq!(engine.status().unwrap().load.memory_mib, 0, "freed with its experiment");
}

/// A shared experiment as another replica wrote it.
pub(crate) fn shared(id: &str, scope: Scope, replicas: &[&str], ends_in_ms: u64) -> Experiment {
    Experiment {
        id: id.into(),
        fault: errors(100),
        started_at_ms: T0,
        ends_at_ms: T0 + ends_in_ms,
        ended_at_ms: None,
        end_reason: None,
        scope,
        replicas: replicas.iter().map(|r| (*r).to_owned()).collect(),
    }
}

#[test]
fn a_replica_experiment_targets_this_replica_by_name() {
    let (engine, _) = engine(1);
    let exp = engine.start(Fault::Hang, 5).unwrap();
    assert_eq!((exp.scope, exp.replicas), (Scope::Replica, vec!["replica-a".to_owned()]));
}

#[test]
fn a_shared_experiment_is_adopted_once_and_never_brought_back_after_its_stop() {
    let (engine, clock) = engine(1);
    let exp = shared("exp-c1", Scope::All, &[], 10_000);
    assert!(engine.is_target(&exp));
    assert!(engine.adopt(exp.clone()));
    assert!(!engine.adopt(exp.clone()), "already running");
    assert_eq!(engine.decide("/", "GET").fail_status, Some(503));
    assert_eq!(engine.shared_ids(), vec!["exp-c1".to_owned()]);
    let ended = engine.end_shared("exp-c1").unwrap();
    assert_eq!(ended.end_reason, Some(EndReason::Stopped));
    assert!(!engine.adopt(exp), "a late read does not restart a stopped experiment");
    clock.advance_ms(20_000);
    assert!(!engine.adopt(shared("exp-c2", Scope::All, &[], 10_000)), "past its lease");
    assert_eq!(engine.end_shared("exp-c9"), None);
}

#[test]
fn a_subset_targets_only_the_replicas_it_names() {
    let (engine, _) = engine(1);
    assert!(engine.is_target(&shared("exp-c1", Scope::Count(1), &["replica-a"], 5_000)));
    assert!(!engine.is_target(&shared("exp-c1", Scope::Count(1), &["replica-b"], 5_000)));
    assert!(!engine.is_target(&shared("exp-c1", Scope::Replica, &["replica-a"], 5_000)), "another's own");
}

#[test]
fn picks_replay_with_the_seed_and_never_repeat_a_name() {
    let names: Vec<String> = (0..10).map(|i| format!("r{i}")).collect();
    let picks = |seed| {
        let (engine, _) = engine(seed);
        (engine.pick(names.clone(), 3), engine.pick(names.iter().rev().cloned().collect(), 3))
    };
    let (first, second) = picks(7);
    assert_eq!(picks(7), (first.clone(), second), "same seed, same picks, whatever the order given");
    assert_eq!(first.len(), 3);
    assert!(first.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats: {first:?}");
    let (engine, _) = engine(1);
    assert_eq!(engine.pick(names.clone(), 20).len(), 10, "never more than there are");
}

#[test]
fn scopes_are_bounded() {
    let (engine, _) = engine(1);
    let Err(ChaosError::Invalid(fields)) = engine.admit(&Fault::Hang, 5, &Scope::Count(0)) else { panic!("accepted") };
    assert_eq!(fields[0].field, "replicas");
    let Err(ChaosError::Invalid(fields)) = engine.admit(&Fault::Hang, 5, &Scope::Percent(101)) else {
        panic!("accepted")
    };
    assert_eq!(fields[0].field, "replicas_percent");
    assert!(engine.admit(&Fault::Hang, 5, &Scope::Percent(100)).is_ok());
}
