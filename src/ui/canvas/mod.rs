//! The node canvas (egui-snarl). The design is the document; the snarl is only a view of it,
//! rebuilt after every structural edit. snarl's own node ids are reused after a delete, so they
//! never leave this module: every edit names nodes by the design's stable [`NodeId`].

mod viewer;

use super::theme;
use crate::design::edit::Edit;
use crate::design::{Analysis, Design, NodeId};
use egui::emath::TSTransform;
use egui::{Pos2, Ui};
use egui_snarl::ui::{SnarlStyle, SnarlWidget};
use egui_snarl::{InPinId, OutPinId, Snarl};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use viewer::Viewer;

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
    /// Fit the whole design into view on the next frame.
    fit_pending: bool,
}

/// The graph → screen transform that shows all of `design` in `view`, centred, at most at
/// zoom 1 (a small design is not blown up).
fn fitting(design: &Design, view: egui::Rect) -> TSTransform {
    let mut bb = egui::Rect::NOTHING;
    for n in &design.nodes {
        let [w, h] = crate::design::layout::block_size(n);
        bb = bb.union(egui::Rect::from_min_size(
            Pos2::new(n.pos[0], n.pos[1]),
            egui::vec2(w, h),
        ));
    }
    if !bb.is_finite() || view.width() <= 0.0 || view.height() <= 0.0 {
        return TSTransform::from_translation(view.min.to_vec2());
    }
    let bb = bb.expand(40.0);
    let scale = (view.width() / bb.width())
        .min(view.height() / bb.height())
        .clamp(0.02, 1.0);
    TSTransform::from_translation(view.center().to_vec2())
        * TSTransform::from_scaling(scale)
        * TSTransform::from_translation(-bb.center().to_vec2())
}

/// Below this zoom the canvas is an overview: blocks are coloured boxes named in type large
/// enough to read, and the wire labels hide (they would be smaller than 5 px).
pub const OVERVIEW_BELOW: f32 = 0.45;

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
            fit_pending: true,
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

    /// Fits the whole design into view on the next frame (on open and after Auto layout).
    pub fn fit(&mut self) {
        self.fit_pending = true;
    }

    /// Draws the canvas; returns the edits asked for.
    pub fn show(&mut self, ui: &mut Ui, design: &Design, analysis: &Analysis) -> Vec<Edit> {
        let mut viewer = Viewer {
            design,
            analysis,
            edits: Vec::new(),
            rects: HashMap::new(),
            pins: PinMap::default(),
            transform: TSTransform::IDENTITY,
            focus: self.focus,
            fit: None,
        };
        let clip = ui.max_rect();
        if std::mem::take(&mut self.fit_pending) {
            viewer.fit = Some(fitting(design, clip));
        }
        // Far enough out to see a ResNet-50 whole; below OVERVIEW_BELOW the overview takes
        // over from the blocks' own (then unreadable) text.
        let style = SnarlStyle {
            collapsible: Some(false),
            min_scale: Some(0.02),
            max_scale: Some(2.0),
            ..SnarlStyle::new()
        };
        let id = ui.id().with("canvas");
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
                edits.push(Edit::Remove(selected.clone()));
            }
            if !selected.is_empty()
                && ui.input(|i| i.modifiers.command && i.key_pressed(egui::Key::D))
            {
                edits.push(Edit::Duplicate(selected));
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
            edits.push(Edit::Moved(moved));
        }
        if self.transform.scaling < OVERVIEW_BELOW {
            // Above snarl's own layer (which draws the blocks), or the boxes hide under them.
            let snarl_layer = egui::LayerId::new(ui.layer_id().order, id);
            let layer = egui::LayerId::new(ui.layer_id().order, id.with("overview"));
            ui.ctx().set_sublayer(snarl_layer, layer);
            let painter = egui::Painter::new(ui.ctx().clone(), layer, clip);
            self.overview(&painter, design);
        } else {
            self.wire_labels(ui, clip, design, analysis);
        }
        edits
    }

    /// Far out: each block as a box in its kind's colour with its name in readable type, where
    /// the name fits (the full view shows the rest).
    fn overview(&self, painter: &egui::Painter, design: &Design) {
        let clip = painter.clip_rect();
        let font = egui::FontId::proportional(11.0);
        for n in &design.nodes {
            let Some(r) = self.rects.get(&n.id) else {
                continue;
            };
            let drawn = self.transform * *r;
            if !clip.intersects(drawn) {
                continue;
            }
            // At least tall enough to hold a name, centred where the block is.
            let rect = egui::Rect::from_center_size(
                drawn.center(),
                egui::vec2(drawn.width(), drawn.height().max(16.0)),
            );
            let colour = theme::kind_colour(&n.op);
            painter.rect_filled(rect, 2.0, colour.gamma_multiply(0.85));
            if self.focus == Some(n.id) || self.selection.contains(&n.id) {
                painter.rect_stroke(
                    rect.expand(1.5),
                    2.0,
                    egui::Stroke::new(2.0, theme::FOCUS),
                    egui::StrokeKind::Outside,
                );
            }
            let galley = painter.layout_no_wrap(n.name.clone(), font.clone(), egui::Color32::WHITE);
            if galley.size().x <= rect.width() + 4.0 {
                painter.galley(
                    rect.center() - galley.size() / 2.0,
                    galley,
                    egui::Color32::WHITE,
                );
            }
        }
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
        // Only a click that landed on the canvas itself: not one that answered a dialog or a
        // menu drawn over it (egui knows which layer was on top where the pointer is).
        let on_canvas = |p: &Pos2| {
            clip.contains(*p)
                && ui
                    .ctx()
                    .layer_id_at(*p)
                    .is_none_or(|layer| layer == ui.layer_id())
        };
        let Some(pos) = click.filter(on_canvas) else {
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
