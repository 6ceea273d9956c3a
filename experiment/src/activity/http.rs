//! The `http` provider, as chaoslib's provider/http.py runs it.

use std::time::Duration;

use serde_json::{Map, Value};

use super::{Context, DEFAULT_HTTP_TIMEOUT, error_chain};
use crate::model::{HttpProvider, http_method};

/// Sends the request; the output is `{"status","headers","body"}`, with the
/// body parsed as JSON only when the answer's `Content-Type` is exactly
/// `application/json` (as Chaos Toolkit does).
pub async fn run(provider: &HttpProvider, ctx: &Context) -> Result<Value, String> {
    let vars = &ctx.vars;
    let url = vars.substitute_text(&provider.url);
    let method = http_method(&provider.method).ok_or_else(|| format!("{} is not an HTTP method", provider.method))?;
    let timeout = provider.timeout.as_ref().map_or(DEFAULT_HTTP_TIMEOUT, |t| timeout_of(&vars.substitute(t)));
    let headers: Vec<(String, String)> = provider
        .headers
        .iter()
        .map(|(k, v)| {
            let value = match vars.substitute(v) {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k.clone(), value)
        })
        .collect();
    let client = if provider.verify_tls {
        ctx.http.clone()
    } else {
        reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .map_err(|e| format!("building an HTTP client without TLS verification: {}", error_chain(&e)))?
    };
    let mut request = client.request(method.clone(), &url).timeout(timeout);
    for (k, v) in &headers {
        request = request.header(k, v);
    }
    // Chaos Toolkit substitutes arguments only when there is configuration.
    let arguments =
        provider.arguments.as_ref().map(|a| if ctx.vars.is_empty() { a.clone() } else { vars.substitute(a) });
    if let Some(arguments) = arguments.filter(|a| !is_empty(a)) {
        let json_body = headers.iter().any(|(k, v)| k == "Content-Type" && v == "application/json");
        request = if method == reqwest::Method::GET {
            request.query(&pairs(&arguments))
        } else if json_body {
            request.body(arguments.to_string())
        } else if let Value::String(raw) = &arguments {
            request.body(raw.clone())
        } else {
            request.form(&pairs(&arguments))
        };
    }
    let response = request.send().await.map_err(|e| failure(&e, &url, timeout))?;
    let status = response.status().as_u16();
    let mut header_map = Map::new();
    for (name, value) in response.headers() {
        header_map
            .insert(name.as_str().to_owned(), Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned()));
    }
    let is_json = response.headers().get(reqwest::header::CONTENT_TYPE).is_some_and(|v| v == "application/json");
    let text = response.text().await.map_err(|e| failure(&e, &url, timeout))?;
    let body = if is_json { serde_json::from_str(&text).unwrap_or(Value::String(text)) } else { Value::String(text) };
    Ok(serde_json::json!({"status": status, "headers": header_map, "body": body}))
}

/// Chaos Toolkit's two failures, with the detail it drops.
fn failure(err: &reqwest::Error, url: &str, timeout: Duration) -> String {
    if err.is_timeout() {
        format!("activity took too long to complete (no answer from {url} within {timeout:?})")
    } else {
        format!("failed to connect to {url}: {}", error_chain(err))
    }
}

/// `timeout` after substitution: seconds, or `[connect, read]` (their sum bounds the request).
fn timeout_of(value: &Value) -> Duration {
    let secs = match value {
        Value::Array(pair) => pair.iter().filter_map(Value::as_f64).sum(),
        other => other.as_f64().unwrap_or(DEFAULT_HTTP_TIMEOUT.as_secs_f64()),
    };
    if secs.is_finite() && secs > 0.0 { Duration::from_secs_f64(secs) } else { DEFAULT_HTTP_TIMEOUT }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// Query or form pairs, as `requests` encodes a dict (a list value repeats its key).
fn pairs(arguments: &Value) -> Vec<(String, String)> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let Value::Object(obj) = arguments else { return Vec::new() };
    obj.iter()
        .flat_map(|(k, v)| match v {
            Value::Array(items) => items.iter().map(|i| (k.clone(), text(i))).collect::<Vec<_>>(),
            other => vec![(k.clone(), text(other))],
        })
        .collect()
}
