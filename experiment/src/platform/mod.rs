//! `--spawn` plays the platform as Azure Container Apps would: it owns the
//! target process ([`Spawned`]) and runs a liveness probe with the
//! settings of `deploy/azure/modules/app.bicep`; when the probe fails
//! `failure_threshold` times in a row it restarts the process, and measures
//! how long detection took and when the first `200` came back.
//!
//! On Container Apps the probe that catches a hang is the sidecar's
//! `GET /livez`, which never touches Redis. Locally `chaoslab up` serves
//! the data plane and the sidecar in one process, so the probe asks the
//! data plane's `GET /health` (held by a hang like `/livez`) and counts any
//! HTTP answer in time as alive: a Redis outage (503) must not restart a
//! replica here either.

mod spawned;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

pub use spawned::{SpawnOptions, Spawned};

use crate::activity::Context;
use crate::faults::FaultLog;
use crate::model::{Liveness, LivenessOverrides};
use crate::timeline::Timeline;

/// The sidecar container's liveness probe in `deploy/azure/modules/app.bicep`
/// (a test reads the file so the two cannot drift).
pub const ACA_LIVENESS_INITIAL_DELAY: Duration = Duration::from_secs(3);
/// `periodSeconds` of that probe.
pub const ACA_LIVENESS_PERIOD: Duration = Duration::from_secs(10);
/// `timeoutSeconds` of that probe.
pub const ACA_LIVENESS_TIMEOUT: Duration = Duration::from_secs(5);
/// `failureThreshold` of that probe.
pub const ACA_LIVENESS_FAILURE_THRESHOLD: u32 = 3;
/// The local stand-in for `/livez` (see the module docs).
pub const LOCAL_LIVENESS_PATH: &str = "/health";
/// How often the platform asks for the first `200` after a restart.
const FIRST_200_POLL: Duration = Duration::from_millis(50);
/// How long it waits for that `200`.
const FIRST_200_TIMEOUT: Duration = Duration::from_secs(60);

/// The probe in force: Container Apps' settings, with the experiment's overrides.
pub fn liveness(overrides: &LivenessOverrides) -> Liveness {
    Liveness {
        path: overrides.path.clone().unwrap_or_else(|| LOCAL_LIVENESS_PATH.to_owned()),
        initial_delay: overrides.initial_delay.unwrap_or(ACA_LIVENESS_INITIAL_DELAY),
        period: overrides.period.unwrap_or(ACA_LIVENESS_PERIOD),
        timeout: overrides.timeout.unwrap_or(ACA_LIVENESS_TIMEOUT),
        failure_threshold: overrides.failure_threshold.unwrap_or(ACA_LIVENESS_FAILURE_THRESHOLD),
    }
}

/// One restart, in seconds from the run's start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restart {
    /// The first failed probe of the streak.
    pub first_failed_probe_s: f64,
    /// The probe that reached the threshold: the restart was decided.
    pub detected_s: f64,
    /// The new process printed its readiness line.
    pub ready_s: Option<f64>,
    /// The first `200` from the liveness path after the restart.
    pub first_200_s: Option<f64>,
    /// Why the restart failed, if it did.
    pub error: Option<String>,
}

/// The platform's part of the run.
pub struct Platform {
    /// The target.
    pub target: tokio::sync::Mutex<Spawned>,
    /// The probe settings.
    pub liveness: Liveness,
    /// Every restart.
    restarts: Mutex<Vec<Restart>>,
}

impl Platform {
    /// The platform for `target`.
    pub fn new(target: Spawned, liveness: Liveness) -> Self {
        Self { target: tokio::sync::Mutex::new(target), liveness, restarts: Mutex::new(Vec::new()) }
    }

    /// The restarts so far.
    pub fn restarts(&self) -> Vec<Restart> {
        self.restarts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Probes until `stop`, restarting the target when the probe says so.
    pub async fn play(self: Arc<Self>, ctx: Context, faults: Arc<FaultLog>, mut stop: watch::Receiver<bool>) {
        let (client, progress, timeline) = (ctx.http, ctx.progress, ctx.timeline);
        let url = format!("{}{}", self.target.lock().await.url(), self.liveness.path);
        let mut failures: Vec<f64> = Vec::new();
        let mut delay = self.liveness.initial_delay;
        loop {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let asked = timeline.now();
            let alive = client.get(&url).timeout(self.liveness.timeout).send().await.is_ok();
            // Probes start one period apart, however long one takes.
            delay = self.liveness.period.saturating_sub(Duration::from_secs_f64(timeline.now() - asked));
            if alive {
                failures.clear();
                continue;
            }
            failures.push(asked);
            progress.event(format!(
                "platform: liveness probe GET {} failed ({}/{})",
                self.liveness.path,
                failures.len(),
                self.liveness.failure_threshold
            ));
            if failures.len() < self.liveness.failure_threshold as usize {
                continue;
            }
            let detected_s = timeline.now();
            let first_failed_probe_s = failures[0];
            failures.clear();
            progress.event("platform: restarting the target (liveness threshold reached)");
            faults.restarted(detected_s);
            let outcome = self.target.lock().await.restart().await;
            let mut restart =
                Restart { first_failed_probe_s, detected_s, ready_s: None, first_200_s: None, error: None };
            match outcome {
                Ok(()) => {
                    restart.ready_s = Some(timeline.now());
                    restart.first_200_s = first_200(&client, &url, &timeline).await;
                    progress.event(format!(
                        "platform: restarted; first 200 {}",
                        restart
                            .first_200_s
                            .map_or("never came".to_owned(), |t| format!("{:.2}s after the decision", t - detected_s))
                    ));
                }
                Err(err) => {
                    progress.event(format!("platform: restart failed: {err}"));
                    restart.error = Some(err);
                }
            }
            self.restarts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(restart);
            delay = self.liveness.initial_delay;
        }
    }
}

async fn first_200(client: &reqwest::Client, url: &str, timeline: &Timeline) -> Option<f64> {
    let deadline = tokio::time::Instant::now() + FIRST_200_TIMEOUT;
    while tokio::time::Instant::now() < deadline {
        let answer = client.get(url).timeout(Duration::from_secs(1)).send().await;
        if answer.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
            return Some(timeline.now());
        }
        tokio::time::sleep(FIRST_200_POLL).await;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings of the `sidecar` container's Liveness probe in app.bicep.
    fn bicep_liveness() -> (String, u64, u64, u64, u32) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/azure/modules/app.bicep");
        let bicep = std::fs::read_to_string(path).expect("read app.bicep");
        let sidecar = bicep.split("name: 'sidecar'").nth(1).expect("a container named sidecar");
        let probe = sidecar.split("type: 'Liveness'").nth(1).expect("a Liveness probe on the sidecar");
        let probe = &probe[..probe.find("type: '").unwrap_or(probe.len())];
        let value = |key: &str| -> String {
            let line = probe
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{key}:")))
                .unwrap_or_else(|| panic!("no {key}"));
            line.split_once(':').expect("key: value").1.trim().trim_matches('\'').to_owned()
        };
        let n = |key: &str| value(key).parse::<u64>().unwrap_or_else(|e| panic!("{key}: {e}"));
        (value("path"), n("initialDelaySeconds"), n("periodSeconds"), n("timeoutSeconds"), n("failureThreshold") as u32)
    }

    #[test]
    fn the_platform_probes_with_the_settings_of_app_bicep() {
        let (path, initial_delay, period, timeout, threshold) = bicep_liveness();
        assert_eq!(path, "/livez", "the probe the hang stops on Azure");
        let local = liveness(&LivenessOverrides::default());
        assert_eq!(local.initial_delay, Duration::from_secs(initial_delay));
        assert_eq!(local.period, Duration::from_secs(period));
        assert_eq!(local.timeout, Duration::from_secs(timeout));
        assert_eq!(local.failure_threshold, threshold);
    }

    #[test]
    fn overrides_replace_single_settings() {
        let overrides = LivenessOverrides { period: Some(Duration::from_secs(2)), ..LivenessOverrides::default() };
        let l = liveness(&overrides);
        assert_eq!(
            (l.period, l.timeout, l.path.as_str()),
            (Duration::from_secs(2), ACA_LIVENESS_TIMEOUT, LOCAL_LIVENESS_PATH)
        );
    }
}
