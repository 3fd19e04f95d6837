//! The inspector: the selected node's name and every parameter, validated as you type.
//!
//! Parameters are edited through the node's JSON form (the same fields as the file format), so
//! every kind gets an editor and a new field shows up without UI code; each change is checked by
//! deserialising it back into an [`Op`] and by the design's analysis.

use super::theme;
use crate::design::edit::Edit;
use crate::design::{ActivationFn, Analysis, Design, Node, NodeId, Op, is_valid_name};
use serde_json::{Map, Value};

/// The inspector's text buffers between frames.
#[derive(Default)]
pub struct Inspector {
    node: Option<NodeId>,
    name: String,
    /// The group shown, and its name and kind as typed (see `inspector_group.rs`).
    pub(super) group: Option<crate::design::GroupId>,
    pub(super) group_name: String,
    pub(super) group_kind: String,
    /// Edits of a block inside a group apply only to this instance (true), not to the same
    /// block of every instance of the group's kind (the default: the definition is shared).
    this_instance_only: bool,
}

fn optional_fields(op: &Value) -> Vec<(&'static str, Value)> {
    if op.get("type").and_then(Value::as_str) == Some("avg_pool2d") {
        return vec![("count_include_pad", true.into())];
    }
    match op.get("function").and_then(Value::as_str) {
        Some("leaky_relu") => vec![("negative_slope", 0.01.into())],
        Some("elu") => vec![("alpha", 1.0.into())],
        Some("softmax") => vec![("dim", 1.into())],
        Some("hardtanh") => vec![("min_val", (-1.0).into()), ("max_val", 1.0.into())],
        _ => Vec::new(),
    }
}

fn choices(field: &str) -> Option<Vec<String>> {
    match field {
        "function" => Some(
            ActivationFn::ALL
                .iter()
                .filter_map(|f| serde_json::to_value(f).ok()?.as_str().map(String::from))
                .collect(),
        ),
        "loss" => Some(vec!["cross_entropy".into(), "mse".into()]),
        _ => None,
    }
}

/// Edits one JSON value in place; true when changed.
pub(crate) fn value_editor(ui: &mut egui::Ui, field: &str, v: &mut Value) -> bool {
    match v {
        Value::Bool(b) => ui.checkbox(b, "").changed(),
        // CropPad's sides: negative crops, so they go below zero.
        Value::Number(n) if matches!(field, "top" | "bottom" | "left" | "right") => {
            let mut x = n.as_i64().unwrap_or(0);
            let changed = ui
                .add(egui::DragValue::new(&mut x).range(-4096..=4096))
                .changed();
            if changed {
                *v = x.into();
            }
            changed
        }
        Value::Number(n) if n.is_u64() => {
            let mut x = n.as_u64().unwrap_or(0);
            let changed = ui
                .add(egui::DragValue::new(&mut x).range(0..=100_000))
                .changed();
            if changed {
                *v = x.into();
            }
            changed
        }
        Value::Number(n) if n.is_i64() => {
            let mut x = n.as_i64().unwrap_or(0);
            let changed = ui.add(egui::DragValue::new(&mut x).range(-4..=4)).changed();
            if changed {
                *v = x.into();
            }
            changed
        }
        Value::Number(n) => {
            let mut x = n.as_f64().unwrap_or(0.0);
            // A small setting (LayerNorm's eps 1e-6, a layer scale's start) shows and drags
            // at its own scale, instead of as 0.00 moving by hundredths.
            let small = x != 0.0 && x.abs() < 1e-3;
            let speed = if small { x.abs() * 0.05 } else { 0.01 };
            let changed = ui
                .add(
                    egui::DragValue::new(&mut x)
                        .speed(speed)
                        .max_decimals(6)
                        .custom_formatter(|v, decimals| {
                            if v != 0.0 && v.abs() < 1e-3 {
                                format!("{v:e}")
                            } else {
                                egui::emath::format_with_decimals_in_range(v, decimals)
                            }
                        })
                        .custom_parser(|s| s.trim().parse::<f64>().ok()),
                )
                .changed();
            if changed {
                *v = x.into();
            }
            changed
        }
        Value::String(s) => match choices(field) {
            Some(options) => {
                let mut changed = false;
                egui::ComboBox::from_id_salt(field)
                    .selected_text(s.as_str())
                    .show_ui(ui, |ui| {
                        for o in options {
                            changed |= ui.selectable_value(s, o.clone(), o).changed();
                        }
                    });
                changed
            }
            None => ui.text_edit_singleline(s).changed(),
        },
        Value::Array(items) => {
            let mut changed = false;
            for item in items.iter_mut() {
                changed |= value_editor(ui, field, item);
            }
            changed
        }
        _ => false,
    }
}

impl Inspector {
    /// Shows the node `selected`; returns an edit when the user changed something valid.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        design: &Design,
        analysis: &Analysis,
        selected: Option<NodeId>,
    ) -> Option<Edit> {
        ui.heading("Inspector");
        let Some(node) = selected.and_then(|id| design.node(id)) else {
            ui.label(egui::RichText::new("Select a block to edit it.").color(theme::MUTED));
            return None;
        };
        if self.node != Some(node.id) {
            self.node = Some(node.id);
            self.name = node.name.clone();
        }
        ui.label(egui::RichText::new(node.op.kind_name()).strong());
        let twins = crate::design::grouping::twins(design, node.id);
        if let Some(g) = design.group_of(node.id).filter(|_| !twins.is_empty()) {
            let mut every = !self.this_instance_only;
            ui.checkbox(
                &mut every,
                format!("edit every {} ({} instances)", g.kind, twins.len() + 1),
            )
            .on_hover_text(
                "Instances share their definition: a setting changed here changes the same block in each (only that setting; each keeps its own width and stride)",
            );
            self.this_instance_only = !every;
        }
        let mut edit = self.name_row(ui, design, node);
        // By kind, not by the analysis: the rows stay put while the block is invalid, so the
        // next click lands where it did.
        if node.op.learns() {
            edit = training_rows(ui, node).or(edit);
        }
        edit = op_fields(ui, node).or(edit);
        if let Some(r) = analysis.report(node.id) {
            ui.separator();
            let shape = r
                .output
                .map_or_else(|| "unknown".to_owned(), |s| s.to_string());
            ui.label(format!("output {shape}"));
            ui.label(format!(
                "{} params, {} MACs",
                crate::units::thousands(r.params),
                crate::units::thousands(r.macs)
            ));
        }
        for p in analysis.problems_of(node.id) {
            ui.colored_label(theme::ERROR, &p.message);
        }
        if let Op::Activation(a) = &node.op {
            // The function as it is set now: dragging negative_slope or alpha redraws it.
            ui.separator();
            super::activation_plot::show(ui, "inspector_activation", a, egui::vec2(220.0, 140.0));
            ui.add(
                egui::Label::new(
                    egui::RichText::new(super::activation_plot::lesson(a)).color(theme::MUTED),
                )
                .wrap(),
            );
        }
        if self.this_instance_only || twins.is_empty() {
            edit
        } else {
            edit.map(|e| crate::design::grouping::for_every_instance(design, &e))
        }
    }

    /// The name field, checked as it is typed: valid and unique, or a message why not.
    fn name_row(&mut self, ui: &mut egui::Ui, design: &Design, node: &Node) -> Option<Edit> {
        let mut edit = None;
        ui.horizontal(|ui| {
            let label = ui.label("name");
            let changed = ui
                .text_edit_singleline(&mut self.name)
                .labelled_by(label.id)
                .changed();
            let free = design
                .node_by_name(&self.name)
                .is_none_or(|n| n.id == node.id);
            if changed && is_valid_name(&self.name) && free {
                edit = Some(Edit::Rename(node.id, self.name.clone()));
            }
        });
        if !is_valid_name(&self.name) {
            ui.colored_label(
                theme::ERROR,
                "a name is letters, digits, _ and -, starting with a letter or _; dots separate parts (layer1.0.conv1)",
            );
        } else if design
            .node_by_name(&self.name)
            .is_some_and(|n| n.id != node.id)
        {
            ui.colored_label(
                theme::ERROR,
                format!("another block is already called {}", self.name),
            );
        }
        edit
    }
}

/// Frozen and the learning-rate multiplier, for blocks with parameters.
fn training_rows(ui: &mut egui::Ui, node: &Node) -> Option<Edit> {
    let mut edit = None;
    let mut frozen = node.frozen;
    if ui
            .checkbox(&mut frozen, "frozen")
            .on_hover_text(
                "Not trained: keeps its (pretrained) weights while the rest trains; a frozen BatchNorm keeps its statistics",
            )
            .changed()
        {
            edit = Some(Edit::Freeze {
                nodes: vec![node.id],
                frozen,
            });
        }
    // Shown while frozen too (greyed out), so the rows below don't move.
    ui.add_enabled_ui(!node.frozen, |ui| {
        ui.horizontal(|ui| {
                let mut mult = node.lr_mult.unwrap_or(1.0);
                let label = ui.label("learning rate ×").on_hover_text(
                    "Discriminative fine-tuning: this block learns at the run's rate times this, e.g. 0.1 for pretrained layers",
                );
                let changed = ui
                    .add(
                        egui::DragValue::new(&mut mult)
                            .range(0.001..=100.0)
                            .speed(0.01)
                            .max_decimals(3),
                    )
                    .labelled_by(label.id)
                    .changed();
                if changed {
                    let value = ((mult - 1.0).abs() > 1e-12).then_some(mult);
                    edit = Some(Edit::LrMult(node.id, value));
                }
            });
    });
    edit
}

/// The fields of `map` in the order the op declares them, which is PyTorch's constructor order
/// (`out_channels, kernel_size, stride, padding, …`): its serialised text keeps that order,
/// where a JSON map sorts by name. Added optional fields go last.
fn pytorch_order(op: &Op, map: &Map<String, Value>) -> Vec<String> {
    let text = serde_json::to_string(op).unwrap_or_default();
    let mut keys: Vec<String> = map.keys().filter(|k| *k != "type").cloned().collect();
    keys.sort_by_key(|k| text.find(&format!("\"{k}\":")).unwrap_or(usize::MAX));
    keys
}

/// Every parameter of the node's kind, edited through its JSON form and checked by reading it
/// back into an [`Op`].
fn op_fields(ui: &mut egui::Ui, node: &Node) -> Option<Edit> {
    let mut edit = None;
    let mut value = serde_json::to_value(&node.op).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        let extra = optional_fields(&Value::Object(map.clone()));
        for (k, default) in extra {
            map.entry(k).or_insert(default);
        }
        let mut changed = false;
        egui::Grid::new("inspector_fields")
            .num_columns(2)
            .show(ui, |ui| {
                let keys = pytorch_order(&node.op, map);
                for k in keys {
                    ui.label(k.replace('_', " "));
                    if let Some(v) = map.get_mut(&k) {
                        changed |= value_editor(ui, &k, v);
                    }
                    ui.end_row();
                }
            });
        if changed {
            match serde_json::from_value::<Op>(Value::Object(Map::clone(map))) {
                Ok(op) => edit = Some(Edit::SetOp(node.id, op)),
                Err(e) => {
                    ui.colored_label(theme::ERROR, e.to_string());
                }
            }
        }
    }
    edit
}
