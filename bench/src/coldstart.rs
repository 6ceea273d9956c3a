//! Cold start: the time from `chaoslab up`'s exec to its first `200` on
//! `GET /`, with an empty compiled-code cache (every component compiled
//! by Cranelift) and with the cache that run left (compiled code loaded),
//! for both link modes, against one real `redis-server`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use chaoslab_tests::redis_server::free_port;
use chaoslab_tests::{RedisServer, artifacts};

/// Starts timed per kind.
const RUNS: usize = 5;
/// Longest a start may take before the benchmark gives up.
const GIVE_UP: Duration = Duration::from_secs(120);

/// Runs the benchmark; prints its table.
pub fn run() -> anyhow::Result<()> {
    let redis = RedisServer::start();
    println!("\n## Cold start: `chaoslab up` exec to the first `200` on `GET /` ({RUNS} runs each)\n");
    println!("| link | compile cache | min | median | max |\n|---|---|---:|---:|---:|");
    for link in ["inprocess", "loopback"] {
        let cache = tempfile::tempdir().context("a cache dir")?;
        let mut cold = Vec::new();
        let mut warm = Vec::new();
        for _ in 0..RUNS {
            // Empty the cache: every component is compiled again.
            std::fs::remove_dir_all(cache.path()).ok();
            cold.push(first_200(link, cache.path(), &redis.url())?);
            warm.push(first_200(link, cache.path(), &redis.url())?);
        }
        for (kind, runs) in [("empty (compiled)", &mut cold), ("warm (loaded)", &mut warm)] {
            runs.sort_by(f64::total_cmp);
            println!(
                "| {link} | {kind} | {:.0} ms | {:.0} ms | {:.0} ms |",
                runs[0],
                runs[runs.len() / 2],
                runs[runs.len() - 1]
            );
        }
        eprintln!("bench: cold start {link}: {RUNS} empty-cache and {RUNS} warm-cache starts");
    }
    Ok(())
}

/// Starts `chaoslab up`, polls `GET /` until it answers `200`; returns the
/// milliseconds since the exec, then stops the process.
fn first_200(link: &str, cache: &std::path::Path, redis_url: &str) -> anyhow::Result<f64> {
    let port = free_port();
    let started = Instant::now();
    let mut child = Command::new(artifacts::chaoslab_bin())
        .args(["up", "--link", link, "--listen", &format!("127.0.0.1:{port}"), "--redis-url", redis_url])
        .arg("--manifest")
        .arg(artifacts::app_manifest())
        .arg("--cache-dir")
        .arg(cache)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting chaoslab up")?;
    let result = loop {
        if started.elapsed() > GIVE_UP {
            break Err(anyhow::anyhow!("no 200 within {GIVE_UP:?}"));
        }
        if let Some(status) = child.try_wait()? {
            break Err(anyhow::anyhow!("chaoslab up exited with {status} before answering"));
        }
        if get_is_200(port) {
            break Ok(started.elapsed().as_secs_f64() * 1000.0);
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// One `GET /` over a fresh connection; true on `200`.
fn get_is_200(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}
