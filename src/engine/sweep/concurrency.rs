//! How many trials a sweep trains at once on the CPU, and with how many threads each.
//!
//! Given (`--parallel N`), N trials share the threads. Otherwise the sweep measures: the
//! first trial trains alone on every thread, then two at once on half each, then four…, each
//! round's samples per second (summed over its trials' first epochs) against the last; it
//! settles on the best as soon as doubling stops paying 5%. Small networks gain from more
//! trials (libtorch can't keep many threads busy on small tensors), large ones don't.

/// The chooser's state.
#[derive(Debug)]
pub(super) struct Concurrency {
    /// CPU threads in all.
    total: usize,
    /// The trials at once, once decided (or given).
    chosen: Option<usize>,
    /// While measuring: the trials at once this round tries.
    trying: usize,
    /// While measuring: the round's trials (record indices) and their samples per second.
    round: Vec<(usize, Option<f64>)>,
    /// Each measured round: (trials at once, samples per second in all).
    pub(super) measured: Vec<(usize, f64)>,
}

/// A round must beat the one before by this much for doubling to go on.
const WORTH_IT: f64 = 1.05;

impl Concurrency {
    /// `fixed`: `--parallel`; `measure`: whether measuring makes sense (a CPU sweep of more
    /// than a couple of trials).
    pub(super) fn new(total: usize, fixed: Option<usize>, measure: bool) -> Concurrency {
        let total = total.max(1);
        let chosen = fixed
            .map(|n| n.max(1))
            .or_else(|| (!measure || total < 2).then_some(1));
        Concurrency {
            total,
            chosen,
            trying: 1,
            round: Vec::new(),
            measured: Vec::new(),
        }
    }

    /// Whether another trial may start while `running` train.
    pub(super) fn may_start(&self, running: usize) -> bool {
        match self.chosen {
            Some(n) => running < n,
            // A round starts on an idle machine, and fills up to its size.
            None => {
                self.round.len() < self.trying
                    && (running == 0 || !self.round.is_empty())
                    && running < self.trying
            }
        }
    }

    /// Threads for a trial starting now.
    pub(super) fn threads(&self) -> usize {
        (self.total / self.chosen.unwrap_or(self.trying)).max(1)
    }

    /// The trials at once: decided, or being tried.
    pub(super) fn at_once(&self) -> usize {
        self.chosen.unwrap_or(self.trying)
    }

    /// Whether it is still measuring.
    pub(super) fn measuring(&self) -> bool {
        self.chosen.is_none()
    }

    /// A trial started (in the round being measured, if any).
    pub(super) fn started(&mut self, index: usize) {
        if self.chosen.is_none() {
            self.round.push((index, None));
        }
    }

    /// A trial's first epoch trained at `rate` samples per second; a notice once it decides.
    pub(super) fn first_epoch(&mut self, index: usize, rate: f64) -> Option<String> {
        let slot = self
            .round
            .iter_mut()
            .find(|(i, r)| *i == index && r.is_none())?;
        slot.1 = Some(rate);
        self.settle()
    }

    /// A trial ended; one that never finished an epoch leaves the round (another takes its
    /// place).
    pub(super) fn ended(&mut self, index: usize) -> Option<String> {
        self.round.retain(|(i, r)| *i != index || r.is_some());
        self.settle()
    }

    /// Decides, when the round is full and measured.
    fn settle(&mut self) -> Option<String> {
        if self.chosen.is_some()
            || self.round.len() < self.trying
            || self.round.iter().any(|(_, r)| r.is_none())
        {
            return None;
        }
        let rate: f64 = self.round.iter().filter_map(|(_, r)| *r).sum();
        self.measured.push((self.trying, rate));
        self.round.clear();
        let better = match self.measured.as_slice() {
            [.., (_, before), (_, now)] => *now > before * WORTH_IT,
            _ => true,
        };
        if better && self.trying * 2 <= self.total {
            self.trying *= 2;
            return None;
        }
        // The fewest trials at once within 5% of the fastest: more cost memory and make each
        // trial take longer, for nothing.
        let top = self.measured.iter().map(|m| m.1).fold(0.0, f64::max);
        let best = self
            .measured
            .iter()
            .filter(|(_, r)| r * WORTH_IT >= top)
            .map(|(n, _)| *n)
            .min()
            .unwrap_or(1);
        self.chosen = Some(best);
        let said: Vec<String> = self
            .measured
            .iter()
            .map(|(n, r)| {
                format!(
                    "{n} at once × {} thread{}: {r:.0} samples/s",
                    self.total / n,
                    if self.total / n == 1 { "" } else { "s" }
                )
            })
            .collect();
        Some(format!(
            "measured {}; training {best} trial{} at once from now on",
            said.join(", "),
            if best == 1 { "" } else { "s" }
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_doubles_while_doubling_pays_and_keeps_the_best() {
        let mut c = Concurrency::new(4, None, true);
        assert!(c.may_start(0) && !c.may_start(1));
        assert_eq!(c.threads(), 4);
        c.started(0);
        assert!(!c.may_start(1));
        assert_eq!(c.first_epoch(0, 1000.0), None);
        // The next round waits for the machine to be idle, then fills to two.
        assert!(!c.may_start(1) && c.may_start(0));
        c.started(1);
        assert!(c.may_start(1) && c.threads() == 2);
        c.started(2);
        assert!(!c.may_start(2));
        assert_eq!(c.first_epoch(1, 700.0), None);
        assert_eq!(c.first_epoch(2, 700.0), None, "1400 > 1050: try four");
        c.started(3);
        for i in 4..7 {
            assert!(c.may_start(i - 3));
            c.started(i);
        }
        for i in 3..6 {
            assert_eq!(c.first_epoch(i, 350.0), None);
        }
        let said = c.first_epoch(6, 360.0).unwrap();
        assert_eq!(c.at_once(), 2, "1410 is not 5% over 1400: {said}");
        assert!(
            said.contains("1 at once × 4 threads: 1000 samples/s"),
            "{said}"
        );
        assert!(c.may_start(1) && !c.may_start(2));
    }

    #[test]
    fn given_or_pointless_it_does_not_measure() {
        assert_eq!(Concurrency::new(8, Some(3), true).at_once(), 3);
        assert_eq!(Concurrency::new(1, None, true).at_once(), 1);
        assert!(!Concurrency::new(8, None, false).measuring());
        let mut c = Concurrency::new(2, None, true);
        c.started(0);
        // A trial that fails before its first epoch gives its place to another.
        assert_eq!(c.ended(0), None);
        assert!(c.may_start(0));
    }
}
