//! Native load: CPU workers on a duty cycle and a memory balloon whose pages
//! are touched. Everything runs on threads of its own: starting a load
//! returns at once (the engine's lock is never held while pages are touched,
//! so data-plane decisions never wait for a balloon), and each thread stops
//! by itself at its deadline, so load never outlives its experiment, even if
//! nobody calls the engine.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::model::LoadSpec;

/// One duty cycle: busy for `cpu_percent` of it, asleep for the rest.
const PERIOD: Duration = Duration::from_millis(100);
/// Page size used to touch the balloon.
const PAGE: usize = 4096;
/// Bytes in a MiB.
const MIB: usize = 1024 * 1024;

/// Running load; stops when dropped.
#[derive(Debug)]
pub struct LoadHandle {
    /// Tells the CPU workers to stop.
    stop: Arc<AtomicBool>,
    /// Workers still running (shared with them).
    alive: Arc<AtomicU32>,
    /// MiB of the balloon touched so far (shared with its thread).
    memory_mib: Arc<AtomicU32>,
    /// Dropping it wakes the balloon's thread, which unmaps the balloon
    /// itself (never under the engine's lock).
    _balloon: Option<mpsc::Sender<()>>,
}

impl LoadHandle {
    /// Starts `spec.workers` CPU workers and a thread that maps and touches
    /// `spec.memory_mb` MiB, all until `deadline` (or until dropped).
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
        let memory_mib = Arc::new(AtomicU32::new(0));
        let balloon = (spec.memory_mb > 0).then(|| {
            let (keep, kept) = mpsc::channel();
            let (mib, stopped) = (memory_mib.clone(), stop.clone());
            let bytes = spec.memory_mb as usize * MIB;
            let spawned = std::thread::Builder::new()
                .name("chaos-memory".into())
                .spawn(move || balloon(bytes, deadline, &kept, &mib, &stopped));
            if let Err(err) = spawned {
                tracing::error!(error = %err, "could not start the memory balloon");
            }
            keep
        });
        Self { stop, alive, memory_mib, _balloon: balloon }
    }

    /// What is running now: CPU workers alive, MiB of the balloon held.
    pub fn report(&self) -> (u32, u32) {
        (self.alive.load(Ordering::SeqCst), self.memory_mib.load(Ordering::SeqCst))
    }
}

impl Drop for LoadHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Maps `bytes` anonymously (its own mapping, so unmapping returns the pages
/// to the system at once, where a heap allocation could stay cached by the
/// allocator), touches every page, then holds it until the handle is dropped
/// or `deadline` passes.
fn balloon(bytes: usize, deadline: Instant, kept: &mpsc::Receiver<()>, mib: &AtomicU32, stop: &AtomicBool) {
    let mut map = match memmap2::MmapMut::map_anon(bytes) {
        Ok(map) => map,
        Err(err) => {
            tracing::error!(error = %err, memory_mb = bytes / MIB, "could not map the memory balloon");
            return;
        }
    };
    for (n, chunk) in map.chunks_mut(MIB).enumerate() {
        if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
            break;
        }
        for page in chunk.iter_mut().step_by(PAGE) {
            *page = 1;
        }
        mib.store(u32::try_from(n + 1).unwrap_or(u32::MAX), Ordering::SeqCst);
    }
    // Returns when the handle is dropped (disconnected) or at the deadline.
    let _ = kept.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    mib.store(0, Ordering::SeqCst);
    drop(map);
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
