//! An experiment with its configuration resolved: every template
//! substituted and checked (URLs, pauses, timeouts, the extension), so a
//! run never discovers a malformed value halfway through. `validate` stops
//! here; `run` goes on with the plan.

use serde_json::Value;

use crate::model::{
    Activity, ChaoslabExtension, EXTENSION_NAME, Experiment, FieldPath, Invalid, Load, Provider, is_template,
};
use crate::vars::Vars;

/// The configuration keys chaoslab's experiments use, and `--spawn` sets.
pub const BASE_URL_KEY: &str = "base_url";
/// See [`BASE_URL_KEY`].
pub const TOKEN_KEY: &str = "token";

/// What a run needs, resolved.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Values for `${name}`.
    pub vars: Vars,
    /// The `chaoslab` extension, parsed.
    pub extension: ChaoslabExtension,
    /// Where the load goes (`load.base_url`, else the configuration's `base_url`).
    pub load_base_url: Option<String>,
    /// `/chaos/status` of the target and its token, when the configuration
    /// has `base_url` and `token`: the run then records fault windows.
    pub status: Option<(String, String)>,
}

impl Plan {
    /// The load, if the extension has one.
    pub fn load(&self) -> Option<&Load> {
        self.extension.load.as_ref()
    }
}

/// Resolves and checks `experiment` with `overrides` (`--var`, `--spawn`).
pub fn plan(
    experiment: &Experiment,
    overrides: &[(String, Value)],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Plan, Invalid> {
    let vars = Vars::resolve(experiment, overrides, env)?;
    for activity in experiment.activities() {
        check_activity(activity, &vars)?;
    }
    let ext_path = FieldPath::root().key("extensions").index(extension_index(experiment));
    let extension = match &experiment.chaoslab {
        None => ChaoslabExtension::default(),
        Some(raw) => ChaoslabExtension::parse(&vars.substitute(raw), &ext_path)?,
    };
    let base_url = vars.text(BASE_URL_KEY);
    let load_base_url = match &extension.load {
        None => None,
        Some(load) => {
            let path = ext_path.key("load").key("base_url");
            let url =
                load.base_url.clone().or_else(|| base_url.clone()).ok_or_else(|| {
                    path.invalid("missing, and the configuration has no base_url to send the load to")
                })?;
            check_url(url.trim_end_matches('/'), &path)?;
            Some(url.trim_end_matches('/').to_owned())
        }
    };
    let status = match (base_url, vars.text(TOKEN_KEY)) {
        (Some(url), Some(token)) => Some((format!("{}/chaos/status", url.trim_end_matches('/')), token)),
        _ => None,
    };
    Ok(Plan { vars, extension, load_base_url, status })
}

fn extension_index(experiment: &Experiment) -> usize {
    let extensions = experiment.raw.get("extensions").and_then(Value::as_array);
    extensions
        .and_then(|e| e.iter().position(|x| x.get("name").and_then(Value::as_str) == Some(EXTENSION_NAME)))
        .unwrap_or(0)
}

fn check_activity(activity: &Activity, vars: &Vars) -> Result<(), Invalid> {
    let path = &activity.field;
    for (key, pause) in [("before", &activity.pauses.before), ("after", &activity.pauses.after)] {
        if let Some(pause) = pause {
            let value = vars.substitute(pause);
            if !value.as_f64().is_some_and(|s| s.is_finite() && s >= 0.0) {
                return Err(path
                    .key("pauses")
                    .key(key)
                    .invalid(format!("{pause} is {value}, not a number of seconds")));
            }
        }
    }
    let provider_path = path.key("provider");
    match &activity.provider {
        Provider::Http(http) => {
            let url = vars.substitute_text(&http.url);
            check_url(&url, &provider_path.key("url"))?;
            if let Some(timeout) = &http.timeout {
                let value = vars.substitute(timeout);
                if is_template(&value) {
                    return Err(provider_path.key("timeout").invalid(format!("{timeout} is not in the configuration")));
                }
                crate::model::check_http_timeout(&value, &provider_path.key("timeout"))?;
            }
        }
        Provider::Process(process) => {
            let program = vars.substitute_text(&process.path);
            if crate::model::which(&program).is_none() {
                return Err(provider_path.key("path").invalid(format!("{program:?} cannot be found")));
            }
            if let Some(timeout) = &process.timeout
                && !vars.substitute(timeout).as_f64().is_some_and(|s| s > 0.0)
            {
                return Err(provider_path.key("timeout").invalid(format!("{timeout} is not a number of seconds")));
            }
        }
    }
    Ok(())
}

fn check_url(url: &str, path: &FieldPath) -> Result<(), Invalid> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(_) => Err(path.invalid(format!("{url:?} is not an http(s) URL"))),
        Err(e) if url.contains("${") => {
            Err(path.invalid(format!("{url:?} refers to a name the configuration lacks ({e})")))
        }
        Err(e) => Err(path.invalid(format!("{url:?} is not a URL: {e}"))),
    }
}
