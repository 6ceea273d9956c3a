//! [`run`]: the sidecar process — telemetry, services, the loopback RPC
//! server, graceful shutdown. What `chaoslab-sidecar` runs, and
//! `chaoslab sidecar` with it.

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::SidecarConfig;
use crate::rpc::{self, LinkState};
use crate::secret::Secret;
use crate::services::Running;
use chaoslab_telemetry::Role;

/// Runs the sidecar until SIGTERM/ctrl-c, then stops every experiment,
/// drains calls for at most `--shutdown-grace`, stops its own Redis and
/// flushes telemetry.
pub fn run(config: SidecarConfig) -> anyhow::Result<()> {
    let token = match &config.link_token {
        Some(token) => token.clone(),
        None => {
            let token = Secret::generate().context("generating a link token")?;
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
        // Bound first: its port names the replica locally (`host:port`),
        // and the name is on every signal from the start.
        let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let replica = config.services.cluster.replica_name(Some(addr.port()));
        chaoslab_telemetry::resource::set_replica(&replica);
        let mut telemetry =
            chaoslab_telemetry::init(&config.telemetry, Role::Sidecar).context("setting up telemetry")?;
        let running = Running::start(&config.services, &replica).await?;
        eprintln!("chaoslab sidecar listening on http://{addr}/");
        let state =
            LinkState { services: running.services.clone(), token: Arc::new(token), limits: config.rpc_limits() };
        rpc::serve(listener, state, config.connections.clone(), crate::shutdown::signal(), *config.shutdown_grace)
            .await
            .context("serving the sidecar link")?;
        running.stop().await;
        tracing::info!("stopped");
        telemetry.shutdown();
        Ok(())
    })
}
