//! Native load: CPU workers on a duty cycle and a memory balloon whose pages
//! are touched. Each worker stops by itself at its deadline, so load never
//! outlives its experiment, even if nobody calls the engine.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::model::LoadSpec;

/// One duty cycle: busy for `cpu_percent` of it, asleep for the rest.
const PERIOD: Duration = Duration::from_millis(100);
/// Page size used to touch the balloon.
const PAGE: usize = 4096;

/// Running load; stops when dropped.
#[derive(Debug)]
pub struct LoadHandle {
    /// Tells the workers to stop.
    stop: Arc<AtomicBool>,
    /// Workers still running (shared with them).
    alive: Arc<AtomicU32>,
    /// The balloon: an anonymous mapping of its own, so dropping it returns
    /// the pages to the system at once (a heap allocation may stay cached by
    /// the allocator and keep RSS up after the experiment).
    balloon: Option<memmap2::MmapMut>,
}

impl LoadHandle {
    /// Starts `spec.workers` CPU workers until `deadline` and allocates and
    /// touches `spec.memory_mb` MiB.
    pub fn start(spec: &LoadSpec, deadline: Instant) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let alive = Arc::new(AtomicU32::new(0));
        let busy = PERIOD * spec.cpu_percent.min(100) / 100;
        for n in 0..spec.workers {
            let (worker_stop, worker_alive) = (stop.clone(), alive.clone());
            alive.fetch_add(1, Ordering::SeqCst);
            let spawned = std::thread::Builder::new().name(format!("chaos-cpu-{n}")).spawn(move || {
                burn(busy, deadline, &worker_stop);
                worker_alive.fetch_sub(1, Ordering::SeqCst);
            });
            if let Err(err) = spawned {
                tracing::error!(error = %err, "could not start a CPU worker");
                alive.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let bytes = spec.memory_mb as usize * 1024 * 1024;
        let balloon = (bytes > 0)
            .then(|| memmap2::MmapMut::map_anon(bytes))
            .transpose()
            .unwrap_or_else(|err| {
                tracing::error!(error = %err, memory_mb = spec.memory_mb, "could not map the memory balloon");
                None
            })
            .map(|mut map| {
                for page in map.iter_mut().step_by(PAGE) {
                    *page = 1;
                }
                map
            });
        Self { stop, alive, balloon }
    }

    /// What is running now.
    pub fn report(&self) -> (u32, u32) {
        let mib = self.balloon.as_ref().map_or(0, |map| map.len() / (1024 * 1024));
        (self.alive.load(Ordering::SeqCst), mib as u32)
    }
}

impl Drop for LoadHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Burns `busy` of every `PERIOD` until `deadline` or `stop`.
fn burn(busy: Duration, deadline: Instant, stop: &AtomicBool) {
    let mut x: u64 = 1;
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
        if start >= deadline {
            return;
        }
        while start.elapsed() < busy {
            for _ in 0..1000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        let rest = PERIOD.saturating_sub(start.elapsed()).min(deadline.saturating_duration_since(Instant::now()));
        std::thread::sleep(rest);
    }
}
