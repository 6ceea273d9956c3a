//! `chaoslab up`: validate, start Redis if needed, compile, bind, announce,
//! serve until SIGTERM/ctrl-c, drain, stop.

use std::sync::Arc;

use anyhow::{Context, anyhow};
use tokio::net::TcpListener;

use chaoslab_runtime::app::{self, App};
use chaoslab_runtime::config::UpArgs;
use chaoslab_runtime::engine::{self, EngineSettings, EpochTicker};
use chaoslab_runtime::host::Sidecar;
use chaoslab_runtime::manifest;
use chaoslab_runtime::redis_child::RedisChild;
use chaoslab_runtime::server::{self, Drained, Handler, RequestLimits};
use chaoslab_sidecar::{Store, chaos};

use super::build::spin_variable;

/// Runs `chaoslab up` to completion.
pub fn run(args: UpArgs) -> anyhow::Result<()> {
    // Everything that can be wrong with the configuration fails here, before
    // any process starts or any port is bound.
    args.limits.validate().map_err(|e| anyhow!(e))?;
    let manifest = manifest::load(&args.manifest, spin_variable)?;
    app::check_sources(&manifest)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("chaoslab")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(args, manifest))
}

async fn serve(args: UpArgs, manifest: manifest::AppManifest) -> anyhow::Result<()> {
    let mut redis_args = args.redis.clone();
    let child = match &redis_args.url {
        Some(_) => None,
        None => {
            let child = RedisChild::start(&args.redis_server).await?;
            tracing::info!(socket = %child.socket().display(), "started redis-server (no CHAOSLAB_REDIS_URL given)");
            redis_args.url = Some(child.url());
            Some(child)
        }
    };
    let chaos = chaos::setup::from_args(&args.chaos).context("setting up the chaos engine")?;
    if let Some(token) = &chaos.generated_token {
        eprintln!("chaos token: {token}");
    }
    let store =
        Store::connect(&redis_args).await.context("setting up the Redis connection")?.with_chaos(chaos.engine.clone());
    tracing::info!(chaos = chaos.engine.enabled(), "chaos engine ready");
    let sidecar = Sidecar { store, chaos: chaos.engine };

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
    let app = App::load(&engine, &manifest, &host_env())?;
    let handler = Arc::new(Handler::new(engine, app, sidecar, limits));

    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    eprintln!("chaoslab listening on http://{addr}/");

    let drained = server::serve(listener, handler, server::shutdown_signal(), args.limits.shutdown_grace).await?;
    if drained == Drained::TimedOut {
        tracing::warn!(grace = ?args.limits.shutdown_grace, "grace period over; cutting remaining requests");
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
