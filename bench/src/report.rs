//! The benchmark's tables: one row per run, the ratios to the baseline and
//! the costs of each layer per (path, connections), and with `--histogram`
//! the latency distribution of every run.

use std::time::Duration;

use crate::wrk::{self, LoadResult};

/// The native axum + redis-rs server.
pub const BASELINE: &str = "baseline";
/// `chaoslab up`, in-process link: spin.toml, the api wrapped in the chaos layer.
pub const IN_PROCESS: &str = "in-process";
/// `chaoslab up --instance-reuse 1000`, in-process: warm instances.
pub const REUSE: &str = "in-process reuse";
/// `chaoslab up --link loopback` beside `chaoslab-sidecar`.
pub const LOOPBACK: &str = "loopback";
/// `chaoslab up`, in-process, the api alone (no layer).
pub const UNWRAPPED: &str = "unwrapped";
/// `chaoslab up`, in-process, the Python handler wrapped in the layer.
pub const PYTHON: &str = "python";
/// The real `spin up` beside `chaoslab-sidecar` (with `SPIN_BIN` set).
pub const SPIN: &str = "spin";

/// One load run's figures.
pub struct Row {
    /// The target's name.
    pub target: &'static str,
    /// wrk's connections.
    pub connections: u32,
    /// The path loaded.
    pub path: String,
    /// wrk's figures.
    pub load: LoadResult,
    /// Server CPU time per request (all of the target's processes).
    pub cpu_us_per_req: f64,
}

/// Prints every table for `rows`.
pub fn print(rows: &[Row], duration: Duration) {
    println!(
        "\n## chaoslab vs native baseline ({}s per run, wrk -t2, same machine, same redis-server)\n",
        duration.as_secs()
    );
    println!("| path | conns | target | req/s | p50 | p99 | errors | server CPU/req |");
    println!("|---|---:|---|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {:.0} | {:.0} µs | {:.0} µs | {} | {:.1} µs |",
            r.path, r.connections, r.target, r.load.rps, r.load.p50_us, r.load.p99_us, r.load.errors, r.cpu_us_per_req
        );
    }
    ratios(rows);
    layer(rows);
    histograms(rows);
}

/// The (path, connections) groups of `rows`, in run order.
fn groups(rows: &[Row]) -> Vec<(&str, u32)> {
    let mut groups: Vec<(&str, u32)> = rows.iter().map(|r| (r.path.as_str(), r.connections)).collect();
    groups.dedup();
    groups
}

/// The run of `target` in the group (`path`, `connections`), if it ran.
fn find<'a>(rows: &'a [Row], path: &str, connections: u32, target: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.path == path && r.connections == connections && r.target == target)
}

/// Per (path, connections): req/s against the baseline, the Wasm
/// overhead (the api unwrapped against the baseline), the bridge hop, and
/// Spin against `chaoslab up --link loopback` (the same composition on
/// another host).
fn ratios(rows: &[Row]) {
    println!(
        "\n| path | conns | req/s in-process/baseline | req/s reuse/baseline | req/s loopback/baseline | req/s spin/baseline | p99 in-process/baseline | Wasm overhead (CPU/req) | bridge hop (CPU/req) | bridge hop (p50) | p99 spin/loopback |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (path, connections) in groups(rows) {
        let find = |target| find(rows, path, connections, target);
        let (Some(base), Some(inproc), Some(loopback), Some(unwrapped)) =
            (find(BASELINE), find(IN_PROCESS), find(LOOPBACK), find(UNWRAPPED))
        else {
            continue;
        };
        let spin = find(SPIN);
        let or_dash = |value: Option<String>| value.unwrap_or_else(|| "—".to_owned());
        println!(
            "| {path} | {connections} | {:.2} | {} | {:.2} | {} | {:.2} | {:+.1} µs | {:+.1} µs | {:+.0} µs | {} |",
            inproc.load.rps / base.load.rps,
            or_dash(find(REUSE).map(|r| format!("{:.2}", r.load.rps / base.load.rps))),
            loopback.load.rps / base.load.rps,
            or_dash(spin.map(|s| format!("{:.2}", s.load.rps / base.load.rps))),
            inproc.load.p99_us / base.load.p99_us,
            unwrapped.cpu_us_per_req - base.cpu_us_per_req,
            loopback.cpu_us_per_req - inproc.cpu_us_per_req,
            loopback.load.p50_us - inproc.load.p50_us,
            or_dash(spin.map(|s| format!("{:.2}", s.load.p99_us / loopback.load.p99_us))),
        );
    }
}

/// Per (path, connections): the chaos layer's cost (the api wrapped against
/// the api alone, both in-process, same run) and the Python handler's
/// throughput against the Rust one (both wrapped).
fn layer(rows: &[Row]) {
    println!("\n| path | conns | chaos layer (CPU/req) | chaos layer (p50) | req/s python/in-process |");
    println!("|---|---:|---:|---:|---:|");
    for (path, connections) in groups(rows) {
        let find = |target| find(rows, path, connections, target);
        let (Some(inproc), Some(unwrapped), Some(python)) = (find(IN_PROCESS), find(UNWRAPPED), find(PYTHON)) else {
            continue;
        };
        println!(
            "| {path} | {connections} | {:+.1} µs | {:+.0} µs | {:.2} |",
            inproc.cpu_us_per_req - unwrapped.cpu_us_per_req,
            inproc.load.p50_us - unwrapped.load.p50_us,
            python.load.rps / inproc.load.rps,
        );
    }
}

/// The share of requests per latency bucket, for runs with a distribution.
fn histograms(rows: &[Row]) {
    let rows: Vec<&Row> = rows.iter().filter(|r| !r.load.percentiles_us.is_empty()).collect();
    if rows.is_empty() {
        return;
    }
    let names: Vec<&str> = wrk::BUCKETS.iter().map(|(_, name)| *name).collect();
    println!("\n### Latency histogram (share of requests)\n");
    println!("| path | conns | target | {} |", names.join(" | "));
    println!("|---|---:|---|{}", "---:|".repeat(names.len()));
    for r in rows {
        let shares: Vec<String> =
            wrk::histogram(&r.load.percentiles_us).iter().map(|s| format!("{:.1} %", s * 100.0)).collect();
        println!("| {} | {} | {} | {} |", r.path, r.connections, r.target, shares.join(" | "));
    }
}
