//! The load fault, measured from /proc: CPU time and RSS rise for the
//! experiment's duration and fall back after it. Its own test binary, and its
//! link-mode cases take turns ([`ONE_AT_A_TIME`]), so no other test competes
//! for the CPU it measures.

use std::time::Duration;

use chaoslab_tests::{Chaoslab, Link, RedisServer, proc_stat};
use http::Method;
use rstest::rstest;

/// Held for a whole case: two loads at once on a 2-core machine would each
/// get less CPU than they ask for.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[rstest]
#[tokio::test]
async fn load_burns_cpu_and_holds_memory_for_its_duration_only(
    #[values(Link::InProcess, Link::Loopback, Link::Spin)] link: Link,
) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let redis = RedisServer::start();
    let app = Chaoslab::builder().link(link).redis(&redis.url()).start();
    let pid = app.engine_pid();
    let rss_before = proc_stat::rss_mib(pid).unwrap();
    let cpu_before = proc_stat::cpu_time(pid).unwrap();
    app.start_experiment("load", r#"{"cpu_percent":80,"workers":1,"memory_mb":64,"duration_seconds":3}"#).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status = app.chaos(Method::GET, "/chaos/status", "").await.json();
    assert_eq!(status["load"]["cpu_workers"], 1, "{status}");
    assert_eq!(status["load"]["memory_mib"], 64, "{status}");
    let rss_during = proc_stat::rss_mib(pid).unwrap();
    assert!(rss_during - rss_before >= 0.8 * 64.0, "RSS {rss_before:.1} -> {rss_during:.1} MiB");
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let cpu = (proc_stat::cpu_time(pid).unwrap() - cpu_before).as_secs_f64();
    eprintln!("load: CPU {cpu:.2}s of the requested 2.40s; RSS {rss_before:.1} -> {rss_during:.1} MiB");
    assert!(cpu >= 0.6 * 0.8 * 3.0, "CPU used {cpu:.2}s of the requested 2.4s");

    // Over: workers gone, memory returned, no more CPU burnt.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = app.chaos(Method::GET, "/chaos/status", "").await.json();
    assert_eq!(status["load"]["cpu_workers"], 0, "{status}");
    assert_eq!(status["recent"][0]["end_reason"], "expired");
    let rss_after = proc_stat::rss_mib(pid).unwrap();
    eprintln!("load over: RSS {rss_after:.1} MiB");
    assert!(rss_after - rss_before < 24.0, "RSS {rss_before:.1} -> {rss_after:.1} MiB after the end");
    let idle_start = proc_stat::cpu_time(pid).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = (proc_stat::cpu_time(pid).unwrap() - idle_start).as_secs_f64();
    assert!(idle < 0.2, "still burning {idle:.2}s of CPU per second after the end");
}
