//! How the design is drawn on the snarl canvas: each node's header, pins, body and menus, and
//! the edits the user makes there (connect, disconnect, add, freeze, remove).

use super::{PinMap, PinSide};
use crate::design::catalogue::BLOCKS;
use crate::design::edit::Edit;
use crate::design::{Analysis, Arity, Design, NodeId, Op};
use crate::ui::theme;
use egui::emath::TSTransform;
use egui::{Pos2, Ui};
use egui_snarl::ui::{PinInfo, SnarlPin, SnarlStyle, SnarlViewer};
use egui_snarl::{InPin, InPinId, OutPin, OutPinId, Snarl};
use std::collections::HashMap;
use std::rc::Rc;

/// snarl's circle pin, which also notes where it was drawn: scripted drags (tests, demos)
/// need to find pins the way a pointer does.
struct NotedPin {
    key: (NodeId, PinSide),
    noted: PinMap,
}

impl SnarlPin for NotedPin {
    fn draw(
        self,
        snarl_style: &SnarlStyle,
        style: &egui::Style,
        rect: egui::Rect,
        painter: &egui::Painter,
    ) -> egui_snarl::ui::PinWireInfo {
        self.noted.borrow_mut().insert(self.key, rect.center());
        PinInfo::circle()
            .with_fill(theme::PIN)
            .draw(snarl_style, style, rect, painter)
    }
}

/// The snarl viewer of one frame: reads the design, collects the edits.
pub(super) struct Viewer<'a> {
    pub(super) design: &'a Design,
    pub(super) analysis: &'a Analysis,
    pub(super) edits: Vec<Edit>,
    pub(super) rects: HashMap<NodeId, egui::Rect>,
    pub(super) pins: PinMap,
    pub(super) transform: TSTransform,
    /// A transform to switch to this frame (fit to view).
    pub(super) fit: Option<TSTransform>,
    pub(super) focus: Option<NodeId>,
}

impl Viewer<'_> {
    /// A pin of snarl node `node` that notes where it is drawn.
    fn pin(&self, snarl: &Snarl<NodeId>, node: egui_snarl::NodeId, side: PinSide) -> NotedPin {
        let id = snarl.get_node(node).copied().unwrap_or(NodeId(u64::MAX));
        NotedPin {
            key: (id, side),
            noted: Rc::clone(&self.pins),
        }
    }

    /// Asks to remove the wire between two snarl pins, named by the design's node ids.
    fn disconnect_wire(&mut self, snarl: &Snarl<NodeId>, from: OutPinId, to: InPinId) {
        if let (Some(&a), Some(&b)) = (snarl.get_node(from.node), snarl.get_node(to.node)) {
            self.edits.push(Edit::Disconnect {
                from: a,
                to: b,
                port: to.input as u32,
            });
        }
    }

    fn port_count(&self, id: NodeId) -> usize {
        let Some(node) = self.design.node(id) else {
            return 0;
        };
        match node.op.arity() {
            Arity::Zero => 0,
            Arity::One => 1,
            // One more than the highest port in use, so there is always a free one.
            Arity::Many => {
                self.design
                    .edges
                    .iter()
                    .filter(|e| e.to == id)
                    .map(|e| e.port as usize + 1)
                    .max()
                    .unwrap_or(1)
                    .max(1)
                    + 1
            }
        }
    }

    fn has_problem(&self, id: NodeId) -> bool {
        self.analysis.problems_of(id).next().is_some()
    }
}

impl SnarlViewer<NodeId> for Viewer<'_> {
    fn title(&mut self, node: &NodeId) -> String {
        self.design
            .node(*node)
            .map_or_else(String::new, |n| n.name.clone())
    }

    fn show_header(
        &mut self,
        node: egui_snarl::NodeId,
        _inputs: &[InPin],
        _outputs: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<NodeId>,
    ) {
        let Some(&id) = snarl.get_node(node) else {
            return;
        };
        let Some(n) = self.design.node(id) else {
            return;
        };
        let color = if self.has_problem(id) {
            theme::ERROR
        } else {
            ui.visuals().strong_text_color()
        };
        ui.label(egui::RichText::new(&n.name).color(color).strong());
        ui.label(egui::RichText::new(n.op.kind_name()).weak());
    }

    fn inputs(&mut self, node: &NodeId) -> usize {
        self.port_count(*node)
    }

    fn outputs(&mut self, node: &NodeId) -> usize {
        match self.design.node(*node).map(|n| &n.op) {
            Some(Op::Output(_)) | None => 0,
            Some(_) => 1,
        }
    }

    fn show_input(
        &mut self,
        pin: &InPin,
        _ui: &mut Ui,
        snarl: &mut Snarl<NodeId>,
    ) -> impl SnarlPin + 'static {
        // The incoming shape is written on the wire itself (see `Canvas::wire_labels`).
        self.pin(snarl, pin.id.node, PinSide::In(pin.id.input as u32))
    }

    fn show_output(
        &mut self,
        pin: &OutPin,
        ui: &mut Ui,
        snarl: &mut Snarl<NodeId>,
    ) -> impl SnarlPin + 'static {
        if let Some(&id) = snarl.get_node(pin.id.node)
            && let Some(r) = self.analysis.report(id)
        {
            let shape = r.output.map_or_else(|| "?".to_owned(), |s| s.to_string());
            ui.label(shape);
        }
        self.pin(snarl, pin.id.node, PinSide::Out)
    }

    fn has_body(&mut self, node: &NodeId) -> bool {
        self.analysis.report(*node).is_some_and(|r| r.params > 0)
    }

    fn show_body(
        &mut self,
        node: egui_snarl::NodeId,
        _inputs: &[InPin],
        _outputs: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<NodeId>,
    ) {
        if let Some(&id) = snarl.get_node(node)
            && let Some(r) = self.analysis.report(id)
        {
            if self.design.node(id).is_some_and(|n| n.frozen) {
                ui.label(
                    egui::RichText::new(format!("❄ {} frozen", crate::units::thousands(r.params)))
                        .small()
                        .color(theme::FROZEN),
                )
                .on_hover_text("Frozen: not trained (a frozen BatchNorm keeps its statistics)");
            } else {
                ui.label(
                    egui::RichText::new(format!("{} params", crate::units::thousands(r.params)))
                        .small(),
                );
            }
        }
    }

    fn current_transform(&mut self, to_global: &mut TSTransform, _snarl: &mut Snarl<NodeId>) {
        if let Some(fit) = self.fit.take() {
            *to_global = fit;
        }
        self.transform = *to_global;
    }

    fn final_node_rect(
        &mut self,
        node: egui_snarl::NodeId,
        rect: egui::Rect,
        _ui: &mut Ui,
        snarl: &mut Snarl<NodeId>,
    ) {
        if let Some(&id) = snarl.get_node(node) {
            self.rects.insert(id, rect);
        }
    }

    fn node_frame(
        &mut self,
        default: egui::Frame,
        node: egui_snarl::NodeId,
        _i: &[InPin],
        _o: &[OutPin],
        snarl: &Snarl<NodeId>,
    ) -> egui::Frame {
        match snarl.get_node(node) {
            Some(&id) if self.has_problem(id) => {
                default.stroke(egui::Stroke::new(2.0, theme::ERROR))
            }
            Some(&id) if self.focus == Some(id) => {
                let frame = default.stroke(egui::Stroke::new(2.0, theme::FOCUS));
                if self.design.node(id).is_some_and(|n| n.frozen) {
                    frame.fill(theme::FROZEN_FILL)
                } else {
                    frame
                }
            }
            Some(&id) if self.design.node(id).is_some_and(|n| n.frozen) => default
                .fill(theme::FROZEN_FILL)
                .stroke(egui::Stroke::new(1.0, theme::FROZEN)),
            _ => default,
        }
    }

    fn has_on_hover_popup(&mut self, node: &NodeId) -> bool {
        self.has_problem(*node)
    }

    fn show_on_hover_popup(
        &mut self,
        node: egui_snarl::NodeId,
        _i: &[InPin],
        _o: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<NodeId>,
    ) {
        if let Some(&id) = snarl.get_node(node) {
            for p in self.analysis.problems_of(id) {
                ui.colored_label(theme::ERROR, &p.message);
            }
        }
    }

    fn connect(&mut self, from: &OutPin, to: &InPin, snarl: &mut Snarl<NodeId>) {
        if let (Some(&a), Some(&b)) = (snarl.get_node(from.id.node), snarl.get_node(to.id.node)) {
            self.edits.push(Edit::Connect {
                from: a,
                to: b,
                port: to.id.input as u32,
            });
        }
    }

    fn disconnect(&mut self, from: &OutPin, to: &InPin, snarl: &mut Snarl<NodeId>) {
        self.disconnect_wire(snarl, from.id, to.id);
    }

    fn drop_inputs(&mut self, pin: &InPin, snarl: &mut Snarl<NodeId>) {
        for &from in &pin.remotes {
            self.disconnect_wire(snarl, from, pin.id);
        }
    }

    fn drop_outputs(&mut self, pin: &OutPin, snarl: &mut Snarl<NodeId>) {
        for &to in &pin.remotes {
            self.disconnect_wire(snarl, pin.id, to);
        }
    }

    fn has_graph_menu(&mut self, _pos: Pos2, _snarl: &mut Snarl<NodeId>) -> bool {
        true
    }

    fn show_graph_menu(&mut self, pos: Pos2, ui: &mut Ui, _snarl: &mut Snarl<NodeId>) {
        ui.label("Add a block");
        let mut group = "";
        for block in BLOCKS {
            if block.group != group {
                group = block.group;
                ui.separator();
            }
            if ui.button(block.label).on_hover_text(block.help).clicked() {
                self.edits.push(block.add_at([pos.x, pos.y]));
                ui.close();
            }
        }
    }

    fn has_node_menu(&mut self, _node: &NodeId) -> bool {
        true
    }

    fn show_node_menu(
        &mut self,
        node: egui_snarl::NodeId,
        _i: &[InPin],
        _o: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<NodeId>,
    ) {
        let Some(&id) = snarl.get_node(node) else {
            return;
        };
        if ui.button("Duplicate").clicked() {
            self.edits.push(Edit::Duplicate(vec![id]));
            ui.close();
        }
        if ui.button("Delete").clicked() {
            self.edits.push(Edit::Remove(vec![id]));
            ui.close();
        }
        ui.separator();
        let frozen = self.design.node(id).is_some_and(|n| n.frozen);
        let (label, help) = if frozen {
            ("Unfreeze", "Train this block again")
        } else {
            (
                "Freeze",
                "Keep this block's weights as they are while the rest trains (fine-tuning)",
            )
        };
        if ui.button(label).on_hover_text(help).clicked() {
            self.edits.push(Edit::Freeze {
                nodes: vec![id],
                frozen: !frozen,
            });
            ui.close();
        }
        if ui
            .button("Freeze everything up to here")
            .on_hover_text("Freeze this block and every block before it: the pretrained features")
            .clicked()
        {
            // Only blocks with parameters: freezing a ReLU or a pooling means nothing.
            let nodes = self
                .design
                .upstream(id)
                .into_iter()
                .filter(|n| self.analysis.report(*n).is_some_and(|r| r.params > 0))
                .collect();
            self.edits.push(Edit::Freeze {
                nodes,
                frozen: true,
            });
            ui.close();
        }
    }
}
