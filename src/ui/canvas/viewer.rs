//! How the design is drawn on the snarl canvas: each block's header, pins, body and menus (a
//! node's, or a collapsed group's), expanded groups' frames, and the edits the user makes there
//! (connect, disconnect, add, freeze, group, remove).

use super::scene::{Block, Scene};
use super::{PinMap, PinSide};
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
    key: (Block, PinSide),
    noted: PinMap,
    /// Far out: no pin drawn, and a straight wire (a curve's shape can't be seen there, but
    /// costs the most to draw).
    straight: bool,
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
        if self.straight {
            // Far out a pin is a speck under the overview's box: only its wire is drawn.
            return egui_snarl::ui::PinWireInfo {
                color: theme::PIN,
                style: egui_snarl::ui::WireStyle::Line,
            };
        }
        PinInfo::circle()
            .with_fill(theme::PIN)
            .draw(snarl_style, style, rect, painter)
    }
}

/// The snarl viewer of one frame: reads the design, collects the edits.
pub(super) struct Viewer<'a> {
    pub(super) design: &'a Design,
    pub(super) analysis: &'a Analysis,
    pub(super) scene: &'a Scene,
    pub(super) edits: Vec<Edit>,
    pub(super) rects: HashMap<Block, egui::Rect>,
    pub(super) pins: PinMap,
    pub(super) transform: TSTransform,
    /// A transform to switch to this frame (fit to view).
    pub(super) fit: Option<TSTransform>,
    pub(super) focus: Option<Block>,
    /// The nodes selected in the last frame (what "Group" groups).
    pub(super) selection: &'a [NodeId],
    /// Expanded groups' frames (graph space, from the last frame) and titles.
    pub(super) frames: Vec<(egui::Rect, String)>,
    /// The wire right-clicked this frame (its out pin and in pin): it gets a menu.
    pub(super) wire_clicked: Option<((Block, usize), (Block, usize))>,
    /// Where the blocks were in the last frame (graph space), to tell which are off screen.
    pub(super) prev: &'a HashMap<Block, egui::Rect>,
    /// The canvas on screen.
    pub(super) clip: egui::Rect,
    /// Each block's title as drawn this frame: its screen rectangle and font size.
    pub(super) titles: HashMap<Block, (egui::Rect, f32)>,
}

impl Viewer<'_> {
    /// Far out, where the overview names the blocks: their own text would be too small to
    /// read, so it is not laid out at all (that is most of a frame's work on a big graph).
    fn far_out(&self) -> bool {
        self.transform.scaling < super::OVERVIEW_BELOW
    }

    /// True for a block that was well off screen in the last frame: its text is not laid out
    /// either (it gets it back as it scrolls into view).
    fn off_screen(&self, block: Block) -> bool {
        let seen = self.transform.inverse() * self.clip;
        self.prev
            .get(&block)
            .is_some_and(|r| !seen.expand(80.0).intersects(*r))
    }

    /// Whether a block's text is drawn this frame.
    fn plain(&self, block: Block) -> bool {
        self.far_out() || self.off_screen(block)
    }

    /// Room for a block's title when it is not drawn: its usual width, so the overview boxes
    /// keep the blocks' sizes.
    fn blank_title(&self, ui: &mut Ui, block: Block) {
        let width = match block {
            Block::Node(id) => self.design.node(id).map(crate::design::layout::block_size),
            Block::Group(g) => self
                .design
                .group(g)
                .map(crate::design::layout::group_block_size),
        }
        .map_or(60.0, |s| s[0] - 40.0);
        ui.allocate_exact_size(egui::vec2(width, 16.0), egui::Sense::hover());
    }

    /// A label on a block in the body font, drawn crisp at the zoom (see [`super::crisp`]) in
    /// room sized at zoom 1, so a block keeps its size at every zoom. Returns its response and
    /// where it is on the screen, with its font size there.
    fn label(
        &self,
        ui: &mut Ui,
        text: String,
        color: egui::Color32,
        align: egui::Align2,
    ) -> (egui::Response, egui::Rect, f32) {
        let font = egui::TextStyle::Body.resolve(ui.style());
        let size = ui
            .painter()
            .layout_no_wrap(text.clone(), font.clone(), color)
            .size();
        let (rect, response) = ui.allocate_exact_size(size, egui::Sense::hover());
        // Read out as the label it is (screen readers, and tests that find blocks by name).
        response.widget_info(|| {
            egui::WidgetInfo::labeled(egui::WidgetType::Label, ui.is_enabled(), &text)
        });
        let anchor = align.pos_in_rect(&rect);
        let (shape, at, px) = super::crisp::text(
            ui.painter(),
            self.transform,
            anchor,
            align,
            text,
            font,
            color,
        );
        ui.painter().add(shape);
        (response, at, px)
    }

    /// A pin of snarl node `node` that notes where it is drawn.
    fn pin(&self, snarl: &Snarl<Block>, node: egui_snarl::NodeId, side: PinSide) -> NotedPin {
        let block = snarl
            .get_node(node)
            .copied()
            .unwrap_or(Block::Node(NodeId(u64::MAX)));
        NotedPin {
            key: (block, side),
            noted: Rc::clone(&self.pins),
            straight: self.far_out(),
        }
    }

    /// Asks to remove the wire between two snarl pins, named by the design's edges.
    fn disconnect_wire(&mut self, snarl: &Snarl<Block>, from: OutPinId, to: InPinId) {
        if let (Some(&a), Some(&b)) = (snarl.get_node(from.node), snarl.get_node(to.node)) {
            let edit = self
                .scene
                .disconnect(self.design, (a, from.output), (b, to.input));
            self.edits.push(edit);
        }
    }

    fn port_count(&self, block: Block) -> usize {
        let id = match block {
            Block::Node(id) => id,
            Block::Group(g) => return self.scene.boundaries.get(&g).map_or(0, |b| b.inputs.len()),
        };
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

    /// The nodes a block stands for (borrowed: this is asked several times per block per
    /// frame).
    pub(super) fn members<'b>(&'b self, block: &'b Block) -> &'b [NodeId] {
        match block {
            Block::Node(id) => std::slice::from_ref(id),
            Block::Group(g) => self.design.group(*g).map_or(&[], |g| &g.members),
        }
    }

    /// The activation a plain (ungrouped) activation block computes, for its hover plot.
    fn activation_of(&self, block: Block) -> Option<crate::design::Activation> {
        let Block::Node(id) = block else {
            return None;
        };
        match &self.design.node(id)?.op {
            crate::design::Op::Activation(a) => Some(a.clone()),
            _ => None,
        }
    }

    fn has_problem(&self, block: Block) -> bool {
        self.members(&block)
            .iter()
            .any(|id| self.analysis.problems_of(*id).next().is_some())
    }

    /// Parameters of a block, and whether all of them are frozen.
    pub(super) fn params(&self, block: Block) -> (u64, bool) {
        let mut total = 0;
        let mut frozen = true;
        for &id in self.members(&block) {
            let p = self.analysis.report(id).map_or(0, |r| r.params);
            total += p;
            frozen &= p == 0 || self.design.node(id).is_some_and(|n| n.frozen);
        }
        (total, frozen && total > 0)
    }
}

impl SnarlViewer<Block> for Viewer<'_> {
    fn title(&mut self, block: &Block) -> String {
        match *block {
            Block::Node(id) => self.design.node(id).map(|n| n.name.clone()),
            Block::Group(g) => self.design.group(g).map(|g| g.name.clone()),
        }
        .unwrap_or_default()
    }

    fn show_header(
        &mut self,
        node: egui_snarl::NodeId,
        _inputs: &[InPin],
        _outputs: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<Block>,
    ) {
        let Some(&block) = snarl.get_node(node) else {
            return;
        };
        if self.plain(block) {
            return self.blank_title(ui, block);
        }
        let color = if self.has_problem(block) {
            theme::ERROR
        } else {
            ui.visuals().strong_text_color()
        };
        let (name, kind) = match block {
            Block::Node(id) => match self.design.node(id) {
                Some(n) => (n.name.clone(), n.op.kind_name().to_owned()),
                None => return,
            },
            Block::Group(g) => match self.design.group(g) {
                Some(g) => (g.name.clone(), format!("{} ⊞", g.kind)),
                None => return,
            },
        };
        // Hover only: a drag on the title moves the block instead of selecting its text.
        let (_, at, px) = self.label(ui, name, color, egui::Align2::LEFT_CENTER);
        self.titles.insert(block, (at, px));
        self.label(ui, kind, theme::KIND, egui::Align2::LEFT_CENTER);
    }

    fn inputs(&mut self, block: &Block) -> usize {
        self.port_count(*block)
    }

    fn outputs(&mut self, block: &Block) -> usize {
        match *block {
            Block::Node(id) => match self.design.node(id).map(|n| &n.op) {
                Some(Op::Output(_)) | None => 0,
                Some(_) => 1,
            },
            Block::Group(g) => self.scene.boundaries.get(&g).map_or(0, |b| b.outputs.len()),
        }
    }

    fn show_input(
        &mut self,
        pin: &InPin,
        _ui: &mut Ui,
        snarl: &mut Snarl<Block>,
    ) -> impl SnarlPin + 'static {
        // The incoming shape is written on the wire itself (see `Canvas::wire_labels`).
        self.pin(snarl, pin.id.node, PinSide::In(pin.id.input as u32))
    }

    fn show_output(
        &mut self,
        pin: &OutPin,
        ui: &mut Ui,
        snarl: &mut Snarl<Block>,
    ) -> impl SnarlPin + 'static {
        let block = snarl.get_node(pin.id.node).copied();
        if block.is_some_and(|b| !self.plain(b))
            && let Some(src) = block.and_then(|b| self.scene.source(b, pin.id.output))
            && let Some(r) = self.analysis.report(src)
        {
            let shape = r.output.map_or_else(|| "?".to_owned(), |s| s.to_string());
            // Right to left: a gap first, so the pin (drawn over the row's end) clears the text.
            ui.add_space(theme::PIN_GAP);
            self.label(
                ui,
                shape,
                ui.visuals().text_color(),
                egui::Align2::RIGHT_CENTER,
            );
        }
        let side = match block {
            Some(Block::Group(_)) => PinSide::GroupOut(pin.id.output as u32),
            _ => PinSide::Out,
        };
        self.pin(snarl, pin.id.node, side)
    }

    fn has_body(&mut self, block: &Block) -> bool {
        !self.plain(*block) && self.params(*block).0 > 0
    }

    fn show_body(
        &mut self,
        node: egui_snarl::NodeId,
        _inputs: &[InPin],
        _outputs: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<Block>,
    ) {
        let Some(&block) = snarl.get_node(node) else {
            return;
        };
        let (params, frozen) = self.params(block);
        let count = crate::units::thousands(params);
        if frozen {
            self.label(
                ui,
                format!("{count} frozen"),
                theme::FROZEN,
                egui::Align2::LEFT_CENTER,
            )
            .0
            .on_hover_text("Frozen: not trained (a frozen BatchNorm keeps its statistics)");
        } else {
            self.label(
                ui,
                format!("{count} params"),
                theme::MUTED,
                egui::Align2::LEFT_CENTER,
            );
        }
    }

    fn draw_background(
        &mut self,
        background: Option<&egui_snarl::ui::BackgroundPattern>,
        viewport: &egui::Rect,
        snarl_style: &SnarlStyle,
        style: &egui::Style,
        painter: &egui::Painter,
        _snarl: &Snarl<Block>,
    ) {
        // Far out the grid's lines would be a few pixels apart: noise, and hundreds of them.
        if let Some(background) = background.filter(|_| !self.far_out()) {
            background.draw(viewport, snarl_style, style, painter);
        }
        // Behind the blocks: each expanded group's frame and title (graph space).
        for (rect, title) in &self.frames {
            super::frames::draw(painter, self.transform, *rect, title);
        }
    }

    fn current_transform(&mut self, to_global: &mut TSTransform, _snarl: &mut Snarl<Block>) {
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
        snarl: &mut Snarl<Block>,
    ) {
        if let Some(&block) = snarl.get_node(node) {
            self.rects.insert(block, rect);
        }
    }

    fn node_frame(
        &mut self,
        default: egui::Frame,
        node: egui_snarl::NodeId,
        _i: &[InPin],
        _o: &[OutPin],
        snarl: &Snarl<Block>,
    ) -> egui::Frame {
        let Some(&block) = snarl.get_node(node) else {
            return default;
        };
        if self.far_out() {
            // The overview's box covers it: painting a frame (and its soft shadow) under the
            // box would only cost time.
            return egui::Frame::NONE.inner_margin(default.inner_margin);
        }
        let frozen = self.params(block).1;
        let mut frame = match block {
            Block::Group(_) => default
                .fill(theme::GROUP)
                .stroke(egui::Stroke::new(1.5, theme::GROUP_EDGE)),
            Block::Node(_) => default,
        };
        if frozen {
            frame = frame
                .fill(theme::FROZEN_FILL)
                .stroke(egui::Stroke::new(1.0, theme::FROZEN));
        }
        let selected = match block {
            Block::Node(id) => self.selection.contains(&id),
            Block::Group(_) => false,
        };
        if self.has_problem(block) {
            frame = frame.stroke(egui::Stroke::new(2.0, theme::ERROR));
        } else if self.focus == Some(block) || selected {
            frame = frame.stroke(egui::Stroke::new(2.0, theme::FOCUS));
        }
        frame
    }

    fn header_frame(
        &mut self,
        default: egui::Frame,
        _node: egui_snarl::NodeId,
        _i: &[InPin],
        _o: &[OutPin],
        _snarl: &Snarl<Block>,
    ) -> egui::Frame {
        if self.far_out() {
            egui::Frame::NONE.inner_margin(default.inner_margin)
        } else {
            default
        }
    }

    fn has_on_hover_popup(&mut self, block: &Block) -> bool {
        self.has_problem(*block) || self.activation_of(*block).is_some()
    }

    fn show_on_hover_popup(
        &mut self,
        node: egui_snarl::NodeId,
        _i: &[InPin],
        _o: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<Block>,
    ) {
        if let Some(&block) = snarl.get_node(node) {
            for &id in self.members(&block) {
                for p in self.analysis.problems_of(id) {
                    ui.colored_label(theme::ERROR, &p.message);
                }
            }
            if let Some(a) = self.activation_of(block) {
                crate::ui::activation_plot::show(
                    ui,
                    "canvas_activation",
                    &a,
                    egui::vec2(220.0, 130.0),
                );
            }
        }
    }

    fn connect(&mut self, from: &OutPin, to: &InPin, snarl: &mut Snarl<Block>) {
        let (Some(&a), Some(&b)) = (snarl.get_node(from.id.node), snarl.get_node(to.id.node))
        else {
            return;
        };
        if let Some(src) = self.scene.source(a, from.id.output) {
            let edit = self.scene.connect(self.design, src, b, to.id.input);
            self.edits.push(edit);
        }
    }

    /// snarl calls this only for a right-click on a wire: rather than delete the wire
    /// at once, the canvas opens the wire's menu (see `Canvas::wire_menu`).
    fn disconnect(&mut self, from: &OutPin, to: &InPin, snarl: &mut Snarl<Block>) {
        if let (Some(&a), Some(&b)) = (snarl.get_node(from.id.node), snarl.get_node(to.id.node)) {
            self.wire_clicked = Some(((a, from.id.output), (b, to.id.input)));
        }
    }

    fn drop_inputs(&mut self, pin: &InPin, snarl: &mut Snarl<Block>) {
        for &from in &pin.remotes {
            self.disconnect_wire(snarl, from, pin.id);
        }
    }

    fn drop_outputs(&mut self, pin: &OutPin, snarl: &mut Snarl<Block>) {
        for &to in &pin.remotes {
            self.disconnect_wire(snarl, pin.id, to);
        }
    }

    fn has_graph_menu(&mut self, _pos: Pos2, _snarl: &mut Snarl<Block>) -> bool {
        true
    }

    fn show_graph_menu(&mut self, pos: Pos2, ui: &mut Ui, _snarl: &mut Snarl<Block>) {
        self.add_menu(ui, pos);
    }

    fn has_node_menu(&mut self, _block: &Block) -> bool {
        true
    }

    fn show_node_menu(
        &mut self,
        node: egui_snarl::NodeId,
        _i: &[InPin],
        _o: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<Block>,
    ) {
        match snarl.get_node(node) {
            Some(&Block::Node(id)) => self.node_menu(ui, id),
            Some(&Block::Group(g)) => self.group_menu(ui, g),
            None => {}
        }
    }
}
