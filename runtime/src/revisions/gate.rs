//! The health gate a new revision passes before it serves: instantiate it
//! once, then send it its own readiness requests in-process — through the
//! same [`GuestRunner`] clients' requests go through, no socket — until
//! `successes` `200`s in a row; `failures` failures in a row, or the
//! gate's deadline, fail it with the reason.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Empty};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::model::{Failure, FailureKind};
use crate::app::{App, LoadedComponent};
use crate::host::SidecarImports;
use crate::server::guest::{GuestFailure, GuestRunner, set_spin_headers};

/// Default readiness path: what Azure Container Apps probes.
pub const DEFAULT_PATH: &str = "/health";
/// Default `200`s in a row that pass the gate.
pub const DEFAULT_SUCCESSES: u32 = 3;
/// Default failures in a row that fail it.
pub const DEFAULT_FAILURES: u32 = 3;
/// Default pause between two readiness requests.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(100);
/// Default deadline of the whole gate, instantiation included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Gates that may run at once (each holds one instance): the engine's
/// instance pool is sized for them on top of `--max-concurrent`.
pub const CONCURRENT_GATES: u32 = 2;

/// The readiness requests of one gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    /// `GET` this path (and query); it must route to the revision's component.
    pub path: String,
    /// `200`s in a row that pass the gate.
    pub successes: u32,
    /// Failures in a row that fail it.
    pub failures: u32,
    /// Pause between two requests, in ms.
    pub interval_ms: u64,
    /// Deadline of the whole gate, in ms.
    pub timeout_ms: u64,
}

impl Default for Readiness {
    fn default() -> Self {
        Self {
            path: DEFAULT_PATH.to_owned(),
            successes: DEFAULT_SUCCESSES,
            failures: DEFAULT_FAILURES,
            interval_ms: millis(DEFAULT_INTERVAL),
            timeout_ms: millis(DEFAULT_TIMEOUT),
        }
    }
}

/// `d` in whole milliseconds.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What a gate checks: instantiation always; readiness requests unless `None`.
#[derive(Debug, Clone)]
pub struct Gate {
    /// The readiness requests, if any.
    pub readiness: Option<Readiness>,
    /// The deadline when there are no readiness requests (instantiation only).
    pub timeout: Duration,
}

impl Gate {
    /// The gate's deadline.
    fn deadline(&self) -> Duration {
        self.readiness.as_ref().map_or(self.timeout, |r| Duration::from_millis(r.timeout_ms))
    }
}

/// Runs the gate of `code`, a revision of a component of `app`. Each
/// readiness request may take at most `request_timeout` (and never past
/// the gate's deadline); `gates` bounds how many gates hold an instance.
pub async fn run<S: SidecarImports>(
    runner: &GuestRunner<S>,
    app: &App<S>,
    code: &Arc<LoadedComponent<S>>,
    gate: &Gate,
    request_timeout: Duration,
    gates: &Arc<Semaphore>,
) -> Result<(), Failure> {
    let started = Instant::now();
    let deadline = started + gate.deadline();
    let remaining = || deadline.saturating_duration_since(Instant::now());
    let permit = gates.clone().acquire_owned().await.expect("the gate semaphore is never closed");
    runner.instantiate(code, remaining().min(request_timeout)).await.map_err(|failure| match failure {
        GuestFailure::Timeout => {
            Failure::new(FailureKind::Timeout, format!("instantiation took longer than {:?}", gate.deadline()))
        }
        GuestFailure::Instantiate(err) | GuestFailure::Trap(err) => {
            Failure::new(FailureKind::Instantiate, format!("{err:#}"))
        }
        GuestFailure::NoResponse => Failure::new(FailureKind::Instantiate, "instantiation failed"),
    })?;
    drop(permit);
    let Some(readiness) = &gate.readiness else { return Ok(()) };
    let (mut successes, mut failures) = (0, 0);
    loop {
        let budget = remaining().min(request_timeout);
        if budget.is_zero() {
            let message = format!(
                "{} 200s in a row from GET {} not reached within {} ms",
                readiness.successes, readiness.path, readiness.timeout_ms
            );
            return Err(Failure::new(FailureKind::Timeout, message));
        }
        let permit = gates.clone().acquire_owned().await.expect("the gate semaphore is never closed");
        match probe(runner, app, code, &readiness.path, budget, permit).await {
            Ok(()) => {
                successes += 1;
                failures = 0;
                if successes >= readiness.successes {
                    return Ok(());
                }
            }
            Err(failure) => {
                successes = 0;
                failures += 1;
                if failures >= readiness.failures || remaining().is_zero() {
                    return Err(failure);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(readiness.interval_ms).min(remaining())).await;
    }
}

/// One readiness request: `GET path`, answered `200` with a complete body
/// within `budget`.
async fn probe<S: SidecarImports>(
    runner: &GuestRunner<S>,
    app: &App<S>,
    code: &Arc<LoadedComponent<S>>,
    path: &str,
    budget: Duration,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), Failure> {
    let started = Instant::now();
    let what = format!("readiness GET {path}");
    let mut req = Request::get(path)
        .header(http::header::HOST, "localhost")
        .header(http::header::USER_AGENT, "chaoslab-gate")
        .body(Empty::<Bytes>::new())
        .map_err(|err| Failure::new(FailureKind::Status, format!("{what}: {err}")))?;
    let route_path = req.uri().path().to_owned();
    let Some((matched, slot)) = app.route(&route_path) else {
        return Err(Failure::new(FailureKind::Status, format!("{what}: no route matches it")));
    };
    if slot.id != code.id {
        let message = format!("{what}: routed to component {}, not {}", slot.id, code.id);
        return Err(Failure::new(FailureKind::Status, message));
    }
    set_spin_headers(&mut req, &matched, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    let timed_out =
        || Failure::new(FailureKind::Timeout, format!("{what} did not answer within {} ms", budget.as_millis()));
    let resp = match runner.run(code, req, budget, permit).await {
        Ok(resp) => resp,
        Err(GuestFailure::Timeout) => return Err(timed_out()),
        Err(GuestFailure::Trap(err)) => {
            // The root cause ("wasm trap: …") says what happened; the
            // backtrace around it goes to the debug log.
            tracing::debug!(error = format!("{err:?}"), "{what} trapped");
            return Err(Failure::new(FailureKind::Trap, format!("{what} trapped: {}", err.root_cause())));
        }
        Err(GuestFailure::Instantiate(err)) => {
            return Err(Failure::new(FailureKind::Instantiate, format!("{what}: {err:#}")));
        }
        Err(GuestFailure::NoResponse) => {
            return Err(Failure::new(FailureKind::Status, format!("{what}: returned without a response")));
        }
    };
    let status = resp.status();
    let left = budget.saturating_sub(started.elapsed());
    // The body is read (and dropped) to the end: a guest that traps while
    // streaming it is not ready.
    let drain = async {
        let mut body = resp.into_body();
        while let Some(frame) = body.frame().await {
            frame?;
        }
        Ok(())
    };
    let body: Result<Result<(), _>, _> = tokio::time::timeout(left, drain).await;
    match body {
        Err(_elapsed) => Err(timed_out()),
        Ok(Err(err)) if status.is_success() => {
            let err: wasmtime_wasi_http::Error = err;
            Err(Failure::new(FailureKind::Trap, format!("{what}: the body failed: {err}")))
        }
        _ if status != http::StatusCode::OK => {
            Err(Failure::new(FailureKind::Status, format!("{what} answered {}", status.as_u16())))
        }
        Ok(_) => Ok(()),
    }
}
