//! The benchmark's tables: one row per run, the ratios to the baseline and
//! the costs of each layer per (path, connections), and with `--histogram`
//! the latency distribution of every run.

use std::time::Duration;

use crate::wrk::{self, LoadResult};

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
    histograms(rows);
}

/// Per (path, connections): req/s against the baseline, the Wasm
/// overhead, the bridge hop, and Spin against `chaoslab up --link loopback`
/// (the same composition on another host).
fn ratios(rows: &[Row]) {
    println!(
        "\n| path | conns | req/s in-process/baseline | req/s loopback/baseline | req/s spin/baseline | Wasm overhead (CPU/req) | bridge hop (CPU/req) | bridge hop (p50) | p99 spin/loopback |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut groups: Vec<(&str, u32)> = rows.iter().map(|r| (r.path.as_str(), r.connections)).collect();
    groups.dedup();
    for (path, connections) in groups {
        let find =
            |target: &str| rows.iter().find(|r| r.path == path && r.connections == connections && r.target == target);
        let (Some(base), Some(inproc), Some(loopback)) = (find("baseline"), find("in-process"), find("loopback"))
        else {
            continue;
        };
        let spin = find("spin");
        let or_dash = |value: Option<String>| value.unwrap_or_else(|| "—".to_owned());
        println!(
            "| {path} | {connections} | {:.2} | {:.2} | {} | {:+.1} µs | {:+.1} µs | {:+.0} µs | {} |",
            inproc.load.rps / base.load.rps,
            loopback.load.rps / base.load.rps,
            or_dash(spin.map(|s| format!("{:.2}", s.load.rps / base.load.rps))),
            inproc.cpu_us_per_req - base.cpu_us_per_req,
            loopback.cpu_us_per_req - inproc.cpu_us_per_req,
            loopback.load.p50_us - inproc.load.p50_us,
            or_dash(spin.map(|s| format!("{:.2}", s.load.p99_us / loopback.load.p99_us))),
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
