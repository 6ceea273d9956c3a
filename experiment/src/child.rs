//! Children the runner starts (process activities, the spawned chaoslab):
//! each in its own process group, so a Ctrl-C at the terminal reaches the
//! runner only and the runner decides how they stop; and stopped politely
//! (SIGTERM to the group, a grace period, then SIGKILL), so a scenario
//! script gets to run its clean-up.

use std::time::Duration;

use tokio::process::{Child, Command};

/// Sets up `command` to run in a new process group that the kernel kills
/// if the runner dies, even by SIGKILL (no orphaned chaoslab or script).
pub fn isolate(command: &mut Command) {
    command.process_group(0);
    die_with_parent(command);
}

#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec and only calls
    // prctl(2), which is async-signal-safe; it touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Sends `signal` to the process group led by `child` (see [`isolate`]).
pub fn signal_group(child: &Child, signal: libc::c_int) {
    let Some(pid) = child.id().and_then(|pid| libc::pid_t::try_from(pid).ok()) else { return };
    // SAFETY: kill(2) on a process group we created; no memory is shared.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(-pid, signal);
    }
}

/// SIGTERM to the group, up to `grace` for the child to exit, then SIGKILL.
/// Returns true when it exited within the grace period.
pub async fn stop(child: &mut Child, grace: Duration) -> bool {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return true;
    }
    signal_group(child, libc::SIGTERM);
    if tokio::time::timeout(grace, child.wait()).await.is_ok() {
        return true;
    }
    signal_group(child, libc::SIGKILL);
    let _ = child.wait().await;
    false
}
