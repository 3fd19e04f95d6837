//! How many CPU threads a run may really use, and why: the cores this process may run on (its
//! affinity mask: `taskset`, a container's cpuset) and the CPU time its cgroup may take (a
//! container's quota: `cpu.max` in cgroup v2, `cpu.cfs_quota_us`/`cpu.cfs_period_us` in v1).
//! A container limited to 2 CPUs on a 64-core host must use 2 threads, not 64: libtorch's
//! default of one thread per host core would have 64 threads share 2 CPUs' worth of time, each
//! waiting for the others at every parallel region.

use std::path::{Path, PathBuf};

/// The environment variable that chooses how libtorch's OpenMP threads wait for work, for
/// comparing (benches/busy.py): unset, they spin 10,000 turns, then sleep (`GOMP_SPINCOUNT=
/// 10000`, set by `main.rs` before libgomp loads); `libgomp`: libgomp's own default (300,000
/// turns); `passive`: they sleep at once; `spin:N`: `GOMP_SPINCOUNT=N`.
pub const OMP_WAIT: &str = "NETLOOM_OMP_WAIT";

/// How this process's OpenMP threads wait, for the run's first line.
pub fn wait_policy() -> String {
    match (
        std::env::var("OMP_WAIT_POLICY").ok(),
        std::env::var("GOMP_SPINCOUNT").ok(),
    ) {
        (Some(p), _) => format!("OMP_WAIT_POLICY={p}"),
        (None, Some(n)) => format!("GOMP_SPINCOUNT={n}"),
        (None, None) => "libgomp's default wait".to_owned(),
    }
}

/// The threads a run uses and where that number came from, said in the run's first line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuBudget {
    /// Threads to use.
    pub threads: usize,
    /// Why that many, e.g. "the cgroup's CPU quota of 1.5 CPUs" or "--threads".
    pub why: String,
}

/// A cgroup's CPU quota in CPUs (quota ÷ period), from the text of cgroup v2's `cpu.max`
/// ("max 100000" is none) or of v1's `cpu.cfs_quota_us` and `cpu.cfs_period_us` (−1: none).
pub fn quota_from_v2(cpu_max: &str) -> Option<f64> {
    let mut parts = cpu_max.split_whitespace();
    let quota = parts.next()?.parse::<f64>().ok()?;
    let period = parts
        .next()
        .map_or(Some(100_000.0), |p| p.parse::<f64>().ok())?;
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

/// See [`quota_from_v2`].
pub fn quota_from_v1(quota_us: &str, period_us: &str) -> Option<f64> {
    let quota = quota_us.trim().parse::<f64>().ok()?;
    let period = period_us.trim().parse::<f64>().ok()?;
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

/// The cgroup folders that may hold this process's CPU quota, innermost first: its own cgroup
/// and each parent up to the mount's root (a quota on any of them limits it). `proc_cgroup` is
/// the text of /proc/self/cgroup; `root` where cgroups are mounted (/sys/fs/cgroup).
fn quota_dirs(proc_cgroup: &str, root: &Path) -> Vec<(PathBuf, bool)> {
    let mut out = Vec::new();
    for line in proc_cgroup.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = match (fields.next(), fields.next(), fields.next()) {
            (Some(id), Some(c), Some(p)) => (id, c, p),
            _ => continue,
        };
        let (base, v2) = if controllers.is_empty() {
            // v2 is mounted at the root, or beside v1 as "unified".
            let unified = root.join("unified");
            (
                if unified.is_dir() {
                    unified
                } else {
                    root.to_owned()
                },
                true,
            )
        } else if controllers.split(',').any(|c| c == "cpu") {
            let named = root.join(controllers);
            (
                if named.is_dir() {
                    named
                } else {
                    root.join("cpu")
                },
                false,
            )
        } else {
            continue;
        };
        let mut dir = base.join(path.trim_start_matches('/'));
        loop {
            out.push((dir.clone(), v2));
            if dir == base || !dir.pop() || !dir.starts_with(&base) {
                break;
            }
        }
    }
    out
}

/// The smallest CPU quota on this process's cgroups, with the file it came from.
fn cgroup_quota(proc_cgroup: &str, root: &Path) -> Option<(f64, PathBuf)> {
    let read = |p: PathBuf| std::fs::read_to_string(&p).ok().map(|t| (t, p));
    quota_dirs(proc_cgroup, root)
        .into_iter()
        .filter_map(|(dir, v2)| {
            if v2 {
                let (text, path) = read(dir.join("cpu.max"))?;
                Some((quota_from_v2(&text)?, path))
            } else {
                let (quota, path) = read(dir.join("cpu.cfs_quota_us"))?;
                let (period, _) = read(dir.join("cpu.cfs_period_us"))?;
                Some((quota_from_v1(&quota, &period)?, path))
            }
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

/// The cores this process may run on (its affinity mask), when the OS says.
#[cfg(target_os = "linux")]
fn affinity() -> Option<usize> {
    rustix::thread::sched_getaffinity(None)
        .ok()
        .map(|set| set.count() as usize)
        .filter(|&n| n > 0)
}

#[cfg(not(target_os = "linux"))]
fn affinity() -> Option<usize> {
    None
}

/// The threads a run may use: `asked` when the user set a number; otherwise the fewest of the
/// cores it may run on and its cgroup's quota (rounded up: 1.5 CPUs of time keep two threads
/// busy half the time), less one core beside the app's UI when `leave_core`.
pub fn budget(asked: Option<usize>, leave_core: bool) -> CpuBudget {
    if let Some(n) = asked.filter(|&n| n > 0) {
        return CpuBudget {
            threads: n,
            why: "as asked".to_owned(),
        };
    }
    let host = machine_cpus();
    let cores = affinity().unwrap_or(host).min(host);
    let quota = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|text| cgroup_quota(&text, Path::new("/sys/fs/cgroup")));
    let mut threads = cores.max(1);
    let mut why = if cores < host {
        format!("the {cores} of {host} cores this process may run on")
    } else {
        crate::units::count(cores as u64, "core")
    };
    if let Some((cpus, path)) = &quota {
        let by_quota = (cpus.ceil() as usize).max(1);
        if by_quota < threads {
            threads = by_quota;
            why = format!(
                "the cgroup's CPU quota of {} CPU{} ({})",
                trim(*cpus),
                if *cpus == 1.0 { "" } else { "s" },
                path.display()
            );
        }
    }
    if leave_core && threads > 1 {
        threads -= 1;
        why += ", one left to the window";
    }
    CpuBudget { threads, why }
}

/// How much lower than the app's window the app's trainer thread runs (its OpenMP workers,
/// which it starts, inherit it). Beside a busy program on 2 cores, LeNet-5 training at the
/// same priority as the window stretched the time from one frame to the next to 48 ms (the
/// window's drawing waited for a core); at nice 5, 24 ms, with training still taking what the
/// window leaves (docs/performance.md).
const BELOW_UI: i32 = 5;

/// Lowers the calling thread's priority by [`BELOW_UI`] (relative to what it has: a user who
/// started netloom with `nice` keeps that too). Linux only; elsewhere, nothing.
pub fn below_ui() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let me = Some(rustix::thread::gettid());
        if let Ok(now) = getpriority_process(me) {
            let _ = setpriority_process(me, (now + BELOW_UI).min(19));
        }
    }
}

/// For a helper thread of the app's (the Learn view's probes and lessons): libtorch's thread
/// count belongs to the calling thread, and a new one starts at every core, so it computes
/// with what the app's training gets, one core left to the window, rather than spin against
/// the UI thread.
pub fn leave_core_to_ui() {
    use_threads(budget(None, true).threads);
}

/// Sets libtorch's intra-op thread count for the calling thread.
pub fn use_threads(n: usize) {
    tch::set_num_threads(i32::try_from(n).unwrap_or(i32::MAX));
}

/// Cumulative CPU time in clock ticks: the whole machine's busy and total time (all CPUs), and
/// this process's own. Two readings tell how much the machine's other programs took between
/// them ([`others_cores`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Load {
    busy: u64,
    total: u64,
    own: u64,
}

/// Reads [`Load`] from /proc/stat and /proc/self/stat; None where they don't exist.
pub fn load_now() -> Option<Load> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let own = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_load(&stat, &own)
}

fn parse_load(stat: &str, own: &str) -> Option<Load> {
    let cpu: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal …: idle and iowait are the idle time.
    let total: u64 = cpu.iter().take(8).sum();
    let idle = cpu.get(3)? + cpu.get(4).unwrap_or(&0);
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    let fields: Vec<&str> = own.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Load {
        busy: total.checked_sub(idle)?,
        total,
        own: utime + stime,
    })
}

/// The cores the machine's other programs kept busy between two readings, on a machine of
/// `cpus` CPUs.
pub fn others_cores(before: Load, after: Load, cpus: usize) -> Option<f64> {
    let total = after.total.checked_sub(before.total)?;
    if total == 0 {
        return None;
    }
    let busy = after.busy.saturating_sub(before.busy);
    let own = after.own.saturating_sub(before.own);
    Some(busy.saturating_sub(own) as f64 / total as f64 * cpus as f64)
}

/// The machine's CPUs, for [`others_cores`].
pub fn machine_cpus() -> usize {
    online_cpus().unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The machine's online CPUs (Linux's /sys/devices/system/cpu/online, e.g. "0-1,4").
fn online_cpus() -> Option<usize> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").ok()?;
    count_cpu_list(&text)
}

/// The number of CPUs in a kernel CPU list ("0-3,8,10-11" → 7).
fn count_cpu_list(text: &str) -> Option<usize> {
    let mut n = 0;
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        n += match part.split_once('-') {
            Some((a, b)) => {
                b.parse::<usize>()
                    .ok()?
                    .checked_sub(a.parse::<usize>().ok()?)?
                    + 1
            }
            None => {
                part.parse::<usize>().ok()?;
                1
            }
        };
    }
    (n > 0).then_some(n)
}

/// 1.5 → "1.5", 2.0 → "2".
fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn quotas_read_from_both_cgroup_versions() {
        assert_eq!(quota_from_v2("max 100000\n"), None);
        assert_eq!(quota_from_v2("200000 100000\n"), Some(2.0));
        assert_eq!(quota_from_v2("150000 100000"), Some(1.5));
        assert_eq!(quota_from_v1("-1\n", "100000\n"), None);
        assert_eq!(quota_from_v1("50000\n", "100000\n"), Some(0.5));
        assert_eq!(trim(1.5), "1.5");
        assert_eq!(trim(2.0), "2");
        assert_eq!(count_cpu_list("0-3,8,10-11\n"), Some(7));
        assert_eq!(count_cpu_list("0"), Some(1));
        assert_eq!(count_cpu_list("x"), None);
    }

    #[test]
    fn the_others_share_is_the_machines_busy_time_less_this_processes() {
        let own = |u: u64, s: u64| {
            format!("42 (net loom) R 1 2 3 4 5 6 7 8 9 10 {u} {s} 0 0 20 0 3 0 100 0 0")
        };
        let a = parse_load("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n", &own(40, 10)).unwrap();
        // 200 ticks of 2 CPUs later: 150 busy, of which this process's 50.
        let b = parse_load("cpu  200 0 100 850 50 0 0 0 0 0\n", &own(80, 20)).unwrap();
        assert_eq!(others_cores(a, b, 2), Some(1.0));
        assert_eq!(others_cores(a, a, 2), None);
    }

    #[test]
    fn the_smallest_quota_on_the_way_up_the_cgroup_tree_is_the_one() {
        let root = std::env::temp_dir().join(format!("netloom-cgroup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        // v2, a container's cgroup under a parent limited to 3 CPUs, itself to 1.5.
        let leaf = root.join("unified/box/job");
        std::fs::create_dir_all(&leaf).unwrap();
        std::fs::write(root.join("unified/box/cpu.max"), "300000 100000\n").unwrap();
        std::fs::write(leaf.join("cpu.max"), "150000 100000\n").unwrap();
        let (cpus, path) = cgroup_quota("0::/box/job\n", &root).unwrap();
        assert_eq!(cpus, 1.5);
        assert_eq!(path, leaf.join("cpu.max"));
        // v1: the cpu controller's own folder.
        let v1 = root.join("cpu/docker/abc");
        std::fs::create_dir_all(&v1).unwrap();
        std::fs::write(v1.join("cpu.cfs_quota_us"), "200000\n").unwrap();
        std::fs::write(v1.join("cpu.cfs_period_us"), "100000\n").unwrap();
        let text = "4:memory:/docker/abc\n1:cpu:/docker/abc\n";
        assert_eq!(cgroup_quota(text, &root).unwrap().0, 2.0);
        // No quota anywhere.
        assert_eq!(cgroup_quota("0::/elsewhere\n", &root), None);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_number_asked_for_wins() {
        let b = budget(Some(3), true);
        assert_eq!(b.threads, 3);
        assert_eq!(b.why, "as asked");
        assert!(budget(None, false).threads >= 1);
    }
}
