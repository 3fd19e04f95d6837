//! The less common training settings: the number format and gradual unfreezing.

use crate::design::{Precision, TrainingSettings};

/// What each precision choice means, for its menu entry's tooltip.
fn explain(p: Precision) -> &'static str {
    match p {
        Precision::Auto => {
            "bf16 on a CUDA GPU that computes it natively (A100, RTX 30 series and later), fp32 \
             on the CPU and elsewhere."
        }
        Precision::Fp32 => "32-bit floats throughout: exactly what PyTorch computes.",
        Precision::Bf16 => {
            "Convolutions and linear layers in bfloat16, the loss and batch-norm statistics \
             in fp32, fp32 master weights. Fast on recent GPUs; on most CPUs slower than fp32."
        }
        Precision::Fp16 => {
            "Convolutions and linear layers in IEEE half, with the loss scaled up so small \
             gradients survive (the scale drops whenever a gradient overflows)."
        }
    }
}

/// The `precision` row: a menu of the four formats.
pub(super) fn precision(ui: &mut egui::Ui, new: &mut TrainingSettings) {
    ui.label("precision").on_hover_text(
        "The number format of the forward and backward pass. 16-bit formats halve memory \
         traffic and use a GPU's tensor cores; weights, optimizer state and files stay fp32.",
    );
    egui::ComboBox::from_id_salt("precision")
        .selected_text(new.precision.name())
        .show_ui(ui, |ui| {
            for p in Precision::ALL {
                ui.selectable_value(&mut new.precision, p, p.name())
                    .on_hover_text(explain(p));
            }
        });
    ui.end_row();
}

/// Gradual unfreezing: a box to turn it on and the epochs between thawing steps.
pub(super) fn unfreezing(ui: &mut egui::Ui, new: &mut TrainingSettings) {
    let mut on = new.unfreeze_every.is_some();
    ui.checkbox(&mut on, "gradual unfreezing").on_hover_text(
        "Fine-tuning: every K epochs one more frozen block becomes trainable, starting at the \
         head. The new head settles first, so its large early gradients don't wreck the \
         pretrained features below it. Freeze blocks in the inspector first.",
    );
    match (on, new.unfreeze_every) {
        (true, None) => new.unfreeze_every = Some(1),
        (false, Some(_)) => new.unfreeze_every = None,
        _ => {}
    }
    if let Some(k) = &mut new.unfreeze_every {
        ui.horizontal(|ui| {
            ui.label("one block every");
            ui.add(egui::DragValue::new(k).range(1..=1000));
            ui.label("epochs");
        });
    } else {
        ui.label("");
    }
    ui.end_row();
}
