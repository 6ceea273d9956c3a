//! The parser on the host (`cargo test -p chaoslab-chaos`): defaults,
//! content types, and the field named in every refusal.

use super::*;

const JSON: Option<&str> = Some("application/json");

/// The default limits of a 2-core replica.
pub(crate) const LIMITS: ChaosLimits =
    ChaosLimits { max_duration_seconds: 3600, max_workers: 2, max_memory_mb: 512, max_experiments: 8 };

fn parse(kind: &str, content_type: Option<&str>, body: &[u8]) -> Result<StartRequest, BodyError> {
    super::parse(kind, content_type, body, &LIMITS)
}

fn refused(kind: &str, content_type: Option<&str>, body: &str) -> BodyError {
    parse(kind, content_type, body.as_bytes()).expect_err("accepted")
}

#[test]
fn an_empty_body_means_every_default_whatever_its_content_type() {
    for content_type in [None, JSON, Some("text/plain")] {
        let hang = parse("hang", content_type, b"").unwrap();
        assert!(matches!(hang.fault, Fault::Hang) && hang.duration_seconds == 300, "{hang:?}");
    }
    let load = parse("load", None, b"  \n").unwrap();
    assert!(matches!(load.fault, Fault::Load(LoadSpec { cpu_percent: 80, workers: 1, memory_mb: 0 })));
    assert_eq!(load.duration_seconds, 60);
    let Fault::Latency(lat) = parse("latency", None, b"").unwrap().fault else { panic!("not latency") };
    assert_eq!((lat.ms, lat.percent, lat.routes, lat.methods), (500, 100, None, None));
}

#[test]
fn a_body_must_be_json() {
    let err = refused("hang", Some("text/plain"), r#"{"duration_seconds":5}"#);
    assert_eq!(err.status, 415, "{err:?}");
    let err = refused("hang", None, r#"{"duration_seconds":5}"#);
    assert_eq!(err.status, 415, "{err:?}");
    assert!(parse("hang", Some("application/problem+json; charset=utf-8"), br#"{"duration_seconds":5}"#).is_ok());
}

#[test]
fn refusals_name_the_field_at_fault() {
    let err = refused("latency", JSON, r#"{"ms":10,"bogus":1}"#);
    assert_eq!((err.status, err.field.as_deref()), (400, Some("bogus")), "{err:?}");
    let err = refused("errors", JSON, r#"{"status":"five hundred"}"#);
    assert_eq!((err.status, err.field.as_deref()), (400, Some("status")), "{err:?}");
    let err = refused("redis", JSON, "{}");
    assert_eq!((err.status, err.field.as_deref()), (400, Some("mode")), "{err:?}");
    let err = refused("redis", None, "");
    assert_eq!(err.field.as_deref(), Some("mode"), "redis has no default mode: {err:?}");
    let err = refused("latency", JSON, r#"{"methods":"GET"}"#);
    assert_eq!(err.field.as_deref(), Some("methods"), "{err:?}");
    let err = refused("load", JSON, "{");
    assert_eq!((err.status, err.field), (400, None), "malformed JSON");
}

#[test]
fn filters_and_modes_are_read() {
    let body = br#"{"status":503,"percent":30,"routes":["/"],"methods":["POST"],"duration_seconds":5}"#;
    let Fault::Errors(spec) = parse("errors", JSON, body).unwrap().fault else { panic!("not errors") };
    assert_eq!((spec.status, spec.percent), (503, 30));
    assert_eq!((spec.routes.unwrap(), spec.methods.unwrap()), (vec!["/".to_owned()], vec!["POST".to_owned()]));
    let Fault::Redis(spec) = parse("redis", JSON, br#"{"mode":"slow","latency_ms":50}"#).unwrap().fault else {
        panic!("not redis")
    };
    assert_eq!((spec.mode, spec.latency_ms, spec.percent), (RedisMode::Slow, 50, 100));
}

#[test]
fn the_scope_defaults_to_this_replica_and_a_subset_implies_all() {
    assert_eq!(parse("hang", None, b"").unwrap().scope, Scope::Replica);
    assert_eq!(parse("hang", JSON, br#"{"scope":"all"}"#).unwrap().scope, Scope::All);
    assert_eq!(parse("latency", JSON, br#"{"scope":"replica"}"#).unwrap().scope, Scope::Replica);
    assert_eq!(parse("errors", JSON, br#"{"scope":"all","replicas":2}"#).unwrap().scope, Scope::Count(2));
    assert_eq!(parse("load", JSON, br#"{"replicas_percent":50}"#).unwrap().scope, Scope::Percent(50));
    assert_eq!(parse("redis", JSON, br#"{"mode":"fail","replicas":1}"#).unwrap().scope, Scope::Count(1));
}

#[test]
fn contradictory_scopes_are_refused_naming_the_field() {
    let err = refused("hang", JSON, r#"{"scope":"replica","replicas":2}"#);
    assert_eq!((err.status, err.field.as_deref()), (400, Some("replicas")), "{err:?}");
    let err = refused("hang", JSON, r#"{"replicas":2,"replicas_percent":50}"#);
    assert_eq!((err.status, err.field.as_deref()), (400, Some("replicas_percent")), "{err:?}");
    for bad in [r#"{"scope":"everywhere"}"#, r#"{"scope":null}"#] {
        let err = refused("hang", JSON, bad);
        assert_eq!((err.status, err.field.as_deref()), (400, Some("scope")), "{bad}: {err:?}");
    }
    let err = refused("hang", JSON, r#"{"replicas":1.5}"#);
    assert_eq!((err.status, err.field.as_deref()), (400, Some("replicas")), "{err:?}");
}

#[test]
fn bodies_over_the_limit_are_refused() {
    let big = vec![b' '; MAX_BODY + 1];
    assert_eq!(parse("hang", JSON, &big).unwrap_err().status, 413);
}

#[test]
fn integers_may_be_whole_floats_but_not_fractions() {
    let Fault::Latency(lat) = parse("latency", JSON, br#"{"ms":60.0,"percent":1e2}"#).unwrap().fault else {
        panic!("not latency")
    };
    assert_eq!((lat.ms, lat.percent), (60, 100));
    assert_eq!(parse("hang", JSON, br#"{"duration_seconds":176.0}"#).unwrap().duration_seconds, 176);
    let err = refused("hang", JSON, r#"{"duration_seconds":1.5}"#);
    assert_eq!((err.status, err.field.as_deref()), (400, Some("duration_seconds")), "{err:?}");
    let err = refused("latency", JSON, r#"{"ms":-1}"#);
    assert_eq!((err.status, err.field.as_deref()), (400, Some("ms")), "{err:?}");
    let err = refused("latency", JSON, r#"{"ms":4294967296}"#);
    assert_eq!(err.field.as_deref(), Some("ms"), "{err:?}");
}

#[test]
fn only_an_object_is_a_body() {
    for body in ["[]", "[700,5,50,null,2]", "5", "\"x\"", "null", " [ ]"] {
        let err = refused("latency", JSON, body);
        assert_eq!(err.status, 400, "{body}: {err:?}");
        assert!(err.detail.contains("JSON object"), "{body}: {err:?}");
    }
    let err = refused("hang", JSON, r#"{"duration_seconds":null}"#);
    assert_eq!((err.status, err.field.as_deref()), (400, Some("duration_seconds")), "null is not a default");
}

#[test]
fn defaults_are_clamped_to_the_configured_limits() {
    let small = ChaosLimits { max_duration_seconds: 30, max_workers: 0, ..LIMITS };
    assert_eq!(super::parse("hang", None, b"", &small).unwrap().duration_seconds, 30);
    assert_eq!(super::parse("errors", JSON, b"{}", &small).unwrap().duration_seconds, 30);
    let load = super::parse("load", JSON, br#"{"memory_mb":8}"#, &small).unwrap();
    assert!(matches!(load.fault, Fault::Load(LoadSpec { workers: 0, memory_mb: 8, .. })), "{load:?}");
    let plain = super::parse("hang", None, b"", &UNCLAMPED).unwrap();
    assert_eq!(plain.duration_seconds, defaults::HANG_DURATION_SECONDS);
    let given = super::parse("hang", JSON, br#"{"duration_seconds":3000}"#, &small).unwrap();
    assert_eq!(given.duration_seconds, 3000, "a given value is the engine's to refuse, not clamped");
}
