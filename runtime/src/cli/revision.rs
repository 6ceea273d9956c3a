//! `chaoslab revision deploy|list|activate|traffic`: the control API of a
//! running `chaoslab up` (`/_chaoslab/`, README "Revisions"), one line per
//! event on stdout; any failure (a refused request, a revision that failed
//! its gate or was rolled back) exits non-zero with the reason.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;

use chaoslab_runtime::config::revision::{
    ActivateArgs, ControlArgs, DeployArgs, ListArgs, RevisionAction, RevisionCommand, TrafficArgs,
};
use chaoslab_runtime::revisions::canary::WatchOutcome;
use chaoslab_runtime::revisions::model::{Source, State};
use chaoslab_runtime::revisions::view::{RevisionList, RevisionView, TrafficView};

/// How often a deploy's rollout is looked at while waiting.
const POLL: Duration = Duration::from_millis(200);
/// Longest wait for one answer of the control API (an upload included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs one `chaoslab revision` command.
pub fn run(command: RevisionCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting tokio")?;
    runtime.block_on(async move {
        match command.action {
            RevisionAction::Deploy(args) => deploy(args).await,
            RevisionAction::List(args) => list(args).await,
            RevisionAction::Activate(args) => activate(args).await,
            RevisionAction::Traffic(args) => traffic(args).await,
        }
    })
}

/// A client of one runtime's control API.
struct Control {
    /// `http://host:port`, no trailing slash.
    base: String,
    /// The chaos token.
    token: String,
    /// The HTTP client.
    client: reqwest::Client,
}

impl Control {
    fn new(args: &ControlArgs) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().context("building the HTTP client")?;
        Ok(Self { base: args.url.trim_end_matches('/').to_owned(), token: args.token.clone(), client })
    }

    /// `method path` with `body` (content type and bytes); the answer
    /// decoded, or the API's problem as the error.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Bytes)>,
    ) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.base);
        let mut req = self.client.request(method.clone(), &url).bearer_auth(&self.token);
        if let Some((content_type, bytes)) = body {
            req = req.header(http::header::CONTENT_TYPE, content_type).body(bytes);
        }
        let resp = req.send().await.with_context(|| format!("{method} {url}"))?;
        let status = resp.status();
        let bytes = resp.bytes().await.with_context(|| format!("reading the answer of {method} {url}"))?;
        if !status.is_success() {
            let problem: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let detail =
                problem["detail"].as_str().map_or_else(|| String::from_utf8_lossy(&bytes).into_owned(), str::to_owned);
            let hint = if status == StatusCode::UNAUTHORIZED { " (check --token / CHAOSLAB_CHAOS_TOKEN)" } else { "" };
            bail!("{method} {url}: {status}: {detail}{hint}");
        }
        serde_json::from_slice(&bytes).with_context(|| format!("{method} {url}: unexpected answer"))
    }
}

async fn deploy(args: DeployArgs) -> anyhow::Result<()> {
    let control = Control::new(&args.control)?;
    let settings = settings(&args);
    let revision: RevisionView = match &args.wasm {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (key, value) in &settings {
                match value {
                    serde_json::Value::String(text) => query.append_pair(key, text),
                    other => query.append_pair(key, &other.to_string()),
                };
            }
            let path = format!("/_chaoslab/revisions?{}", query.finish());
            control.call(Method::POST, &path, Some(("application/wasm", Bytes::from(bytes)))).await?
        }
        None => {
            let mut body = serde_json::Map::new();
            for (key, value) in settings {
                match key.split_once('.') {
                    Some((outer, inner)) => {
                        let nested = body.entry(outer).or_insert_with(|| serde_json::json!({}));
                        nested[inner] = value;
                    }
                    None => {
                        body.insert(key.to_owned(), value);
                    }
                }
            }
            body.insert("source".into(), args.source.clone().unwrap_or_default().into());
            let bytes = Bytes::from(serde_json::Value::Object(body).to_string());
            control.call(Method::POST, "/_chaoslab/revisions", Some(("application/json", bytes))).await?
        }
    };
    println!("{}", describe(&revision));
    if args.no_wait {
        return outcome(&revision);
    }
    let started = Instant::now();
    let mut last = revision;
    while !settled(&last) {
        if started.elapsed() > *args.wait_timeout {
            bail!(
                "{} is still {:?} after {}; see `chaoslab revision list`",
                last.meta.id,
                last.state,
                args.wait_timeout
            );
        }
        tokio::time::sleep(POLL).await;
        let now: RevisionView =
            control.call(Method::GET, &format!("/_chaoslab/revisions/{}", last.meta.id), None).await?;
        if describe(&now) != describe(&last) {
            println!("{}", describe(&now));
        }
        last = now;
    }
    outcome(&last)
}

/// The deploy's settings as `(field, value)`, dotted like the API's fields;
/// unset ones are left to the runtime's defaults.
fn settings(args: &DeployArgs) -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::json;
    let millis = |d: &humantime::Duration| json!(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut settings = vec![("component", json!(args.component))];
    let optional = [
        ("traffic", args.traffic.map(|v| json!(v))),
        ("readiness.path", args.readiness_path.as_ref().map(|v| json!(v))),
        ("readiness.successes", args.readiness_successes.map(|v| json!(v))),
        ("readiness.failures", args.readiness_failures.map(|v| json!(v))),
        ("readiness.interval_ms", args.readiness_interval.as_ref().map(millis)),
        ("readiness.timeout_ms", args.readiness_timeout.as_ref().map(millis)),
        ("watch.requests", args.watch_requests.map(|v| json!(v))),
        ("watch.seconds", args.watch_seconds.map(|v| json!(v))),
        ("watch.max_error_ratio_delta", args.max_error_ratio_delta.map(|v| json!(v))),
    ];
    settings.extend(optional.into_iter().filter_map(|(key, value)| value.map(|v| (key, v))));
    if args.no_readiness {
        settings.push(("readiness", serde_json::Value::Null));
    }
    settings
}

/// True once a rollout has nothing left to do.
fn settled(revision: &RevisionView) -> bool {
    match revision.state {
        State::Provisioning => false,
        State::Active => revision.canary.as_ref().is_none_or(|c| c.outcome != WatchOutcome::Watching),
        State::Ready | State::Failed | State::Retired => true,
    }
}

/// Success unless the revision failed.
fn outcome(revision: &RevisionView) -> anyhow::Result<()> {
    match (&revision.state, &revision.reason) {
        (State::Failed, Some(reason)) => bail!("revision {} failed: {reason}", revision.meta.id),
        (State::Failed, None) => bail!("revision {} failed", revision.meta.id),
        _ => Ok(()),
    }
}

/// One line saying where `r` is.
fn describe(r: &RevisionView) -> String {
    let id = &r.meta.id;
    let component = &r.meta.component;
    match r.state {
        State::Provisioning => {
            let sha = r.meta.sha256.as_deref().map_or("", |s| &s[..12.min(s.len())]);
            format!("{id} provisioning: {}, sha256 {sha}…", source(&r.meta.source))
        }
        State::Failed => format!(
            "{id} failed: {}",
            r.reason.as_ref().map_or_else(|| "no reason recorded".to_owned(), ToString::to_string)
        ),
        State::Ready => format!("{id} ready: passed its gate{}; no traffic yet", timings(r)),
        State::Retired => format!("{id} retired"),
        State::Active => match &r.canary {
            Some(c) if c.outcome == WatchOutcome::Watching => format!(
                "{id} active: canary at {} % of {component}{}, watching {} answers or {} s",
                c.share,
                timings(r),
                c.watch.requests,
                c.watch.seconds
            ),
            Some(c) if c.outcome == WatchOutcome::Promoted => format!(
                "{id} active: promoted to {} % of {component} after its watch ({}/{} 5xx, others {}/{})",
                r.traffic, c.canary.errors, c.canary.answered, c.baseline.errors, c.baseline.answered
            ),
            _ => format!("{id} active: {} % of {component}{}", r.traffic, timings(r)),
        },
    }
}

fn timings(r: &RevisionView) -> String {
    match (r.timings.compile_ms, r.timings.gate_ms) {
        (Some(compile), Some(gate)) => format!(" (compile {compile} ms, gate {gate} ms)"),
        _ => String::new(),
    }
}

fn source(source: &Source) -> String {
    match source {
        Source::Manifest { path } => format!("manifest {path}"),
        Source::Path { path } => format!("file {path}"),
        Source::Upload { bytes } => format!("upload of {:.1} MiB", *bytes as f64 / (1024.0 * 1024.0)),
        Source::Watch { path } => format!("watched file {path}"),
    }
}

async fn list(args: ListArgs) -> anyhow::Result<()> {
    let control = Control::new(&args.control)?;
    let path = match &args.component {
        Some(component) => {
            let query = form_urlencoded::Serializer::new(String::new()).append_pair("component", component).finish();
            format!("/_chaoslab/revisions?{query}")
        }
        None => "/_chaoslab/revisions".to_owned(),
    };
    let list: RevisionList = control.call(Method::GET, &path, None).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    for r in &list.revisions {
        let state = serde_json::to_value(&r.state)?.as_str().unwrap_or_default().to_owned();
        let sha = r.meta.sha256.as_deref().map_or("-", |s| &s[..12.min(s.len())]);
        let reason = r.reason.as_ref().map(|f| format!("  {f}")).unwrap_or_default();
        println!(
            "{:<16} {:<12} {:>3} %  sha256:{sha:<12}  {}  {}{reason}",
            r.meta.id,
            state,
            r.traffic,
            r.meta.created_at,
            source(&r.meta.source)
        );
    }
    Ok(())
}

async fn activate(args: ActivateArgs) -> anyhow::Result<()> {
    let control = Control::new(&args.control)?;
    let path = format!("/_chaoslab/revisions/{}/activate", args.id);
    let revision: RevisionView = control.call(Method::POST, &path, None).await?;
    println!("{}", describe(&revision));
    Ok(())
}

async fn traffic(args: TrafficArgs) -> anyhow::Result<()> {
    let control = Control::new(&args.control)?;
    let shares: BTreeMap<&str, u8> = args.shares.iter().map(|(id, share)| (id.as_str(), *share)).collect();
    let body = serde_json::json!({ args.component.as_str(): shares }).to_string();
    let view: TrafficView =
        control.call(Method::PUT, "/_chaoslab/traffic", Some(("application/json", body.into()))).await?;
    let split = view.traffic.get(&args.component).cloned().unwrap_or_default();
    let split: Vec<String> = split.iter().map(|(id, share)| format!("{id} {share} %")).collect();
    println!("{}: {}", args.component, split.join(", "));
    Ok(())
}
