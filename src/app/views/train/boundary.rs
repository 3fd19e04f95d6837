//! The decision boundary of a two-feature design, redrawn every few steps as it trains:
//! the input plane coloured by the predicted class (faded where the network is unsure), the
//! training points on top, and each unit of the first hidden layer as a small map of its own.

use crate::app::training::Training;
use crate::ui::still_plot::still_plot;
use crate::ui::theme;
use egui::Color32;
use egui_plot::{PlotBounds, PlotImage, PlotPoint, Points};

/// Draws the latest run's map, if its data has two features.
pub fn show(ui: &mut egui::Ui, training: &Training) {
    let Some(run) = training.runs().last() else {
        return;
    };
    let (Some(b), Some((_, tex))) = (&run.boundary, &training.textures().boundary) else {
        return;
    };
    ui.label(format!("decision boundary at step {}", b.step)).on_hover_text(
        "Every point of the input plane coloured by the class the network predicts there, faded where it is unsure; the training points on top. Watch the regions bend as it learns.",
    );
    let [[x0, x1], [y0, y1]] = b.plane;
    ui.horizontal_top(|ui| {
        let size = (ui.available_width() * 0.45).clamp(200.0, 380.0);
        still_plot("boundary_plot", egui::vec2(size, size))
            .show_grid(false)
            .show(ui, |p| {
                p.set_plot_bounds(PlotBounds::from_min_max([x0, y0], [x1, y1]));
                p.image(PlotImage::new(
                    "map",
                    tex.map.id(),
                    PlotPoint::new((x0 + x1) / 2.0, (y0 + y1) / 2.0),
                    egui::vec2((x1 - x0) as f32, (y1 - y0) as f32),
                ));
                let classes = b.points.iter().map(|(_, l)| *l).max().unwrap_or(0);
                for c in 0..=classes {
                    let pts: Vec<[f64; 2]> = b
                        .points
                        .iter()
                        .filter(|(_, l)| *l == c)
                        .map(|(p, _)| [f64::from(p[0]), f64::from(p[1])])
                        .collect();
                    let name = run.classes.get(c as usize).cloned().unwrap_or_default();
                    // A dark ring under each point keeps it visible on its own class's colour.
                    p.points(Points::new("", pts.clone()).radius(3.6).color(Color32::from_gray(20)));
                    p.points(
                        Points::new(name, pts)
                            .radius(2.6)
                            .color(theme::run_colour(c as usize)),
                    );
                }
            });
        if !tex.units.is_empty() {
            ui.vertical(|ui| {
                ui.label("first hidden layer, unit by unit (orange: positive, white: zero, blue: negative)");
                let cell = 64.0;
                let per_row = ((ui.available_width() / (cell + 6.0)) as usize).max(1);
                for row in tex.units.chunks(per_row) {
                    ui.horizontal(|ui| {
                        for (name, t) in row {
                            ui.image((t.id(), egui::vec2(cell, cell))).on_hover_text(name);
                        }
                    });
                }
            });
        }
    });
}
