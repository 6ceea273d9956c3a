//! `chaoslab-bench`: chaoslab against a native axum + redis-rs baseline, in
//! one run on one machine, against one real `redis-server`.
//!
//! Run through `scripts/bench` (which builds everything first). Starts the
//! Redis, `chaoslab up` in-process, `chaoslab up --link loopback` beside a
//! `chaoslab-sidecar` (the Spin CLI's composition), with `SPIN_BIN` set the
//! real `spin up` beside another `chaoslab-sidecar`, `chaoslab-baseline`,
//! and for the chaos layer's cost and the second language `chaoslab up`
//! in-process serving the api unwrapped (`bench/unwrapped.spin.toml`) and
//! the Python handler (`examples/python/spin.toml`); loads `GET /` and
//! `GET /health` with `wrk` at each connection count, and prints req/s, p50,
//! p99, errors, server CPU time per request (all of a target's processes),
//! the ratios to the baseline, the cost of the bridge hop and of the layer,
//! and with `--histogram` each run's latency distribution ([`report`]).
//! With `--instance-reuse 1000` as a further in-process target. Then the
//! cold start ([`coldstart`]): exec to the first `200`, with an empty and a
//! warm compiled-code cache. Then the revisions benchmark ([`revisions`]): deploy call to `active`
//! for the api component, and `GET /` throughput while revisions compile
//! beside it. Not part of the test gate.
//!
//! The host binaries are `CHAOSLAB_PROFILE`'s (default `release`;
//! `scripts/bench --dist` builds and measures the shipped images'
//! whole-program `dist` profile, for chaoslab and the baseline alike).
//!
//! `scripts/bench [--dist] [--duration 10s] [--connections 4,64] [--paths /,/health] [--histogram] [--suites comparison,coldstart,revisions]`

mod coldstart;
mod report;
mod revisions;
mod wire;
mod wrk;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;

use chaoslab_tests::spin::SPIN_BIN_ENV;
use chaoslab_tests::{Chaoslab, Link, RedisServer, artifacts, proc_stat};
use report::Row;

/// Benchmark settings.
#[derive(Debug, Parser)]
struct Args {
    /// Length of each load run.
    #[arg(long, default_value = "10s", value_parser = humantime_secs)]
    duration: Duration,
    /// Connection counts to run at.
    #[arg(long, value_delimiter = ',', default_values_t = [4u32, 64])]
    connections: Vec<u32>,
    /// Paths to load.
    #[arg(long, value_delimiter = ',', default_values_t = ["/".to_owned(), "/health".to_owned()])]
    paths: Vec<String>,
    /// Also print each run's latency histogram.
    #[arg(long)]
    histogram: bool,
    /// What to run: `comparison` (chaoslab vs the baseline), `coldstart`,
    /// `revisions`.
    #[arg(long, value_delimiter = ',', default_values_t = ["comparison".to_owned(), "coldstart".to_owned(), "revisions".to_owned()])]
    suites: Vec<String>,
}

/// One server under test.
struct Target {
    /// Name in the table.
    name: &'static str,
    /// Base URL.
    url: String,
    /// Its processes, for CPU time.
    pids: Vec<u32>,
}

fn humantime_secs(s: &str) -> Result<Duration, String> {
    let secs = s.trim_end_matches('s').parse::<u64>().map_err(|e| format!("{s:?}: {e} (use e.g. 10s)"))?;
    Ok(Duration::from_secs(secs))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(unknown) = args.suites.iter().find(|s| !matches!(s.as_str(), "comparison" | "coldstart" | "revisions"))
    {
        bail!("--suites: unknown suite {unknown:?} (comparison, coldstart, revisions)");
    }
    if args.suites.iter().any(|s| s == "comparison") {
        comparison(&args)?;
    }
    if args.suites.iter().any(|s| s == "coldstart") {
        coldstart::run()?;
    }
    if args.suites.iter().any(|s| s == "revisions") {
        // The lower connection count: compilation competes for the same cores.
        let connections = args.connections.iter().copied().min().unwrap_or(4);
        revisions::run(args.duration, connections)?;
    }
    Ok(())
}

/// chaoslab (both links) against the native baseline.
fn comparison(args: &Args) -> anyhow::Result<()> {
    let baseline_bin = artifacts::baseline_bin();
    eprintln!("bench: binaries from {} (chaoslab and the baseline alike)", artifacts::bin_dir().display());
    let redis = RedisServer::start();
    let app = || Chaoslab::builder().manifest(artifacts::app_manifest()).redis(&redis.url());
    let chaoslab = app().start();
    let reuse = app().args(["--instance-reuse", "1000"]).start();
    let loopback = app().link(Link::Loopback).start();
    let unwrapped = Chaoslab::builder()
        .manifest(artifacts::workspace_root().join("bench/unwrapped.spin.toml"))
        .redis(&redis.url())
        .start();
    let python = Chaoslab::builder()
        .manifest(artifacts::python_manifest())
        .redis(&redis.url())
        .start_timeout(Duration::from_secs(240))
        .start();
    let spin = if std::env::var_os(SPIN_BIN_ENV).is_some() {
        Some(app().link(Link::Spin).start())
    } else {
        eprintln!("bench: {SPIN_BIN_ENV} is not set: no spin target (set it to a Spin CLI to compare spin up)");
        None
    };
    let (mut baseline, baseline_url) = start_baseline(&baseline_bin, &redis.url())?;

    let mut targets = vec![
        Target { name: report::BASELINE, url: baseline_url, pids: vec![baseline.id()] },
        Target { name: report::IN_PROCESS, url: chaoslab.url(""), pids: chaoslab.pids() },
        Target { name: report::REUSE, url: reuse.url(""), pids: reuse.pids() },
        Target { name: report::LOOPBACK, url: loopback.url(""), pids: loopback.pids() },
        Target { name: report::UNWRAPPED, url: unwrapped.url(""), pids: unwrapped.pids() },
        Target { name: report::PYTHON, url: python.url(""), pids: python.pids() },
    ];
    if let Some(spin) = &spin {
        targets.push(Target { name: report::SPIN, url: spin.url(""), pids: spin.pids() });
    }
    let script = artifacts::target_dir().join("chaoslab-bench-histogram.lua");
    std::fs::write(&script, wrk::HISTOGRAM_SCRIPT).with_context(|| format!("writing {}", script.display()))?;
    let script = args.histogram.then_some(script.as_path());
    let mut rows = Vec::new();
    for path in &args.paths {
        for &connections in &args.connections {
            for target in &targets {
                let url = format!("{}{path}", target.url);
                wrk::run(&url, connections, Duration::from_secs(1), None)?; // warm-up
                let cpu_before = cpu_time(&target.pids)?;
                let load = wrk::run(&url, connections, args.duration, script)?;
                let cpu = cpu_time(&target.pids)? - cpu_before;
                let cpu_us_per_req = cpu.as_secs_f64() * 1e6 / load.requests as f64;
                eprintln!("bench: {} {path} c={connections}: {:.0} req/s", target.name, load.rps);
                rows.push(Row { target: target.name, connections, path: path.clone(), load, cpu_us_per_req });
            }
        }
    }
    let _ = baseline.kill();
    let _ = baseline.wait();
    report::print(&rows, args.duration);
    println!(
        "\nJSON work of the link per `GET /` (decide + incr: params and answers encoded and decoded): {:.2} µs",
        wire::json_ns_per_request() / 1000.0
    );
    Ok(())
}

/// CPU time of all `pids` together.
fn cpu_time(pids: &[u32]) -> anyhow::Result<Duration> {
    pids.iter().try_fold(Duration::ZERO, |sum, pid| Ok(sum + proc_stat::cpu_time(*pid)?))
}

fn start_baseline(bin: &std::path::Path, redis_url: &str) -> anyhow::Result<(Child, String)> {
    let mut child = Command::new(bin)
        .args(["--listen", "127.0.0.1:0", "--redis-url", redis_url])
        .stderr(Stdio::piped())
        .spawn()
        .context("starting chaoslab-baseline")?;
    let stderr = child.stderr.take().context("baseline stderr")?;
    for line in BufReader::new(stderr).lines() {
        if let Some(addr) = line?.strip_prefix("baseline listening on ") {
            return Ok((child, addr.trim_end_matches('/').to_owned()));
        }
    }
    bail!("chaoslab-baseline exited before listening")
}
