//! The transposed-convolution lesson: the window in reverse (one input pixel paints the
//! kernel into the output, stride apart from its neighbour's), and where checkerboard
//! artefacts come from: with an even input and even weights, how many windows land on each
//! output pixel, uneven unless the stride divides the kernel size. The maps come from a
//! ConvTranspose2d the engine builds and runs ([`crate::engine::overlap`]).

use crate::engine::overlap::{Map, overlap, window};
use crate::ui::theme;
use egui::vec2;

/// The lesson's state: the kernel size and stride chosen.
pub struct Transpose {
    kernel: u64,
    stride: u64,
}

impl Default for Transpose {
    fn default() -> Self {
        Transpose {
            kernel: 3,
            stride: 2,
        }
    }
}

/// Draws `map` as cells shaded by value (darkest 0, lightest the largest), each with its
/// value written in when the cells are big enough.
fn draw_map(ui: &mut egui::Ui, map: &Map, cell: f32) {
    let side = map.side;
    let (rect, _) = ui.allocate_exact_size(
        vec2(cell * side as f32, cell * side as f32),
        egui::Sense::hover(),
    );
    let painter = ui.painter_at(rect);
    let most = map.values.iter().copied().fold(0f32, f32::max).max(1e-6);
    for (i, &v) in map.values.iter().enumerate() {
        let (r, c) = (i / side.max(1), i % side.max(1));
        let min = rect.min + vec2(c as f32 * cell, r as f32 * cell);
        let cell_rect = egui::Rect::from_min_size(min, vec2(cell - 1.0, cell - 1.0));
        let t = v / most;
        let shade = (30.0 + 200.0 * t) as u8;
        painter.rect_filled(
            cell_rect,
            1.0,
            egui::Color32::from_rgb(shade / 2, shade, shade),
        );
        if cell >= 18.0 && v != 0.0 {
            painter.text(
                cell_rect.center(),
                egui::Align2::CENTER_CENTER,
                format!("{v:.0}"),
                egui::FontId::proportional(10.0),
                if t > 0.5 {
                    egui::Color32::BLACK
                } else {
                    egui::Color32::WHITE
                },
            );
        }
    }
}

impl Transpose {
    fn show(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label("kernel size");
            ui.add(egui::Slider::new(&mut self.kernel, 1..=6));
            ui.label("stride");
            ui.add(egui::Slider::new(&mut self.stride, 1..=4));
        });
        let (k, s) = (self.kernel, self.stride);
        let (one, even) = match (window(k, s), overlap(6, k, s)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                ui.colored_label(theme::ERROR, e.to_string());
                return;
            }
        };
        let cell =
            ((ui.available_width() / 2.0 - 30.0) / even.side.max(one.side) as f32).clamp(8.0, 26.0);
        ui.columns(2, |cols| {
            cols[0].label(format!(
                "The window in reverse: the middle pixel of a 3×3 input paints the {k}×{k} kernel (numbered 1 to {}) into a {}×{} output; its neighbours would paint theirs {s} pixels away",
                k * k,
                one.side,
                one.side
            ));
            draw_map(&mut cols[0], &one, cell);
            cols[1].label(format!(
                "An even 6×6 input, all-one weights: how many windows land on each of the {}×{} output pixels",
                even.side, even.side
            ));
            draw_map(&mut cols[1], &even, cell);
        });
        ui.add_space(6.0);
        let interior: Vec<f32> = interior(&even, k);
        let (lo, hi) = interior
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let fewest = crate::units::count(lo.max(0.0) as u64, "window");
        let verdict = if k % s == 0 {
            format!(
                "Kernel {k} is a multiple of stride {s}: away from the border every output pixel gets the same number of windows ({hi:.0}), so an even input gives an even output: no checkerboard."
            )
        } else {
            format!(
                "Kernel {k} is not a multiple of stride {s}: inside the image some output pixels get {} and others {hi:.0}. Even a flat input comes out as a grid of light and dark pixels: the checkerboard artefact of decoders and GANs. A kernel the stride divides (4 with stride 2), or nearest Upsample followed by a Conv2d, avoids it.",
                fewest
            )
        };
        ui.add(egui::Label::new(verdict).wrap());
    }
}

/// The overlap counts away from the border (the first and last `kernel` rows and columns).
fn interior(map: &Map, kernel: u64) -> Vec<f32> {
    let (side, edge) = (map.side, kernel as usize);
    let mut out = Vec::new();
    for r in edge..side.saturating_sub(edge) {
        for c in edge..side.saturating_sub(edge) {
            out.push(map.values[r * side + c]);
        }
    }
    if out.is_empty() {
        out = map.values.clone();
    }
    out
}

impl super::Page for Transpose {
    fn lesson(&self) -> super::Lesson {
        super::Lesson::TransposedConvolution
    }

    fn title(&self) -> &'static str {
        "Transposed convolution"
    }

    fn blurb(&self) -> &'static str {
        "How a ConvTranspose2d upsamples: each input value paints a weighted copy of the kernel into the output, stride apart, and where copies overlap they add. When the stride doesn't divide the kernel size the overlaps are uneven, which is where the checkerboard artefacts of decoders come from."
    }

    fn draw(&mut self, ui: &mut egui::Ui, _scene: &super::probing::Scene<'_>) {
        self.show(ui);
    }
}
