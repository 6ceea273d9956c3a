//! Typed reads of JSON fields, each failing with an [`Invalid`] that names
//! the field and says what was expected.

use serde_json::{Map, Value};

use super::fields::{FieldPath, Invalid};

/// The JSON type of `value`, for messages ("got a string").
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// `value` as an object.
pub fn object<'v>(value: &'v Value, path: &FieldPath) -> Result<&'v Map<String, Value>, Invalid> {
    value.as_object().ok_or_else(|| path.invalid(format!("expected an object, got {}", kind(value))))
}

/// `value` as a list.
pub fn list<'v>(value: &'v Value, path: &FieldPath) -> Result<&'v Vec<Value>, Invalid> {
    value.as_array().ok_or_else(|| path.invalid(format!("expected a list, got {}", kind(value))))
}

/// `value` as a non-empty string.
pub fn text<'v>(value: &'v Value, path: &FieldPath) -> Result<&'v str, Invalid> {
    match value.as_str() {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(path.invalid("must not be empty")),
        None => Err(path.invalid(format!("expected a string, got {}", kind(value)))),
    }
}

/// `obj[key]`, required.
pub fn required<'v>(obj: &'v Map<String, Value>, key: &str, path: &FieldPath) -> Result<&'v Value, Invalid> {
    obj.get(key).ok_or_else(|| path.key(key).invalid("missing"))
}

/// `obj[key]` as a non-empty string, required.
pub fn required_text<'v>(obj: &'v Map<String, Value>, key: &str, path: &FieldPath) -> Result<&'v str, Invalid> {
    text(required(obj, key, path)?, &path.key(key))
}

/// `value` as a finite number within `lo..=hi`.
pub fn number_in(value: &Value, path: &FieldPath, lo: f64, hi: f64) -> Result<f64, Invalid> {
    let n = match value {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => {
            return Err(path.invalid(format!(
                "expected a number, got the string {s:?} (a `--var` needs a type for numbers: --var name:int=3)"
            )));
        }
        other => return Err(path.invalid(format!("expected a number, got {}", kind(other)))),
    };
    if n.is_finite() && (lo..=hi).contains(&n) {
        Ok(n)
    } else {
        Err(path.invalid(format!("{n} is out of bounds ({lo} to {hi})")))
    }
}

/// `value` as a whole number within `lo..=hi`.
pub fn integer_in(value: &Value, path: &FieldPath, lo: u64, hi: u64) -> Result<u64, Invalid> {
    // Bounds are small enough to be exact in f64.
    #[allow(clippy::cast_precision_loss)]
    let n = number_in(value, path, lo as f64, hi as f64)?;
    if n.fract() != 0.0 {
        return Err(path.invalid(format!("expected a whole number, got {n}")));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(n as u64)
}

/// Rejects keys of `obj` that are not in `known`, naming the ones that are.
pub fn only_keys(obj: &Map<String, Value>, known: &[&str], path: &FieldPath) -> Result<(), Invalid> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(path.key(unknown).invalid(format!("unknown field (known: {})", known.join(", ")))),
        None => Ok(()),
    }
}

/// True for a string that is exactly one `${name}` template.
pub fn is_template(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        s.strip_prefix("${")
            .and_then(|rest| rest.strip_suffix('}'))
            .is_some_and(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    })
}
