//! The document on the host: every reference resolves, the documented body
//! fields are exactly the ones the parser reads, the documented defaults are
//! the parser's, and the bounds follow the limits.

use chaoslab_world::wire::chaos::ChaosLimits;
use serde_json::{Value, json};

use super::{bodies, document};
use crate::body::{self, StartRequest};
use crate::routes::KINDS;

const LIMITS: ChaosLimits =
    ChaosLimits { max_duration_seconds: 120, max_workers: 1, max_memory_mb: 16, max_experiments: 3 };

fn parse(kind: &str, body: &Value) -> Result<StartRequest, body::BodyError> {
    body::parse(kind, Some("application/json"), body.to_string().as_bytes(), &LIMITS)
}

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                out.push(target.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    for doc in [document(Some(&LIMITS)), document(None)] {
        let mut targets = Vec::new();
        refs(&doc, &mut targets);
        assert!(targets.len() > 50, "{}", targets.len());
        for target in targets {
            let pointer = target.strip_prefix('#').expect("local reference");
            assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
        }
    }
}

#[test]
fn the_documented_fields_are_the_ones_the_parser_reads() {
    let doc = document(Some(&LIMITS));
    for kind in KINDS {
        let schema = &doc["components"]["schemas"][bodies::name(kind)];
        let mut documented: Vec<&str> = schema["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        documented.sort_unstable();
        // serde names every field it knows when it refuses an unknown one.
        let err = parse(kind, &json!({ "no_such_field": 1 })).unwrap_err();
        // "expected `a`", "expected `a` or `b`", "expected one of `a`, `b`, `c`".
        let listed = err.detail.split("expected ").nth(1).unwrap_or_else(|| panic!("{kind}: {err:?}"));
        let listed = listed.trim_start_matches("one of ").split(" at line ").next().unwrap_or(listed);
        let mut read: Vec<&str> =
            listed.split([',', ' ']).map(|f| f.trim_matches('`')).filter(|f| !f.is_empty() && *f != "or").collect();
        read.sort_unstable();
        assert_eq!(documented, read, "{kind}: documented vs parsed fields");
    }
}

#[test]
fn the_documented_defaults_are_the_parsers() {
    let doc = document(Some(&LIMITS));
    for kind in KINDS {
        let schema = &doc["components"]["schemas"][bodies::name(kind)];
        let mut explicit = json!({});
        let mut minimal = json!({});
        for (field, property) in schema["properties"].as_object().unwrap() {
            if let Some(default) = property.get("default").filter(|d| !d.is_null()) {
                explicit[field] = default.clone();
            }
        }
        if kind == "redis" {
            explicit["mode"] = json!("fail");
            minimal["mode"] = json!("fail");
        }
        let (a, b) = (parse(kind, &explicit).unwrap(), parse(kind, &minimal).unwrap());
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "{kind}: documented defaults {explicit}");
    }
}

#[test]
fn bounds_and_defaults_follow_the_limits() {
    let doc = document(Some(&LIMITS));
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["StartLoad"]["properties"]["workers"]["maximum"], 1);
    assert_eq!(schemas["StartLoad"]["properties"]["memory_mb"]["maximum"], 16);
    assert_eq!(schemas["StartHang"]["properties"]["duration_seconds"]["maximum"], 120);
    assert_eq!(schemas["StartHang"]["properties"]["duration_seconds"]["default"], 120, "300 clamped to the maximum");
    for kind in KINDS {
        let example =
            &doc["paths"][format!("/chaos/{kind}")]["post"]["requestBody"]["content"]["application/json"]["example"];
        assert!(parse(kind, example).is_ok(), "{kind}: the example {example} parses");
    }
}

#[test]
fn with_chaos_off_the_chaos_api_is_left_out() {
    let doc = document(None);
    let paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(paths, ["/", "/health", "/openapi.json"]);
}
