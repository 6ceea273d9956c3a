//! Tolerances of hypothesis probes, parsed and evaluated exactly as Chaos
//! Toolkit does (chaoslib hypothesis.py `within_tolerance`), so both tools
//! reach the same verdict on the same outputs.

use regex::Regex;
use serde_json::Value;

use super::fields::{FieldPath, Invalid};
use super::json::{kind, object};

/// A probe's tolerance.
#[derive(Debug, Clone, PartialEq)]
pub enum Tolerance {
    /// `true`/`false`: the output equals it.
    Bool(bool),
    /// An integer: the output's `status` (an HTTP probe's) equals it, or the output itself does.
    Int(i64),
    /// A string: the output equals it.
    Text(String),
    /// A list: the `status` is one of them; for a plain output, two
    /// elements are an inclusive range and more are a set.
    List(Vec<Value>),
    /// `{"type":"range","range":[lo,hi],"target"?}`: the number (at `target`) is within.
    Range {
        /// Lower bound, inclusive.
        lo: f64,
        /// Upper bound, inclusive.
        hi: f64,
        /// The output's key to read (`status`, `body`…), else the output.
        target: Option<String>,
    },
    /// `{"type":"regex","pattern":…,"target"?}`: the text (at `target`) matches.
    Regex {
        /// The pattern (templates substituted at run time).
        pattern: String,
        /// The output's key to read, else the output.
        target: Option<String>,
    },
}

impl Tolerance {
    /// Parses a tolerance with the checks of `chaos validate`.
    pub fn parse(value: &Value, path: &FieldPath) -> Result<Self, Invalid> {
        match value {
            Value::Bool(b) => Ok(Self::Bool(*b)),
            Value::String(s) => Ok(Self::Text(s.clone())),
            Value::Number(n) => n.as_i64().map(Self::Int).ok_or_else(|| {
                path.invalid(format!("{n} is not a whole number (Chaos Toolkit takes integers, strings, booleans, lists, or a range/regex object)"))
            }),
            Value::Array(items) => Ok(Self::List(items.clone())),
            Value::Object(_) => Self::parse_object(value, path),
            Value::Null => Err(path.invalid("null is not a tolerance (use an integer, string, boolean, list, or a range/regex object)")),
        }
    }

    fn parse_object(value: &Value, path: &FieldPath) -> Result<Self, Invalid> {
        let obj = object(value, path)?;
        let target = match obj.get("target") {
            None => None,
            Some(Value::String(t)) => Some(t.clone()),
            Some(other) => return Err(path.key("target").invalid(format!("expected a key name, got {}", kind(other)))),
        };
        match obj.get("type").and_then(Value::as_str) {
            Some("range") => {
                let range_path = path.key("range");
                let range = obj.get("range").ok_or_else(|| range_path.invalid("missing: a range tolerance needs [lo, hi]"))?;
                let bounds: Vec<f64> = range.as_array().map(|r| r.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
                match (range.as_array().map(Vec::len), bounds.as_slice()) {
                    (Some(2), [lo, hi]) if lo <= hi => Ok(Self::Range { lo: *lo, hi: *hi, target }),
                    (Some(2), [_, _]) => Err(range_path.invalid("the lower bound is above the upper bound")),
                    (Some(2), _) => Err(range_path.invalid("both bounds must be numbers")),
                    _ => Err(range_path.invalid(format!("expected two numbers [lo, hi], got {range}"))),
                }
            }
            Some("regex") => {
                let pattern_path = path.key("pattern");
                let pattern = obj
                    .get("pattern")
                    .and_then(Value::as_str)
                    .ok_or_else(|| pattern_path.invalid("missing: a regex tolerance needs a pattern string"))?;
                if !pattern.contains('$') {
                    Regex::new(pattern).map_err(|e| pattern_path.invalid(format!("invalid pattern: {e}")))?;
                }
                Ok(Self::Regex { pattern: pattern.to_owned(), target })
            }
            Some(kind @ ("jsonpath" | "probe")) => Err(path.key("type").invalid(format!(
                "{kind} tolerances are not supported by `chaoslab experiment` (use an integer, list, string, boolean, range or regex)"
            ))),
            Some(other) => Err(path.key("type").invalid(format!("unknown tolerance type {other:?} (range or regex)"))),
            None => Err(path.key("type").invalid("missing: a tolerance object needs a type (range or regex)")),
        }
    }

    /// True when `output` is within the tolerance. `substitute` fills the
    /// regex pattern's templates.
    pub fn met(&self, output: &Value, substitute: impl Fn(&str) -> String) -> bool {
        let status = output.as_object().and_then(|o| o.get("status"));
        match self {
            Self::Bool(b) => output == &Value::Bool(*b),
            Self::Text(s) => output.as_str() == Some(s),
            Self::Int(n) => match status {
                Some(status) => number_eq(status, *n),
                None => number_eq(output, *n),
            },
            Self::List(items) => match status {
                Some(status) => items.contains(status),
                None if items.len() == 2 => match (output.as_f64(), items[0].as_f64(), items[1].as_f64()) {
                    (Some(v), Some(lo), Some(hi)) => lo <= v && v <= hi,
                    _ => false,
                },
                None => items.contains(output),
            },
            Self::Range { lo, hi, target } => {
                as_number(targeted(output, target.as_deref())).is_some_and(|v| *lo <= v && v <= *hi)
            }
            Self::Regex { pattern, target } => {
                let Ok(re) = Regex::new(&substitute(pattern)) else { return false };
                // Chaos Toolkit crashes on a non-text value; we count it as not met.
                targeted(output, target.as_deref()).as_str().is_some_and(|text| re.is_match(text))
            }
        }
    }
}

impl std::fmt::Display for Tolerance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Int(n) => write!(f, "{n}"),
            Self::Text(s) => write!(f, "{s:?}"),
            Self::List(items) => write!(f, "{}", Value::Array(items.clone())),
            Self::Range { lo, hi, target } => write!(f, "{} in [{lo}, {hi}]", target.as_deref().unwrap_or("value")),
            Self::Regex { pattern, target } => {
                write!(f, "{} matches /{pattern}/", target.as_deref().unwrap_or("value"))
            }
        }
    }
}

/// `value.get(target, value)` in Chaos Toolkit's words.
fn targeted<'v>(output: &'v Value, target: Option<&str>) -> &'v Value {
    target.and_then(|t| output.get(t)).unwrap_or(output)
}

fn number_eq(value: &Value, n: i64) -> bool {
    value.as_i64() == Some(n) || value.as_f64().is_some_and(|v| v == n as f64)
}

/// Python's `Decimal(value)`: numbers, and strings that hold one.
fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tol(v: Value) -> Tolerance {
        Tolerance::parse(&v, &FieldPath::root().key("tolerance")).unwrap()
    }

    fn met(t: &Tolerance, output: Value) -> bool {
        t.met(&output, str::to_owned)
    }

    #[test]
    fn an_integer_is_compared_with_the_http_status() {
        let t = tol(json!(200));
        assert!(met(&t, json!({"status": 200, "body": "x"})));
        assert!(!met(&t, json!({"status": 503})));
        assert!(met(&t, json!(200)));
    }

    #[test]
    fn lists_are_status_sets_or_two_element_ranges() {
        assert!(met(&tol(json!([200, 503])), json!({"status": 503})));
        assert!(met(&tol(json!([1, 5])), json!(3)));
        assert!(!met(&tol(json!([1, 5, 9])), json!(3)));
        assert!(met(&tol(json!([1, 5, 9])), json!(9)));
    }

    #[test]
    fn range_and_regex_read_their_target() {
        let range = tol(json!({"type": "range", "range": [200, 299], "target": "status"}));
        assert!(met(&range, json!({"status": 204})));
        assert!(!met(&range, json!({"status": 503})));
        let regex = tol(json!({"type": "regex", "pattern": "healthy", "target": "body"}));
        assert!(met(&regex, json!({"body": "{\"status\":\"healthy\"}"})));
        // A parsed JSON body is no text: not met (Chaos Toolkit crashes there).
        assert!(!met(&regex, json!({"body": {"status": "healthy"}})));
    }

    #[test]
    fn malformed_tolerances_name_the_problem() {
        let path = FieldPath::root().key("tolerance");
        let err = |v: Value| Tolerance::parse(&v, &path).unwrap_err().to_string();
        assert!(err(json!(1.5)).contains("not a whole number"));
        assert!(err(json!(null)).contains("null is not a tolerance"));
        assert!(err(json!({"type": "range", "range": [1, 2, 3]})).contains("tolerance.range: expected two numbers"));
        assert!(err(json!({"type": "regex", "pattern": "(("})).contains("tolerance.pattern: invalid pattern"));
        assert!(err(json!({"type": "foo"})).contains("unknown tolerance type \"foo\""));
        assert!(err(json!({"type": "jsonpath", "path": "$.x"})).contains("not supported"));
    }
}
