//! `chaoslab-soak`: a long run of `chaoslab up` under steady load while
//! faults cycle through the chaos API (run by `scripts/soak`; not part of
//! the test gate).
//!
//! 1. Starts a `redis-server` and `chaoslab up` (the main spin.toml).
//! 2. Measures capacity: `GET /` back to back over `--connections` for
//!    `--capacity-for`.
//! 3. Loads it at `--share` (70 %) of that, open loop, 4/5 `GET /` and 1/5
//!    `GET /health`, for `--duration` (10 min), while latency, errors,
//!    Redis blackhole and fail, CPU + memory load, and a hang released by a
//!    DELETE cycle through the chaos API ([`faults`]).
//! 4. Samples the server's RSS and open descriptors every `--sample-every`.
//! 5. Reports: every answer that is not `200` and not explained by a fault
//!    active at the time ("unexpected"), the Redis counter against the
//!    `200`s of `GET /`, RSS growth after warm-up, descriptors over time.
//!    Exits non-zero when an aim is missed (any unexpected answer, counter
//!    off, RSS growth >= 10 %, descriptors growing).

mod client;
mod faults;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chaoslab_tests::{Chaoslab, RedisServer, artifacts, proc_stat};
use clap::Parser;

use client::Outcome;
use faults::Window;

/// Soak settings.
#[derive(Debug, Parser)]
#[command(name = "chaoslab-soak")]
struct Args {
    /// Length of the loaded run.
    #[arg(long, default_value = "10m")]
    duration: humantime::Duration,
    /// Share of the measured capacity to load it at.
    #[arg(long, default_value_t = 0.7)]
    share: f64,
    /// Connections of the load (and of the capacity run).
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Length of the capacity run.
    #[arg(long, default_value = "15s")]
    capacity_for: humantime::Duration,
    /// Warm-up: RSS growth is measured from the first sample after it.
    #[arg(long, default_value = "1m")]
    warm_up: humantime::Duration,
    /// Time between RSS / descriptor samples.
    #[arg(long, default_value = "30s")]
    sample_every: humantime::Duration,
}

/// One sample of the server process.
struct Sample {
    at: Duration,
    rss_mib: f64,
    fds: usize,
    /// A load fault (memory balloon) was running.
    loaded: bool,
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let redis = RedisServer::start();
    let app = Chaoslab::builder().manifest(artifacts::app_manifest()).redis(&redis.url()).start();
    let (addr, pid) = (app.addr(), app.pid());
    eprintln!("soak: chaoslab up at {} (pid {pid})", app.url("/"));

    client::capacity(addr, args.connections, Duration::from_secs(3)).await; // warm the instance cache
    let capacity = client::capacity(addr, args.connections, *args.capacity_for).await;
    let rate = capacity * args.share;
    eprintln!("soak: capacity {capacity:.0} req/s over {} connections; loading at {rate:.0} req/s", args.connections);
    redis.command(&["DEL", "chaoslab:visits"]);

    let origin = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(client::run(addr, args.connections, rate, origin, stop.clone()));
    let sampling = {
        let (stop, every, length) = (stop.clone(), *args.sample_every, *args.duration);
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) && origin.elapsed() <= length {
                let rss_mib = proc_stat::rss_mib(pid).unwrap_or(f64::NAN);
                samples.push(Sample { at: origin.elapsed(), rss_mib, fds: open_fds(pid), loaded: false });
                tokio::time::sleep(every).await;
            }
            samples
        })
    };
    let windows = faults::cycle_until(&app, origin, *args.duration).await?;
    tokio::time::sleep(args.duration.saturating_sub(origin.elapsed())).await;
    stop.store(true, Ordering::Relaxed);
    let outcomes = load.await?;
    let mut samples = sampling.await?;
    // Quiet now: every fault over, the load stopped.
    tokio::time::sleep(Duration::from_secs(5)).await;
    samples.push(Sample { at: origin.elapsed(), rss_mib: proc_stat::rss_mib(pid)?, fds: open_fds(pid), loaded: false });
    for sample in &mut samples {
        sample.loaded = windows
            .iter()
            .any(|w| w.kind == "load" && w.from <= sample.at && sample.at <= w.to + Duration::from_secs(1));
    }
    let visits = redis.get_int("chaoslab:visits");
    let ok = report(&args, capacity, rate, &outcomes, &windows, &samples, visits);
    // Stop both children first: `process::exit` runs no destructor.
    drop(app);
    drop(redis);
    std::process::exit(if ok { 0 } else { 1 });
}

/// Why a non-200 answer is explained by a fault, or `None`.
fn explained(o: &Outcome, windows: &[Window]) -> Option<&'static str> {
    let status = *o.status.as_ref().ok()?;
    let slack = Duration::from_millis(500);
    let active = |kind: &'static str| {
        windows.iter().filter(move |w| w.kind == kind && w.from <= o.done && o.sent <= w.to + slack)
    };
    let body = o.body.as_ref()?;
    let title = body["title"].as_str().unwrap_or("");
    for w in active("errors") {
        if title == "Injected fault" && w.body.contains(&format!("\"status\":{status}")) {
            return Some("errors");
        }
    }
    if active("redis").next().is_some() && status == 503 {
        let store = title == "Redis unavailable" || body["status"] == "unhealthy";
        if store {
            return Some("redis");
        }
    }
    None
}

#[allow(clippy::too_many_arguments)]
fn report(
    args: &Args,
    capacity: f64,
    rate: f64,
    outcomes: &[Outcome],
    windows: &[Window],
    samples: &[Sample],
    visits: i64,
) -> bool {
    let ok_visits = outcomes.iter().filter(|o| o.path == "/" && o.status == Ok(200)).count() as i64;
    let mut explained_by = std::collections::BTreeMap::<&str, usize>::new();
    let mut unexpected = Vec::new();
    for o in outcomes.iter().filter(|o| o.status != Ok(200)) {
        match explained(o, windows) {
            Some(kind) => *explained_by.entry(kind).or_default() += 1,
            None => unexpected.push(o),
        }
    }
    let secs = args.duration.as_secs_f64();
    let mut latencies: Vec<Duration> = outcomes.iter().map(|o| o.done - o.sent).collect();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "\n## chaoslab soak: {} at {:.0} % of capacity, faults cycling\n",
        humantime::format_duration(*args.duration),
        args.share * 100.0
    );
    println!(
        "capacity {capacity:.0} req/s (GET /, {} connections, closed loop); target {rate:.0} req/s",
        args.connections
    );
    println!(
        "sent {} requests ({:.0} req/s achieved); p50 {:?}, p99 {:?}, max {:?}",
        outcomes.len(),
        outcomes.len() as f64 / secs,
        pct(0.5),
        pct(0.99),
        latencies.last().copied().unwrap_or_default()
    );
    let kinds: std::collections::BTreeMap<&str, usize> = windows.iter().fold(Default::default(), |mut m, w| {
        *m.entry(w.kind).or_default() += 1;
        m
    });
    println!("faults run: {kinds:?}");
    println!("non-200 answers explained by an active fault: {explained_by:?}");
    println!("unexpected answers: {}", unexpected.len());
    for o in unexpected.iter().take(20) {
        println!(
            "  {:>8.3}s {} -> {:?} {}",
            o.sent.as_secs_f64(),
            o.path,
            o.status,
            o.body.as_ref().map(|b| b.to_string()).unwrap_or_default()
        );
    }
    println!(
        "Redis counter {visits}, 200s of GET / {ok_visits}: {}",
        if visits == ok_visits { "equal" } else { "DIFFERENT" }
    );
    println!("\n| t | RSS MiB | open fds | load fault running |\n|---:|---:|---:|---|");
    for s in samples {
        println!(
            "| {:.0}s | {:.1} | {} | {} |",
            s.at.as_secs_f64(),
            s.rss_mib,
            s.fds,
            if s.loaded { "yes" } else { "" }
        );
    }
    let quiet: Vec<&Sample> = samples.iter().filter(|s| !s.loaded).collect();
    let base = quiet.iter().find(|s| s.at >= *args.warm_up);
    let last = quiet.last();
    let (mut rss_ok, mut fds_ok) = (false, false);
    if let (Some(base), Some(last)) = (base, last) {
        let growth = (last.rss_mib - base.rss_mib) / base.rss_mib * 100.0;
        rss_ok = growth < 10.0;
        fds_ok = last.fds <= base.fds + 2;
        println!(
            "\nRSS after warm-up {:.1} MiB (t={:.0}s) -> {:.1} MiB at the end: {growth:+.1} %; fds {} -> {}",
            base.rss_mib,
            base.at.as_secs_f64(),
            last.rss_mib,
            base.fds,
            last.fds
        );
    }
    let ok = unexpected.is_empty() && visits == ok_visits && rss_ok && fds_ok;
    println!(
        "verdict: {} (unexpected answers {}, counter {}, RSS growth {}, descriptors {})",
        if ok { "PASS" } else { "FAIL" },
        unexpected.len(),
        if visits == ok_visits { "equal" } else { "off" },
        if rss_ok { "< 10 %" } else { ">= 10 %" },
        if fds_ok { "flat" } else { "growing" },
    );
    ok
}
