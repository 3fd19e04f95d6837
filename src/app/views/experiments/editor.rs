//! The sweep editor: the parameters (a setting of the design picked from a list, or any
//! address typed), their values or ranges, and the sweep's own settings. It holds text as the
//! user types it and builds a [`Sweep`] on demand, saying what is wrong.

use crate::design::Design;
use crate::design::sweep::{Domain, EarlyStopping, Method, Metric, Objective, Sweep};
use serde_json::Value;

/// How a parameter's values are given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A list.
    Values,
    /// A uniform range.
    Uniform,
    /// A log-uniform range.
    LogUniform,
    /// Integers.
    Int,
    /// Integers, log-uniform.
    LogInt,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Values,
        Kind::Uniform,
        Kind::LogUniform,
        Kind::Int,
        Kind::LogInt,
    ];

    fn label(self) -> &'static str {
        match self {
            Kind::Values => "values",
            Kind::Uniform => "uniform",
            Kind::LogUniform => "log-uniform",
            Kind::Int => "integers",
            Kind::LogInt => "integers, log",
        }
    }
}

/// One parameter as typed.
#[derive(Clone, Debug)]
pub struct Row {
    /// Its address (`training.learning_rate`, `fc1.out_features`).
    pub address: String,
    /// How its values are given.
    pub kind: Kind,
    /// The list, comma-separated.
    pub values: String,
    /// A range's ends.
    pub low: String,
    /// A range's ends.
    pub high: String,
}

/// The editor's state.
#[derive(Clone, Debug)]
pub struct Editor {
    /// The parameters.
    pub rows: Vec<Row>,
    /// Grid or random.
    pub method: Method,
    /// Trials at most (random: how many).
    pub max_trials: u64,
    /// Repeats over seeds.
    pub repeats: u64,
    /// Seeds the draws.
    pub seed: u64,
    /// Epochs per trial.
    pub epochs: u64,
    /// The objective's metric.
    pub metric: Metric,
    /// 0: none, 1: median rule, 2: ASHA.
    pub stopping: usize,
}

impl Default for Editor {
    fn default() -> Self {
        Editor {
            rows: vec![Row {
                address: "training.learning_rate".to_owned(),
                kind: Kind::LogUniform,
                values: "0.001, 0.01, 0.1".to_owned(),
                low: "0.0001".to_owned(),
                high: "0.1".to_owned(),
            }],
            method: Method::Random,
            max_trials: 8,
            repeats: 1,
            seed: 0,
            epochs: 3,
            metric: Metric::ValAcc,
            stopping: 0,
        }
    }
}

/// One item of a comma-separated list: JSON where it reads as JSON (`0.01`, `true`), else a
/// name (`adam`).
fn item(text: &str) -> Value {
    let t = text.trim();
    serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_owned()))
}

impl Editor {
    /// The editor showing `sweep` (a sweep file opened), each parameter as its own kind.
    pub fn from_sweep(sweep: &Sweep) -> Editor {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let rows = sweep
            .parameters
            .iter()
            .map(|(address, domain)| {
                let (kind, values, low, high) = match domain {
                    Domain::Values(v) | Domain::Choice(v) => (
                        Kind::Values,
                        v.iter().map(text).collect::<Vec<_>>().join(", "),
                        String::new(),
                        String::new(),
                    ),
                    Domain::Uniform([a, b]) => {
                        (Kind::Uniform, String::new(), a.to_string(), b.to_string())
                    }
                    Domain::LogUniform([a, b]) => (
                        Kind::LogUniform,
                        String::new(),
                        a.to_string(),
                        b.to_string(),
                    ),
                    Domain::Int([a, b]) => (Kind::Int, String::new(), a.to_string(), b.to_string()),
                    Domain::LogInt([a, b]) => {
                        (Kind::LogInt, String::new(), a.to_string(), b.to_string())
                    }
                };
                Row {
                    address: address.clone(),
                    kind,
                    values,
                    low,
                    high,
                }
            })
            .collect();
        let defaults = Editor::default();
        Editor {
            rows,
            method: sweep.method,
            max_trials: sweep
                .max_trials
                .unwrap_or(sweep.trials().len() as u64)
                .max(1),
            repeats: sweep.repeats,
            seed: sweep.seed,
            epochs: sweep.epochs.unwrap_or(defaults.epochs),
            metric: sweep.objective.metric,
            stopping: match sweep.early_stopping {
                None => 0,
                Some(EarlyStopping::Median { .. }) => 1,
                Some(EarlyStopping::Asha { .. }) => 2,
            },
        }
    }

    /// The sweep the editor describes, or what is wrong with it (the first problem).
    pub fn sweep(&self) -> Result<Sweep, String> {
        let mut parameters = std::collections::BTreeMap::new();
        for row in &self.rows {
            let name = row.address.trim();
            if name.is_empty() {
                return Err("a parameter has no setting: pick one or type its address".to_owned());
            }
            let num = |s: &str| {
                s.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("{name}: \"{}\" is not a number", s.trim()))
            };
            let int = |s: &str| {
                s.trim()
                    .parse::<i64>()
                    .map_err(|_| format!("{name}: \"{}\" is not a whole number", s.trim()))
            };
            let domain = match row.kind {
                Kind::Values => Domain::Values(
                    row.values
                        .split(',')
                        .filter(|s| !s.trim().is_empty())
                        .map(item)
                        .collect(),
                ),
                Kind::Uniform => Domain::Uniform([num(&row.low)?, num(&row.high)?]),
                Kind::LogUniform => Domain::LogUniform([num(&row.low)?, num(&row.high)?]),
                Kind::Int => Domain::Int([int(&row.low)?, int(&row.high)?]),
                Kind::LogInt => Domain::LogInt([int(&row.low)?, int(&row.high)?]),
            };
            if parameters.insert(name.to_owned(), domain).is_some() {
                return Err(format!("{name} is listed twice"));
            }
        }
        let sweep = Sweep {
            format: crate::design::sweep::SWEEP_FORMAT.to_owned(),
            version: crate::design::sweep::SWEEP_VERSION,
            design: None,
            data: None,
            method: self.method,
            parameters,
            repeats: self.repeats.max(1),
            max_trials: Some(self.max_trials.max(1)),
            seed: self.seed,
            epochs: Some(self.epochs.max(1)),
            objective: Objective {
                metric: self.metric,
                goal: None,
            },
            early_stopping: match self.stopping {
                1 => Some(EarlyStopping::Median {
                    grace_epochs: 1,
                    min_trials: 3,
                }),
                2 => Some(EarlyStopping::Asha {
                    min_epochs: 1,
                    reduction_factor: 3,
                }),
                _ => None,
            },
        };
        if let Some(first) = sweep.problems().into_iter().next() {
            return Err(first);
        }
        Ok(sweep)
    }
}

/// The settings of `design` a sweep can vary, for the picker: the training settings, every
/// augmentation's fields and every block's settings.
pub fn addresses(design: &Design) -> Vec<String> {
    let mut out: Vec<String> = [
        "learning_rate",
        "optimizer",
        "batch_size",
        "weight_decay",
        "momentum",
        "warmup_steps",
        "clip_grad_norm",
        "precision",
        "seed",
    ]
    .iter()
    .map(|f| format!("training.{f}"))
    .collect();
    for a in &design.data.augmentation {
        if let Ok(Value::Object(fields)) = serde_json::to_value(a) {
            let op = fields.get("op").and_then(Value::as_str).unwrap_or_default();
            out.extend(
                fields
                    .keys()
                    .filter(|k| *k != "op")
                    .map(|k| format!("augment.{op}.{k}")),
            );
        }
    }
    // The Input is the data's shape, not a choice a trial can make.
    let blocks = design
        .nodes
        .iter()
        .filter(|n| !matches!(n.op, crate::design::Op::Input(_)));
    for node in blocks {
        if let Ok(Value::Object(fields)) = serde_json::to_value(&node.op) {
            out.extend(
                fields
                    .iter()
                    .filter(|(k, v)| {
                        *k != "type" && (v.is_number() || v.is_boolean() || v.is_string())
                    })
                    .map(|(k, _)| format!("{}.{k}", node.name)),
            );
        }
    }
    out.dedup();
    out
}

/// What the editor's buttons asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// Run the sweep.
    Run,
    /// Save it as a sweep file.
    Save,
    /// Open a sweep file into it.
    Open,
}

/// Draws the editor; what its buttons asked for.
pub fn show(
    ui: &mut egui::Ui,
    editor: &mut Editor,
    design: &Design,
    running: bool,
) -> Option<Asked> {
    ui.heading("Sweep");
    ui.label(
        egui::RichText::new(
            "Train the design many times with some settings varied: any training setting, augmentation or block setting.",
        )
        .small(),
    );
    parameters(ui, editor, &addresses(design));
    ui.separator();
    settings(ui, editor);
    ui.separator();
    buttons(ui, running)
}

/// One block of widgets per parameter, and "Add a parameter".
fn parameters(ui: &mut egui::Ui, editor: &mut Editor, choices: &[String]) {
    let mut remove = None;
    for (i, row) in editor.rows.iter_mut().enumerate() {
        ui.separator();
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt(("sweep_param", i))
                .width(170.0)
                .selected_text(if row.address.is_empty() {
                    "pick a setting"
                } else {
                    &row.address
                })
                .show_ui(ui, |ui| {
                    for c in choices {
                        ui.selectable_value(&mut row.address, c.clone(), c);
                    }
                });
            if ui
                .small_button("remove")
                .on_hover_text("Remove this parameter")
                .clicked()
            {
                remove = Some(i);
            }
        });
        ui.add(
            egui::TextEdit::singleline(&mut row.address)
                .hint_text("or type: layer4.frozen, BasicBlock.conv2.out_channels")
                .desired_width(220.0),
        )
        .widget_info(|| {
            egui::WidgetInfo::labeled(
                egui::WidgetType::TextEdit,
                true,
                format!("parameter {}", i + 1),
            )
        });
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt(("sweep_kind", i))
                .selected_text(row.kind.label())
                .show_ui(ui, |ui| {
                    for k in Kind::ALL {
                        ui.selectable_value(&mut row.kind, k, k.label());
                    }
                });
            if row.kind == Kind::Values {
                let field = ui
                    .add(egui::TextEdit::singleline(&mut row.values).desired_width(130.0))
                    .on_hover_text("comma-separated, e.g. 0.001, 0.01 or sgd, adam");
                field.widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::WidgetType::TextEdit,
                        true,
                        format!("values of parameter {}", i + 1),
                    )
                });
            } else {
                ui.add(egui::TextEdit::singleline(&mut row.low).desired_width(60.0));
                ui.label("to");
                ui.add(egui::TextEdit::singleline(&mut row.high).desired_width(60.0));
            }
        });
    }
    if let Some(i) = remove {
        editor.rows.remove(i);
    }
    if ui.button("Add a parameter").clicked() {
        editor.rows.push(Row {
            address: String::new(),
            kind: Kind::Values,
            values: String::new(),
            low: "0".to_owned(),
            high: "1".to_owned(),
        });
    }
}

/// Run, save, open.
fn buttons(ui: &mut egui::Ui, running: bool) -> Option<Asked> {
    let mut asked = None;
    ui.horizontal(|ui| {
        if ui
            .add_enabled(!running, egui::Button::new("⏵ Run sweep"))
            .on_hover_text(
                "Trains every trial into a sweep folder (a run folder per trial, trials.csv)",
            )
            .clicked()
        {
            asked = Some(Asked::Run);
        }
        if ui
            .button("Save sweep…")
            .on_hover_text(
                "As a sweep file beside the design, for netloom sweep or a Ray Tune export",
            )
            .clicked()
        {
            asked = Some(Asked::Save);
        }
        if ui
            .button("Open sweep…")
            .on_hover_text("A sweep file, into this editor")
            .clicked()
        {
            asked = Some(Asked::Open);
        }
    });
    asked
}

/// Grid or random, how many, epochs, the objective and the stopping rule.
fn settings(ui: &mut egui::Ui, e: &mut Editor) {
    egui::Grid::new("sweep_settings").num_columns(2).show(ui, |ui| {
        ui.label("search");
        ui.horizontal(|ui| {
            ui.selectable_value(&mut e.method, Method::Random, "random");
            ui.selectable_value(&mut e.method, Method::Grid, "grid");
        });
        ui.end_row();
        ui.label("trials at most");
        ui.add(egui::DragValue::new(&mut e.max_trials).range(1..=1000));
        ui.end_row();
        ui.label("repeats (seeds)");
        ui.add(egui::DragValue::new(&mut e.repeats).range(1..=20));
        ui.end_row();
        ui.label("epochs a trial");
        ui.add(egui::DragValue::new(&mut e.epochs).range(1..=1000));
        ui.end_row();
        ui.label("random seed");
        ui.add(egui::DragValue::new(&mut e.seed));
        ui.end_row();
        ui.label("judge by");
        egui::ComboBox::from_id_salt("sweep_metric")
            .selected_text(e.metric.name())
            .show_ui(ui, |ui| {
                for m in [
                    Metric::ValAcc,
                    Metric::ValLoss,
                    Metric::TrainLoss,
                    Metric::ValR2,
                    Metric::ValMiou,
                ] {
                    ui.selectable_value(&mut e.metric, m, m.name());
                }
            });
        ui.end_row();
        ui.label("stop early");
        egui::ComboBox::from_id_salt("sweep_stopping")
            .selected_text(["never", "median rule", "successive halving"][e.stopping.min(2)])
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut e.stopping, 0, "never");
                ui.selectable_value(&mut e.stopping, 1, "median rule")
                    .on_hover_text("Stop a trial whose best so far is below the median of the others at that epoch");
                ui.selectable_value(&mut e.stopping, 2, "successive halving")
                    .on_hover_text("ASHA: at epochs 1, 3, 9, … keep the top third");
            });
        ui.end_row();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editor_builds_the_sweep_it_shows_and_says_what_is_wrong() {
        let mut e = Editor::default();
        e.rows.push(Row {
            address: "training.optimizer".to_owned(),
            kind: Kind::Values,
            values: "sgd, adam".to_owned(),
            low: String::new(),
            high: String::new(),
        });
        let s = e.sweep().unwrap();
        assert_eq!(
            s.parameters["training.optimizer"],
            Domain::Values(vec![Value::from("sgd"), Value::from("adam")])
        );
        assert_eq!(
            s.parameters["training.learning_rate"],
            Domain::LogUniform([1e-4, 0.1])
        );
        e.rows[0].low = "zero".to_owned();
        assert!(e.sweep().unwrap_err().contains("\"zero\""));
        e.rows[0].low = "0".to_owned();
        assert!(e.sweep().unwrap_err().contains("0 < low"));
        let lenet =
            crate::design::from_json(include_str!("../../../../examples/lenet5.json")).unwrap();
        let a = addresses(&lenet);
        assert!(
            a.contains(&"fc1.out_features".to_owned())
                && a.contains(&"training.learning_rate".to_owned())
        );
    }
}
