//! Runs `wrk` and parses its report; with the histogram script, also the
//! latency distribution, bucketed ([`histogram`]).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};

/// One load run's figures.
#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    /// Requests per second.
    pub rps: f64,
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 99th percentile latency, microseconds.
    pub p99_us: f64,
    /// Requests completed.
    pub requests: u64,
    /// Non-2xx answers plus socket errors.
    pub errors: u64,
    /// Latency at every 0.1 % of the distribution, microseconds (with the
    /// histogram script; else empty).
    pub percentiles_us: Vec<f64>,
}

/// The wrk script printing the distribution (`histogram.lua`).
pub const HISTOGRAM_SCRIPT: &str = include_str!("histogram.lua");

/// `wrk -t2 -c<connections> -d<duration> --latency [-s script] url`.
pub fn run(url: &str, connections: u32, duration: Duration, script: Option<&Path>) -> anyhow::Result<LoadResult> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", &format!("-c{connections}"), &format!("-d{}s", duration.as_secs()), "--latency"]);
    if let Some(script) = script {
        cmd.arg("-s").arg(script);
    }
    let out = cmd.arg(url).output().context("running wrk (Debian: apt-get install wrk)")?;
    if !out.status.success() {
        bail!("wrk failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// Parses wrk's text report.
pub fn parse(report: &str) -> anyhow::Result<LoadResult> {
    let mut result = LoadResult::default();
    for line in report.lines().map(str::trim) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["Requests/sec:", rps] => result.rps = rps.parse()?,
            ["50%", value] => result.p50_us = micros(value)?,
            ["99%", value] => result.p99_us = micros(value)?,
            [count, "requests", "in", ..] => result.requests = count.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", n] => result.errors += n.parse::<u64>()?,
            ["Socket", "errors:", rest @ ..] => {
                result.errors += rest.iter().filter_map(|f| f.trim_end_matches(',').parse::<u64>().ok()).sum::<u64>();
            }
            ["pct", _, us] => result.percentiles_us.push(us.parse()?),
            _ => {}
        }
    }
    if result.requests == 0 {
        bail!("wrk report had no requests:\n{report}");
    }
    Ok(result)
}

/// Upper edges of the histogram's buckets, microseconds, with their names.
pub const BUCKETS: [(f64, &str); 9] = [
    (1_000.0, "<1 ms"),
    (2_000.0, "1–2 ms"),
    (5_000.0, "2–5 ms"),
    (10_000.0, "5–10 ms"),
    (20_000.0, "10–20 ms"),
    (35_000.0, "20–35 ms"),
    (50_000.0, "35–50 ms"),
    (100_000.0, "50–100 ms"),
    (f64::INFINITY, "≥100 ms"),
];

/// The share of requests (0..=1) in each of [`BUCKETS`], from the latency
/// at evenly spaced points of the distribution.
pub fn histogram(percentiles_us: &[f64]) -> [f64; BUCKETS.len()] {
    let mut shares = [0.0; BUCKETS.len()];
    for us in percentiles_us {
        if let Some(i) = BUCKETS.iter().position(|(edge, _)| us < edge) {
            shares[i] += 1.0 / percentiles_us.len() as f64;
        }
    }
    shares
}

fn micros(value: &str) -> anyhow::Result<f64> {
    let (number, factor) = if let Some(v) = value.strip_suffix("us") {
        (v, 1.0)
    } else if let Some(v) = value.strip_suffix("ms") {
        (v, 1_000.0)
    } else if let Some(v) = value.strip_suffix('s') {
        (v, 1_000_000.0)
    } else {
        bail!("unknown latency unit in {value:?}")
    };
    Ok(number.parse::<f64>()? * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_wrk_report() {
        let report = "Running 5s test @ http://127.0.0.1:1/\n  2 threads and 64 connections\n  Latency Distribution\n     50%  612.00us\n     75%    1.10ms\n     90%    2.00ms\n     99%    4.50ms\n  51234 requests in 5.00s, 9.1MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 7\nRequests/sec:  10246.80\n";
        let r = parse(report).unwrap();
        assert_eq!(r.requests, 51234);
        assert!((r.rps - 10246.8).abs() < 1e-6);
        assert!((r.p50_us - 612.0).abs() < 1e-6);
        assert!((r.p99_us - 4500.0).abs() < 1e-6);
        assert_eq!(r.errors, 10);
        assert!(r.percentiles_us.is_empty());
    }

    #[test]
    fn buckets_the_distribution() {
        let report = "pct 25.0 800\npct 50.0 1500\npct 75.0 45000\npct 100.0 92000\n100 requests in 1.00s\n";
        let r = parse(report).unwrap();
        let shares = histogram(&r.percentiles_us);
        assert_eq!(shares[0], 0.25, "<1 ms");
        assert_eq!(shares[1], 0.25, "1–2 ms");
        assert_eq!(shares[6], 0.25, "35–50 ms");
        assert_eq!(shares[7], 0.25, "50–100 ms");
        assert_eq!(shares.iter().sum::<f64>(), 1.0);
    }
}
