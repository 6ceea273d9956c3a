//! `chaoslab sidecar`: the sidecar alone (Redis, chaos engine) serving the
//! `chaoslab:sidecar` contract over loopback HTTP for `spin up`, plus its
//! container probes. Also [`start_services`], shared with `chaoslab up`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use tokio::net::TcpListener;

use chaoslab_runtime::config::SidecarArgs;
use chaoslab_runtime::host::Sidecar;
use chaoslab_runtime::redis_child::RedisChild;
use chaoslab_runtime::server;
use chaoslab_runtime::sidecar_server::{self, LinkState, LinkToken};
use chaoslab_sidecar::{ChaosArgs, RedisArgs, Store, chaos};
use chaoslab_telemetry::Role;

/// Runs `chaoslab sidecar` to completion.
pub fn run(args: SidecarArgs) -> anyhow::Result<()> {
    let token = match &args.link_token {
        Some(token) => LinkToken::new(token.clone()).map_err(|e| anyhow!(e))?,
        None => {
            let token = LinkToken::generate().context("generating a link token")?;
            eprintln!("link token: {}", token.expose());
            token
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("chaoslab-sidecar")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let mut telemetry = chaoslab_telemetry::init(&args.telemetry, Role::Sidecar).context("setting up telemetry")?;
        let (sidecar, child) = start_services(&args.redis, &args.redis_server, &args.chaos).await?;
        let listener = TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        eprintln!("chaoslab sidecar listening on http://{addr}/");
        let state = LinkState { sidecar, token: Arc::new(token) };
        sidecar_server::serve(listener, state, server::shutdown_signal(), args.shutdown_grace)
            .await
            .context("serving the sidecar link")?;
        if let Some(child) = child {
            child.stop().await;
        }
        tracing::info!("stopped");
        telemetry.shutdown();
        Ok(())
    })
}

/// Starts what the sidecar owns: its own `redis-server` when no URL is
/// configured, the chaos engine (printing a generated chaos token once) and
/// the Redis connection. Must run inside the Tokio runtime.
pub async fn start_services(
    redis: &RedisArgs,
    redis_server: &Path,
    chaos_args: &ChaosArgs,
) -> anyhow::Result<(Sidecar, Option<RedisChild>)> {
    let mut redis_args = redis.clone();
    let child = match &redis_args.url {
        Some(_) => None,
        None => {
            let child = RedisChild::start(redis_server).await?;
            tracing::info!(socket = %child.socket().display(), "started redis-server (no CHAOSLAB_REDIS_URL given)");
            redis_args.url = Some(child.url());
            Some(child)
        }
    };
    let chaos = chaos::setup::from_args(chaos_args).context("setting up the chaos engine")?;
    if let Some(token) = &chaos.generated_token {
        eprintln!("chaos token: {token}");
    }
    let store =
        Store::connect(&redis_args).await.context("setting up the Redis connection")?.with_chaos(chaos.engine.clone());
    chaoslab_sidecar::telemetry::observe_chaos(&chaos.engine);
    tracing::info!(chaos = chaos.engine.enabled(), "chaos engine ready");
    Ok((Sidecar { store, chaos: chaos.engine }, child))
}
