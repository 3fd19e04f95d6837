//! The node canvas (egui-snarl). The design is the document; the snarl is only a view of it,
//! rebuilt after every structural edit. snarl's own node ids are reused after a delete, so they
//! never leave this module: every edit names nodes by the design's stable [`NodeId`].

use super::theme;
use crate::design::{Analysis, Arity, Design, NodeId, Op};
use egui::emath::TSTransform;
use egui::{Pos2, Ui};
use egui_snarl::ui::{PinInfo, SnarlPin, SnarlStyle, SnarlViewer, SnarlWidget};
use egui_snarl::{InPin, InPinId, OutPin, OutPinId, Snarl};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Which side of a node a pin is on, and its index there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PinSide {
    /// An input port.
    In(u32),
    /// The output.
    Out,
}

/// Pin centres in graph space, as drawn in the last frame.
type PinMap = Rc<RefCell<HashMap<(NodeId, PinSide), Pos2>>>;

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

/// An edit the canvas asks for; the app applies it to the design (with undo).
#[derive(Clone, Debug, PartialEq)]
pub enum CanvasEdit {
    /// Wire `from`'s output into `to`'s input `port` (replacing what was there).
    Connect { from: NodeId, to: NodeId, port: u32 },
    /// Remove the wire.
    Disconnect { from: NodeId, to: NodeId, port: u32 },
    /// Remove nodes and their wires.
    Remove(Vec<NodeId>),
    /// Copy nodes (and the wires among them) next to the originals.
    Duplicate(Vec<NodeId>),
    /// Add a new node from the palette at a canvas position.
    Add { block: usize, pos: [f32; 2] },
    /// Nodes were dragged to new positions.
    Moved(Vec<(NodeId, [f32; 2])>),
    /// Freeze (or unfreeze) nodes for fine-tuning.
    Freeze { nodes: Vec<NodeId>, frozen: bool },
}

/// The canvas's state between frames.
pub struct Canvas {
    snarl: Snarl<NodeId>,
    ids: HashMap<NodeId, egui_snarl::NodeId>,
    /// The design revision the snarl shows.
    pub shown: Option<u64>,
    /// Node rectangles from the last frame, for wire labels.
    rects: HashMap<NodeId, egui::Rect>,
    /// Pin centres from the last frame.
    pins: HashMap<(NodeId, PinSide), Pos2>,
    /// The selected nodes after the last frame.
    pub selection: Vec<NodeId>,
    /// Graph → screen, from the last frame.
    transform: TSTransform,
    /// The canvas's screen rectangle in the last frame.
    view: egui::Rect,
    /// The node last clicked: what the inspector shows. (snarl selects only on shift-click
    /// or with a rectangle; a plain click is what people expect.)
    pub focus: Option<NodeId>,
}

impl Default for Canvas {
    fn default() -> Self {
        Canvas {
            snarl: Snarl::new(),
            ids: HashMap::new(),
            shown: None,
            rects: HashMap::new(),
            pins: HashMap::new(),
            selection: Vec::new(),
            transform: TSTransform::IDENTITY,
            view: egui::Rect::ZERO,
            focus: None,
        }
    }
}

impl Canvas {
    /// Rebuilds the view from the design.
    pub fn rebuild(&mut self, design: &Design, revision: u64) {
        let mut snarl = Snarl::new();
        self.ids.clear();
        for n in &design.nodes {
            let id = snarl.insert_node(Pos2::new(n.pos[0], n.pos[1]), n.id);
            self.ids.insert(n.id, id);
        }
        for e in &design.edges {
            if let (Some(&a), Some(&b)) = (self.ids.get(&e.from), self.ids.get(&e.to)) {
                snarl.connect(
                    OutPinId { node: a, output: 0 },
                    InPinId {
                        node: b,
                        input: e.port as usize,
                    },
                );
            }
        }
        self.snarl = snarl;
        self.shown = Some(revision);
    }

    /// Draws the canvas; returns the edits asked for.
    pub fn show(&mut self, ui: &mut Ui, design: &Design, analysis: &Analysis) -> Vec<CanvasEdit> {
        let mut viewer = Viewer {
            design,
            analysis,
            edits: Vec::new(),
            rects: HashMap::new(),
            pins: PinMap::default(),
            transform: TSTransform::IDENTITY,
            focus: self.focus,
        };
        // Below half size the labels are unreadable: pan instead.
        let style = SnarlStyle {
            collapsible: Some(false),
            min_scale: Some(0.5),
            max_scale: Some(2.0),
            ..SnarlStyle::new()
        };
        let id = ui.id().with("canvas");
        let clip = ui.max_rect();
        self.view = clip;
        SnarlWidget::new()
            .id(id)
            .style(style)
            .show(&mut self.snarl, &mut viewer, ui);
        self.rects = std::mem::take(&mut viewer.rects);
        self.pins = viewer.pins.take();
        self.transform = viewer.transform;
        let mut edits = viewer.edits;
        self.update_focus(ui, clip, design);
        let mut selected: Vec<NodeId> = egui_snarl::ui::get_selected_nodes(id, ui.ctx())
            .into_iter()
            .filter_map(|i| self.snarl.get_node(i).copied())
            .collect();
        if let Some(f) = self.focus
            && !selected.contains(&f)
        {
            selected.insert(0, f);
        }
        if selected != self.selection {
            // The inspector was drawn before the canvas this frame: draw again to show it.
            ui.ctx().request_repaint();
            self.selection = selected.clone();
        }
        // Keys act on the selection, unless a text field has the keyboard.
        if !ui.ctx().egui_wants_keyboard_input() {
            if !selected.is_empty()
                && ui.input(|i| {
                    i.key_pressed(egui::Key::Delete) || i.key_pressed(egui::Key::Backspace)
                })
            {
                edits.push(CanvasEdit::Remove(selected.clone()));
            }
            if !selected.is_empty()
                && ui.input(|i| i.modifiers.command && i.key_pressed(egui::Key::D))
            {
                edits.push(CanvasEdit::Duplicate(selected));
            }
        }
        let moved: Vec<(NodeId, [f32; 2])> = self
            .snarl
            .nodes_pos()
            .filter_map(|(pos, id)| {
                let node = design.node(*id)?;
                ((node.pos[0] - pos.x).abs() > 0.5 || (node.pos[1] - pos.y).abs() > 0.5)
                    .then_some((*id, [pos.x, pos.y]))
            })
            .collect();
        if !moved.is_empty() && !ui.input(|i| i.pointer.any_down()) {
            edits.push(CanvasEdit::Moved(moved));
        }
        self.wire_labels(ui, clip, design, analysis);
        edits
    }

    /// A free spot for a new block near the middle of what is on screen (graph coordinates).
    pub fn free_spot(&self, design: &Design) -> [f32; 2] {
        let c = self.transform.inverse() * self.view.center();
        let mut p = [c.x - 80.0, c.y - 30.0];
        for _ in 0..50 {
            let taken = design
                .nodes
                .iter()
                .any(|n| (n.pos[0] - p[0]).abs() < 150.0 && (n.pos[1] - p[1]).abs() < 70.0);
            if !taken {
                break;
            }
            p[1] += 80.0;
        }
        p
    }

    /// Where a node was drawn on the screen in the last frame.
    pub fn screen_rect(&self, id: NodeId) -> Option<egui::Rect> {
        self.rects.get(&id).map(|r| self.transform * *r)
    }

    /// Where a pin was drawn on the screen in the last frame.
    pub fn pin_screen_pos(&self, id: NodeId, side: PinSide) -> Option<Pos2> {
        self.pins.get(&(id, side)).map(|p| self.transform * *p)
    }

    /// A plain click on a node focuses it; a click on empty canvas clears the focus.
    fn update_focus(&mut self, ui: &Ui, clip: egui::Rect, design: &Design) {
        let click = ui.input(|i| {
            if i.pointer.primary_clicked() {
                i.pointer.interact_pos()
            } else {
                None
            }
        });
        let Some(pos) = click.filter(|p| clip.contains(*p)) else {
            return;
        };
        let hit = self
            .rects
            .iter()
            .find(|(_, r)| (self.transform * **r).contains(pos))
            .map(|(id, _)| *id);
        let hit = hit.filter(|id| design.node(*id).is_some());
        if hit != self.focus {
            self.focus = hit;
            ui.ctx().request_repaint();
        }
    }

    /// Each wire's tensor shape, painted at its middle.
    fn wire_labels(&self, ui: &Ui, clip: egui::Rect, design: &Design, analysis: &Analysis) {
        let painter = ui.painter().with_clip_rect(clip);
        let scale = self.transform.scaling;
        for e in &design.edges {
            let (Some(a), Some(b)) = (self.rects.get(&e.from), self.rects.get(&e.to)) else {
                continue;
            };
            let Some(shape) = analysis.report(e.from).and_then(|r| r.output) else {
                continue;
            };
            // Node rectangles are in graph space; the painter draws on the screen.
            let mid = self.transform
                * Pos2::new(
                    (a.right() + b.left()) / 2.0,
                    (a.center().y + b.center().y) / 2.0,
                );
            painter.text(
                mid - egui::vec2(0.0, 4.0 * scale),
                egui::Align2::CENTER_BOTTOM,
                shape.to_string(),
                egui::FontId::proportional(11.0 * scale),
                theme::WIRE_LABEL,
            );
        }
    }
}

struct Viewer<'a> {
    design: &'a Design,
    analysis: &'a Analysis,
    edits: Vec<CanvasEdit>,
    rects: HashMap<NodeId, egui::Rect>,
    pins: PinMap,
    transform: TSTransform,
    focus: Option<NodeId>,
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
            self.edits.push(CanvasEdit::Disconnect {
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
            self.edits.push(CanvasEdit::Connect {
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
        for (i, block) in super::palette::BLOCKS.iter().enumerate() {
            if block.group != group {
                group = block.group;
                ui.separator();
            }
            if ui.button(block.label).on_hover_text(block.help).clicked() {
                self.edits.push(CanvasEdit::Add {
                    block: i,
                    pos: [pos.x, pos.y],
                });
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
            self.edits.push(CanvasEdit::Duplicate(vec![id]));
            ui.close();
        }
        if ui.button("Delete").clicked() {
            self.edits.push(CanvasEdit::Remove(vec![id]));
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
            self.edits.push(CanvasEdit::Freeze {
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
            self.edits.push(CanvasEdit::Freeze {
                nodes,
                frozen: true,
            });
            ui.close();
        }
    }
}
