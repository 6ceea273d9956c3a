//! Reads an experiment file and checks it, field by field.

use std::path::Path;

use serde_json::{Map, Value};

use super::activity::{Activity, Provider, parse_activity};
use super::fields::{FieldPath, Invalid};
use super::json::{kind, list, object, required, required_text, text};
use super::{ConfigValue, Experiment, Hypothesis, VarType};
use crate::error::ExperimentError;

/// The name of our entry in `extensions`.
pub const EXTENSION_NAME: &str = "chaoslab";

/// Reads and parses `path` (JSON, like every file in `experiments/`).
pub fn read(path: &Path) -> Result<Experiment, ExperimentError> {
    let file = path.to_path_buf();
    if path.extension().and_then(|e| e.to_str()) != Some("json") {
        return Err(ExperimentError::NotJson { path: file });
    }
    let bytes = std::fs::read(path).map_err(|source| ExperimentError::Read { path: file.clone(), source })?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|source| ExperimentError::Json { path: file.clone(), source })?;
    parse(value).map_err(|source| ExperimentError::Invalid { path: file, source })
}

/// Parses an experiment with the checks of `chaos validate`.
pub fn parse(value: Value) -> Result<Experiment, Invalid> {
    let root = FieldPath::root();
    let obj = object(&value, &root)?;
    if obj.is_empty() {
        return Err(root.invalid("an empty experiment is not an experiment"));
    }
    let title = required_text(obj, "title", &root)?.to_owned();
    let description = required_text(obj, "description", &root)?.to_owned();
    let tags = match obj.get("tags") {
        None => Vec::new(),
        Some(tags) => {
            let path = root.key("tags");
            let items = list(tags, &path)?;
            items
                .iter()
                .enumerate()
                .map(|(i, t)| text(t, &path.index(i)).map(str::to_owned))
                .collect::<Result<_, _>>()?
        }
    };
    let configuration = match obj.get("configuration") {
        None => Vec::new(),
        Some(c) => config_values(c, &root.key("configuration"))?,
    };
    let secrets = match obj.get("secrets") {
        None => Vec::new(),
        Some(s) => {
            let path = root.key("secrets");
            let mut flat = Vec::new();
            for (scope, values) in object(s, &path)? {
                flat.extend(config_values(values, &path.key(scope))?);
            }
            flat
        }
    };
    let lookup = RefLookup::new(obj);
    let hypothesis = match obj.get("steady-state-hypothesis") {
        None => None,
        Some(h) => Some(parse_hypothesis(h, &root.key("steady-state-hypothesis"), &lookup)?),
    };
    let method_path = root.key("method");
    let method_value = obj.get("method").ok_or_else(|| {
        method_path.invalid("missing: an experiment needs a method (it may be empty to check only the steady state)")
    })?;
    let method = activities(method_value, &method_path, &lookup)?;
    let rollbacks = match obj.get("rollbacks") {
        None => Vec::new(),
        Some(r) => activities(r, &root.key("rollbacks"), &lookup)?,
    };
    let chaoslab = match obj.get("extensions") {
        None => None,
        Some(e) => chaoslab_extension(e, &root.key("extensions"))?,
    };
    Ok(Experiment {
        title,
        description,
        tags,
        configuration,
        secrets,
        hypothesis,
        method,
        rollbacks,
        chaoslab,
        raw: value.clone(),
    })
}

fn parse_hypothesis(value: &Value, path: &FieldPath, lookup: &RefLookup<'_>) -> Result<Hypothesis, Invalid> {
    let obj = object(value, path)?;
    let title = required_text(obj, "title", path)?.to_owned();
    let probes = match obj.get("probes") {
        None => Vec::new(),
        Some(p) => activities(p, &path.key("probes"), lookup)?,
    };
    for probe in &probes {
        if probe.tolerance.is_none() {
            return Err(probe.field.key("tolerance").invalid("missing: every steady-state probe needs a tolerance"));
        }
    }
    Ok(Hypothesis { title, probes })
}

fn activities(value: &Value, path: &FieldPath, lookup: &RefLookup<'_>) -> Result<Vec<Activity>, Invalid> {
    let items = list(value, path)?;
    items.iter().enumerate().map(|(i, item)| lookup.activity(item, &path.index(i))).collect()
}

/// Resolves `{"ref": "name"}` to the activity of that name elsewhere in the file.
struct RefLookup<'v> {
    /// Every non-ref activity of the file, by name.
    named: Vec<(&'v str, &'v Value)>,
}

impl<'v> RefLookup<'v> {
    fn new(obj: &'v Map<String, Value>) -> Self {
        let probes = obj.get("steady-state-hypothesis").and_then(|h| h.get("probes"));
        let lists = [probes, obj.get("method"), obj.get("rollbacks")];
        let named = lists
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .filter(|a| a.get("ref").is_none())
            .filter_map(|a| Some((a.get("name")?.as_str()?, a)))
            .collect();
        Self { named }
    }

    fn activity(&self, value: &Value, path: &FieldPath) -> Result<Activity, Invalid> {
        let Some(reference) = value.get("ref") else { return parse_activity(value, path) };
        let name = text(reference, &path.key("ref"))?;
        let target = self.named.iter().find(|(n, _)| *n == name).map(|(_, a)| *a);
        let target =
            target.ok_or_else(|| path.key("ref").invalid(format!("no activity named {name:?} in the experiment")))?;
        parse_activity(target, path)
    }
}

fn config_values(value: &Value, path: &FieldPath) -> Result<Vec<(String, ConfigValue)>, Invalid> {
    object(value, path)?.iter().map(|(k, v)| Ok((k.clone(), config_value(v, &path.key(k))?))).collect()
}

fn config_value(value: &Value, path: &FieldPath) -> Result<ConfigValue, Invalid> {
    let Some(obj) = value.as_object().filter(|o| o.get("type").and_then(Value::as_str) == Some("env")) else {
        return Ok(ConfigValue::Literal(value.clone()));
    };
    let key = required_text(obj, "key", path)?.to_owned();
    let var_type = match obj.get("env_var_type") {
        None => None,
        Some(t) => Some(var_type(text(t, &path.key("env_var_type"))?).ok_or_else(|| {
            path.key("env_var_type").invalid(format!("{t} is not a type (str, int, float, bool or json)"))
        })?),
    };
    Ok(ConfigValue::Env { key, default: obj.get("default").cloned(), var_type })
}

/// Chaos Toolkit's type names.
pub fn var_type(name: &str) -> Option<VarType> {
    Some(match name {
        "str" | "string" => VarType::Str,
        "int" | "integer" => VarType::Int,
        "float" | "number" => VarType::Float,
        "bool" => VarType::Bool,
        "json" => VarType::Json,
        _ => return None,
    })
}

fn chaoslab_extension(value: &Value, path: &FieldPath) -> Result<Option<Value>, Invalid> {
    let mut found = None;
    for (i, ext) in list(value, path)?.iter().enumerate() {
        let ext_path = path.index(i);
        let name = required(object(ext, &ext_path)?, "name", &ext_path)?;
        match name.as_str() {
            Some(EXTENSION_NAME) if found.is_some() => {
                return Err(ext_path.key("name").invalid("a second \"chaoslab\" extension (there may be one)"));
            }
            Some(EXTENSION_NAME) => found = Some(ext.clone()),
            Some(n) if !n.trim().is_empty() => {}
            _ => {
                return Err(ext_path
                    .key("name")
                    .invalid(format!("every extension needs a non-empty name, got {}", kind(name))));
            }
        }
    }
    Ok(found)
}

/// Things the file asks for that a run ignores or does differently from
/// Chaos Toolkit, for `validate` to say.
pub fn warnings(experiment: &Experiment) -> Vec<String> {
    let mut out = Vec::new();
    if experiment.raw.get("controls").is_some() {
        out.push("controls: ignored by `chaoslab experiment` (Chaos Toolkit runs only Python controls)".to_owned());
    }
    for activity in experiment.activities() {
        if activity.raw.get("timeout").is_some() {
            out.push(format!(
                "{}.timeout: ignored, as by Chaos Toolkit; the provider's timeout bounds the activity",
                activity.field
            ));
        }
        if let Provider::Http(http) = &activity.provider
            && http.timeout.is_none()
        {
            out.push(format!(
                "{}.provider.timeout: not set; Chaos Toolkit would wait forever, `chaoslab experiment` waits {} s",
                activity.field,
                crate::activity::DEFAULT_HTTP_TIMEOUT.as_secs()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn err(v: Value) -> String {
        parse(v).unwrap_err().to_string()
    }

    fn probe(provider: Value) -> Value {
        json!({"type": "probe", "name": "p", "provider": provider, "tolerance": 200})
    }

    #[test]
    fn chaos_validate_rules_name_the_field() {
        assert_eq!(err(json!({})), "(the file): an empty experiment is not an experiment");
        assert_eq!(err(json!({"description": "d", "method": []})), "title: missing");
        assert!(err(json!({"title": "t", "description": "d"})).starts_with("method: missing"));
        let bad_provider = json!({"title": "t", "description": "d", "method": [probe(json!({"type": "grpc"}))]});
        assert!(err(bad_provider).starts_with("method[0].provider.type: unknown provider type \"grpc\""));
        let no_url = json!({"title": "t", "description": "d", "method": [probe(json!({"type": "http"}))]});
        assert_eq!(err(no_url), "method[0].provider.url: missing");
        let bad_pause = json!({"title": "t", "description": "d", "method": [
            {"type": "action", "name": "a", "provider": {"type": "http", "url": "http://x/"}, "pauses": {"after": "5"}}]});
        assert!(err(bad_pause).starts_with("method[0].pauses.after: must be a number of seconds"));
        let missing_process = json!({"title": "t", "description": "d", "method": [
            {"type": "action", "name": "a", "provider": {"type": "process", "path": "/nonexistent/azure.sh"}}]});
        assert!(err(missing_process).contains("method[0].provider.path: \"/nonexistent/azure.sh\" cannot be found"));
        let unnamed_extension = json!({"title": "t", "description": "d", "method": [], "extensions": [{"x": 1}]});
        assert_eq!(err(unnamed_extension), "extensions[0].name: missing");
    }

    #[test]
    fn refs_resolve_to_the_named_activity() {
        let experiment = parse(json!({"title": "t", "description": "d",
            "steady-state-hypothesis": {"title": "h", "probes": [probe(json!({"type": "http", "url": "http://x/"}))]},
            "method": [{"ref": "p"}]}))
        .unwrap();
        assert_eq!(experiment.method[0].name, "p");
        let missing = err(json!({"title": "t", "description": "d", "method": [{"ref": "zzz"}]}));
        assert_eq!(missing, "method[0].ref: no activity named \"zzz\" in the experiment");
    }

    #[test]
    fn the_chaoslab_extension_is_kept_for_the_plan() {
        let experiment = parse(json!({"title": "t", "description": "d", "method": [],
            "extensions": [{"name": "other"}, {"name": "chaoslab", "load": {"rate": 1}}]}))
        .unwrap();
        assert_eq!(experiment.chaoslab.unwrap()["load"]["rate"], 1);
    }
}
