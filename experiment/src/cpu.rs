//! CPU time of processes from `/proc`: the runner's own, and under
//! `--spawn` the target's (chaoslab and its `redis-server` child), so the
//! journal can say what the load costs next to what it asks of the target.

/// Clock ticks per second of `/proc` times (USER_HZ, 100 on Linux).
const USER_HZ: f64 = 100.0;

/// CPU seconds (user + system) `pid` has used; `"self"` for this process.
pub fn seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

/// CPU seconds of `pid` and its direct children (chaoslab's `redis-server`).
pub fn with_children(pid: u32) -> Option<f64> {
    let own = seconds(&pid.to_string())?;
    let children: f64 = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| list.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|child| seconds(&child))
        .sum();
    Some(own + children)
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_has_a_cpu_time() {
        assert!(super::seconds("self").is_some_and(|s| s >= 0.0));
        assert!(super::with_children(std::process::id()).is_some());
    }
}
