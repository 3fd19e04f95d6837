//! The normalisation and dropout lesson. For a BatchNorm block: the distribution of its input
//! and output over a batch of real samples (after a run, normalised with the running
//! statistics it learnt). For a LayerNorm block: each sample's own statistics, before and
//! after, and training and evaluation giving the same output (why transformers and ConvNeXt
//! use it instead of BatchNorm). For a dropout block: one sample's activations going in, the
//! mask it draws at training time (survivors scaled up by 1/(1 − p)), and no change at eval
//! time.

use super::probing::{Probing, Scene, blocks, pick};
use crate::design::Op;
use crate::engine::probe::NodeProbe;
use crate::ui::theme;
use egui::{Stroke, vec2};
use egui_plot::{Line, Plot};

/// Histogram bins.
const BINS: usize = 40;

/// The lesson's state.
#[derive(Default)]
pub struct Norm {
    /// The block shown.
    pub node: Option<String>,
    probing: Probing,
    /// Dropout's draw: Re-draw changes it.
    seed: u64,
}

fn is_norm(op: &Op) -> bool {
    matches!(
        op,
        Op::BatchNorm(_) | Op::LayerNorm(_) | Op::Dropout(_) | Op::Dropout2d(_)
    )
}

/// Mean and standard deviation.
fn moments(v: &[f32]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = v
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}

/// A histogram as a step line over `[lo, hi]`, as fractions of the values.
fn histogram(v: &[f32], lo: f64, hi: f64) -> Vec<[f64; 2]> {
    let mut counts = [0usize; BINS];
    let width = (hi - lo).max(1e-9) / BINS as f64;
    for &x in v {
        let b = ((f64::from(x) - lo) / width).floor();
        if b >= 0.0 && (b as usize) < BINS {
            counts[b as usize] += 1;
        }
    }
    let n = v.len().max(1) as f64;
    counts
        .iter()
        .enumerate()
        .flat_map(|(i, &c)| {
            let (a, b) = (lo + i as f64 * width, lo + (i + 1) as f64 * width);
            [[a, c as f64 / n], [b, c as f64 / n]]
        })
        .collect()
}

impl Norm {
    /// Draws the lesson.
    pub fn show(&mut self, ui: &mut egui::Ui, scene: &Scene<'_>) {
        let names = blocks(scene, is_norm);
        if names.is_empty() {
            ui.label("This design has no BatchNorm, LayerNorm or Dropout block: add one from the palette (Normalisation and regularisation), or open resnet_mini.");
            return;
        }
        if let Some(sel) = scene.selected.as_ref().filter(|s| names.contains(s)) {
            self.node = Some(sel.clone());
        }
        ui.horizontal(|ui| {
            ui.label("block");
            pick(ui, "norm_block", &names, &mut self.node);
        });
        let Some(name) = self.node.clone() else {
            return;
        };
        let Some(op) = scene.design.node_by_name(&name).map(|n| n.op.clone()) else {
            return;
        };
        match op {
            Op::BatchNorm(_) => {
                self.probing
                    .want(ui.ctx(), scene, &name, &[(false, 256), (true, 256)], 0);
                if let Some([eval, train]) = self.probing.show(ui, scene) {
                    batch_norm(ui, eval, train);
                }
            }
            Op::LayerNorm(_) => {
                self.probing
                    .want(ui.ctx(), scene, &name, &[(true, 256), (false, 256)], 0);
                if let Some([train, eval]) = self.probing.show(ui, scene) {
                    layer_norm(ui, train, eval);
                }
            }
            Op::Dropout(d) | Op::Dropout2d(d) => {
                let seed = self.seed;
                self.probing
                    .want(ui.ctx(), scene, &name, &[(true, 1), (false, 1)], seed);
                if ui.button("Re-draw the mask").clicked() {
                    self.seed += 1;
                }
                if let Some([train, eval]) = self.probing.show(ui, scene) {
                    dropout(ui, train, eval, d.p);
                }
            }
            _ => {}
        }
    }
}

fn batch_norm(ui: &mut egui::Ui, p: &NodeProbe, train: &NodeProbe) {
    let (im, is) = moments(&p.input.data);
    let (om, os) = moments(&p.output.data);
    let (tm, ts) = moments(&train.output.data);
    ui.label(if p.trained {
        "Training mode (green) normalises each channel with this batch's own mean and variance. Eval mode (orange) uses the running averages the last run learnt instead, so one sample's output doesn't depend on the rest of its batch; both then scale and shift by the block's γ and β."
    } else {
        "Training mode (green) normalises each channel with this batch's own mean and variance. Before any run the running statistics used in eval mode (orange) are still mean 0, variance 1, so eval passes the input almost unchanged: train the design and come back to see them match."
    });
    let lo = (im - 4.0 * is).min(om - 4.0 * os).min(tm - 4.0 * ts);
    let hi = (im + 4.0 * is).max(om + 4.0 * os).max(tm + 4.0 * ts);
    Plot::new("bn_hist")
        .height(220.0)
        .allow_scroll(false)
        .legend(egui_plot::Legend::default())
        .show(ui, |plot| {
            plot.line(
                Line::new(
                    format!("input: mean {im:.3}, std {is:.3}"),
                    histogram(&p.input.data, lo, hi),
                )
                .color(theme::WIRE_LABEL)
                .width(2.0),
            );
            plot.line(
                Line::new(
                    format!("training output: mean {tm:.3}, std {ts:.3}"),
                    histogram(&train.output.data, lo, hi),
                )
                .color(theme::OK)
                .width(2.0),
            );
            plot.line(
                Line::new(
                    format!("eval output: mean {om:.3}, std {os:.3}"),
                    histogram(&p.output.data, lo, hi),
                )
                .color(theme::WARNING)
                .width(2.0),
            );
        });
    ui.label(
        egui::RichText::new(format!(
            "Over {} samples, every channel together. Batch norm keeps each channel's activations near mean 0 and variance 1 (then γ, β), so the next layer sees inputs on a steady scale whatever the layers before it learn: higher learning rates train stably.",
            p.input.shape.first().copied().unwrap_or(0)
        ))
        .color(theme::MUTED),
    );
}

/// The mean and standard deviation over the channels at every (sample, pixel) of an
/// `[n, c, …]` tensor, with `(value - shift) / scale` per channel applied first when given.
fn per_position(
    data: &[f32],
    shape: &[i64],
    affine: Option<(&[f32], &[f32])>,
) -> (Vec<f32>, Vec<f32>) {
    let (n, c) = (
        shape.first().copied().unwrap_or(0).max(0) as usize,
        shape.get(1).copied().unwrap_or(1).max(1) as usize,
    );
    let positions: usize = shape.iter().skip(2).map(|&d| d.max(0) as usize).product();
    let (mut means, mut stds) = (Vec::new(), Vec::new());
    let mut column = Vec::with_capacity(c);
    for s in 0..n {
        for q in 0..positions {
            column.clear();
            for ch in 0..c {
                let Some(&v) = data.get((s * c + ch) * positions + q) else {
                    return (means, stds);
                };
                column.push(match affine {
                    Some((w, b)) if ch < w.len() && ch < b.len() && w[ch] != 0.0 => {
                        (v - b[ch]) / w[ch]
                    }
                    _ => v,
                });
            }
            let (m, sd) = moments(&column);
            means.push(m as f32);
            stds.push(sd as f32);
        }
    }
    (means, stds)
}

fn layer_norm(ui: &mut egui::Ui, train: &NodeProbe, eval: &NodeProbe) {
    let affine = match (&train.weight, &train.bias) {
        (Some(w), Some(b)) => Some((w.data.as_slice(), b.data.as_slice())),
        _ => None,
    };
    let (in_means, in_stds) = per_position(&train.input.data, &train.input.shape, None);
    let (out_means, out_stds) = per_position(&train.output.data, &train.output.shape, affine);
    // Blocks before it (dropout, batch norm) may feed it differently in the two modes.
    let verdict = if train.input.data != eval.input.data {
        "compute alike (the blocks before it feed it differently in the two modes here, but it adds no difference of its own)"
    } else if train.output.data == eval.output.data {
        "give exactly the same output here"
    } else {
        "should give the same output (they differ here: unexpected)"
    };
    ui.label(format!(
        "LayerNorm normalises every sample on its own: at each pixel, that sample's channels by their own mean and standard deviation, then scales and shifts each channel by γ and β. Before γ and β (undone here) every sample's channels have mean 0 and deviation 1, however spread the input is (the spikes below). No batch statistics are involved, so training and evaluation {verdict}: a batch of one computes the same as a batch of 256."
    ));
    let (lo, hi) = in_means
        .iter()
        .chain(&in_stds)
        .fold((-0.5f32, 1.5f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    // Bins whose centres fall on 0 and 1, so the normalised spikes are one bar each.
    let range = f64::from(hi - lo).clamp(1.0, 39.0);
    let width = 1.0 / (39.0 / range).floor();
    let lo = (f64::from(lo) / width).floor() * width - width / 2.0;
    let hi = lo + BINS as f64 * width;
    Plot::new("ln_hist")
        .height(220.0)
        .allow_scroll(false)
        .legend(egui_plot::Legend::default())
        .show(ui, |plot| {
            for (label, values, colour) in [
                ("input: each position's mean", &in_means, theme::WIRE_LABEL),
                ("input: each position's deviation", &in_stds, theme::MUTED),
                ("normalised: mean", &out_means, theme::OK),
                ("normalised: deviation", &out_stds, theme::WARNING),
            ] {
                plot.line(
                    Line::new(label, histogram(values, lo, hi))
                        .color(colour)
                        .width(2.0),
                );
            }
        });
    ui.label(
        egui::RichText::new(format!(
            "Over {} samples, each of {} positions. BatchNorm would normalise each channel across the batch instead, so its output depends on the other samples and it must switch to running averages at evaluation. Transformers (sequences of any length, small batches) and ConvNeXt use LayerNorm for that reason.",
            train.input.shape.first().copied().unwrap_or(0),
            train.input.shape.iter().skip(2).product::<i64>().max(1)
        ))
        .color(theme::MUTED),
    );
}

fn dropout(ui: &mut egui::Ui, train: &NodeProbe, eval: &NodeProbe, p: f64) {
    let input = &train.input.data;
    let dropped = input
        .iter()
        .zip(&train.output.data)
        .filter(|(x, y)| **y == 0.0 && **x != 0.0)
        .count();
    let live = input.iter().filter(|x| **x != 0.0).count().max(1);
    let unchanged = eval.output.data == eval.input.data;
    ui.label(format!(
        "Training: {dropped} of {live} non-zero values ({:.0}%) dropped, p = {p}; the rest multiplied by 1/(1 − p) = {:.2}, so the expected sum stays the same. Eval: {}.",
        100.0 * dropped as f64 / live as f64,
        1.0 / (1.0 - p).max(1e-9),
        if unchanged { "nothing dropped, nothing scaled" } else { "the output differs from the input (unexpected)" }
    ));
    let m = input
        .iter()
        .chain(&train.output.data)
        .fold(1e-9f32, |m, v| m.max(v.abs()));
    for (label, values, mask) in [
        ("input", input.as_slice(), false),
        ("training", train.output.data.as_slice(), true),
        ("eval", eval.output.data.as_slice(), false),
    ] {
        ui.horizontal(|ui| {
            ui.add_sized(vec2(70.0, 16.0), egui::Label::new(label));
            strip(ui, values, input, m, mask);
        });
    }
    ui.label(
        egui::RichText::new("Each cell is one activation of the sample (orange positive, blue negative); red outlines mark the ones dropped. Every step draws a new mask, so no unit can rely on another being there: the network learns redundant features and overfits less.")
            .color(theme::MUTED),
    );
}

/// A row of cells, one per value (the first 512), the dropped ones outlined.
fn strip(ui: &mut egui::Ui, values: &[f32], input: &[f32], m: f32, mask: bool) {
    let n = values.len().min(512);
    let cs = ((ui.available_width() - 8.0) / n.max(1) as f32).clamp(1.0, 14.0);
    let (rect, _) = ui.allocate_exact_size(vec2(n as f32 * cs, 16.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    for (i, &v) in values.iter().take(n).enumerate() {
        let r = egui::Rect::from_min_size(rect.min + vec2(i as f32 * cs, 0.0), vec2(cs, 16.0));
        painter.rect_filled(r, 0.0, super::heat::diverging(v, m));
        if mask && v == 0.0 && input.get(i).is_some_and(|x| *x != 0.0) {
            painter.rect_stroke(
                r,
                0.0,
                Stroke::new(1.0, theme::ERROR),
                egui::StrokeKind::Inside,
            );
        }
    }
}

impl super::Page for Norm {
    fn lesson(&self) -> super::Lesson {
        super::Lesson::Normalisation
    }

    fn title(&self) -> &'static str {
        "Normalisation and dropout"
    }

    fn blurb(&self) -> &'static str {
        "What a BatchNorm, LayerNorm or Dropout block of your design does to real activations: the distributions before and after batch norm, each sample normalised on its own by layer norm (why transformers use it), and the mask dropout draws while training (and doesn't at eval)."
    }

    fn uses_samples(&self) -> bool {
        true
    }

    fn focus(&mut self, node: Option<String>) {
        self.node = node;
    }

    fn draw(&mut self, ui: &mut egui::Ui, scene: &super::probing::Scene<'_>) {
        self.show(ui, scene);
    }
}
