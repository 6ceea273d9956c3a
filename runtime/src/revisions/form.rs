//! The control API's request bodies: JSON (or, for an uploaded `.wasm`, the
//! query string in the same shape), parsed with the field at fault named
//! and then checked against documented bounds.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use super::canary::Watch;
use super::gate::{self, Gate, Readiness};
use super::registry::Plan;

/// Longest readiness path.
const MAX_PATH: usize = 2048;
/// Bounds of `readiness.successes` and `readiness.failures`.
const MAX_IN_A_ROW: u64 = 100;
/// Longest pause between readiness requests.
const MAX_INTERVAL: Duration = Duration::from_secs(10);
/// Bounds of the gate's deadline.
const TIMEOUT_RANGE: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(600));
/// Largest canary window, in answers.
const MAX_WINDOW_REQUESTS: u64 = 1_000_000;
/// Longest canary window, in seconds.
const MAX_WINDOW_SECONDS: u64 = 3600;
/// The fields of a deploy that are strings even when they look like numbers
/// (query-string form).
const STRING_FIELDS: [&str; 2] = ["component", "readiness.path"];

/// One field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field, dotted (`readiness.path`), or empty for the whole body.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// Why a request body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// Not JSON, a wrong type, an unknown or missing field (400).
    Malformed(FieldError),
    /// A value out of its bounds (422).
    OutOfBounds(FieldError),
}

fn out_of_bounds(field: &str, message: impl Into<String>) -> FormError {
    FormError::OutOfBounds(FieldError { field: field.to_owned(), message: message.into() })
}

/// `POST /_chaoslab/revisions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployForm {
    /// The component to deploy a revision of.
    pub component: String,
    /// A `.wasm` path on the runtime's machine (JSON form only).
    #[serde(default)]
    pub source: Option<String>,
    /// The share once the gate passed: 100 (default), 0, or a canary's.
    #[serde(default)]
    pub traffic: Option<u64>,
    /// Absent: the default readiness requests; `null`: none (instantiation only).
    #[serde(default, deserialize_with = "present")]
    pub readiness: Option<Option<ReadinessForm>>,
    /// The canary's window (with a traffic share of 1–99).
    #[serde(default)]
    pub watch: Option<WatchForm>,
}

/// The `readiness` object; every field has a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadinessForm {
    path: Option<String>,
    successes: Option<u64>,
    failures: Option<u64>,
    interval_ms: Option<u64>,
    timeout_ms: Option<u64>,
}

/// The `watch` object; every field has a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchForm {
    requests: Option<u64>,
    seconds: Option<u64>,
    max_error_ratio_delta: Option<f64>,
}

/// `Some(value)` for a field that is present, even as `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(de: D) -> Result<Option<T>, D::Error> {
    T::deserialize(de).map(Some)
}

impl DeployForm {
    /// The deploy's plan, every value checked against its bounds.
    pub fn plan(&self) -> Result<Plan, FormError> {
        let traffic = self.traffic.unwrap_or(100);
        if traffic > 100 {
            return Err(out_of_bounds("traffic", format!("{traffic} is not a percentage (0–100)")));
        }
        let traffic = u8::try_from(traffic).expect("at most 100");
        let readiness = match &self.readiness {
            None => Some(readiness(&ReadinessForm::default())?),
            Some(None) => None,
            Some(Some(form)) => Some(readiness(form)?),
        };
        if self.watch.is_some() && !(1..=99).contains(&traffic) {
            return Err(out_of_bounds("watch", "a watch window applies to a canary: give traffic 1–99"));
        }
        let watch = watch(self.watch.as_ref().unwrap_or(&WatchForm::default()))?;
        Ok(Plan { gate: Gate { readiness, timeout: gate::DEFAULT_TIMEOUT }, traffic, watch })
    }
}

fn readiness(form: &ReadinessForm) -> Result<Readiness, FormError> {
    let defaults = Readiness::default();
    let path = form.path.clone().unwrap_or(defaults.path);
    if !path.starts_with('/') || path.len() > MAX_PATH || path.parse::<http::uri::PathAndQuery>().is_err() {
        return Err(out_of_bounds(
            "readiness.path",
            format!("{path:?} must be a URL path starting with '/', at most {MAX_PATH} characters"),
        ));
    }
    let in_a_row = |field: &str, value: Option<u64>, default: u32| match value {
        None => Ok(default),
        Some(n) if (1..=MAX_IN_A_ROW).contains(&n) => Ok(u32::try_from(n).expect("at most 100")),
        Some(n) => Err(out_of_bounds(field, format!("{n} is out of bounds (1–{MAX_IN_A_ROW})"))),
    };
    let interval_ms = form.interval_ms.unwrap_or(defaults.interval_ms);
    if interval_ms > gate::millis(MAX_INTERVAL) {
        return Err(out_of_bounds(
            "readiness.interval_ms",
            format!("{interval_ms} is over {}", gate::millis(MAX_INTERVAL)),
        ));
    }
    let timeout_ms = form.timeout_ms.unwrap_or(defaults.timeout_ms);
    let (low, high) = (gate::millis(TIMEOUT_RANGE.0), gate::millis(TIMEOUT_RANGE.1));
    if !(low..=high).contains(&timeout_ms) {
        return Err(out_of_bounds("readiness.timeout_ms", format!("{timeout_ms} is out of bounds ({low}–{high})")));
    }
    Ok(Readiness {
        path,
        successes: in_a_row("readiness.successes", form.successes, defaults.successes)?,
        failures: in_a_row("readiness.failures", form.failures, defaults.failures)?,
        interval_ms,
        timeout_ms,
    })
}

fn watch(form: &WatchForm) -> Result<Watch, FormError> {
    let defaults = Watch::default();
    let requests = form.requests.unwrap_or(defaults.requests);
    if !(1..=MAX_WINDOW_REQUESTS).contains(&requests) {
        return Err(out_of_bounds("watch.requests", format!("{requests} is out of bounds (1–{MAX_WINDOW_REQUESTS})")));
    }
    let seconds = form.seconds.unwrap_or(defaults.seconds);
    if !(1..=MAX_WINDOW_SECONDS).contains(&seconds) {
        return Err(out_of_bounds("watch.seconds", format!("{seconds} is out of bounds (1–{MAX_WINDOW_SECONDS})")));
    }
    let delta = form.max_error_ratio_delta.unwrap_or(defaults.max_error_ratio_delta);
    if !(0.0..=1.0).contains(&delta) {
        return Err(out_of_bounds("watch.max_error_ratio_delta", format!("{delta} is not a ratio (0–1)")));
    }
    Ok(Watch { requests, seconds, max_error_ratio_delta: delta })
}

/// `PUT /_chaoslab/traffic`: component → revision id → share.
pub type TrafficForm = BTreeMap<String, BTreeMap<String, u64>>;

/// Parses JSON `body`, naming the field at fault.
pub fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, FormError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        // "." is the whole body, "?" no position (cut-off JSON); for a
        // missing field the path is its parent and the name is in the message.
        let path = if matches!(path.as_str(), "." | "?") { String::new() } else { path };
        let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
        let field = match missing {
            Some(name) if path.is_empty() => name.to_owned(),
            Some(name) => format!("{path}.{name}"),
            None => path,
        };
        FormError::Malformed(FieldError { field, message: format!("malformed JSON body: {message}") })
    })
}

/// A query string (`component=api&traffic=20&readiness.path=/health`) as the
/// JSON object of the same fields: dotted keys nest, values are numbers
/// unless the field is a string, and `readiness=null` is `null`.
pub fn query_object(query: &str) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let json = if STRING_FIELDS.contains(&key.as_ref()) {
            serde_json::Value::String(value.into_owned())
        } else if value == "null" {
            serde_json::Value::Null
        } else {
            serde_json::from_str::<serde_json::Number>(&value)
                .map_or_else(|_| serde_json::Value::String(value.to_string()), serde_json::Value::Number)
        };
        match key.split_once('.') {
            Some((outer, inner)) => {
                let nested = object.entry(outer).or_insert_with(|| serde_json::Value::Object(Default::default()));
                if let serde_json::Value::Object(nested) = nested {
                    nested.insert(inner.to_owned(), json);
                }
            }
            None => {
                object.insert(key.into_owned(), json);
            }
        }
    }
    serde_json::Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(json: &str) -> Result<Plan, FormError> {
        from_json::<DeployForm>(json.as_bytes())?.plan()
    }

    fn field(err: FormError) -> String {
        match err {
            FormError::Malformed(e) | FormError::OutOfBounds(e) => e.field,
        }
    }

    #[test]
    fn a_bare_deploy_gets_the_documented_defaults() {
        let plan = deploy(r#"{"component":"api","source":"x.wasm"}"#).unwrap();
        assert_eq!(plan.traffic, 100);
        assert_eq!(plan.gate.readiness, Some(Readiness::default()));
        assert_eq!(plan.gate.readiness.unwrap().path, "/health");
        assert_eq!(plan.watch, Watch::default());
        let plan = deploy(r#"{"component":"api","readiness":null}"#).unwrap();
        assert_eq!(plan.gate.readiness, None, "null: instantiation only");
    }

    #[test]
    fn errors_name_the_field_at_fault() {
        assert!(matches!(deploy(r#"{"source":"x"}"#), Err(FormError::Malformed(e)) if e.field == "component"));
        assert_eq!(field(deploy(r#"{"component":"api","colour":1}"#).unwrap_err()), "colour");
        assert_eq!(field(deploy(r#"{"component":"api","readiness":{"pth":"/"}}"#).unwrap_err()), "readiness.pth");
        assert_eq!(field(deploy(r#"{"component":"api","traffic":"x"}"#).unwrap_err()), "traffic");
        let bounds = |json: &str| match deploy(json) {
            Err(FormError::OutOfBounds(e)) => e.field,
            other => panic!("{json}: {other:?}"),
        };
        assert_eq!(bounds(r#"{"component":"api","traffic":101}"#), "traffic");
        assert_eq!(bounds(r#"{"component":"api","readiness":{"path":"health"}}"#), "readiness.path");
        assert_eq!(bounds(r#"{"component":"api","readiness":{"successes":0}}"#), "readiness.successes");
        assert_eq!(bounds(r#"{"component":"api","readiness":{"timeout_ms":10}}"#), "readiness.timeout_ms");
        assert_eq!(bounds(r#"{"component":"api","traffic":20,"watch":{"seconds":0}}"#), "watch.seconds");
        assert_eq!(bounds(r#"{"component":"api","watch":{"requests":5}}"#), "watch");
        assert_eq!(
            bounds(r#"{"component":"api","traffic":20,"watch":{"max_error_ratio_delta":2}}"#),
            "watch.max_error_ratio_delta"
        );
    }

    #[test]
    fn the_query_string_form_parses_like_json() {
        let query =
            "component=api&traffic=20&readiness.path=%2Ftest%2Floop%3Fx%3D1&readiness.timeout_ms=2000&watch.requests=5";
        let form: DeployForm = from_json(query_object(query).to_string().as_bytes()).unwrap();
        let plan = form.plan().unwrap();
        assert_eq!(plan.traffic, 20);
        let readiness = plan.gate.readiness.unwrap();
        assert_eq!((readiness.path.as_str(), readiness.timeout_ms), ("/test/loop?x=1", 2000));
        assert_eq!(plan.watch.requests, 5);
        let form: DeployForm = from_json(query_object("component=7&readiness=null").to_string().as_bytes()).unwrap();
        assert_eq!(form.component, "7");
        assert!(form.plan().unwrap().gate.readiness.is_none());
        let err = from_json::<DeployForm>(query_object("component=api&traffic=lots").to_string().as_bytes());
        assert!(matches!(err, Err(FormError::Malformed(e)) if e.field == "traffic"));
    }

    #[test]
    fn traffic_shares_are_a_map_of_maps() {
        let form: TrafficForm = from_json(br#"{"api":{"rev-3":90,"rev-4":10}}"#).unwrap();
        assert_eq!(form["api"]["rev-3"], 90);
        assert!(
            matches!(from_json::<TrafficForm>(br#"{"api":{"rev-3":-1}}"#), Err(FormError::Malformed(e)) if e.field == "api.rev-3")
        );
    }
}
