//! The `chaoslab` command line: one clap struct per command, every flag with a
//! `CHAOSLAB_*` environment fallback, validated before anything binds.
//! The revision flags and `chaoslab revision` are in [`revision`].

pub mod revision;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use chaoslab_compose::cli::WrapArgs;
use chaoslab_sidecar::config::{DEFAULT_SHUTDOWN_GRACE, bounded_duration, shutdown_grace};
use chaoslab_sidecar::{Secret, ServicesArgs, SidecarConfig};
use chaoslab_telemetry::TelemetryArgs;
use clap::{Args, Parser, Subcommand};

pub use revision::{RevisionArgs, RevisionCommand};

/// chaoslab: a chaos-engineering target service (Wasm components + native sidecar).
#[derive(Debug, Parser)]
#[command(name = "chaoslab", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once at start-up; boxing buys nothing
pub enum Command {
    /// Serve spin.toml's components on the embedded runtime (the default way to run chaoslab).
    Up(UpArgs),
    /// Run every `[component.*.build]` command of spin.toml, like `spin build`.
    Build(BuildArgs),
    /// Wrap a wasi:http handler component in the chaos layer, so the chaos
    /// engine's data-plane faults (hang, latency, injected errors) apply to
    /// it (the same program as `chaoslab-wrap`, which ships without a Wasm runtime).
    Wrap(WrapArgs),
    /// Run the sidecar alone (Redis, chaos engine) and serve the
    /// `chaoslab:sidecar` contract over loopback HTTP, for `spin up`: the
    /// same program as `chaoslab-sidecar`, which ships without a Wasm runtime.
    Sidecar(SidecarConfig),
    /// Run or validate a chaos experiment (Chaos Toolkit format) against
    /// chaoslab over HTTP: `chaoslab experiment run FILE`, `chaoslab experiment validate FILE…`.
    Experiment(chaoslab_experiment::ExperimentArgs),
    /// Deploy, list, activate and split revisions of a running `chaoslab up`
    /// (its control API under `/_chaoslab/`).
    Revision(RevisionCommand),
}

/// `chaoslab up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// The Spin manifest to serve.
    #[arg(long, env = "CHAOSLAB_MANIFEST", default_value = "spin.toml")]
    pub manifest: PathBuf,

    /// Address to listen on; port 0 picks a free port (the bound address is printed).
    #[arg(long, env = "CHAOSLAB_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// How components reach the sidecar.
    #[command(flatten)]
    pub link: LinkArgs,

    /// Redis and the chaos engine, exactly as for `chaoslab-sidecar` (with
    /// `--link loopback --sidecar-url`, the external sidecar's settings apply).
    #[command(flatten)]
    pub services: ServicesArgs,

    /// Serving limits.
    #[command(flatten)]
    pub limits: LimitArgs,

    /// Connection-level limits of the listener (and of the own sidecar's, with `--link loopback`).
    #[command(flatten)]
    pub connections: chaoslab_sidecar::ConnectionArgs,

    /// Revisions: `--watch`, what is kept, upload size.
    #[command(flatten)]
    pub revisions: RevisionArgs,

    /// Directory for wasmtime's compiled-component cache.
    #[arg(long, env = "CHAOSLAB_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Compile components on every start instead of caching the result.
    #[arg(long, env = "CHAOSLAB_NO_CACHE")]
    pub no_cache: bool,

    /// Write `/tmp/perf-PID.map`, so `perf report` names the guests' Wasm
    /// functions (`scripts/profile` sets it); a profiling aid, off by default.
    #[arg(long, env = "CHAOSLAB_PERFMAP")]
    pub perfmap: bool,

    /// Where traces, metrics and logs are exported (none by default).
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

/// How the components' `chaoslab:sidecar` imports are satisfied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LinkMode {
    /// Linked natively inside this process; declared bridge dependencies are ignored.
    Inprocess,
    /// Each component is composed with its declared `sidecar-link` bridge,
    /// which calls the sidecar over loopback HTTP, exactly as under `spin up`.
    Loopback,
}

/// `--link` and the loopback sidecar it talks to.
#[derive(Debug, Clone, Args)]
pub struct LinkArgs {
    /// `inprocess` (default) or `loopback` (the Spin CLI's composition).
    #[arg(long = "link", env = "CHAOSLAB_LINK", value_enum, default_value = "inprocess")]
    pub mode: LinkMode,

    /// The external `chaoslab-sidecar` for `--link loopback`, e.g.
    /// `http://127.0.0.1:7070`. When unset, `up` serves its own sidecar on a
    /// free loopback port. Becomes the manifest variable `sidecar_url`.
    #[arg(long = "sidecar-url", env = "CHAOSLAB_SIDECAR_URL")]
    pub sidecar_url: Option<String>,

    /// Shared secret of the loopback link (at least 16 characters); generated
    /// when `up` serves its own sidecar. Becomes the variable `link_token`.
    #[arg(long = "link-token", env = "CHAOSLAB_LINK_TOKEN", hide_env_values = true,
          value_parser = Secret::parse_link_token)]
    pub link_token: Option<Secret>,
}

/// A combination of flags that cannot work, found before anything starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `--sidecar-url` without `--link loopback`.
    #[error("--sidecar-url needs --link loopback")]
    SidecarUrlNeedsLoopback,
    /// An external sidecar without its token.
    #[error("--link loopback --sidecar-url needs the sidecar's --link-token (or CHAOSLAB_LINK_TOKEN)")]
    SidecarUrlNeedsToken,
    /// The sidecar URL is not plain HTTP.
    #[error("--sidecar-url must be an http:// URL (the sidecar listens on loopback), got {0:?}")]
    SidecarUrlNotHttp(String),
    /// Instance reuse with the loopback bridge, which keeps per-request state.
    #[error(
        "--instance-reuse needs --link inprocess: the sidecar-link bridge composed in with --link loopback keeps \
         state of one request (its deadline for sidecar calls) in the instance, as Spin's fresh instances allow"
    )]
    ReuseNeedsInprocess,
}

impl UpArgs {
    /// Checks the combinations clap cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.link.validate()?;
        if self.limits.instance_reuse > 1 && self.link.mode == LinkMode::Loopback {
            return Err(ConfigError::ReuseNeedsInprocess);
        }
        Ok(())
    }
}

impl LinkArgs {
    /// Checks the combinations clap cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match (self.mode, &self.sidecar_url, &self.link_token) {
            (LinkMode::Inprocess, Some(_), _) => Err(ConfigError::SidecarUrlNeedsLoopback),
            (LinkMode::Loopback, Some(_), None) => Err(ConfigError::SidecarUrlNeedsToken),
            (LinkMode::Loopback, Some(url), _) if !url.starts_with("http://") => {
                Err(ConfigError::SidecarUrlNotHttp(url.clone()))
            }
            _ => Ok(()),
        }
    }
}

/// Limits that keep one request, or a flood of them, from taking the service down.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Longest a component may take to answer (1ms to 1h); past it the request gets 504.
    #[arg(long, env = "CHAOSLAB_REQUEST_TIMEOUT", default_value_t = DEFAULT_REQUEST_TIMEOUT.into(),
          value_parser = request_timeout)]
    pub request_timeout: humantime::Duration,

    /// Most requests in flight at once; beyond it, 503 with Retry-After.
    #[arg(long, env = "CHAOSLAB_MAX_CONCURRENT", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_concurrent: u32,

    /// Most requests one instance of a component serves, in sequence. 1 (the
    /// default, Spin's semantics): a fresh instance for every request. Above
    /// 1, only components that declare `[component.<id>.tool.chaoslab]
    /// stateless = true` reuse instances (a trap, a timeout or a memory
    /// grown past 16 MiB retires one); `--link inprocess` only.
    #[arg(long, env = "CHAOSLAB_INSTANCE_REUSE", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub instance_reuse: u32,

    /// Largest linear memory of one component instance, in MiB.
    #[arg(long, env = "CHAOSLAB_MAX_MEMORY_MB", default_value_t = 128,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_memory_mb: u32,

    /// Largest request body, in KiB, announced by Content-Length or sent
    /// chunked; beyond it, 413 before any component runs.
    #[arg(long, env = "CHAOSLAB_MAX_BODY_KB", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    pub max_body_kb: u32,

    /// How long shutdown waits for in-flight requests before exiting anyway (at most 10m).
    #[arg(long, env = "CHAOSLAB_SHUTDOWN_GRACE", default_value_t = DEFAULT_SHUTDOWN_GRACE.into(),
          value_parser = shutdown_grace)]
    pub shutdown_grace: humantime::Duration,
}

/// Default of `--request-timeout`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// clap value parser of `--request-timeout`: 1 ms to 1 h.
fn request_timeout(value: &str) -> Result<humantime::Duration, chaoslab_sidecar::config::DurationError> {
    bounded_duration(value, Duration::from_millis(1), Duration::from_secs(3600))
}

/// `chaoslab build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The Spin manifest whose components to build.
    #[arg(long, env = "CHAOSLAB_MANIFEST", default_value = "spin.toml")]
    pub manifest: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_match_the_documented_contract() {
        let cli = Cli::try_parse_from(["chaoslab", "up"]).unwrap();
        let Command::Up(up) = cli.command else { panic!("expected up") };
        assert_eq!(up.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(up.manifest, PathBuf::from("spin.toml"));
        assert_eq!(*up.limits.request_timeout, DEFAULT_REQUEST_TIMEOUT);
    }

    #[test]
    fn out_of_range_limits_are_rejected() {
        assert!(Cli::try_parse_from(["chaoslab", "up", "--max-concurrent", "0"]).is_err());
        let err = Cli::try_parse_from(["chaoslab", "up", "--header-read-timeout", "1ms"]).unwrap_err().to_string();
        assert!(err.contains("--header-read-timeout") && err.contains("between 100ms and 10m"), "{err}");
        assert!(Cli::try_parse_from(["chaoslab", "up", "--max-connections", "0"]).is_err());
        let err = Cli::try_parse_from(["chaoslab", "up", "--request-timeout", "2h"]).unwrap_err().to_string();
        assert!(err.contains("--request-timeout") && err.contains("between 1ms and 1h"), "{err}");
        let err = Cli::try_parse_from(["chaoslab", "up", "--link-token", "short"]).unwrap_err().to_string();
        assert!(err.contains("at least 16 characters"), "{err}");
    }

    #[test]
    fn revision_commands_parse_with_env_fallbacks_for_url_and_token() {
        use revision::RevisionAction;
        let cli = Cli::try_parse_from(["chaoslab", "up", "--watch", "--keep-revisions", "2"]).unwrap();
        let Command::Up(up) = cli.command else { panic!("expected up") };
        assert!(up.revisions.watch);
        assert_eq!((up.revisions.keep_revisions, up.revisions.max_wasm_mb), (2, revision::DEFAULT_MAX_WASM_MB));
        let args =
            ["chaoslab", "revision", "traffic", "--token", "t", "--component", "api", "api-rev-3=90", "rev-4=10"];
        let Command::Revision(cmd) = Cli::try_parse_from(args).unwrap().command else { panic!("expected revision") };
        let RevisionAction::Traffic(traffic) = cmd.action else { panic!("expected traffic") };
        assert_eq!(traffic.control.url, revision::DEFAULT_URL);
        assert_eq!(traffic.shares, [("api-rev-3".to_owned(), 90), ("rev-4".to_owned(), 10)]);
        let err = Cli::try_parse_from(["chaoslab", "revision", "traffic", "--token", "t", "--component", "a", "x=101"]);
        assert!(err.unwrap_err().to_string().contains("percentage"));
        let both = ["chaoslab", "revision", "deploy", "--token", "t", "--component", "api", "a.wasm", "--source", "b"];
        assert!(Cli::try_parse_from(both).is_err(), "an upload or a path, not both");
        let neither = ["chaoslab", "revision", "deploy", "--token", "t", "--component", "api"];
        assert!(Cli::try_parse_from(neither).is_err());
    }

    #[test]
    fn link_flags_are_checked() {
        let parse = |args: &[&str]| {
            let cli = Cli::try_parse_from([&["chaoslab", "up"], args].concat()).unwrap();
            let Command::Up(up) = cli.command else { panic!("expected up") };
            up.link.validate()
        };
        assert!(parse(&[]).is_ok());
        assert!(parse(&["--link", "loopback"]).is_ok());
        assert_eq!(parse(&["--sidecar-url", "http://127.0.0.1:7070"]), Err(ConfigError::SidecarUrlNeedsLoopback));
        let no_token = parse(&["--link", "loopback", "--sidecar-url", "http://127.0.0.1:7070"]);
        assert_eq!(no_token, Err(ConfigError::SidecarUrlNeedsToken));
        let https = parse(&["--link", "loopback", "--sidecar-url", "https://x", "--link-token", "0123456789abcdef"]);
        assert_eq!(https, Err(ConfigError::SidecarUrlNotHttp("https://x".into())));
        let cli = Cli::try_parse_from(["chaoslab", "sidecar"]).unwrap();
        let Command::Sidecar(sidecar) = cli.command else { panic!("expected sidecar") };
        assert_eq!(sidecar.listen.to_string(), "127.0.0.1:7070");
    }
}
