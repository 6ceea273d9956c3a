//! Runs `wrk` and parses its report.

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
}

/// `wrk -t2 -c<connections> -d<duration> --latency url`.
pub fn run(url: &str, connections: u32, duration: Duration) -> anyhow::Result<LoadResult> {
    let out = Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{}s", duration.as_secs()), "--latency", url])
        .output()
        .context("running wrk (Debian: apt-get install wrk)")?;
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
            _ => {}
        }
    }
    if result.requests == 0 {
        bail!("wrk report had no requests:\n{report}");
    }
    Ok(result)
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
    }
}
