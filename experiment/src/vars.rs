//! Configuration values and `${name}` substitution, as Chaos Toolkit does
//! them (chaoslib configuration.py and `substitute`): `--var` overrides the
//! file, an `env` entry reads its variable (or its default), a string that
//! is exactly one template takes the value's type, an unknown name stays
//! as written.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::Value;

use crate::error::ExperimentError;
use crate::model::{ConfigValue, Experiment, FieldPath, Invalid, VarType, var_type};

/// Python's `string.Template` pattern: `$$`, `$name`, `${name}`.
static TEMPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$(?:(\$)|([_A-Za-z][_A-Za-z0-9]*)|\{([_A-Za-z][_A-Za-z0-9]*)\})").expect("valid pattern")
});

/// The values `${name}` refers to during a run.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// Configuration first, then secrets (configuration wins, as in Chaos Toolkit).
    values: BTreeMap<String, Value>,
}

impl Vars {
    /// Resolves the file's configuration and secrets; `overrides` (from
    /// `--var` and `--spawn`) win over the file and need no environment.
    pub fn resolve(
        experiment: &Experiment,
        overrides: &[(String, Value)],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Invalid> {
        let mut values = BTreeMap::new();
        let sections = [("secrets", &experiment.secrets), ("configuration", &experiment.configuration)];
        for (section, entries) in sections {
            for (key, value) in entries.iter() {
                if overrides.iter().any(|(k, _)| k == key) {
                    continue;
                }
                let path = FieldPath::root().key(section).key(key);
                values.insert(key.clone(), resolve_one(value, &path, &env)?);
            }
        }
        for (key, value) in overrides {
            values.insert(key.clone(), value.clone());
        }
        Ok(Self { values })
    }

    /// True when there is no configuration nor secret at all.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// A value by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// A value by name, as text (strings as they are, others as JSON).
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    /// `value` with every template substituted, recursively.
    pub fn substitute(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => self.substitute_str(s),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.substitute(v)).collect()),
            Value::Object(obj) => Value::Object(obj.iter().map(|(k, v)| (k.clone(), self.substitute(v))).collect()),
            other => other.clone(),
        }
    }

    /// One string: the typed value when it is exactly one known template, else text.
    pub fn substitute_str(&self, s: &str) -> Value {
        if let Some(caps) = TEMPLATE.captures(s)
            && caps.get(0).is_some_and(|m| m.len() == s.len())
            && let Some(value) = caps.get(2).or_else(|| caps.get(3)).and_then(|name| self.values.get(name.as_str()))
        {
            return value.clone();
        }
        Value::String(self.substitute_text(s))
    }

    /// One string, always as text.
    pub fn substitute_text(&self, s: &str) -> String {
        TEMPLATE
            .replace_all(s, |caps: &Captures<'_>| {
                if caps.get(1).is_some() {
                    return "$".to_owned();
                }
                let name = caps.get(2).or_else(|| caps.get(3)).map_or("", |m| m.as_str());
                match self.values.get(name) {
                    Some(Value::String(v)) => v.clone(),
                    Some(Value::Bool(b)) => if *b { "True" } else { "False" }.to_owned(),
                    Some(other) => other.to_string(),
                    None => caps[0].to_owned(),
                }
            })
            .into_owned()
    }
}

fn resolve_one(value: &ConfigValue, path: &FieldPath, env: &impl Fn(&str) -> Option<String>) -> Result<Value, Invalid> {
    match value {
        ConfigValue::Literal(v) => Ok(v.clone()),
        ConfigValue::Env { key, default, var_type } => {
            let raw = match (env(key), default) {
                (Some(text), _) => Value::String(text),
                (None, Some(default)) => default.clone(),
                (None, None) => {
                    return Err(path.invalid(format!(
                        "environment variable {key} is not set and has no default (export it, or pass --var {}=…)",
                        path.to_string().rsplit('.').next().unwrap_or_default()
                    )));
                }
            };
            match var_type {
                None => Ok(raw),
                Some(t) => convert(*t, &raw).map_err(|reason| path.invalid(format!("{key}: {reason}"))),
            }
        }
    }
}

/// Chaos Toolkit's `convert_to_type`.
fn convert(var_type: VarType, value: &Value) -> Result<Value, String> {
    let Value::String(text) = value else { return Ok(value.clone()) };
    match var_type {
        VarType::Str => Ok(value.clone()),
        VarType::Int => text.trim().parse::<i64>().map(Value::from).map_err(|_| format!("{text:?} is not an integer")),
        VarType::Float => text.trim().parse::<f64>().map(Value::from).map_err(|_| format!("{text:?} is not a number")),
        VarType::Bool => Ok(Value::Bool(!matches!(text.to_lowercase().as_str(), "false" | "0" | "no"))),
        VarType::Json if text.is_empty() => Ok(value.clone()),
        VarType::Json => serde_json::from_str(text).map_err(|e| format!("not JSON: {e}")),
    }
}

/// Parses `--var name[:type]=value` (types: str, int, float, bool, json).
pub fn parse_var(arg: &str) -> Result<(String, Value), ExperimentError> {
    let bad = |reason: &str| ExperimentError::Var { var: arg.to_owned(), reason: reason.to_owned() };
    let (key, text) = arg.split_once('=').ok_or_else(|| bad("expected name[:type]=value"))?;
    let (name, var_type_name) = match key.rsplit_once(':') {
        Some((name, t)) => (name, Some(t)),
        None => (key, None),
    };
    if name.is_empty() {
        return Err(bad("the name is empty"));
    }
    let value = match var_type_name {
        None => Value::String(text.to_owned()),
        Some(t) => {
            let t = var_type(t).ok_or_else(|| bad("the type must be str, int, float, bool or json"))?;
            convert(t, &Value::String(text.to_owned())).map_err(|reason| bad(&reason))?
        }
    };
    Ok((name.to_owned(), value))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn vars(pairs: &[(&str, Value)]) -> Vars {
        Vars { values: pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect() }
    }

    #[test]
    fn an_exact_template_keeps_its_type_and_an_embedded_one_becomes_text() {
        let v = vars(&[("n", json!(3)), ("base_url", json!("http://h:1"))]);
        assert_eq!(
            v.substitute(&json!({"d": "${n}", "u": "${base_url}/health", "l": ["$n"]})),
            json!({"d": 3, "u": "http://h:1/health", "l": [3]})
        );
        assert_eq!(v.substitute_str("${missing}/x $$ ${n}"), json!("${missing}/x $ 3"));
    }

    #[test]
    fn var_arguments_follow_chaos_toolkit() {
        assert_eq!(parse_var("fault_seconds:int=3").unwrap(), ("fault_seconds".to_owned(), json!(3)));
        assert_eq!(parse_var("base_url=http://x:1").unwrap(), ("base_url".to_owned(), json!("http://x:1")));
        assert!(parse_var("n:int=x").unwrap_err().to_string().contains("not an integer"));
        assert!(parse_var("novalue").unwrap_err().to_string().contains("name[:type]=value"));
    }

    #[test]
    fn an_unset_variable_without_default_names_the_key() {
        let experiment = crate::model::parse(json!({
            "title": "t", "description": "d", "method": [],
            "configuration": {"token": {"type": "env", "key": "CHAOSLAB_TEST_UNSET"},
                              "n": {"type": "env", "key": "N", "default": 10, "env_var_type": "int"}}
        }))
        .unwrap();
        let err = Vars::resolve(&experiment, &[], |_| None).unwrap_err().to_string();
        assert!(err.starts_with("configuration.token: environment variable CHAOSLAB_TEST_UNSET is not set"), "{err}");
        let ok =
            Vars::resolve(&experiment, &[("token".into(), json!("t"))], |k| (k == "N").then(|| "4".into())).unwrap();
        assert_eq!((ok.get("token"), ok.get("n")), (Some(&json!("t")), Some(&json!(4))));
    }
}
