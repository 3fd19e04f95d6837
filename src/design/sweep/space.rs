//! The trials a sweep lists: a grid's combinations or a random sweep's draws, each repeated
//! over seeds, capped. The list is a function of the sweep file alone (its `seed` seeds the
//! draws), so a resumed sweep, a re-run and the exported tune.py see the same trials.

use super::{DEFAULT_RANDOM_TRIALS, Domain, Method, Sweep};
use serde_json::Value;
use std::collections::BTreeMap;

/// One trial: a value for every parameter, and which repeat it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    /// 1-based, in the order the sweep runs them.
    pub number: usize,
    /// Each parameter's value, by address.
    pub values: BTreeMap<String, Value>,
    /// 0 for the first training of a combination; the design's seed is raised by this.
    pub repeat: u64,
}

impl Trial {
    /// Its run folder's name under the sweep's folder: `trial-007`.
    pub fn name(&self) -> String {
        format!("trial-{:03}", self.number)
    }
}

/// Every trial of `sweep`, in order: combinations (or draws) outermost, repeats innermost.
pub(super) fn trials(sweep: &Sweep) -> Vec<Trial> {
    let cap = sweep.max_trials.map_or(usize::MAX, |m| m as usize);
    let combos = match sweep.method {
        Method::Grid => grid(&sweep.parameters),
        Method::Random => {
            let total = sweep.max_trials.unwrap_or(DEFAULT_RANDOM_TRIALS);
            let draws = total.div_ceil(sweep.repeats.max(1));
            let mut rng = SplitMix(sweep.seed);
            (0..draws)
                .map(|_| {
                    sweep
                        .parameters
                        .iter()
                        .map(|(k, d)| (k.clone(), draw(d, &mut rng)))
                        .collect()
                })
                .collect()
        }
    };
    combos
        .into_iter()
        .flat_map(|values| (0..sweep.repeats.max(1)).map(move |r| (values.clone(), r)))
        .take(cap)
        .enumerate()
        .map(|(i, (values, repeat))| Trial {
            number: i + 1,
            values,
            repeat,
        })
        .collect()
}

/// Every combination of the listed values, the last parameter varying fastest.
fn grid(parameters: &BTreeMap<String, Domain>) -> Vec<BTreeMap<String, Value>> {
    let mut combos = vec![BTreeMap::new()];
    for (name, domain) in parameters {
        let values = domain.listed().unwrap_or_default();
        combos = combos
            .into_iter()
            .flat_map(|c| {
                values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.insert(name.clone(), v.clone());
                    c
                })
            })
            .collect();
    }
    combos
}

/// One value from a domain.
fn draw(domain: &Domain, rng: &mut SplitMix) -> Value {
    match domain {
        Domain::Values(v) | Domain::Choice(v) => {
            let i = (rng.unit() * v.len() as f64) as usize;
            v.get(i.min(v.len().saturating_sub(1)))
                .cloned()
                .unwrap_or(Value::Null)
        }
        Domain::Uniform([lo, hi]) => number(lo + rng.unit() * (hi - lo)),
        Domain::LogUniform([lo, hi]) => number(
            (lo.ln() + rng.unit() * (hi.ln() - lo.ln()))
                .exp()
                .clamp(*lo, *hi),
        ),
        Domain::Int([lo, hi]) => {
            let span = (hi - lo) as f64 + 1.0;
            Value::from((lo + (rng.unit() * span) as i64).min(*hi))
        }
        Domain::LogInt([lo, hi]) => {
            // Uniform in log over [lo, hi + 1), then down to an integer: each integer gets
            // the share of the log range it covers.
            let (a, b) = ((*lo as f64).ln(), (*hi as f64 + 1.0).ln());
            Value::from(((a + rng.unit() * (b - a)).exp().floor() as i64).clamp(*lo, *hi))
        }
    }
}

/// A float as JSON (a float that JSON can't hold, which a checked domain never draws, as 0).
fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::from(0), Value::Number)
}

/// SplitMix64: small, seedable, the same on every platform (the design core has no crates
/// for randomness, and the draws must never change between versions of one).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::super::Sweep;
    use serde_json::json;

    fn sweep(text: serde_json::Value) -> Sweep {
        Sweep::from_json(&text.to_string()).unwrap()
    }

    #[test]
    fn a_grid_is_every_combination_with_repeats_innermost_and_a_cap() {
        let s = sweep(json!({"format": "netloom-sweep", "repeats": 2,
            "parameters": {"a": {"values": [1, 2]}, "b": {"values": ["x", "y", "z"]}}}));
        let t = s.trials();
        assert_eq!(t.len(), 12);
        assert_eq!(
            (t[0].values["a"].clone(), t[0].values["b"].clone()),
            (json!(1), json!("x"))
        );
        assert_eq!((t[1].values.clone(), t[1].repeat), (t[0].values.clone(), 1));
        assert_eq!(t[2].values["b"], json!("y"));
        assert_eq!(t[11].values["a"], json!(2));
        assert_eq!(t[11].name(), "trial-012");
        let capped = sweep(json!({"format": "netloom-sweep", "max_trials": 5,
            "parameters": {"a": {"values": [1, 2, 3, 4, 5, 6]}}}));
        assert_eq!(capped.trials().len(), 5);
    }

    #[test]
    fn random_draws_are_seeded_and_stay_in_their_ranges() {
        let text = json!({"format": "netloom-sweep", "method": "random", "max_trials": 200,
            "parameters": {"lr": {"log_uniform": [1e-4, 1e-1]}, "w": {"log_int": [8, 256]},
                "p": {"uniform": [0.0, 0.5]}, "n": {"int": [1, 3]}, "o": {"choice": ["sgd", "adam"]}}});
        let (a, b) = (sweep(text.clone()).trials(), sweep(text.clone()).trials());
        assert_eq!(a, b, "the same seed draws the same trials");
        let mut other = text;
        other["seed"] = json!(1);
        assert_ne!(a, sweep(other).trials());
        let lrs: Vec<f64> = a.iter().map(|t| t.values["lr"].as_f64().unwrap()).collect();
        assert!(lrs.iter().all(|v| (1e-4..=1e-1).contains(v)));
        // Log-uniform: about a third of the draws in each decade.
        let low = lrs.iter().filter(|v| **v < 1e-3).count();
        assert!((40..=95).contains(&low), "{low} of 200 below 1e-3");
        let ws: Vec<i64> = a.iter().map(|t| t.values["w"].as_i64().unwrap()).collect();
        assert!(ws.iter().all(|w| (8..=256).contains(w)));
        assert!(
            ws.iter().filter(|w| **w < 32).count() > 60,
            "log_int favours small widths"
        );
        let ns: std::collections::BTreeSet<i64> =
            a.iter().map(|t| t.values["n"].as_i64().unwrap()).collect();
        assert_eq!(ns.into_iter().collect::<Vec<_>>(), vec![1, 2, 3]);
        assert!(a.iter().any(|t| t.values["o"] == json!("adam")));
        assert!(a.iter().any(|t| t.values["o"] == json!("sgd")));
    }
}
