//! The constant-rate load kept up during a run: open-loop, so a slow or
//! hung target does not slow the sender down and hide its latency.
//! Request `i` is due at `start + i / rate`; it is sent then whatever the
//! earlier ones are doing, and its latency is measured from that due time
//! (no coordinated omission). Every request becomes one [`Sample`];
//! [`stats`] turns them into phases, a per-second series and checks.

pub mod stats;

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::activity::error_chain;
use crate::timeline::Timeline;

/// Most requests in flight at once; past it (or past the open-file limit)
/// a due request is not sent and counts as `dropped`.
pub const MAX_IN_FLIGHT: u64 = 10_000;
/// Most samples kept (32 bytes each: 128 MiB); the load stops there.
pub const MAX_SAMPLES: usize = 4_000_000;

/// Which part of the run a request was sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Phase {
    /// Before the method.
    Before = 0,
    /// While the method runs.
    During = 1,
    /// After it.
    After = 2,
}

impl Phase {
    /// All phases, in order.
    pub const ALL: [Phase; 3] = [Phase::Before, Phase::During, Phase::After];

    /// Its name in the journal and report.
    pub fn name(self) -> &'static str {
        match self {
            Self::Before => "before",
            Self::During => "during",
            Self::After => "after",
        }
    }

    fn from_u8(n: u8) -> Self {
        match n {
            0 => Self::Before,
            1 => Self::During,
            _ => Self::After,
        }
    }

    /// The phase of a request sent in `sent` whose answer came in `answered`:
    /// one sent before the method but answered after it began was in flight
    /// when the fault came (its store call may have met it), so it is not a
    /// steady-state measurement: it belongs to `during`.
    fn settled(sent: Self, answered: Self) -> Self {
        if sent == Self::Before && answered != Self::Before { Self::During } else { sent }
    }
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP answer.
    Status(u16),
    /// No answer within the load's timeout.
    Timeout,
    /// Could not connect (refused, reset before an answer).
    Connect,
    /// Another transport error.
    Error,
    /// Not sent: too many requests in flight.
    Dropped,
}

impl Outcome {
    /// A 4xx, 5xx, or no answer.
    pub fn is_error(self) -> bool {
        !matches!(self, Self::Status(s) if s < 400)
    }

    /// Its key in the journal's counts (`"200"`, `"timeout"`…).
    pub fn key(self) -> String {
        match self {
            Self::Status(s) => s.to_string(),
            Self::Timeout => "timeout".to_owned(),
            Self::Connect => "connection error".to_owned(),
            Self::Error => "error".to_owned(),
            Self::Dropped => "dropped".to_owned(),
        }
    }
}

/// One request of the load.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// When it was due, in µs from the run's start.
    pub due_us: u64,
    /// From due time to the end of the answer (or the failure), in µs.
    pub latency_us: u32,
    /// How it ended.
    pub outcome: Outcome,
    /// The phase it was sent in; `during` for one sent before the method
    /// and answered after the method began.
    pub phase: Phase,
    /// `visits` of a `200` that carried the counter.
    pub visits: Option<u64>,
}

impl Sample {
    /// Seconds from the run's start to its due time.
    pub fn due_s(&self) -> f64 {
        self.due_us as f64 / 1e6
    }

    /// Seconds from the run's start to its end.
    pub fn done_s(&self) -> f64 {
        (self.due_us + u64::from(self.latency_us)) as f64 / 1e6
    }
}

/// What the load sends.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// Prefix of every path (`http://127.0.0.1:3000`).
    pub base_url: String,
    /// Requests per second.
    pub rate: u32,
    /// Paths, cycled through.
    pub paths: Vec<String>,
    /// One request's deadline.
    pub timeout: Duration,
}

/// Counts while the load runs, for the progress line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Live {
    /// Requests due so far.
    pub sent: u64,
    /// Answered below 400.
    pub ok: u64,
    /// 4xx, 5xx, or no answer.
    pub failed: u64,
    /// Sent and not finished.
    pub in_flight: u64,
}

/// Reads a running load's counts (the progress line's).
#[derive(Clone)]
pub struct LiveHandle(Arc<Shared>);

impl LiveHandle {
    /// Counts so far.
    pub fn live(&self) -> Live {
        let s = &self.0;
        Live {
            sent: s.sent.load(Ordering::Relaxed),
            ok: s.ok.load(Ordering::Relaxed),
            failed: s.failed.load(Ordering::Relaxed),
            in_flight: s.in_flight.load(Ordering::Relaxed),
        }
    }
}

/// The state the scheduler and the request tasks share.
struct Shared {
    spec: LoadSpec,
    timeline: Timeline,
    client: reqwest::Client,
    phase: AtomicU8,
    samples: Mutex<Vec<Sample>>,
    sent: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
    in_flight: AtomicU64,
    in_flight_cap: u64,
    /// The first transport error, for "could not reach" messages.
    first_error: Mutex<Option<String>>,
    cap_reached: AtomicBool,
}

/// A running load.
pub struct LoadRun {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    scheduler: JoinHandle<()>,
    /// When it started.
    pub started: Instant,
}

/// What a finished load leaves.
#[derive(Debug)]
pub struct LoadResult {
    /// Every request, in due order.
    pub samples: Vec<Sample>,
    /// When it started and stopped, in seconds from the run's start.
    pub started_s: f64,
    /// When the last request was due.
    pub stopped_s: f64,
    /// The first transport error seen.
    pub first_error: Option<String>,
    /// The sample cap stopped it early.
    pub cap_reached: bool,
}

impl LoadRun {
    /// Starts sending now.
    pub fn start(spec: LoadSpec, timeline: Timeline) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("building the load's HTTP client: {}", error_chain(&e)))?;
        let shared = Arc::new(Shared {
            in_flight_cap: open_files_limit().map_or(MAX_IN_FLIGHT, |n| n.saturating_sub(256).clamp(16, MAX_IN_FLIGHT)),
            spec,
            timeline,
            client,
            phase: AtomicU8::new(Phase::Before as u8),
            samples: Mutex::new(Vec::new()),
            sent: AtomicU64::new(0),
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            first_error: Mutex::new(None),
            cap_reached: AtomicBool::new(false),
        });
        let (stop, stop_rx) = watch::channel(false);
        let started = Instant::now();
        let scheduler = tokio::spawn(schedule(shared.clone(), started, stop_rx));
        Ok(Self { shared, stop, scheduler, started })
    }

    /// Tags requests sent from now on.
    pub fn set_phase(&self, phase: Phase) {
        self.shared.phase.store(phase as u8, Ordering::Relaxed);
    }

    /// Counts so far.
    pub fn live(&self) -> Live {
        self.live_handle().live()
    }

    /// A handle that reads the counts from another task.
    pub fn live_handle(&self) -> LiveHandle {
        LiveHandle(self.shared.clone())
    }

    /// The first transport error so far (`could not reach …`).
    pub fn first_error(&self) -> Option<String> {
        self.shared.first_error.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Stops sending, waits for the requests in flight (each ends by its
    /// timeout), and hands over the samples.
    pub async fn stop(self) -> LoadResult {
        let Self { shared, stop, scheduler, started } = self;
        let _ = stop.send(true);
        let _ = scheduler.await;
        let stopped = Instant::now();
        let deadline = stopped + shared.spec.timeout + Duration::from_secs(1);
        while shared.in_flight.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut samples =
            std::mem::take(&mut *shared.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        samples.sort_by_key(|s| s.due_us);
        let first_error = shared.first_error.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        LoadResult {
            samples,
            started_s: shared.timeline.offset(started),
            stopped_s: shared.timeline.offset(stopped),
            first_error,
            cap_reached: shared.cap_reached.load(Ordering::Relaxed),
        }
    }
}

async fn schedule(shared: Arc<Shared>, start: Instant, mut stop: watch::Receiver<bool>) {
    let interval_ns = 1e9 / f64::from(shared.spec.rate);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let due = |i: u64| start + Duration::from_nanos((i as f64 * interval_ns) as u64);
    let mut next: u64 = 0;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(due(next).into()) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let now = Instant::now();
        while due(next) <= now {
            if shared.sent.load(Ordering::Relaxed) as usize >= MAX_SAMPLES {
                shared.cap_reached.store(true, Ordering::Relaxed);
                return;
            }
            send(&shared, next, due(next));
            next += 1;
        }
    }
}

fn send(shared: &Arc<Shared>, index: u64, due: Instant) {
    let phase = Phase::from_u8(shared.phase.load(Ordering::Relaxed));
    shared.sent.fetch_add(1, Ordering::Relaxed);
    let due_us = u64::try_from(due.saturating_duration_since(shared.timeline.start).as_micros()).unwrap_or(u64::MAX);
    if shared.in_flight.load(Ordering::Relaxed) >= shared.in_flight_cap {
        record(shared, Sample { due_us, latency_us: 0, outcome: Outcome::Dropped, phase, visits: None });
        return;
    }
    shared.in_flight.fetch_add(1, Ordering::AcqRel);
    let paths = &shared.spec.paths;
    #[allow(clippy::cast_possible_truncation)]
    let path = &paths[(index % paths.len() as u64) as usize];
    let url = format!("{}{path}", shared.spec.base_url);
    let shared = shared.clone();
    tokio::spawn(async move {
        let (outcome, visits) = request(&shared, &url).await;
        let latency_us = u32::try_from(due.elapsed().as_micros()).unwrap_or(u32::MAX);
        let phase = Phase::settled(phase, Phase::from_u8(shared.phase.load(Ordering::Relaxed)));
        record(&shared, Sample { due_us, latency_us, outcome, phase, visits });
        shared.in_flight.fetch_sub(1, Ordering::AcqRel);
    });
}

async fn request(shared: &Shared, url: &str) -> (Outcome, Option<u64>) {
    #[derive(serde::Deserialize)]
    struct Counter {
        visits: Option<u64>,
    }
    let result = async {
        let response = shared.client.get(url).send().await?;
        let status = response.status().as_u16();
        let body = response.bytes().await?;
        let visits =
            (status == 200).then(|| serde_json::from_slice::<Counter>(&body).ok()).flatten().and_then(|c| c.visits);
        Ok::<_, reqwest::Error>((status, visits))
    };
    match tokio::time::timeout(shared.spec.timeout, result).await {
        Ok(Ok((status, visits))) => (Outcome::Status(status), visits),
        Ok(Err(err)) => {
            let mut first = shared.first_error.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            first.get_or_insert_with(|| format!("{url}: {}", error_chain(&err)));
            (if err.is_connect() { Outcome::Connect } else { Outcome::Error }, None)
        }
        Err(_) => (Outcome::Timeout, None),
    }
}

fn record(shared: &Shared, sample: Sample) {
    if sample.outcome.is_error() {
        shared.failed.fetch_add(1, Ordering::Relaxed);
    } else {
        shared.ok.fetch_add(1, Ordering::Relaxed);
    }
    shared.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(sample);
}

/// The soft limit of open files (`/proc/self/limits`), which bounds the
/// connections the load may hold.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::Phase;

    #[test]
    fn a_request_in_flight_when_the_method_begins_belongs_to_during() {
        assert_eq!(Phase::settled(Phase::Before, Phase::Before), Phase::Before);
        assert_eq!(Phase::settled(Phase::Before, Phase::During), Phase::During);
        assert_eq!(Phase::settled(Phase::Before, Phase::After), Phase::During, "it overlapped the whole method");
        assert_eq!(Phase::settled(Phase::During, Phase::After), Phase::During);
        assert_eq!(Phase::settled(Phase::After, Phase::After), Phase::After);
    }
}
