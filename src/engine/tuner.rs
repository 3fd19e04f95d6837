//! Fewer threads while the machine is busy. A run on the CPU measures its steps in windows
//! and, at the end of each, how much CPU the machine's other programs took meanwhile (from
//! /proc/stat, less this process's own share). When others take a core's worth or more of what
//! the run would use, or its steps get 1.5× slower, it tries one thread fewer for a window and
//! keeps that count only if the steps get at least 10 % faster. While it runs with fewer than
//! its budget and the others quieten, it tries one thread more, kept on the same terms. A quiet
//! machine never sees a try (where the others' share can't be read, a try comes after the
//! first window and then ever more rarely).
//!
//! Why: libtorch's OpenMP threads wait for each other at every parallel region, thousands of
//! times a second; beside another busy program a thread the kernel has descheduled holds every
//! other one up. With one thread fewer, the run no longer asks for more cores than it gets. On
//! a 2-core machine beside another training, LeNet-5 at one thread ran 2.5× faster than at two
//! (docs/performance.md).
//!
//! A thread count changes the order of floating-point sums, so the weights differ in their last
//! digits from a run at another count: a run that must repeat bit for bit fixes its count
//! (`--deterministic` or `--threads N`), and the tuner is then off. A kept change is said.

/// Steps not measured at the start and after a change (allocations, thread start-up).
const SETTLE_STEPS: usize = 3;
/// A window holds at least this many steps and lasts at least [`WINDOW_SECONDS`]: a median a
/// slow step can't move, and short for slow steps (a try at a worse count costs one window).
const WINDOW_STEPS: usize = 5;
const WINDOW_SECONDS: f64 = 0.3;
/// A window this much slower than the settled time means the machine became busy.
const SLOWER: f64 = 1.5;
/// Others using this many cores of what the run would use make it worth trying fewer threads.
const OTHERS_BUSY: f64 = 0.75;
/// A try is kept when its steps are at least this much faster.
const BETTER: f64 = 0.9;
/// Windows between tries where nothing says the machine changed; doubled after each try that
/// didn't pay, up to the maximum.
const PROBE_EVERY: u32 = 20;
const MAX_PROBE_EVERY: u32 = 320;

/// What the tuner decided after a window.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// The thread count to use from now on.
    pub threads: usize,
    /// What to tell the user; None for a try that is only being measured, or undone.
    pub said: Option<String>,
}

/// Watches step times and picks the thread count (see the module's doc).
#[derive(Debug)]
pub struct ThreadTuner {
    budget: usize,
    current: usize,
    skip: usize,
    times: Vec<f64>,
    /// The median step time at `current` when it was last judged good.
    settled: Option<f64>,
    /// A try under way: the count it came from and that count's median.
    trial: Option<(usize, f64)>,
    windows_since_try: u32,
    try_every: u32,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

impl ThreadTuner {
    /// A tuner for a run that starts with `budget` threads and may use no more.
    pub fn new(budget: usize) -> ThreadTuner {
        ThreadTuner {
            budget,
            current: budget,
            skip: SETTLE_STEPS,
            times: Vec::new(),
            settled: None,
            trial: None,
            windows_since_try: 0,
            try_every: PROBE_EVERY,
        }
    }

    /// The thread count in use.
    pub fn threads(&self) -> usize {
        self.current
    }

    /// Takes one step's wall time in seconds. When a window ends, `others` is asked for the
    /// cores the machine's other programs used during it (None: not known here), and a change
    /// of thread count comes back when one is called for.
    pub fn observe(
        &mut self,
        seconds: f64,
        others: &mut dyn FnMut() -> Option<f64>,
    ) -> Option<Change> {
        if !seconds.is_finite() {
            return None;
        }
        if self.skip > 0 {
            self.skip -= 1;
            if self.skip == 0 {
                // The window starts now: what others did during the skipped steps is dropped.
                others();
            }
            return None;
        }
        self.times.push(seconds);
        let elapsed: f64 = self.times.iter().sum();
        if self.times.len() < WINDOW_STEPS || elapsed < WINDOW_SECONDS {
            return None;
        }
        let m = median(&mut self.times);
        self.times.clear();
        let busy = others().map(|cores| cores >= OTHERS_BUSY);
        if let Some((from, before)) = self.trial.take() {
            return Some(self.judge(from, before, m));
        }
        let Some(settled) = self.settled else {
            self.settled = Some(m);
            // Busy from the start looks like this machine's normal: where the others' share
            // can't be read, one thread fewer is tried at once.
            return (self.current > 1 && busy != Some(false))
                .then(|| self.try_count(self.current - 1, m));
        };
        if m < settled {
            self.settled = Some(m);
        }
        self.windows_since_try += 1;
        let due = self.windows_since_try >= self.try_every;
        if self.current > 1
            && (m > settled * SLOWER
                || busy == Some(true) && due
                || busy.is_none() && due && self.current == self.budget)
        {
            return Some(self.try_count(self.current - 1, m));
        }
        if self.current < self.budget && (busy == Some(false) || due) {
            return Some(self.try_count(self.current + 1, m));
        }
        None
    }

    fn try_count(&mut self, threads: usize, now: f64) -> Change {
        self.trial = Some((self.current, now));
        self.current = threads;
        self.windows_since_try = 0;
        self.skip = SETTLE_STEPS;
        Change {
            threads,
            said: None,
        }
    }

    /// Keeps a try that made the steps faster, or goes back.
    fn judge(&mut self, from: usize, before: f64, now: f64) -> Change {
        self.skip = SETTLE_STEPS;
        if now < before * BETTER {
            self.settled = Some(now);
            self.try_every = PROBE_EVERY;
            let why = if self.current < from {
                "fewer threads train faster now (the machine is busy)"
            } else {
                "more threads train faster again (the machine has cores free)"
            };
            return Change {
                threads: self.current,
                said: Some(format!(
                    "{why}: training with {} instead of {from} ({:.1} ms a step instead of {:.1}); a run at another thread count differs in the weights' last digits (--threads or --deterministic fixes the count)",
                    crate::units::count(self.current as u64, "thread"),
                    now * 1e3,
                    before * 1e3
                )),
            };
        }
        self.try_every = (self.try_every * 2).min(MAX_PROBE_EVERY);
        self.current = from;
        // A slower try means the time before it is what this machine gives now.
        self.settled = Some(before);
        Change {
            threads: from,
            said: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `n` steps of `ms` milliseconds, the others using `others` cores; the changes.
    fn feed(t: &mut ThreadTuner, n: usize, ms: f64, others: Option<f64>) -> Vec<Change> {
        (0..n)
            .filter_map(|_| t.observe(ms / 1e3, &mut || others))
            .collect()
    }

    /// A try at `threads`, not yet said.
    fn tried(threads: usize) -> [Change; 1] {
        [Change {
            threads,
            said: None,
        }]
    }

    /// Steps of `ms` that make up one window after the settling steps.
    fn window(ms: f64) -> usize {
        SETTLE_STEPS + WINDOW_STEPS.max((WINDOW_SECONDS / (ms / 1e3)).ceil() as usize)
    }

    #[test]
    fn a_quiet_machine_is_never_tried_at_fewer_threads() {
        let mut t = ThreadTuner::new(2);
        assert!(feed(&mut t, 20_000, 2.0, Some(0.05)).is_empty());
        assert_eq!(t.threads(), 2);
    }

    #[test]
    fn where_the_others_are_unknown_a_try_comes_first_then_ever_more_rarely() {
        let mut t = ThreadTuner::new(2);
        let c = feed(&mut t, window(2.0), 2.0, None);
        assert_eq!(c, tried(1));
        // One thread is slower: back to two.
        let c = feed(&mut t, window(3.2), 3.2, None);
        assert_eq!(c, tried(2));
        // The next try comes after twice the usual wait.
        let n = (window(2.0) - SETTLE_STEPS) * (2 * PROBE_EVERY as usize) + SETTLE_STEPS;
        let c = feed(&mut t, n, 2.0, None);
        assert_eq!(c, tried(1));
    }

    #[test]
    fn busy_others_bring_a_try_at_fewer_threads_kept_when_faster_and_undone_when_they_go() {
        let mut t = ThreadTuner::new(2);
        feed(&mut t, window(2.0), 2.0, Some(0.0));
        // Another program takes a core: the steps slow to 6 ms, and one thread fewer is tried.
        let c = feed(&mut t, window(6.0), 6.0, Some(1.0));
        assert_eq!(c, tried(1));
        // At one thread they take 3 ms: kept, and said.
        let c = feed(&mut t, window(3.0), 3.0, Some(1.0));
        assert_eq!(c[0].threads, 1);
        assert!(
            c[0].said
                .as_deref()
                .unwrap()
                .contains("the machine is busy"),
            "{c:?}"
        );
        // Still busy: nothing changes.
        assert!(feed(&mut t, window(3.0) * 10, 3.0, Some(1.0)).is_empty());
        // The other program ends: two threads are tried, faster, and kept.
        let c = feed(&mut t, window(3.0), 3.0, Some(0.0));
        assert_eq!(c, tried(2));
        let c = feed(&mut t, window(2.0), 2.0, Some(0.0));
        assert_eq!(c[0].threads, 2);
        assert!(
            c[0].said.as_deref().unwrap().contains("cores free"),
            "{c:?}"
        );
    }

    #[test]
    fn a_try_that_does_not_help_is_undone() {
        let mut t = ThreadTuner::new(4);
        feed(&mut t, window(2.0), 2.0, Some(0.0));
        assert_eq!(feed(&mut t, window(4.0), 4.0, Some(0.0))[0].threads, 3);
        assert_eq!(feed(&mut t, window(4.0), 4.0, Some(0.0))[0].threads, 4);
        assert!(feed(&mut t, window(4.0) * 5, 4.0, Some(0.0)).is_empty());
        assert_eq!(t.threads(), 4);
    }

    #[test]
    fn one_thread_has_nothing_to_try() {
        let mut t = ThreadTuner::new(1);
        assert!(feed(&mut t, 5_000, 3.0, Some(2.0)).is_empty());
        assert!(feed(&mut t, 5_000, 3.0, None).is_empty());
    }
}
