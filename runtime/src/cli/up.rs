//! `chaoslab up`: validate, start the sidecar's services if they run here,
//! compile, bind, announce, serve (and, with `--watch`, deploy rebuilt
//! components as new revisions) until SIGTERM/ctrl-c, drain, stop.

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use chaoslab_runtime::app::{self, App};
use chaoslab_runtime::config::{LinkMode, UpArgs};
use chaoslab_runtime::engine::{self, EngineSettings, EpochTicker};
use chaoslab_runtime::host::{AllowedHost, SidecarCtx, SidecarImports, ThroughBridge};
use chaoslab_runtime::manifest::{self, AppManifest};
use chaoslab_runtime::revisions::{self, ControlAuth, Revisions, api::ControlState, gate};
use chaoslab_runtime::server::guest::GuestRunner;
use chaoslab_runtime::server::warm;
use chaoslab_runtime::server::{self, Drained, Handler, RequestLimits};
use chaoslab_sidecar::rpc::{self, LinkState, RpcLimits};
use chaoslab_sidecar::{Running, Secret};
use chaoslab_telemetry::Role;

use super::build::spin_variable;

/// Runs `chaoslab up` to completion.
pub fn run(args: UpArgs) -> anyhow::Result<()> {
    // Everything that can be wrong with the configuration fails here, before
    // any process starts or any port is bound.
    args.validate()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("chaoslab")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        // Bound first: its port names the replica locally (`host:port`), and
        // the name is on every signal from the start. Requests wait in the
        // backlog until the app is compiled and the readiness line is out.
        let listener = TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
        let port = listener.local_addr().context("reading the bound address")?.port();
        let replica = args.services.cluster.replica_name(Some(port));
        chaoslab_telemetry::resource::set_replica(&replica);
        let mut telemetry = chaoslab_telemetry::init(&args.telemetry, Role::Runtime).context("setting up telemetry")?;
        let result = serve(args, listener, &replica).await;
        // Flush after the drain: the last requests' spans are queued by now.
        telemetry.shutdown();
        result
    })
}

/// Where the sidecar is, decided once from `--link` and `--sidecar-url`.
enum Link {
    /// `--link inprocess`: the services run here and are linked natively.
    InProcess,
    /// `--link loopback` with no `--sidecar-url`: `up` serves its own
    /// sidecar on a free loopback port, and the bridge calls it there.
    OwnSidecar { listener: TcpListener, url: String, token: Secret },
    /// `--link loopback --sidecar-url`: an external `chaoslab-sidecar`.
    External { url: String, token: Secret },
}

impl Link {
    /// The link the flags ask for (validated), binding the own sidecar's port.
    async fn from_args(args: &UpArgs) -> anyhow::Result<Self> {
        let token = || match &args.link.link_token {
            Some(token) => Ok(token.clone()),
            None => Secret::generate().context("generating a link token"),
        };
        match (args.link.mode, &args.link.sidecar_url) {
            (LinkMode::Inprocess, _) => Ok(Self::InProcess),
            (LinkMode::Loopback, Some(url)) => {
                Ok(Self::External { url: url.trim_end_matches('/').to_owned(), token: token()? })
            }
            (LinkMode::Loopback, None) => {
                let listener = TcpListener::bind("127.0.0.1:0").await.context("binding the sidecar's loopback port")?;
                let addr = listener.local_addr().context("reading the sidecar's address")?;
                Ok(Self::OwnSidecar { listener, url: format!("http://{addr}"), token: token()? })
            }
        }
    }

    /// The sidecar's URL and token, as the manifest variables `sidecar_url`
    /// and `link_token` (the runtime is their provider, as Spin's is).
    /// In-process nothing reads them, but spin.toml requires `link_token`:
    /// it gets a random value.
    fn variables(&self) -> anyhow::Result<(Option<String>, String)> {
        Ok(match self {
            Self::InProcess => (None, Secret::generate().context("generating a link token")?.expose().to_owned()),
            Self::OwnSidecar { url, token, .. } | Self::External { url, token } => {
                (Some(url.clone()), token.expose().to_owned())
            }
        })
    }
}

async fn serve(args: UpArgs, listener: TcpListener, replica: &str) -> anyhow::Result<()> {
    let link = Link::from_args(&args).await?;
    let (link_url, link_token) = link.variables()?;
    let variable = |name: &str| match name {
        "sidecar_url" if link_url.is_some() => link_url.clone(),
        "link_token" => Some(link_token.clone()),
        _ => spin_variable(name),
    };
    let manifest = manifest::load(&args.manifest, variable)?;
    app::check_sources(&manifest)?;

    match link {
        Link::InProcess => {
            let running = Running::start(&args.services, replica).await?;
            let ctx = SidecarCtx::new(running.services.clone());
            let auth = ControlAuth::Services(running.services.clone());
            let result = serve_app(&args, &manifest, ctx, auth, listener).await;
            running.stop().await;
            result
        }
        Link::OwnSidecar { listener: sidecar_listener, url, token } => {
            let running = Running::start(&args.services, replica).await?;
            let limits = RpcLimits { body_timeout: *args.connections.header_read_timeout, ..RpcLimits::default() };
            let state = LinkState { services: running.services.clone(), token: Arc::new(token), limits };
            tracing::info!(%url, "serving the sidecar link on loopback");
            let grace = *args.limits.shutdown_grace;
            let connections = args.connections.clone();
            let sidecar = tokio::spawn(rpc::serve(sidecar_listener, state, connections, std::future::pending(), grace));
            let auth = ControlAuth::Services(running.services.clone());
            let result = serve_app(&args, &manifest, through_bridge(&url)?, auth, listener).await;
            sidecar.abort();
            running.stop().await;
            result
        }
        Link::External { url, token } => {
            tracing::info!(sidecar = %url, "linking components to the external sidecar; its Redis and chaos settings apply");
            let auth = ControlAuth::sidecar(&url, token).context("setting up the client of the sidecar")?;
            serve_app(&args, &manifest, through_bridge(&url)?, auth, listener).await
        }
    }
}

fn through_bridge(url: &str) -> anyhow::Result<ThroughBridge> {
    Ok(ThroughBridge::new(AllowedHost::parse(url).context("--sidecar-url")?))
}

/// Compiles the app linked as `link`, announces, serves on `listener` (the
/// control API checking tokens with `auth`) and drains.
async fn serve_app<S: SidecarImports>(
    args: &UpArgs,
    manifest: &AppManifest,
    link: S,
    auth: ControlAuth,
    listener: TcpListener,
) -> anyhow::Result<()> {
    let limits = RequestLimits {
        timeout: *args.limits.request_timeout,
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
        // Requests in flight, the revisions' gates beside them, and headroom.
        max_instances: args
            .limits
            .max_concurrent
            .saturating_add(gate::CONCURRENT_GATES)
            .saturating_add(16)
            .saturating_add(if args.limits.instance_reuse > 1 { warm::MAX_WARM_INSTANCES as u32 } else { 0 }),
        max_memory_bytes: limits.max_memory_bytes,
        cache_dir,
        perfmap: args.perfmap,
    };
    let engine = engine::build(&settings).map_err(|e| anyhow::anyhow!("{e:#}")).context("configuring wasmtime")?;
    let _ticker = EpochTicker::start(&engine);
    let app = Arc::new(App::load(&engine, manifest, &link)?);
    let runner = Arc::new(GuestRunner::new(engine, link, limits.max_memory_bytes, args.limits.instance_reuse));
    if args.limits.instance_reuse > 1 {
        for (id, component) in &manifest.components {
            if component.stateless {
                eprintln!("component {id}: instances reused for up to {} requests", args.limits.instance_reuse);
            } else {
                eprintln!("component {id}: a fresh instance per request (it does not declare tool.chaoslab.stateless)");
            }
        }
    }
    let settings =
        revisions::Settings { keep: args.revisions.keep_revisions as usize, request_timeout: limits.timeout };
    let revisions = Arc::new(Revisions::new(app.clone(), runner.clone(), settings));
    let control = revisions::api::router(ControlState {
        revisions: revisions.clone(),
        auth: Arc::new(auth),
        max_wasm_bytes: args.revisions.max_wasm_mb as usize * 1024 * 1024,
    });
    let handler = Arc::new(Handler::new(app, runner, control, limits));
    let watch = args.revisions.watch.then(|| tokio::spawn(revisions::watch::run(revisions.clone())));

    let addr = listener.local_addr().context("reading the bound address")?;
    eprintln!("chaoslab listening on http://{addr}/");

    let grace = *args.limits.shutdown_grace;
    let connections = args.connections.clone();
    let drained = server::serve(listener, handler, connections, chaoslab_sidecar::shutdown::signal(), grace).await?;
    if let Some(watch) = watch {
        watch.abort();
    }
    if drained == Drained::TimedOut {
        tracing::warn!(?grace, "grace period over; cutting remaining requests");
    }
    tracing::info!("stopped");
    Ok(())
}

/// `$XDG_CACHE_HOME/chaoslab/wasmtime`, else `~/.cache/chaoslab/wasmtime`.
fn default_cache_dir() -> std::path::PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("chaoslab").join("wasmtime")
}
