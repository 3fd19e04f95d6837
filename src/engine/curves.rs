//! What the Learn view and the activation hovers plot: an activation function and its
//! derivative, computed by the same code the network runs ([`super::layer`]) and differentiated
//! by autograd, so a plotted kink or saturation is exactly the trainer's.

use super::error::{EngineError, TorchContext};
use super::layer::activation;
use crate::design::{Activation, ActivationFn};
use tch::{Kind, Tensor};

/// An activation sampled over an interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// The inputs, evenly spaced.
    pub x: Vec<f64>,
    /// f(x).
    pub y: Vec<f64>,
    /// f′(x), by autograd (at ReLU's kink, PyTorch's choice: 0).
    pub dy: Vec<f64>,
}

/// `a` at `n` points from `lo` to `hi`. Softmax isn't elementwise: it is shown as the first
/// output of softmax over the pair (x, 0), which is sigmoid(x), the two-class case.
pub fn activation_curve(a: &Activation, lo: f64, hi: f64, n: usize) -> Result<Curve, EngineError> {
    let n = n.max(2);
    let x: Vec<f64> = (0..n)
        .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
        .collect();
    let xs = Tensor::from_slice(&x)
        .to_kind(Kind::Float)
        .set_requires_grad(true);
    let y = if a.function == ActivationFn::Softmax {
        let pair = Tensor::f_stack(&[xs.shallow_clone(), xs.zeros_like()], 1).ctx("softmax")?;
        let two = Activation {
            dim: Some(1),
            ..a.clone()
        };
        activation(&pair, &two)
            .ctx("softmax")?
            .f_select(1, 0)
            .ctx("softmax")?
    } else {
        activation(&xs, a).ctx("activation curve")?
    };
    y.f_sum(Kind::Float)
        .ctx("activation curve")?
        .f_backward()
        .ctx("activation derivative")?;
    let read = |t: &Tensor| Vec::<f64>::try_from(t.detach().to_kind(Kind::Double)).ctx("curve");
    Ok(Curve {
        x,
        y: read(&y)?,
        dy: read(&xs.grad())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(f: ActivationFn) -> Curve {
        activation_curve(&Activation::new(f), -3.0, 3.0, 61).unwrap()
    }

    #[test]
    fn relu_is_flat_then_slope_one_and_sigmoid_peaks_at_a_quarter() {
        let r = curve(ActivationFn::Relu);
        assert_eq!(r.dy[0], 0.0);
        assert_eq!(r.dy[60], 1.0);
        assert_eq!(r.y[60], 3.0);
        let s = curve(ActivationFn::Sigmoid);
        let peak = s.dy.iter().cloned().fold(0.0, f64::max);
        assert!((peak - 0.25).abs() < 1e-6, "{peak}");
        // Softmax over (x, 0) is sigmoid(x).
        let m = curve(ActivationFn::Softmax);
        for (a, b) in m.y.iter().zip(&s.y) {
            assert!((a - b).abs() < 1e-6);
        }
    }

    #[test]
    fn leaky_relus_slope_is_the_set_negative_slope() {
        let mut a = Activation::new(ActivationFn::LeakyRelu);
        a.negative_slope = Some(0.2);
        let c = activation_curve(&a, -2.0, 2.0, 5).unwrap();
        assert!((c.dy[0] - 0.2).abs() < 1e-6 && (c.y[0] + 0.4).abs() < 1e-6);
    }
}
