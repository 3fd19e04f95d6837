//! An activation function and its derivative, plotted: shown when hovering an activation in
//! the palette or on the canvas, in the inspector for the selected one, and in the Learn view.
//! Seeing where the derivative is zero (ReLU's left half, sigmoid's tails) is seeing why units
//! die or gradients vanish.

use crate::design::Activation;
use crate::engine::curves::activation_curve;
use egui::Color32;
use egui_plot::{Legend, Line, PlotPoints};

/// f(x)'s colour.
pub const FUNCTION: Color32 = Color32::from_rgb(0xF2, 0x8E, 0x2B);
/// f′(x)'s colour.
pub const DERIVATIVE: Color32 = Color32::from_rgb(0x6A, 0xA8, 0xD8);

/// Plots `a` and its derivative over [−4, 4], `size` points big; `id` keeps plots apart.
pub fn show(ui: &mut egui::Ui, id: &str, a: &Activation, size: egui::Vec2) {
    let curve = match activation_curve(a, -4.0, 4.0, 161) {
        Ok(c) => c,
        Err(e) => {
            ui.colored_label(super::theme::ERROR, format!("can't plot it: {e}"));
            return;
        }
    };
    let pts = |ys: &[f64]| -> PlotPoints<'static> {
        curve.x.iter().zip(ys).map(|(&x, &y)| [x, y]).collect()
    };
    let mut plot = super::still_plot::still_plot(id, size);
    // Small multiples go without a legend: the colours are the big plot's.
    if size.x >= 200.0 {
        plot = plot.legend(Legend::default().position(egui_plot::Corner::LeftTop));
    }
    plot.include_y(-1.0)
        .include_y(2.0)
        .show_grid(true)
        .show(ui, |p| {
            p.line(Line::new("f(x)", pts(&curve.y)).color(FUNCTION).width(2.0));
            p.line(
                Line::new("f'(x)", pts(&curve.dy))
                    .color(DERIVATIVE)
                    .width(1.5),
            );
        });
}

/// A sentence on what this function's shape means for learning.
pub fn lesson(a: &Activation) -> &'static str {
    use crate::design::ActivationFn as F;
    match a.function {
        F::Relu => {
            "ReLU passes positives unchanged and zeroes negatives. Its derivative is 1 or 0: no vanishing gradient for active units, but a unit whose input stays negative gets no gradient at all and stops learning (a dead ReLU)."
        }
        F::LeakyRelu => {
            "Leaky ReLU keeps a small slope for negative inputs, so a unit pushed negative still gets a gradient and can recover: no dead units. Drag negative_slope to see the left half tilt."
        }
        F::Elu => {
            "ELU curves smoothly to −alpha for negative inputs: outputs average nearer zero than ReLU's, and the gradient never drops to exactly zero on the left."
        }
        F::Selu => {
            "SELU is ELU scaled so that, with the right initialisation, activations keep mean 0 and variance 1 through depth (self-normalising networks)."
        }
        F::Gelu => {
            "GELU weights each input by the chance a standard normal is below it: a smooth ReLU with a small dip below zero, used in transformers."
        }
        F::Sigmoid => {
            "Sigmoid squashes to (0, 1). Its derivative peaks at 0.25 and vanishes in both tails, so stacked sigmoids shrink gradients layer by layer; its outputs aren't zero-centred either."
        }
        F::Tanh => {
            "Tanh squashes to (−1, 1): zero-centred, unlike sigmoid, but it still saturates, and its gradient vanishes for large |x|."
        }
        F::Silu => {
            "SiLU (swish) is x·sigmoid(x): smooth, unbounded above and slightly negative below zero; it often trains a little better than ReLU in deep networks."
        }
        F::Softmax => {
            "Softmax turns a vector of scores into probabilities. With two classes it is the sigmoid of their difference, which is what is drawn here: score x against a score of 0."
        }
        F::Relu6 => {
            "ReLU6 is ReLU capped at 6. The cap keeps activations in a range that 8-bit and 16-bit arithmetic represent well, which is why mobile networks use it; above 6 the gradient is 0, as below 0."
        }
        F::Hardtanh => {
            "Hardtanh clamps to [min_val, max_val]: slope 1 inside, flat outside, so inputs beyond the bounds get no gradient. Set min_val 0 and max_val 6 and it is ReLU6."
        }
        F::Hardsigmoid => {
            "Hardsigmoid is three straight lines: 0 below −3, 1 above 3, and a ramp of slope 1/6 between. It gates like a sigmoid at a fraction of the cost; its gradient is exactly 0 in the tails."
        }
        F::Hardswish => {
            "Hardswish is x times hardsigmoid(x): like SiLU, it dips slightly below zero for small negative inputs and grows like x for large ones, but with no exponential to compute."
        }
    }
}
