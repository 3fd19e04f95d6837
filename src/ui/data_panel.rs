//! Inputs in the Train view: preprocessing and augmentation settings, with a live preview of
//! originals next to their augmented versions and a button to re-roll the random draw.

use super::theme;
use crate::design::{Augment, DataSettings, Preprocessing};
use serde_json::Value;

/// Each augmentation with settings a newcomer can start from.
const DEFAULTS: [(&str, &str); 15] = [
    ("horizontal flip", r#"{"op": "horizontal_flip", "p": 0.5}"#),
    ("vertical flip", r#"{"op": "vertical_flip", "p": 0.5}"#),
    ("rotate", r#"{"op": "rotate", "p": 1.0, "degrees": 15.0}"#),
    (
        "scale",
        r#"{"op": "scale", "p": 1.0, "min": 0.9, "max": 1.1}"#,
    ),
    ("shear", r#"{"op": "shear", "p": 1.0, "degrees": 10.0}"#),
    (
        "translate",
        r#"{"op": "translate", "p": 1.0, "fraction": 0.1}"#,
    ),
    ("lens", r#"{"op": "lens", "p": 1.0, "k": 0.2}"#),
    (
        "random crop",
        r#"{"op": "random_crop", "p": 1.0, "padding": 4}"#,
    ),
    (
        "cutout",
        r#"{"op": "cutout", "p": 0.5, "min": 0.1, "max": 0.3}"#,
    ),
    ("noise", r#"{"op": "noise", "p": 1.0, "std": 0.05}"#),
    (
        "brightness",
        r#"{"op": "brightness", "p": 1.0, "delta": 0.2}"#,
    ),
    ("contrast", r#"{"op": "contrast", "p": 1.0, "factor": 0.2}"#),
    (
        "saturation",
        r#"{"op": "saturation", "p": 1.0, "factor": 0.2}"#,
    ),
    ("hue", r#"{"op": "hue", "p": 1.0, "delta": 0.05}"#),
    ("PCA colour", r#"{"op": "pca_color", "p": 1.0, "std": 0.1}"#),
];

const PREPROCESSING: [(&str, Preprocessing, &str); 6] = [
    (
        "none (pixels / 255)",
        Preprocessing::None,
        "Pixels scaled to [0, 1].",
    ),
    (
        "zero-center",
        Preprocessing::ZeroCenter,
        "Subtract the mean image: inputs centred on 0, so the first layer's gradients don't all share a sign (less zig-zag).",
    ),
    (
        "standardize",
        Preprocessing::Standardize,
        "Per channel: subtract the mean, divide by the standard deviation. The usual choice for images.",
    ),
    (
        "min-max",
        Preprocessing::MinMax,
        "Scale so the training data spans exactly [0, 1].",
    ),
    (
        "PCA whitening",
        Preprocessing::PcaWhiten { epsilon: 0.01 },
        "Rotate onto the principal components and give each unit variance: decorrelated inputs (images no longer look like images).",
    ),
    (
        "ZCA whitening",
        Preprocessing::ZcaWhiten { epsilon: 0.01 },
        "Whitening rotated back: decorrelated, but still image-like (edges stand out).",
    ),
];

fn same_method(a: &Preprocessing, b: &Preprocessing) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Edits the data settings; returns new ones when changed.
pub fn settings(ui: &mut egui::Ui, data: &DataSettings) -> Option<DataSettings> {
    let mut new = data.clone();
    ui.horizontal(|ui| {
        ui.label("preprocessing");
        let current = PREPROCESSING
            .iter()
            .find(|(_, p, _)| same_method(p, &new.preprocessing))
            .map_or("?", |(n, _, _)| n);
        egui::ComboBox::from_id_salt("preprocessing")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (name, p, help) in PREPROCESSING {
                    if ui
                        .selectable_label(same_method(&p, &new.preprocessing), name)
                        .on_hover_text(help)
                        .clicked()
                    {
                        new.preprocessing = p;
                    }
                }
            });
    });
    ui.label("augmentation (training batches only)");
    let mut remove = None;
    for (i, op) in new.augmentation.iter_mut().enumerate() {
        let Ok(Value::Object(mut map)) = serde_json::to_value(&op) else {
            continue;
        };
        let name = map
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .replace('_', " ");
        let mut changed = false;
        ui.horizontal(|ui| {
            if ui
                .small_button("x")
                .on_hover_text("remove this step")
                .clicked()
            {
                remove = Some(i);
            }
            ui.label(name);
            let keys: Vec<String> = map.keys().filter(|k| *k != "op").cloned().collect();
            for k in keys {
                ui.label(egui::RichText::new(&k).color(theme::MUTED));
                if let Some(v) = map.get_mut(&k) {
                    changed |= super::inspector::value_editor(ui, &k, v);
                }
            }
        });
        if changed {
            match serde_json::from_value::<Augment>(Value::Object(map)) {
                Ok(a) => *op = a,
                Err(e) => {
                    ui.colored_label(theme::ERROR, e.to_string());
                }
            }
        }
        if let Some(problem) = op.problem() {
            ui.colored_label(theme::ERROR, problem);
        }
    }
    if let Some(i) = remove {
        new.augmentation.remove(i);
    }
    egui::ComboBox::from_id_salt("add_augmentation")
        .selected_text("add…")
        .show_ui(ui, |ui| {
            for (name, json) in DEFAULTS {
                if ui.selectable_label(false, name).clicked()
                    && let Ok(a) = serde_json::from_str::<Augment>(json)
                {
                    new.augmentation.push(a);
                }
            }
        });
    (new != *data).then_some(new)
}
