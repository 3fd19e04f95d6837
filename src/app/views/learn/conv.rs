//! The convolution and pooling lesson: for one real sample, a window slides over the block's
//! input with the block's own kernel size, stride, padding and dilation, and the output fills
//! in cell by cell. The kernel shown is the block's weights (trained, after a run).

use super::heat::diverging;
use super::probing::{Probing, Scene, blocks, pick};
use crate::design::{Op, Pair};
use crate::engine::probe::{NodeProbe, Plain};
use crate::ui::theme;
use egui::{Color32, Pos2, Rect, Stroke, pos2, vec2};

/// The window's outline.
const WINDOW: Color32 = Color32::from_rgb(0xF2, 0x8E, 0x2B);

/// A block's window geometry: kernel, stride, padding and dilation, as (h, w).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Geometry {
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    /// "conv", "max" or "avg".
    kind: &'static str,
}

fn two(p: Pair) -> [usize; 2] {
    [p.h() as usize, p.w() as usize]
}

fn geometry(op: &Op) -> Option<Geometry> {
    Some(match op {
        Op::Conv2d(c) => Geometry {
            kernel: two(c.kernel_size),
            stride: two(c.stride),
            padding: two(c.padding),
            dilation: two(c.dilation),
            kind: "conv",
        },
        Op::MaxPool2d(p) | Op::AvgPool2d(p) => Geometry {
            kernel: two(p.kernel_size),
            stride: two(p.stride.unwrap_or(p.kernel_size)),
            padding: two(p.padding),
            dilation: [1, 1],
            kind: if matches!(op, Op::MaxPool2d(_)) {
                "max"
            } else {
                "avg"
            },
        },
        _ => return None,
    })
}

/// The lesson's state.
pub struct Conv {
    /// The block shown.
    pub node: Option<String>,
    probing: Probing,
    in_channel: usize,
    out_channel: usize,
    /// The output cell the window is at (flat index).
    cell: usize,
    playing: bool,
    due: f64,
    /// Output cells per second while playing.
    speed: f64,
}

impl Default for Conv {
    fn default() -> Self {
        Conv {
            node: None,
            probing: Probing::default(),
            in_channel: 0,
            out_channel: 0,
            cell: 0,
            playing: false,
            due: 0.0,
            speed: 12.0,
        }
    }
}

/// One channel of sample 0 of an activation `[n, c, h, w]`: (h, w, values).
fn plane(t: &Plain, c: usize) -> Option<(usize, usize, &[f32])> {
    let &[_, channels, h, w] = t.shape.as_slice() else {
        return None;
    };
    let (h, w) = (h as usize, w as usize);
    let c = c.min((channels as usize).saturating_sub(1));
    t.data.get(c * h * w..(c + 1) * h * w).map(|v| (h, w, v))
}

fn grey(v: f32, lo: f32, hi: f32) -> Color32 {
    let t = ((v - lo) / (hi - lo).max(1e-9)).clamp(0.0, 1.0);
    Color32::from_gray((20.0 + 225.0 * t) as u8)
}

impl Conv {
    /// Draws the lesson.
    pub fn show(&mut self, ui: &mut egui::Ui, scene: &Scene<'_>) {
        let names = blocks(scene, |op| geometry(op).is_some());
        if names.is_empty() {
            ui.label("This design has no Conv2d or pooling block: open LeNet-5 (File › Open example) or add one from the palette.");
            return;
        }
        if let Some(sel) = scene.selected.as_ref().filter(|s| names.contains(s))
            && self.node.as_ref() != Some(sel)
            && !self.playing
        {
            self.node = Some(sel.clone());
        }
        ui.horizontal(|ui| {
            ui.label("block");
            pick(ui, "conv_block", &names, &mut self.node);
        });
        let Some(name) = self.node.clone() else {
            return;
        };
        let Some(geo) = scene
            .design
            .node_by_name(&name)
            .and_then(|n| geometry(&n.op))
        else {
            return;
        };
        self.probing.want(ui.ctx(), scene, &name, &[(false, 1)], 0);
        let Some([probe]) = self.probing.show(ui, scene) else {
            return;
        };
        let probe = probe.clone();
        self.controls(ui, &probe, geo);
        self.animate(ui, &probe);
        self.draw(ui, &probe, geo);
    }

    fn channels(p: &NodeProbe) -> (usize, usize, usize, usize) {
        let dim = |t: &Plain, i: usize| t.shape.get(i).copied().unwrap_or(1).max(1) as usize;
        (
            dim(&p.input, 1),
            dim(&p.output, 1),
            dim(&p.output, 2),
            dim(&p.output, 3),
        )
    }

    fn controls(&mut self, ui: &mut egui::Ui, p: &NodeProbe, geo: Geometry) {
        let (cin, cout, oh, ow) = Self::channels(p);
        ui.horizontal_wrapped(|ui| {
            if geo.kind == "conv" {
                ui.label("input channel");
                ui.add(egui::DragValue::new(&mut self.in_channel).range(0..=cin - 1));
                ui.label("output channel");
                ui.add(egui::DragValue::new(&mut self.out_channel).range(0..=cout - 1));
            } else {
                // Pooling works channel by channel: output channel c comes from input channel c.
                ui.label("channel");
                ui.add(egui::DragValue::new(&mut self.in_channel).range(0..=cin - 1));
                self.out_channel = self.in_channel;
            }
            let play = if self.playing {
                "⏸ Pause"
            } else {
                "⏵ Play"
            };
            if ui.button(play).clicked() {
                self.playing = !self.playing;
            }
            if ui.button("Step").clicked() {
                self.playing = false;
                self.cell = (self.cell + 1) % (oh * ow).max(1);
            }
            ui.label("cells/s");
            ui.add(egui::DragValue::new(&mut self.speed).range(1.0..=500.0));
            let [kh, kw] = geo.kernel;
            let [sh, sw] = geo.stride;
            let [ph, pw] = geo.padding;
            let [dh, dw] = geo.dilation;
            ui.label(
                egui::RichText::new(format!(
                    "kernel {kh}×{kw} · stride {sh}×{sw} · padding {ph}×{pw} · dilation {dh}×{dw}"
                ))
                .color(theme::MUTED),
            );
            ui.label(
                egui::RichText::new(if p.trained {
                    "weights: the last run's"
                } else {
                    "weights: freshly initialised (train to see learnt filters)"
                })
                .color(theme::MUTED),
            );
        });
        self.in_channel = self.in_channel.min(cin - 1);
        self.out_channel = self.out_channel.min(cout - 1);
        self.cell = self.cell.min((oh * ow).max(1) - 1);
    }

    fn animate(&mut self, ui: &egui::Ui, p: &NodeProbe) {
        if !self.playing {
            return;
        }
        let (_, _, oh, ow) = Self::channels(p);
        let dt = f64::from(ui.input(|i| i.stable_dt)).min(0.1);
        self.due += dt * self.speed;
        let n = self.due.floor() as usize;
        self.due -= n as f64;
        self.cell = (self.cell + n) % (oh * ow).max(1);
        ui.ctx().request_repaint();
    }

    /// The padded input with the window, the kernel, and the output filling in.
    fn draw(&self, ui: &mut egui::Ui, p: &NodeProbe, geo: Geometry) {
        let (Some((h, w, input)), Some((oh, ow, output))) = (
            plane(&p.input, self.in_channel),
            plane(&p.output, self.out_channel),
        ) else {
            ui.label("This block's input isn't an image-shaped activation.");
            return;
        };
        let [ph, pw] = geo.padding;
        let (hh, ww) = (h + 2 * ph, w + 2 * pw);
        let avail = ui.available_width();
        // Three columns: the input gets about half, the explanation and the output a quarter.
        let middle = (avail * 0.25).clamp(180.0, 300.0);
        let cs = ((avail * 0.45) / ww as f32)
            .min(360.0 / hh as f32)
            .clamp(1.5, 16.0);
        let ocs = ((avail * 0.25) / ow as f32)
            .min(360.0 / oh as f32)
            .clamp(1.5, 16.0);
        let (oy, ox) = (self.cell / ow.max(1), self.cell % ow.max(1));
        let [kh, kw] = geo.kernel;
        let taps: Vec<(usize, usize)> = (0..kh)
            .flat_map(|ky| (0..kw).map(move |kx| (ky, kx)))
            .map(|(ky, kx)| {
                (
                    oy * geo.stride[0] + ky * geo.dilation[0],
                    ox * geo.stride[1] + kx * geo.dilation[1],
                )
            })
            .collect();
        let at = |y: usize, x: usize| -> Option<f32> {
            let (y, x) = (y.checked_sub(ph)?, x.checked_sub(pw)?);
            (y < h && x < w).then(|| input[y * w + x])
        };
        let (lo, hi) = input
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.label(format!(
                    "input, channel {} ({h}×{w}, padded to {hh}×{ww})",
                    self.in_channel
                ));
                input_grid(ui, (hh, ww), cs, &at, (lo, hi), &taps);
            });
            ui.vertical(|ui| {
                ui.set_width(middle);
                let (body, value) = self.explain(p, geo, &taps, &at);
                if geo.kind == "conv" {
                    ui.label(format!(
                        "kernel [{}, {}]",
                        self.out_channel, self.in_channel
                    ));
                    if let Some(k) = kernel(p, self.out_channel, self.in_channel, kh * kw) {
                        kernel_grid(ui, &k, kw);
                    }
                }
                ui.add_space(6.0);
                ui.add(egui::Label::new(body).wrap());
                ui.strong(format!(
                    "output[{}, {oy}, {ox}] = {value:.4}",
                    self.out_channel
                ));
            });
            ui.vertical(|ui| {
                ui.label(format!("output, channel {} ({oh}×{ow})", self.out_channel));
                output_grid(ui, output, (oh, ow), ocs, self.cell);
            });
        });
    }

    /// What the window computes here, and the output value the block gave.
    fn explain(
        &self,
        p: &NodeProbe,
        geo: Geometry,
        taps: &[(usize, usize)],
        at: &dyn Fn(usize, usize) -> Option<f32>,
    ) -> (String, f32) {
        let value = plane(&p.output, self.out_channel)
            .and_then(|(_, _, v)| v.get(self.cell).copied())
            .unwrap_or(0.0);
        let body = match geo.kind {
            "max" => format!(
                "Max pooling keeps the largest of the {} values under the window (padding counts as −∞) and moves on by the stride: small shifts of a feature don't change the output.",
                taps.len()
            ),
            "avg" => format!(
                "Average pooling takes the mean of the {} values under the window: a smoothed, smaller map.",
                taps.len()
            ),
            _ => {
                let k =
                    kernel(p, self.out_channel, self.in_channel, taps.len()).unwrap_or_default();
                let part: f32 = taps
                    .iter()
                    .zip(&k)
                    .map(|(&(y, x), w)| at(y, x).unwrap_or(0.0) * w)
                    .sum();
                let cin = p.input.shape.get(1).copied().unwrap_or(1);
                format!(
                    "Each output cell is the window's values times the kernel, summed over all {cin} input channel(s), plus a bias. This channel's share here: {part:.4}. Padding cells count as 0; the stride is how far the window jumps; dilation spreads its taps apart."
                )
            }
        };
        (body, value)
    }
}

/// The `len` weights of kernel (out, in) of a conv's weight `[O, C/groups, kh, kw]`.
fn kernel(p: &NodeProbe, out: usize, input: usize, len: usize) -> Option<Vec<f32>> {
    let w = p.weight.as_ref()?;
    let per_group = w.shape.get(1).copied().unwrap_or(1).max(1) as usize;
    let start = (out * per_group + input % per_group) * len;
    w.data.get(start..start + len).map(<[f32]>::to_vec)
}

/// The padded input plane in grey (padding as empty cells), the window's taps outlined.
fn input_grid(
    ui: &mut egui::Ui,
    (hh, ww): (usize, usize),
    cs: f32,
    at: &dyn Fn(usize, usize) -> Option<f32>,
    (lo, hi): (f32, f32),
    taps: &[(usize, usize)],
) {
    let (rect, _) =
        ui.allocate_exact_size(vec2(ww as f32 * cs, hh as f32 * cs), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    for y in 0..hh {
        for x in 0..ww {
            let r = cell_rect(rect.min, cs, y, x);
            match at(y, x) {
                Some(v) => painter.rect_filled(r, 0.0, grey(v, lo, hi)),
                None => painter.rect_stroke(
                    r.shrink(0.5),
                    0.0,
                    Stroke::new(0.5, Color32::from_gray(70)),
                    egui::StrokeKind::Inside,
                ),
            };
        }
    }
    for &(y, x) in taps {
        painter.rect_stroke(
            cell_rect(rect.min, cs, y, x),
            0.0,
            Stroke::new(1.5, WINDOW),
            egui::StrokeKind::Inside,
        );
    }
}

/// A kernel's weights as coloured cells, `kw` to a row.
fn kernel_grid(ui: &mut egui::Ui, k: &[f32], kw: usize) {
    let kh = k.len().div_ceil(kw.max(1));
    let m = k.iter().fold(1e-9f32, |m, v| m.max(v.abs()));
    let ks = 18.0;
    let (rect, _) =
        ui.allocate_exact_size(vec2(kw as f32 * ks, kh as f32 * ks), egui::Sense::hover());
    for (i, v) in k.iter().enumerate() {
        ui.painter().rect_filled(
            cell_rect(rect.min, ks, i / kw.max(1), i % kw.max(1)).shrink(1.0),
            2.0,
            diverging(*v, m),
        );
    }
}

/// The output plane filled in up to `cell`, the current cell outlined.
fn output_grid(ui: &mut egui::Ui, output: &[f32], (oh, ow): (usize, usize), ocs: f32, cell: usize) {
    let (rect, _) =
        ui.allocate_exact_size(vec2(ow as f32 * ocs, oh as f32 * ocs), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let m = output.iter().fold(1e-9f32, |m, v| m.max(v.abs()));
    // The whole output's extent, faint, so the part still to come shows.
    painter.rect_filled(rect, 0.0, Color32::from_gray(32));
    for (i, v) in output.iter().enumerate().take(cell + 1) {
        painter.rect_filled(
            cell_rect(rect.min, ocs, i / ow.max(1), i % ow.max(1)),
            0.0,
            diverging(*v, m),
        );
    }
    painter.rect_stroke(
        cell_rect(rect.min, ocs, cell / ow.max(1), cell % ow.max(1)),
        0.0,
        Stroke::new(1.5, WINDOW),
        egui::StrokeKind::Inside,
    );
}

fn cell_rect(origin: Pos2, size: f32, y: usize, x: usize) -> Rect {
    Rect::from_min_size(
        pos2(origin.x + x as f32 * size, origin.y + y as f32 * size),
        vec2(size, size),
    )
}

impl super::Page for Conv {
    fn lesson(&self) -> super::Lesson {
        super::Lesson::Convolution
    }

    fn title(&self) -> &'static str {
        "Convolution and pooling"
    }

    fn blurb(&self) -> &'static str {
        "One real sample going through a block of your design: the orange window slides over the block's input exactly as its kernel size, stride, padding and dilation say, and the output fills in cell by cell. Change the block in the Design view and come back."
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
