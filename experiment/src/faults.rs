//! When faults were active: the windows shaded in the report and used to
//! measure detection and recovery. Three sources: chaoslab's own account
//! (`GET /chaos/status`, polled: start, end and end reason of every
//! experiment, in its clock), process actions of the method (the Azure
//! scripts are the fault), and the platform restarting the target (which
//! ends whatever the old process held).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;

use crate::timeline::{Timeline, unix_seconds};

/// How often `/chaos/status` is read during a run.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// One fault's window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultWindow {
    /// chaoslab's experiment id (`exp-1`), or the activity's name.
    pub id: String,
    /// `redis`, `hang`, `load`…, or `process`.
    pub kind: String,
    /// Seconds from the run's start.
    pub start_s: f64,
    /// Seconds from the run's start; `None` while active.
    pub end_s: Option<f64>,
    /// `expired`, `stopped`, `replica restarted`, `process exited`.
    pub end_reason: Option<String>,
    /// The experiment's parameters, as chaoslab reports them.
    pub parameters: Value,
    /// Which process of the target held it (restarts start a new one).
    #[serde(skip)]
    generation: u32,
}

/// Every fault window of the run, shared by the monitor, the method and the platform.
#[derive(Debug, Default)]
pub struct FaultLog {
    /// The windows and the target's current process generation.
    inner: Mutex<(Vec<FaultWindow>, u32)>,
}

impl FaultLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<FaultWindow>, u32)> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The target's process generation now (a restart starts a new one).
    pub fn generation(&self) -> u32 {
        self.lock().1
    }

    /// Takes in one `/chaos/status` answer, asked for while `asked_generation`
    /// served (an answer from a process replaced meanwhile is dropped).
    /// `skew_ms` is chaoslab's clock minus ours; `now_s` is when it was read.
    pub fn observe(&self, status: &Value, asked_generation: u32, timeline: &Timeline, skew_ms: f64, now_s: f64) {
        let offset = |ms: &Value| ms.as_f64().map(|ms| timeline.offset_of_unix_ms(ms - skew_ms));
        let mut guard = self.lock();
        let (windows, generation) = &mut *guard;
        let generation = *generation;
        if generation != asked_generation {
            return;
        }
        let mut seen = Vec::new();
        let entries = ["active", "recent"].into_iter().filter_map(|k| status.get(k)?.as_array()).flatten();
        for exp in entries {
            let (Some(id), Some(start_s)) =
                (exp.get("id").and_then(Value::as_str), exp.get("started_at_ms").and_then(offset))
            else {
                continue;
            };
            let end_s = exp.get("ended_at_ms").and_then(offset);
            if end_s.is_some_and(|end| end < 0.0) {
                continue; // ended before the run
            }
            seen.push(id.to_owned());
            let reason = exp.get("end_reason").and_then(Value::as_str).map(str::to_owned);
            match windows.iter_mut().find(|w| w.generation == generation && w.id == id) {
                Some(w) if w.end_s.is_none() => (w.end_s, w.end_reason) = (end_s, reason),
                Some(_) => {}
                None => windows.push(FaultWindow {
                    id: id.to_owned(),
                    kind: exp.get("kind").and_then(Value::as_str).unwrap_or("fault").to_owned(),
                    start_s,
                    end_s,
                    end_reason: reason,
                    parameters: exp.get("parameters").cloned().unwrap_or(Value::Null),
                    generation,
                }),
            }
        }
        // An open window chaoslab no longer lists ended between two polls.
        for w in windows.iter_mut().filter(|w| w.generation == generation && w.kind != "process" && w.end_s.is_none()) {
            if !seen.contains(&w.id) {
                (w.end_s, w.end_reason) = (Some(now_s), Some("no longer listed".to_owned()));
            }
        }
    }

    /// The target was restarted at `at_s`: what its old process held ended then.
    pub fn restarted(&self, at_s: f64) {
        let mut guard = self.lock();
        let (windows, generation) = &mut *guard;
        for w in windows.iter_mut().filter(|w| w.generation == *generation && w.kind != "process" && w.end_s.is_none())
        {
            (w.end_s, w.end_reason) = (Some(at_s), Some("replica restarted".to_owned()));
        }
        *generation += 1;
    }

    /// A process action of the method ran from `start_s` to `end_s`.
    pub fn process(&self, name: &str, start_s: f64, end_s: f64) {
        self.lock().0.push(FaultWindow {
            id: name.to_owned(),
            kind: "process".to_owned(),
            start_s,
            end_s: Some(end_s),
            end_reason: Some("process exited".to_owned()),
            parameters: Value::Null,
            generation: 0,
        });
    }

    /// The windows so far, by start; open ones end at `close_at_s` in the copy.
    pub fn windows(&self, close_at_s: f64) -> Vec<FaultWindow> {
        let mut out: Vec<FaultWindow> = self.lock().0.clone();
        for w in out.iter_mut().filter(|w| w.end_s.is_none()) {
            (w.end_s, w.end_reason) = (Some(close_at_s), Some("still active at the end of the run".to_owned()));
        }
        out.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        out
    }

    /// `redis, hang` — the kinds active now, for the progress line.
    pub fn active_kinds(&self) -> Vec<String> {
        self.lock().0.iter().filter(|w| w.end_s.is_none()).map(|w| w.kind.clone()).collect()
    }
}

/// Where and how to read `/chaos/status`.
#[derive(Debug, Clone)]
pub struct StatusSource {
    /// `{base_url}/chaos/status`.
    pub url: String,
    /// The bearer token.
    pub token: String,
    /// A client with a short timeout.
    pub client: reqwest::Client,
}

impl StatusSource {
    /// Reads the status once into `log`; false when it did not answer 200.
    pub async fn poll(&self, log: &FaultLog, timeline: &Timeline) -> bool {
        let generation = log.generation();
        let asked = unix_seconds(std::time::SystemTime::now()) * 1000.0;
        let sent = Instant::now();
        let request = self.client.get(&self.url).bearer_auth(&self.token).timeout(Duration::from_secs(2)).send();
        let Ok(response) = request.await else { return false };
        if !response.status().is_success() {
            return false;
        }
        let Ok(body) = response.bytes().await else { return false };
        let Ok(status) = serde_json::from_slice::<Value>(&body) else { return false };
        let round_trip_ms = sent.elapsed().as_secs_f64() * 1000.0;
        let skew_ms =
            status.get("now_ms").and_then(Value::as_f64).map_or(0.0, |now| now - (asked + round_trip_ms / 2.0));
        log.observe(&status, generation, timeline, skew_ms, timeline.now());
        true
    }

    /// Polls every [`POLL_INTERVAL`] until `stop`.
    pub async fn monitor(self, log: Arc<FaultLog>, timeline: Timeline, mut stop: watch::Receiver<bool>) {
        loop {
            self.poll(&log, &timeline).await;
            tokio::select! {
                () = tokio::time::sleep(POLL_INTERVAL) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn status_answers_become_windows_and_a_restart_ends_them() {
        let timeline = Timeline::start();
        let ms = |s: f64| unix_seconds(timeline.start_wall) * 1000.0 + s * 1000.0;
        let log = FaultLog::default();
        let active = json!({"active": [{"id": "exp-1", "kind": "redis", "started_at_ms": ms(1.0), "parameters": {"mode": "fail"}}], "recent": []});
        log.observe(&active, 0, &timeline, 0.0, 1.5);
        assert_eq!(log.active_kinds(), ["redis"]);
        let ended = json!({"active": [], "recent": [{"id": "exp-1", "kind": "redis", "started_at_ms": ms(1.0), "ended_at_ms": ms(3.0), "end_reason": "expired"}]});
        log.observe(&ended, 0, &timeline, 0.0, 3.5);
        let w = &log.windows(10.0)[0];
        assert!((w.start_s - 1.0).abs() < 0.01 && (w.end_s.unwrap() - 3.0).abs() < 0.01, "{w:?}");
        assert_eq!(w.end_reason.as_deref(), Some("expired"));

        let hang = json!({"active": [{"id": "exp-2", "kind": "hang", "started_at_ms": ms(4.0)}]});
        log.observe(&hang, 0, &timeline, 0.0, 4.5);
        log.restarted(9.0);
        // An answer asked of the old process before the restart is dropped.
        log.observe(&hang, 0, &timeline, 0.0, 9.1);
        // The new process numbers its experiments from 1 again: a new window.
        log.observe(
            &json!({"active": [{"id": "exp-1", "kind": "redis", "started_at_ms": ms(9.5)}]}),
            1,
            &timeline,
            0.0,
            9.6,
        );
        let windows = log.windows(12.0);
        assert_eq!(windows.len(), 3);
        assert_eq!(
            (windows[1].kind.as_str(), windows[1].end_s, windows[1].end_reason.as_deref()),
            ("hang", Some(9.0), Some("replica restarted"))
        );
        assert_eq!(windows[2].end_s, Some(12.0));
    }
}
