//! Inside the network, for the latest run: the input batch it is fed, how a chosen block's
//! activations move, and at each epoch's end the feature maps, filters and predictions.

use crate::app::training::{RunAction, TrainAction, Training};
use crate::ui::theme;
use egui_plot::{Line, Plot, PlotPoints};

/// The inside of the net for the latest run: the input batch it is being fed, and how the
/// activations of a chosen block move during training (the last histograms, newest brightest).
pub fn inside(ui: &mut egui::Ui, training: &Training, out: &mut Vec<TrainAction>) {
    let Some(run) = training.runs().last() else {
        return;
    };
    ui.columns(2, |cols| {
        cols[0].label(format!(
            "inputs being fed (augmented), step {}",
            run.samples_step
        ));
        if let Some((_, textures)) = &training.textures().samples {
            cols[0].horizontal_wrapped(|ui| {
                for t in textures {
                    ui.image((t.id(), egui::vec2(48.0, 48.0)));
                }
            });
        }
        let ui = &mut cols[1];
        let watched = training
            .watched()
            .0
            .map(str::to_owned)
            .or_else(|| run.histograms.keys().next().cloned());
        ui.horizontal(|ui| {
            ui.label("activations of");
            egui::ComboBox::from_id_salt("watched")
                .selected_text(watched.clone().unwrap_or_default())
                .show_ui(ui, |ui| {
                    for name in run.histograms.keys() {
                        if ui
                            .selectable_label(watched.as_deref() == Some(name), name)
                            .clicked()
                        {
                            out.push(RunAction::Watch(name.clone()).into());
                        }
                    }
                });
        });
        let Some(history) = watched.as_ref().and_then(|w| run.histograms.get(w)) else {
            return;
        };
        let shown: Vec<_> = history.iter().rev().take(6).rev().collect();
        let plot = Plot::new("hist_plot").height(140.0);
        super::plots::show(ui, "hist_plot", plot, |p| {
            for (k, (step, h)) in shown.iter().enumerate() {
                let width = f64::from(h.hi - h.lo) / h.counts.len().max(1) as f64;
                let pts: Vec<[f64; 2]> = h
                    .counts
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| [f64::from(h.lo) + (i as f64 + 0.5) * width, f64::from(c)])
                    .collect();
                let strength = (k + 1) as f32 / shown.len() as f32;
                p.line(
                    Line::new(format!("step {step}"), PlotPoints::from(pts))
                        .color(theme::WIRE_LABEL.gamma_multiply(strength)),
                );
            }
        });
        // The legend outside the curves, oldest first (as numbers, not as text).
        let steps: Vec<String> = shown.iter().map(|(step, _)| step.to_string()).collect();
        ui.label(
            egui::RichText::new(format!("faint to bright: steps {}", steps.join(", ")))
                .color(theme::MUTED),
        );
    });
}

/// Feature maps, filters and predictions at the end of the latest epoch.
pub fn views(ui: &mut egui::Ui, training: &Training, out: &mut Vec<TrainAction>) {
    let (Some(run), Some(((_, epoch), t))) = (training.runs().last(), &training.textures().views)
    else {
        return;
    };
    ui.separator();
    ui.columns(3, |cols| {
        let watched = training
            .watched()
            .1
            .map(str::to_owned)
            .or_else(|| t.maps.first().map(|(n, _)| n.clone()));
        cols[0].horizontal(|ui| {
            ui.label(format!("feature maps (epoch {epoch}) of"));
            egui::ComboBox::from_id_salt("watched_conv")
                .selected_text(watched.clone().unwrap_or_default())
                .show_ui(ui, |ui| {
                    for (name, _) in &t.maps {
                        if ui
                            .selectable_label(watched.as_deref() == Some(name), name)
                            .clicked()
                        {
                            out.push(RunAction::WatchConv(name.clone()).into());
                        }
                    }
                });
        });
        if let Some((_, maps)) = t.maps.iter().find(|(n, _)| Some(n) == watched.as_ref()) {
            cols[0].horizontal_wrapped(|ui| {
                for m in maps {
                    ui.image((m.id(), egui::vec2(40.0, 40.0)));
                }
            });
        }
        cols[1].label("the first convolution's filters");
        cols[1].horizontal_wrapped(|ui| {
            for f in &t.filters {
                ui.image((f.id(), egui::vec2(28.0, 28.0)));
            }
        });
        if !t.segments.is_empty() {
            cols[2].label("validation images: image · true mask · predicted mask");
            egui::Grid::new("segments").show(&mut cols[2], |ui| {
                for three in &t.segments {
                    for img in three {
                        ui.image((img.id(), egui::vec2(56.0, 56.0)));
                    }
                    ui.end_row();
                }
            });
            return;
        }
        cols[2].label("validation samples: predicted (true)");
        cols[2].horizontal_wrapped(|ui| {
            for (img, truth, pred) in &t.predictions {
                let name = |c: &u32| {
                    run.classes
                        .get(*c as usize)
                        .cloned()
                        .unwrap_or_else(|| c.to_string())
                };
                let color = if truth == pred {
                    theme::OK
                } else {
                    theme::ERROR
                };
                ui.vertical(|ui| {
                    ui.image((img.id(), egui::vec2(44.0, 44.0)));
                    ui.label(
                        egui::RichText::new(format!("{} ({})", name(pred), name(truth)))
                            .small()
                            .color(color),
                    );
                });
            }
        });
    });
}
