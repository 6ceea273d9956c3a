//! `chaoslab up`: validate, start Redis if needed, compile, bind, announce,
//! serve until SIGTERM/ctrl-c, drain, stop.

use std::sync::Arc;

use anyhow::{Context, anyhow};
use tokio::net::TcpListener;

use chaoslab_runtime::app::{self, App, LinkPlan};
use chaoslab_runtime::config::{LinkMode, UpArgs};
use chaoslab_runtime::engine::{self, EngineSettings, EpochTicker};
use chaoslab_runtime::host::AllowedHost;
use chaoslab_runtime::manifest;
use chaoslab_runtime::server::{self, Drained, Handler, RequestLimits};
use chaoslab_runtime::sidecar_server::{self, LinkState, LinkToken};
use chaoslab_telemetry::Role;

use super::build::spin_variable;
use super::sidecar::start_services;

/// Runs `chaoslab up` to completion.
pub fn run(args: UpArgs) -> anyhow::Result<()> {
    // Everything that can be wrong with the configuration fails here, before
    // any process starts or any port is bound.
    args.limits.validate().map_err(|e| anyhow!(e))?;
    args.link.validate().map_err(|e| anyhow!(e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("chaoslab")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let mut telemetry = chaoslab_telemetry::init(&args.telemetry, Role::Runtime).context("setting up telemetry")?;
        let result = serve(args).await;
        // Flush after the drain: the last requests' spans are queued by now.
        telemetry.shutdown();
        result
    })
}

/// The loopback link: where the sidecar is, its token, and (when `up` serves
/// its own sidecar) the listener to serve it on.
struct Loopback {
    url: String,
    token: LinkToken,
    own: Option<TcpListener>,
}

async fn loopback(args: &UpArgs) -> anyhow::Result<Option<Loopback>> {
    if args.link.mode == LinkMode::Inprocess {
        return Ok(None);
    }
    if let Some(url) = &args.link.sidecar_url {
        let token = args.link.link_token.clone().expect("validated: --sidecar-url comes with --link-token");
        let token = LinkToken::new(token).map_err(|e| anyhow!(e))?;
        return Ok(Some(Loopback { url: url.trim_end_matches('/').to_owned(), token, own: None }));
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.context("binding the sidecar's loopback port")?;
    let addr = listener.local_addr().context("reading the sidecar's address")?;
    let token = match &args.link.link_token {
        Some(token) => LinkToken::new(token.clone()).map_err(|e| anyhow!(e))?,
        None => LinkToken::generate().context("generating a link token")?,
    };
    Ok(Some(Loopback { url: format!("http://{addr}"), token, own: Some(listener) }))
}

async fn serve(args: UpArgs) -> anyhow::Result<()> {
    let loopback = loopback(&args).await?;
    // The runtime is the provider of the link's variables: the bridge reads
    // `sidecar_url` and `link_token` as under `spin up`. In-process, nothing
    // reads them, but spin.toml requires `link_token`: it gets a random value.
    let link_url = loopback.as_ref().map(|l| l.url.clone());
    let link_token = match &loopback {
        Some(l) => l.token.expose().to_owned(),
        None => LinkToken::generate().context("generating a link token")?.expose().to_owned(),
    };
    let variable = |name: &str| match name {
        "sidecar_url" if link_url.is_some() => link_url.clone(),
        "link_token" => Some(link_token.clone()),
        _ => spin_variable(name),
    };
    let manifest = manifest::load(&args.manifest, variable)?;
    app::check_sources(&manifest)?;
    let link = LinkPlan {
        mode: args.link.mode,
        sidecar: match &loopback {
            Some(l) => Some(AllowedHost::parse(&l.url).map_err(|e| anyhow!("--sidecar-url: {e}"))?),
            None => None,
        },
    };

    let external = loopback.as_ref().is_some_and(|l| l.own.is_none());
    let (sidecar, child) = if external {
        tracing::info!(sidecar = %link_url.as_deref().unwrap_or(""),
            "linking components to the external sidecar; its Redis and chaos settings apply");
        (None, None)
    } else {
        let (sidecar, child) = start_services(&args.redis, &args.redis_server, &args.chaos).await?;
        (Some(sidecar), child)
    };
    let sidecar_task = match (loopback, &sidecar) {
        (Some(Loopback { url, token, own: Some(listener) }), Some(sidecar)) => {
            let state = LinkState { sidecar: sidecar.clone(), token: Arc::new(token) };
            tracing::info!(%url, "serving the sidecar link on loopback");
            let grace = args.limits.shutdown_grace;
            Some(tokio::spawn(sidecar_server::serve(listener, state, std::future::pending(), grace)))
        }
        _ => None,
    };
    let sidecar = if args.link.mode == LinkMode::Inprocess { sidecar } else { None };

    let limits = RequestLimits {
        timeout: args.limits.request_timeout,
        max_concurrent: args.limits.max_concurrent as usize,
        max_memory_bytes: args.limits.max_memory_mb as usize * 1024 * 1024,
        max_body_bytes: u64::from(args.limits.max_body_kb) * 1024,
    };
    let cache_dir = match (&args.cache_dir, args.no_cache) {
        (_, true) => None,
        (Some(dir), false) => Some(dir.clone()),
        (None, false) => Some(default_cache_dir()),
    };
    let settings = EngineSettings {
        max_instances: args.limits.max_concurrent.saturating_add(16),
        max_memory_bytes: limits.max_memory_bytes,
        cache_dir,
    };
    let engine = engine::build(&settings).map_err(|e| anyhow!("{e:#}")).context("configuring wasmtime")?;
    let _ticker = EpochTicker::start(&engine);
    let app = App::load(&engine, &manifest, &host_env(), &link)?;
    let handler = Arc::new(Handler::new(engine, app, sidecar, limits));

    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    eprintln!("chaoslab listening on http://{addr}/");

    let drained = server::serve(listener, handler, server::shutdown_signal(), args.limits.shutdown_grace).await?;
    if drained == Drained::TimedOut {
        tracing::warn!(grace = ?args.limits.shutdown_grace, "grace period over; cutting remaining requests");
    }
    if let Some(task) = sidecar_task {
        task.abort();
    }
    if let Some(child) = child {
        child.stop().await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Environment every component gets from the host: the replica name.
fn host_env() -> Vec<(String, String)> {
    let mut env = Vec::new();
    if let Ok(replica) = std::env::var("CONTAINER_APP_REPLICA_NAME") {
        env.push(("CONTAINER_APP_REPLICA_NAME".to_owned(), replica));
    }
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_owned()));
    if let Some(host) = host {
        env.push(("HOSTNAME".to_owned(), host));
    }
    env
}

/// `$XDG_CACHE_HOME/chaoslab/wasmtime`, else `~/.cache/chaoslab/wasmtime`.
fn default_cache_dir() -> std::path::PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("chaoslab").join("wasmtime")
}
