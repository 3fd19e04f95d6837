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
    pub fn show(&mut self, ui: &mut Ui, design: &Design, analysis: &Analysis) -> Vec<Edit> {
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
