//! The 2-d toy sets of TensorFlow Playground and CS231n, generated in code for vector designs:
//! small enough to train in seconds, hard enough that a linear model fails.

use super::rng::Rng;
use super::{DataError, Dataset, Samples, Split};
use crate::design::Shape;

/// Which toy set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toy {
    /// Three interleaved spiral arms (CS231n's example), 3 classes.
    Spiral,
    /// Two interleaving half circles, 2 classes.
    Moons,
    /// A small circle inside a large one, 2 classes.
    Circles,
    /// The four quadrants, opposite ones sharing a class: not linearly separable.
    Xor,
}

impl Toy {
    /// Every toy set.
    pub const ALL: [Toy; 4] = [Toy::Spiral, Toy::Moons, Toy::Circles, Toy::Xor];

    /// The name used in data specs (`toy:spiral`).
    pub fn name(self) -> &'static str {
        match self {
            Toy::Spiral => "spiral",
            Toy::Moons => "moons",
            Toy::Circles => "circles",
            Toy::Xor => "xor",
        }
    }

    /// The set named `name`.
    pub fn from_name(name: &str) -> Option<Toy> {
        Toy::ALL.into_iter().find(|t| t.name() == name)
    }

    /// How many classes the set has.
    pub fn classes(self) -> usize {
        if self == Toy::Spiral { 3 } else { 2 }
    }
}

/// How much of a toy set to generate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ToyOptions {
    /// Standard deviation of the Gaussian noise added to each coordinate (in data units; the
    /// sets span about [-1, 1]). The spiral scales it by each point's radius.
    pub noise: f64,
    /// Training samples (the validation split gets a quarter as many).
    pub samples: usize,
    /// Seed; the same seed gives the same points.
    pub seed: u64,
}

impl Default for ToyOptions {
    fn default() -> Self {
        Self {
            noise: 0.1,
            samples: 1200,
            seed: 0,
        }
    }
}

/// One point of class `class` before noise.
fn point(toy: Toy, class: usize, rng: &mut Rng) -> (f64, f64) {
    match toy {
        Toy::Spiral => {
            let t = rng.uniform();
            let theta = class as f64 * std::f64::consts::TAU / 3.0 + 4.0 * t;
            (t * theta.sin(), t * theta.cos())
        }
        Toy::Moons => {
            let a = rng.uniform() * std::f64::consts::PI;
            if class == 0 {
                (a.cos() - 0.5, a.sin() - 0.25)
            } else {
                (0.5 - a.cos(), 0.25 - a.sin())
            }
        }
        Toy::Circles => {
            let a = rng.uniform() * std::f64::consts::TAU;
            let r = if class == 0 { 1.0 } else { 0.5 };
            (r * a.cos(), r * a.sin())
        }
        Toy::Xor => {
            let (x, y) = (rng.uniform() * 0.9 + 0.05, rng.uniform() * 0.9 + 0.05);
            let (sx, sy) = match (class, rng.uniform() < 0.5) {
                (0, true) => (1.0, 1.0),
                (0, false) => (-1.0, -1.0),
                (_, true) => (1.0, -1.0),
                (_, false) => (-1.0, 1.0),
            };
            (sx * x, sy * y)
        }
    }
}

fn split(toy: Toy, n: usize, noise: f64, rng: &mut Rng) -> Split {
    let k = toy.classes();
    let mut order: Vec<usize> = (0..n).map(|i| i % k).collect();
    rng.shuffle(&mut order);
    let mut values = Vec::with_capacity(2 * n);
    for &class in &order {
        let (x, y) = point(toy, class, rng);
        // The spiral's arms meet at the centre, so its jitter grows with the radius (an angular
        // jitter, as in CS231n's version): with a fixed jitter the inner tenth of every arm
        // overlaps the others and no model can pass ~90%.
        let scale = if toy == Toy::Spiral {
            noise * x.hypot(y)
        } else {
            noise
        };
        values.push((x + scale * rng.normal()) as f32);
        values.push((y + scale * rng.normal()) as f32);
    }
    Split {
        masks: Vec::new(),
        values: Vec::new(),
        samples: Samples::F32(values),
        labels: order.into_iter().map(|c| c as u32).collect(),
    }
}

/// The most training samples a toy set may have: 10 million 2-D points (80 MB as f32, with the
/// validation quarter 100 MB) is far past what a toy set teaches, and well inside memory; a
/// mistyped count (`samples=4000000000`) is refused instead of allocating 32 GB.
pub const MAX_TOY_SAMPLES: usize = 10_000_000;

/// Generates a toy set: balanced classes, shuffled, reproducible from the seed.
pub fn toy_dataset(toy: Toy, options: ToyOptions) -> Result<Dataset, DataError> {
    if options.samples > MAX_TOY_SAMPLES {
        return Err(DataError::Spec(format!(
            "toy:{} can have at most {MAX_TOY_SAMPLES} samples, not {}: lower samples=",
            toy.name(),
            options.samples
        )));
    }
    if !(options.noise.is_finite() && options.noise >= 0.0) {
        return Err(DataError::Spec(format!(
            "toy noise must be 0 or more, not {}",
            options.noise
        )));
    }
    if options.samples < toy.classes() * 2 {
        return Err(DataError::Spec(format!(
            "toy:{} needs at least {} samples, got {}",
            toy.name(),
            toy.classes() * 2,
            options.samples
        )));
    }
    let mut rng = Rng::new(options.seed);
    let train = split(toy, options.samples, options.noise, &mut rng);
    let val = split(
        toy,
        (options.samples / 4).max(toy.classes()),
        options.noise,
        &mut rng,
    );
    let classes = (0..toy.classes()).map(|c| format!("class {c}")).collect();
    Ok(Dataset {
        table: None,
        quantity: None,
        name: format!("toy:{} (noise {})", toy.name(), options.noise),
        shape: Shape::vector(2),
        classes,
        train,
        val,
        skipped: Vec::new(),
        notes: Vec::new(),
    })
}
