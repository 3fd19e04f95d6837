//! Optimizer paths on classic 2-D loss surfaces, for the Learn view: a two-parameter tensor
//! stepped by netloom's own optimizers ([`Optim`]) and learning-rate schedule, so the path a
//! learner watches is exactly what the trainer would do to two weights.
//!
//! Computed in f64 so the paths compare with torch.optim's to 1e-6 (tests/lessons.rs) and
//! stay smooth where a surface is steep.

use super::error::{EngineError, TorchContext};
use super::optim::Optim;
use super::params::ParamStore;
use super::schedule::learning_rate;
use crate::data::rng::Rng;
use crate::design::TrainingSettings;
use tch::{Device, Kind, Tensor};

/// A 2-D loss surface with a story to tell about optimizers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Surface {
    /// A long, narrow valley, f = x²/20 + 5y²: steep across, shallow along. Plain SGD
    /// zig-zags across it and crawls along it; momentum builds speed along the floor.
    Valley,
    /// Rosenbrock's banana, f = (1 − x)² + 100(y − x²)²: a curved, flat-bottomed valley.
    Rosenbrock,
    /// A saddle, f = x² − y²: the gradient vanishes on the ridge y = 0, so a start just off it
    /// traps plain SGD for a long time.
    Saddle,
    /// Beale's function: flat plateaus and sharp ridges, minimum at (3, 0.5).
    Beale,
    /// A round bowl, f = (x² + y²)/2, whose gradient has noise added at every step, as a
    /// mini-batch's does.
    NoisyBowl,
}

/// The noise on the noisy bowl's gradient: uniform in ±this on each coordinate.
pub const NOISE: f64 = 1.0;

impl Surface {
    /// Every surface, in the order the Learn view lists them.
    pub const ALL: [Surface; 5] = [
        Surface::Valley,
        Surface::Rosenbrock,
        Surface::Saddle,
        Surface::Beale,
        Surface::NoisyBowl,
    ];

    /// Its name in the view and in tests.
    pub fn name(self) -> &'static str {
        match self {
            Surface::Valley => "narrow valley",
            Surface::Rosenbrock => "Rosenbrock",
            Surface::Saddle => "saddle point",
            Surface::Beale => "Beale",
            Surface::NoisyBowl => "noisy bowl",
        }
    }

    /// The region drawn: `[x_min, x_max], [y_min, y_max]`.
    pub fn domain(self) -> [[f64; 2]; 2] {
        match self {
            Surface::Valley => [[-5.0, 1.0], [-1.5, 1.5]],
            Surface::Rosenbrock => [[-2.0, 2.0], [-1.0, 3.0]],
            Surface::Saddle => [[-1.5, 1.5], [-1.5, 1.5]],
            Surface::Beale => [[-4.5, 4.5], [-4.5, 4.5]],
            Surface::NoisyBowl => [[-3.0, 3.0], [-3.0, 3.0]],
        }
    }

    /// Where the paths start.
    pub fn start(self) -> [f64; 2] {
        match self {
            Surface::Valley => [-4.5, 1.0],
            Surface::Rosenbrock => [-1.5, 2.5],
            Surface::Saddle => [1.0, 1e-3],
            Surface::Beale => [1.0, 1.5],
            Surface::NoisyBowl => [2.5, 2.0],
        }
    }

    /// The global minimum, where there is one.
    pub fn minimum(self) -> Option<[f64; 2]> {
        match self {
            Surface::Valley | Surface::NoisyBowl => Some([0.0, 0.0]),
            Surface::Rosenbrock => Some([1.0, 1.0]),
            Surface::Saddle => None,
            Surface::Beale => Some([3.0, 0.5]),
        }
    }

    /// A learning rate at which the surface shows its lesson with SGD-family optimizers.
    pub fn suggested_rate(self) -> f64 {
        match self {
            Surface::Valley => 0.13,
            Surface::Rosenbrock => 0.001,
            Surface::Saddle => 0.01,
            Surface::Beale => 0.01,
            Surface::NoisyBowl => 0.1,
        }
    }

    /// The value at (x, y), in plain f64 for drawing the contours (the noise has mean zero and
    /// isn't drawn).
    pub fn value(self, x: f64, y: f64) -> f64 {
        match self {
            Surface::Valley => x * x / 20.0 + 5.0 * y * y,
            Surface::Rosenbrock => (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2),
            Surface::Saddle => x * x - y * y,
            Surface::Beale => {
                (1.5 - x + x * y).powi(2)
                    + (2.25 - x + x * y * y).powi(2)
                    + (2.625 - x + x * y.powi(3)).powi(2)
            }
            Surface::NoisyBowl => 0.5 * (x * x + y * y),
        }
    }

    /// The loss as a tensor of the parameters `p = [x, y]`, for autograd; `noise` is the
    /// noisy bowl's gradient noise for this step (a linear term, so it adds to the gradient).
    fn loss(self, p: &Tensor, noise: [f64; 2]) -> Tensor {
        let (x, y) = (p.get(0), p.get(1));
        match self {
            Surface::Valley => &x * &x / 20.0 + &y * &y * 5.0,
            Surface::Rosenbrock => {
                let a = (-&x + 1.0).square();
                let b = (&y - &x * &x).square() * 100.0;
                a + b
            }
            Surface::Saddle => &x * &x - &y * &y,
            Surface::Beale => {
                let t1 = (-&x + &x * &y + 1.5).square();
                let t2 = (-&x + &x * &y * &y + 2.25).square();
                let t3 = (-&x + &x * &y * &y * &y + 2.625).square();
                t1 + t2 + t3
            }
            Surface::NoisyBowl => (&x * &x + &y * &y) * 0.5 + &x * noise[0] + &y * noise[1],
        }
    }
}

/// The noisy bowl's gradient noise for step `t` (0-based) of a path seeded with `seed`:
/// SplitMix64 uniforms, so the reference in the tests can draw the same numbers.
pub fn noise(seed: u64, t: u64) -> [f64; 2] {
    let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(t));
    let mut draw = || NOISE * (2.0 * rng.uniform() - 1.0);
    [draw(), draw()]
}

/// One point of a path: where the parameters were, the loss there and the gradient taken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathPoint {
    /// The parameters (x, y).
    pub pos: [f64; 2],
    /// The loss at `pos` (with this step's noise on the noisy bowl).
    pub loss: f64,
    /// The gradient at `pos`.
    pub grad: [f64; 2],
    /// The learning rate the step from here used.
    pub lr: f64,
}

/// An optimizer walking a surface, one step at a time (the Learn view animates it).
#[derive(Debug)]
pub struct Walker {
    surface: Surface,
    settings: TrainingSettings,
    params: ParamStore,
    optim: Optim,
    steps: u64,
    /// The numbers stopped being finite (too large a rate): the path ends there.
    pub diverged: bool,
    /// Where it has been; the last entry is where it is now (its gradient not yet taken).
    pub path: Vec<PathPoint>,
}

impl Walker {
    /// A walker at the surface's start. The schedule treats every step as an epoch of one
    /// step over `settings.epochs` steps, so step and cosine decay show within one path.
    pub fn new(surface: Surface, settings: &TrainingSettings) -> Walker {
        Walker::from(surface, settings, surface.start())
    }

    /// A walker starting at `start`.
    pub fn from(surface: Surface, settings: &TrainingSettings, start: [f64; 2]) -> Walker {
        let mut params = ParamStore::default();
        let t = Tensor::from_slice(&start).to_kind(Kind::Double);
        params.push("point", "xy", t.to_device(Device::Cpu), true);
        let loss = surface.value(start[0], start[1]);
        Walker {
            surface,
            settings: settings.clone(),
            params,
            optim: Optim::new(settings),
            steps: 0,
            diverged: false,
            path: vec![PathPoint {
                pos: start,
                loss,
                grad: [0.0; 2],
                lr: 0.0,
            }],
        }
    }

    /// Where it is now.
    pub fn pos(&self) -> [f64; 2] {
        self.path.last().map_or([0.0; 2], |p| p.pos)
    }

    /// Takes one optimizer step; the path gains a point. A step that leaves the numbers
    /// finite but huge is kept (the view clips it); one that isn't finite ends the path
    /// (`diverged`), and later steps do nothing.
    pub fn step(&mut self) -> Result<(), EngineError> {
        let p = self.params.iter().next().map(|p| p.tensor.shallow_clone());
        let Some(p) = p.filter(|_| !self.diverged) else {
            return Ok(());
        };
        self.params.zero_grad();
        let loss = self.surface.loss(&p, noise(self.settings.seed, self.steps));
        loss.f_backward().ctx("surface gradient")?;
        let grad = two(&p.grad())?;
        let lr = learning_rate(&self.settings, self.steps, 1);
        if let Some(last) = self.path.last_mut() {
            last.loss = loss.double_value(&[]);
            last.grad = grad;
            last.lr = lr;
        }
        self.optim.step(&self.params, lr)?;
        self.steps += 1;
        let pos = two(&p.detach())?;
        if !(pos[0].is_finite() && pos[1].is_finite()) {
            self.diverged = true;
            return Ok(());
        }
        self.path.push(PathPoint {
            pos,
            loss: self.surface.value(pos[0], pos[1]),
            grad: [0.0; 2],
            lr: 0.0,
        });
        Ok(())
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }
}

fn two(t: &Tensor) -> Result<[f64; 2], EngineError> {
    let v = Vec::<f64>::try_from(t.to_kind(Kind::Double)).ctx("reading the point")?;
    Ok([
        v.first().copied().unwrap_or(f64::NAN),
        v.get(1).copied().unwrap_or(f64::NAN),
    ])
}

/// A whole path of `steps` steps from the surface's start.
pub fn path(
    surface: Surface,
    settings: &TrainingSettings,
    steps: u64,
) -> Result<Vec<PathPoint>, EngineError> {
    let mut w = Walker::new(surface, settings);
    for _ in 0..steps {
        w.step()?;
    }
    Ok(w.path)
}
