//! `chaoslab up --watch`: when the `.wasm` of a manifest component changes
//! on disk (a rebuild), it is deployed as a new revision through the same
//! health gate as the control API's deploys — what `spin watch` does with a
//! restart, without dropping a request. A broken build leaves the serving
//! revision in place and says why in one log line.
//!
//! The files are polled (their modification time and size every
//! [`POLL`]) rather than watched with inotify: a build writes a file in
//! several steps, so a change is only deployed once the file has stayed the
//! same for one more poll, and polling works the same on every filesystem
//! (bind mounts, network shares). Only content changes count: the SHA-256
//! must differ from the last build seen.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::canary::Watch;
use super::gate::{self, Gate, Readiness};
use super::model::{Source, State};
use super::registry::{ControlError, Deploy, Plan, Revisions};
use crate::host::SidecarImports;

/// How often the files are looked at.
pub const POLL: Duration = Duration::from_millis(250);
/// How often a rollout started by the watch is looked at until it ends.
const ROLLOUT_POLL: Duration = Duration::from_millis(50);

/// A file's modification time and size: what a poll compares.
type Stamp = Option<(SystemTime, u64)>;

/// One watched component.
struct Target {
    /// The component.
    component: String,
    /// Its manifest `source`.
    path: PathBuf,
    /// Its gate: `GET /health` when that is one of its paths, else instantiation only.
    gate: Gate,
    /// The file's stamp at the last poll.
    seen: Stamp,
    /// True once the current content has been handled.
    settled: bool,
    /// SHA-256 of the last build deployed (or served from the start).
    last_sha: Option<String>,
}

/// Watches every routed component's `.wasm` until the task is dropped.
pub async fn run<S: SidecarImports>(revisions: Arc<Revisions<S>>) {
    let app = revisions.app().clone();
    let mut targets: Vec<Target> = Vec::new();
    for (id, slot) in app.slots() {
        let path = app.manifest().components[id].source.clone();
        let health = app.route(gate::DEFAULT_PATH).is_some_and(|(_, s)| s.id == *id);
        let readiness = health.then(Readiness::default);
        tracing::info!(
            component = %id,
            path = %path.display(),
            gate = if health { "GET /health" } else { "instantiation only (GET /health is not its route)" },
            "watching for new builds"
        );
        let last_sha = slot.split().entries().first().and_then(|(r, _)| r.meta.sha256.clone());
        let seen = stamp(&path);
        targets.push(Target {
            component: id.clone(),
            path,
            gate: Gate { readiness, timeout: gate::DEFAULT_TIMEOUT },
            seen,
            settled: true,
            last_sha,
        });
    }
    loop {
        tokio::time::sleep(POLL).await;
        for target in &mut targets {
            target.poll(&revisions).await;
        }
    }
}

/// The stamp of `path` (`None` while it is missing, e.g. mid-build).
fn stamp(path: &std::path::Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

impl Target {
    /// Looks at the file once; deploys a build that changed and then held still.
    async fn poll<S: SidecarImports>(&mut self, revisions: &Arc<Revisions<S>>) {
        let now = stamp(&self.path);
        if now != self.seen {
            (self.seen, self.settled) = (now, false);
            return;
        }
        if self.settled || now.is_none() {
            return;
        }
        let path = self.path.clone();
        let Ok(Ok(bytes)) = tokio::task::spawn_blocking(move || std::fs::read(path)).await else {
            return; // gone again: the next change will tell
        };
        let sha = format!("{:x}", Sha256::digest(&bytes));
        if self.last_sha.as_deref() == Some(sha.as_str()) {
            self.settled = true;
            return;
        }
        let deploy = Deploy {
            component: self.component.clone(),
            bytes: Ok(bytes),
            source: Source::Watch { path: self.path.display().to_string() },
            plan: Plan { gate: self.gate.clone(), traffic: 100, watch: Watch::default() },
        };
        let started = match revisions.deploy(deploy) {
            Ok(revision) => revision,
            Err(ControlError::Conflict(why)) => {
                tracing::debug!(component = %self.component, why, "watch: a rollout is in progress; deploying after it");
                return;
            }
            Err(err) => {
                tracing::warn!(component = %self.component, error = %err, "watch: cannot deploy the new build");
                self.settled = true;
                return;
            }
        };
        (self.settled, self.last_sha) = (true, Some(sha));
        let id = started.meta.id;
        let done = loop {
            match revisions.get(&id) {
                Ok(revision) if revision.state != State::Provisioning => break revision,
                Ok(_) => tokio::time::sleep(ROLLOUT_POLL).await,
                Err(_) => return,
            }
        };
        let serving = revisions
            .traffic()
            .traffic
            .get(&self.component)
            .map(|split| split.keys().cloned().collect::<Vec<_>>().join(","));
        let serving = serving.unwrap_or_default();
        match (&done.state, &done.reason) {
            (State::Failed, Some(reason)) => tracing::warn!(
                component = %self.component,
                revision = %id,
                path = %self.path.display(),
                "watch: new build of {} refused, {serving} keeps serving: {reason}",
                self.component
            ),
            _ => tracing::info!(
                component = %self.component,
                revision = %id,
                compile_ms = done.timings.compile_ms,
                gate_ms = done.timings.gate_ms,
                "watch: new build of {} is live as {id}",
                self.component
            ),
        }
    }
}
