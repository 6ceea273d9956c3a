//! Connection-level limits of both listeners — `chaoslab up` (the data
//! plane) and `chaoslab-sidecar` (the link) — each tested with a raw socket:
//! a client trickling its headers (or a chunked body) a byte a second is cut
//! off; idle keep-alive connections are closed; too many or too large
//! headers get 431; chunked bodies over the limit get 413 like announced
//! ones; and 10,000 idle connections do not lock new clients out.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chaoslab_tests::chaoslab::TEST_TOKEN;
use chaoslab_tests::raw::{self, chunked_body, chunked_head, closed_within, exchange, read_answer};
use chaoslab_tests::sidecar::LINK_TOKEN;
use chaoslab_tests::{Chaoslab, RedisServer, SidecarProcess};
use rstest::rstest;
use tokio::io::AsyncWriteExt;

/// Held by a case that opens 10,000 connections.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Which listener a case runs against.
#[derive(Debug, Clone, Copy)]
enum Server {
    /// `chaoslab up` (in-process link).
    Runtime,
    /// `chaoslab-sidecar`.
    Sidecar,
}

/// A running server and what to ask it.
enum Running {
    Runtime(Chaoslab),
    Sidecar(SidecarProcess),
}

impl Running {
    fn start(server: Server, redis: &RedisServer, args: &[&str]) -> Self {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        match server {
            Server::Runtime => Self::Runtime(Chaoslab::builder().redis(&redis.url()).args(args).start()),
            Server::Sidecar => {
                let mut all = vec!["--redis-url".to_owned(), redis.url()];
                all.extend(args);
                Self::Sidecar(SidecarProcess::start(all))
            }
        }
    }

    fn addr(&self) -> SocketAddr {
        match self {
            Self::Runtime(app) => app.addr(),
            Self::Sidecar(sidecar) => sidecar.addr(),
        }
    }

    /// A cheap GET with every header it needs, keeping the connection open.
    fn get(&self) -> &'static [u8] {
        match self {
            Self::Runtime(_) => b"GET /health HTTP/1.1\r\nhost: test\r\n\r\n",
            Self::Sidecar(_) => b"GET /livez HTTP/1.1\r\nhost: test\r\n\r\n",
        }
    }

    /// A POST that reads its body: (path, headers, a valid body).
    fn post(&self) -> (&'static str, Vec<(&'static str, String)>, &'static [u8]) {
        match self {
            Self::Runtime(_) => (
                "/chaos/latency",
                vec![("authorization", format!("Bearer {TEST_TOKEN}")), ("content-type", "application/json".into())],
                br#"{"ms":1,"duration_seconds":1}"#,
            ),
            Self::Sidecar(_) => (
                "/v1/store/incr",
                vec![("authorization", format!("Bearer {LINK_TOKEN}")), ("content-type", "application/json".into())],
                br#"["limits", 1]"#,
            ),
        }
    }
}

fn headers<'a>(list: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    list.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[rstest]
#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_off(#[values(Server::Runtime, Server::Sidecar)] server: Server) {
    let redis = RedisServer::start();
    let app = Running::start(server, &redis, &["--header-read-timeout", "1s"]);
    let mut stream = raw::connect(app.addr()).await;
    let (mut reader, mut writer) = stream.split();
    let started = Instant::now();
    let trickle = async {
        for byte in b"GET / HTTP/1.1\r\nhost: test\r\nx-slow: aaaaaaaaaaaaaaaaaaaa\r\n\r\n" {
            if writer.write_all(&[*byte]).await.is_err() {
                return started.elapsed();
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        panic!("the whole head was accepted, one byte a second");
    };
    let closed = async {
        let mut chunk = [0u8; 1024];
        loop {
            match tokio::io::AsyncReadExt::read(&mut reader, &mut chunk).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => continue,
            }
        }
    };
    let took = tokio::select! { took = closed => took, took = trickle => took };
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(4), "cut off after {took:?}");
}

#[rstest]
#[tokio::test]
async fn idle_connections_are_closed_at_the_idle_timeout(#[values(Server::Runtime, Server::Sidecar)] server: Server) {
    let redis = RedisServer::start();
    let app = Running::start(server, &redis, &["--idle-timeout", "1s", "--header-read-timeout", "30s"]);
    // Never a byte: idle from the start.
    let mut silent = raw::connect(app.addr()).await;
    // One request answered, then keep-alive and nothing more.
    let mut served = raw::connect(app.addr()).await;
    served.write_all(app.get()).await.unwrap();
    let (status, text) = read_answer(&mut served, Duration::from_secs(5)).await;
    assert_eq!(status, Some(200), "{text}");
    for (name, stream) in [("silent", &mut silent), ("after a request", &mut served)] {
        let took = closed_within(stream, Duration::from_secs(5)).await;
        let took = took.unwrap_or_else(|| panic!("{name}: still open 5 s later"));
        assert!(took < Duration::from_secs(3), "{name}: closed after {took:?}");
    }
}

#[rstest]
#[tokio::test]
async fn too_many_or_too_large_headers_get_431(#[values(Server::Runtime, Server::Sidecar)] server: Server) {
    let redis = RedisServer::start();
    let app = Running::start(server, &redis, &["--max-headers", "8", "--max-header-kb", "1"]);
    let request = |extra: &str| {
        let get = String::from_utf8_lossy(app.get()).into_owned();
        get.replacen("\r\n\r\n", &format!("\r\n{extra}\r\n\r\n"), 1).into_bytes()
    };
    let few: String = (0..4).map(|n| format!("x-h{n}: {n}\r\n")).collect();
    assert_eq!(exchange(app.addr(), &request(few.trim_end())).await.0, Some(200));
    let many: String = (0..20).map(|n| format!("x-h{n}: {n}\r\n")).collect();
    assert_eq!(exchange(app.addr(), &request(many.trim_end())).await.0, Some(431), "20 headers");
    let large = format!("x-large: {}", "a".repeat(2000));
    assert_eq!(exchange(app.addr(), &request(&large)).await.0, Some(431), "a 2 KB header");
}

#[rstest]
#[tokio::test]
async fn chunked_bodies_are_capped_like_announced_ones(#[values(Server::Runtime, Server::Sidecar)] server: Server) {
    let redis = RedisServer::start();
    let cap = match server {
        Server::Runtime => "--max-body-kb",
        Server::Sidecar => "--max-rpc-body-kb",
    };
    let app = Running::start(server, &redis, &[cap, "1"]);
    let (path, list, body) = app.post();
    let hdrs = headers(&list);
    let mut small = chunked_head("POST", path, &hdrs);
    small.extend(chunked_body(body));
    let (status, text) = exchange(app.addr(), &small).await;
    assert!(matches!(status, Some(200 | 202)), "a small chunked body is read: {text}");
    let mut large = chunked_head("POST", path, &hdrs);
    large.extend(chunked_body(&vec![b' '; 4096]));
    let (status, text) = exchange(app.addr(), &large).await;
    assert_eq!(status, Some(413), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    let mut announced = format!("POST {path} HTTP/1.1\r\nhost: test\r\ncontent-length: 4096\r\n").into_bytes();
    for (name, value) in &hdrs {
        announced.extend(format!("{name}: {value}\r\n").bytes());
    }
    announced.extend(b"\r\n");
    announced.extend(vec![b' '; 4096]);
    assert_eq!(exchange(app.addr(), &announced).await.0, Some(413), "announced over the limit");
}

#[rstest]
#[tokio::test]
async fn a_trickled_chunked_body_gets_408(#[values(Server::Runtime, Server::Sidecar)] server: Server) {
    let redis = RedisServer::start();
    // The runtime reads bodies within --request-timeout, the sidecar within --header-read-timeout.
    let flag = match server {
        Server::Runtime => "--request-timeout",
        Server::Sidecar => "--header-read-timeout",
    };
    let app = Running::start(server, &redis, &[flag, "1s"]);
    let (path, list, _) = app.post();
    let mut stream = raw::connect(app.addr()).await;
    stream.write_all(&chunked_head("POST", path, &headers(&list))).await.unwrap();
    stream.write_all(b"1\r\n{\r\n").await.unwrap();
    let started = Instant::now();
    let (status, text) = read_answer(&mut stream, Duration::from_secs(5)).await;
    assert_eq!(status, Some(408), "{text}");
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
}

#[rstest]
#[tokio::test]
async fn at_the_cap_the_oldest_idle_connection_makes_room(#[values(Server::Runtime, Server::Sidecar)] server: Server) {
    let redis = RedisServer::start();
    let app = Running::start(server, &redis, &["--max-connections", "20"]);
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(raw::connect(app.addr()).await);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, text) = exchange(app.addr(), app.get()).await;
    assert_eq!(status, Some(200), "a new client is served at the cap: {text}");
    assert!(closed_within(&mut idle[0], Duration::from_secs(2)).await.is_some(), "the oldest made room");
    assert!(closed_within(&mut idle[19], Duration::from_millis(300)).await.is_none(), "the newest stays");
}

#[rstest]
#[tokio::test]
async fn ten_thousand_idle_connections_do_not_lock_new_clients_out(
    #[values(Server::Runtime, Server::Sidecar)] server: Server,
) {
    // One case at a time: each holds 10,000 sockets in this process.
    let _turn = ONE_AT_A_TIME.lock().await;
    let limit = raw::raise_nofile_limit();
    assert!(limit >= 11_000, "this test holds 10,000 sockets; the hard open-file limit is {limit}");
    let redis = RedisServer::start();
    let app = Running::start(server, &redis, &[]);
    let addr = app.addr();
    let started = Instant::now();
    let mut idle = Vec::with_capacity(10_000);
    for batch in 0..100 {
        let connects = (0..100).map(|_| tokio::net::TcpStream::connect(addr));
        for stream in futures_util::future::join_all(connects).await {
            idle.push(stream.unwrap_or_else(|e| panic!("connection {} of 10,000 (batch {batch}): {e}", idle.len())));
        }
    }
    eprintln!("{server:?}: 10,000 idle connections opened in {:?}", started.elapsed());
    let asked = Instant::now();
    let (status, text) = exchange(addr, app.get()).await;
    let took = asked.elapsed();
    eprintln!("{server:?}: a new client was answered {status:?} in {took:?}");
    assert_eq!(status, Some(200), "{text}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    drop(idle);
}
