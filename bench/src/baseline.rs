//! `chaoslab-baseline`: the native yardstick for the benchmark — the same
//! `GET /` and `GET /health` as chaoslab's api component, written directly on
//! axum + redis-rs `ConnectionManager`, with no Wasm in between.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde_json::{Value, json};

/// Command line of the baseline server.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on (port 0: any free port; the address is printed).
    #[arg(long, env = "CHAOSLAB_LISTEN", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Redis URL.
    #[arg(long, env = "CHAOSLAB_REDIS_URL")]
    redis_url: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let conn = ConnectionManager::new(redis::Client::open(args.redis_url)?).await?;
    let app = Router::new().route("/", get(visit)).route("/health", get(health)).with_state(conn);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    eprintln!("baseline listening on http://{}/", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn visit(State(mut conn): State<ConnectionManager>) -> Result<Json<Value>, StatusCode> {
    let visits: i64 = conn.incr("chaoslab:visits", 1).await.map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    Ok(Json(json!({ "message": "Hello from chaoslab", "visits": visits, "replica": "baseline" })))
}

async fn health(State(mut conn): State<ConnectionManager>) -> Result<Json<Value>, StatusCode> {
    let start = Instant::now();
    redis::cmd("PING").query_async::<()>(&mut conn).await.map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    Ok(Json(json!({ "status": "healthy", "redis": { "latency_ms": ms } })))
}
