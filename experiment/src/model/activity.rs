//! Activities (probes and actions) and their providers, parsed with the
//! checks of Chaos Toolkit's `chaos validate` (chaoslib activity.py,
//! provider/http.py, provider/process.py).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::fields::{FieldPath, Invalid};
use super::json::{is_template, kind, list, object, required, required_text, text};
use super::tolerance::Tolerance;

/// A probe or an action.
#[derive(Debug, Clone)]
pub struct Activity {
    /// Probe (observes) or action (changes something).
    pub kind: ActivityKind,
    /// `name`: how the terminal, journal and report call it.
    pub name: String,
    /// What it runs.
    pub provider: Provider,
    /// `pauses`: sleeps around it (numbers or `${name}`).
    pub pauses: Pauses,
    /// `background`: run beside the rest of the method; awaited before the
    /// steady state is probed again.
    pub background: bool,
    /// `tolerance`: set on hypothesis probes (required there).
    pub tolerance: Option<Tolerance>,
    /// The activity as written, for the journal (Chaos Toolkit records it unsubstituted).
    pub raw: Value,
    /// Where it is in the file, for messages.
    pub field: FieldPath,
}

/// `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    /// Observes; in the hypothesis, judged by its tolerance.
    Probe,
    /// Acts on the system (starts a fault).
    Action,
}

/// `provider`: what the activity runs.
#[derive(Debug, Clone)]
pub enum Provider {
    /// An HTTP request.
    Http(HttpProvider),
    /// A local program (the Azure scenario scripts).
    Process(ProcessProvider),
}

/// `provider` of type `http`.
#[derive(Debug, Clone)]
pub struct HttpProvider {
    /// `url`, a template.
    pub url: String,
    /// `method`, upper-cased (default `GET`).
    pub method: String,
    /// `headers`, templates.
    pub headers: Map<String, Value>,
    /// `arguments`: query parameters of a GET, else the body (JSON only when
    /// the header `Content-Type` is exactly `application/json`, as in Chaos Toolkit).
    pub arguments: Option<Value>,
    /// `timeout` in seconds, or `[connect, read]`; a template allowed.
    pub timeout: Option<Value>,
    /// `verify_tls` (default true).
    pub verify_tls: bool,
}

/// `provider` of type `process`.
#[derive(Debug, Clone)]
pub struct ProcessProvider {
    /// `path`: the program, looked up on `PATH` unless it has a `/`.
    pub path: String,
    /// `arguments`: a list (or one string split on whitespace).
    pub arguments: Option<Value>,
    /// `timeout` in seconds; a template allowed.
    pub timeout: Option<Value>,
}

/// `pauses`.
#[derive(Debug, Clone, Default)]
pub struct Pauses {
    /// Seconds to wait before the activity.
    pub before: Option<Value>,
    /// Seconds to wait after it.
    pub after: Option<Value>,
}

/// Parses one activity (already resolved if it was a `ref`).
pub fn parse_activity(value: &Value, path: &FieldPath) -> Result<Activity, Invalid> {
    let obj = object(value, path)?;
    let activity_kind = match required(obj, "type", path)?.as_str() {
        Some("probe") => ActivityKind::Probe,
        Some("action") => ActivityKind::Action,
        Some(other) => {
            return Err(path.key("type").invalid(format!("{other:?} is not an activity type (probe or action)")));
        }
        None => return Err(path.key("type").invalid("expected \"probe\" or \"action\"")),
    };
    let name = required_text(obj, "name", path)?.to_owned();
    let provider = parse_provider(required(obj, "provider", path)?, &path.key("provider"))?;
    if let Some(timeout) = obj.get("timeout")
        && !timeout.is_number()
    {
        return Err(path.key("timeout").invalid(format!("must be a number, got {}", kind(timeout))));
    }
    let pauses = match obj.get("pauses") {
        None => Pauses::default(),
        Some(p) => {
            let p_path = path.key("pauses");
            let p = object(p, &p_path)?;
            Pauses { before: pause(p, "before", &p_path)?, after: pause(p, "after", &p_path)? }
        }
    };
    let background = match obj.get("background") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(path.key("background").invalid(format!("must be true or false, got {}", kind(other))));
        }
    };
    let tolerance = obj.get("tolerance").map(|t| Tolerance::parse(t, &path.key("tolerance"))).transpose()?;
    Ok(Activity {
        kind: activity_kind,
        name,
        provider,
        pauses,
        background,
        tolerance,
        raw: value.clone(),
        field: path.clone(),
    })
}

fn pause(obj: &Map<String, Value>, key: &str, path: &FieldPath) -> Result<Option<Value>, Invalid> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) if v.as_f64().is_some_and(|n| n >= 0.0) || is_template(v) => Ok(Some(v.clone())),
        Some(v) => Err(path.key(key).invalid(format!(
            "must be a number of seconds (>= 0) or a ${{name}} from the configuration, got {}",
            if v.is_string() { format!("the string {v}") } else { kind(v).to_owned() }
        ))),
    }
}

fn parse_provider(value: &Value, path: &FieldPath) -> Result<Provider, Invalid> {
    let obj = object(value, path)?;
    match required(obj, "type", path)?.as_str() {
        Some("http") => parse_http(obj, path).map(Provider::Http),
        Some("process") => parse_process(obj, path).map(Provider::Process),
        Some("python") => Err(path.key("type").invalid(
            "python providers are not supported by `chaoslab experiment` (it runs http and process providers)",
        )),
        Some(other) => {
            Err(path.key("type").invalid(format!("unknown provider type {other:?} (expected http or process)")))
        }
        None => Err(path.key("type").invalid("expected \"http\" or \"process\"")),
    }
}

fn parse_http(obj: &Map<String, Value>, path: &FieldPath) -> Result<HttpProvider, Invalid> {
    let url = required_text(obj, "url", path)?.to_owned();
    if !is_template(&Value::String(url.clone())) && !url.contains('$') && reqwest::Url::parse(&url).is_err() {
        return Err(path.key("url").invalid(format!("{url:?} is not a URL")));
    }
    let method = match obj.get("method") {
        None => "GET".to_owned(),
        Some(m) => text(m, &path.key("method"))?.to_uppercase(),
    };
    if http_method(&method).is_none() {
        return Err(path.key("method").invalid(format!("{method:?} is not an HTTP method")));
    }
    let headers = match obj.get("headers") {
        None => Map::new(),
        Some(h) => object(h, &path.key("headers"))?.clone(),
    };
    let verify_tls = match obj.get("verify_tls") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(path.key("verify_tls").invalid(format!("must be true or false, got {}", kind(other))));
        }
    };
    let timeout = obj.get("timeout").cloned();
    if let Some(t) = &timeout {
        check_http_timeout(t, &path.key("timeout"))?;
    }
    Ok(HttpProvider { url, method, headers, arguments: obj.get("arguments").cloned(), timeout, verify_tls })
}

/// The method, if it is a valid HTTP token.
pub fn http_method(method: &str) -> Option<reqwest::Method> {
    reqwest::Method::from_bytes(method.as_bytes()).ok()
}

/// An http `timeout`: seconds, `[connect, read]`, or a template.
pub fn check_http_timeout(value: &Value, path: &FieldPath) -> Result<(), Invalid> {
    let positive = |v: &Value| v.as_f64().is_some_and(|n| n > 0.0);
    let ok = positive(value)
        || is_template(value)
        || value.as_array().is_some_and(|pair| pair.len() == 2 && pair.iter().all(positive));
    if ok {
        Ok(())
    } else {
        Err(path.invalid(format!("expected seconds (> 0) or [connect, read] seconds, got {value}")))
    }
}

fn parse_process(obj: &Map<String, Value>, path: &FieldPath) -> Result<ProcessProvider, Invalid> {
    let program = required_text(obj, "path", path)?.to_owned();
    // Chaos Toolkit looks the program up at validate time; so do we, unless
    // it is a template resolved at run time.
    if !program.contains('$') && which(&program).is_none() {
        return Err(path.key("path").invalid(format!(
            "{program:?} cannot be found (not an executable file{})",
            if program.contains('/') { " relative to the current directory" } else { " on PATH" }
        )));
    }
    let arguments = obj.get("arguments").cloned();
    if let Some(args) = &arguments {
        match args {
            Value::Array(_) | Value::String(_) => {}
            other => {
                return Err(path
                    .key("arguments")
                    .invalid(format!("expected a list of arguments, got {}", kind(other))));
            }
        }
    }
    let timeout = obj.get("timeout").cloned();
    if let Some(t) = &timeout
        && !(t.as_f64().is_some_and(|n| n > 0.0) || is_template(t))
    {
        return Err(path.key("timeout").invalid(format!("expected seconds (> 0), got {t}")));
    }
    Ok(ProcessProvider { path: program, arguments, timeout })
}

/// `shutil.which`: a path with a `/` as it is, else the first match on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    if program.contains('/') {
        let p = PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|dir| dir.join(program)).find(|p| executable(p))
}

/// Arguments of a process provider (after substitution) as strings.
pub fn process_arguments(value: Option<&Value>, path: &FieldPath) -> Result<Vec<String>, Invalid> {
    let as_arg = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match value {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s.split_whitespace().map(str::to_owned).collect()),
        Some(v) => Ok(list(v, path)?.iter().map(as_arg).collect()),
    }
}
