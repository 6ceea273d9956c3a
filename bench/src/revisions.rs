//! The revisions benchmark: how long a deploy of the api component takes
//! to serve (deploy call → `active`: compile + health gate), for a build
//! never seen (compiled by Cranelift) and one seen before (wasmtime's
//! compiled-code cache); and what serving `GET /` keeps of its throughput
//! while revisions compile beside it, back to back.

use std::time::{Duration, Instant};

use anyhow::bail;

use chaoslab_tests::revisions::api_build;
use chaoslab_tests::{Chaoslab, Link, RedisServer, artifacts};

use crate::wrk;

/// Deploys timed per kind of build.
const RUNS: usize = 5;
/// How often a deploy's state is looked at (bounds the timing's resolution).
const POLL: Duration = Duration::from_millis(5);

/// Timings of one deploy, in ms.
struct Deploy {
    /// Deploy call → `active`, as a client sees it.
    total: f64,
    /// What the runtime reports for compilation (composition included).
    compile: f64,
    /// And for the gate.
    gate: f64,
}

/// Runs the benchmark for both link modes; prints its tables.
pub fn run(duration: Duration, connections: u32) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let redis = RedisServer::start();
    let mut deploys = Vec::new();
    let mut serving = Vec::new();
    // Builds unique to this run: nothing of them is in the compile cache.
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let run_id = format!("{}-{}", std::process::id(), since_epoch.as_nanos());
    for link in [Link::InProcess, Link::Loopback] {
        let app = Chaoslab::builder().link(link).manifest(artifacts::app_manifest()).redis(&redis.url()).start();
        let name = if link == Link::InProcess { "in-process" } else { "loopback" };
        runtime.block_on(async {
            let mut fresh = Vec::new();
            let mut cached = Vec::new();
            for n in 0..RUNS {
                let tag = format!("{run_id}-{name}-{n}");
                fresh.push(deploy(&app, &api_build(&tag)).await?);
                cached.push(deploy(&app, &api_build(&tag)).await?);
            }
            eprintln!("bench: revisions {name}: {RUNS} new builds and {RUNS} cached ones deployed");
            deploys.push((name, "new build (compiled)", fresh));
            deploys.push((name, "seen before (compile cache)", cached));
            anyhow::Ok(())
        })?;
        let url = app.url("/");
        wrk::run(&url, connections, Duration::from_secs(1), None)?; // warm-up
        let idle = wrk::run(&url, connections, duration, None)?;
        let (busy, compiled) = runtime.block_on(async {
            let load = tokio::task::spawn_blocking({
                let url = url.clone();
                move || wrk::run(&url, connections, duration, None)
            });
            let mut compiled = 0;
            while !load.is_finished() {
                deploy(&app, &api_build(&format!("{run_id}-{name}-busy-{compiled}"))).await?;
                compiled += 1;
            }
            anyhow::Ok((load.await??, compiled))
        })?;
        eprintln!("bench: revisions {name}: {:.0} req/s idle, {:.0} req/s compiling", idle.rps, busy.rps);
        serving.push((name, idle, busy, compiled));
    }
    print(&deploys, &serving, duration, connections);
    Ok(())
}

/// Deploys `bytes` as a new api revision and waits until it is active.
async fn deploy(app: &Chaoslab, bytes: &[u8]) -> anyhow::Result<Deploy> {
    let started = Instant::now();
    let revision = app.deploy_bytes("component=api", bytes.to_vec()).await;
    let id = revision["id"].as_str().unwrap_or_default().to_owned();
    loop {
        let now = app.revision(&id).await;
        match now["state"].as_str() {
            Some("provisioning") => tokio::time::sleep(POLL).await,
            Some("active") => {
                let ms = |key: &str| now["timings"][key].as_f64().unwrap_or(f64::NAN);
                let total = started.elapsed().as_secs_f64() * 1000.0;
                return Ok(Deploy { total, compile: ms("compile_ms"), gate: ms("gate_ms") });
            }
            _ => bail!("{id} did not become active: {now}"),
        }
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn print(
    deploys: &[(&str, &str, Vec<Deploy>)],
    serving: &[(&str, wrk::LoadResult, wrk::LoadResult, usize)],
    duration: Duration,
    connections: u32,
) {
    println!("\n## Revisions: deploy call to `active` (api component, compile + health gate, {RUNS} runs each)\n");
    println!("| link | build | median | min | max | compile (median) | gate (median) |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (link, build, runs) in deploys {
        let totals: Vec<f64> = runs.iter().map(|d| d.total).collect();
        let min = totals.iter().copied().fold(f64::MAX, f64::min);
        let max = totals.iter().copied().fold(0.0, f64::max);
        println!(
            "| {link} | {build} | {:.0} ms | {min:.0} ms | {max:.0} ms | {:.0} ms | {:.0} ms |",
            median(totals.clone()),
            median(runs.iter().map(|d| d.compile).collect()),
            median(runs.iter().map(|d| d.gate).collect()),
        );
    }
    println!(
        "\n## Serving `GET /` while revisions compile beside it (wrk -t2 -c{connections}, {}s, new builds back to back)\n",
        duration.as_secs()
    );
    println!(
        "| link | req/s idle | req/s compiling | ratio | p99 idle | p99 compiling | errors | revisions deployed |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (link, idle, busy, compiled) in serving {
        println!(
            "| {link} | {:.0} | {:.0} | {:.2} | {:.0} µs | {:.0} µs | {} | {compiled} |",
            idle.rps,
            busy.rps,
            busy.rps / idle.rps,
            idle.p99_us,
            busy.p99_us,
            idle.errors + busy.errors,
        );
    }
}
