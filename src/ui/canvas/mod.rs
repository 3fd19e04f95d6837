//! The node canvas (egui-snarl). The design is the document; the snarl is only a view of it,
//! rebuilt after every structural edit. snarl's own node ids are reused after a delete, so they
//! never leave this module: every edit names nodes by the design's stable [`NodeId`].
//!
//! A collapsed group is one snarl node ([`Block::Group`]) standing for its members; an
//! expanded group's members are drawn as themselves inside a titled frame.

mod crisp;
mod frames;
mod input;
mod menus;
mod minimap;
mod overlay;
mod scene;
mod viewer;
mod wire_menu;
mod zoom;

use crate::design::edit::Edit;
use crate::design::{Analysis, Design, GroupId, NodeId};
use egui::emath::TSTransform;
use egui::{Pos2, Ui};
use egui_snarl::ui::{SnarlStyle, SnarlWidget};
use egui_snarl::{InPinId, OutPinId, Snarl};
pub use scene::Block;
use scene::Scene;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use viewer::Viewer;
pub use zoom::STEP as ZOOM_STEP;

/// Which side of a block a pin is on, and its index there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PinSide {
    /// An input port.
    In(u32),
    /// A node's output.
    Out,
    /// Output `i` of a collapsed group.
    GroupOut(u32),
}

/// Pin centres in graph space, as drawn in the last frame.
type PinMap = Rc<RefCell<HashMap<(Block, PinSide), Pos2>>>;

/// The canvas's state between frames.
pub struct Canvas {
    snarl: Snarl<Block>,
    /// The design as the canvas reads it (which block each node is seen as).
    scene: Scene,
    /// The design revision the snarl shows.
    pub shown: Option<u64>,
    /// Block rectangles from the last frame (graph space).
    rects: HashMap<Block, egui::Rect>,
    /// Pin centres from the last frame.
    pins: HashMap<(Block, PinSide), Pos2>,
    /// The selected nodes after the last frame (a selected collapsed group: its members).
    pub selection: Vec<NodeId>,
    /// Graph → screen, from the last frame.
    transform: TSTransform,
    /// The canvas's screen rectangle in the last frame.
    view: egui::Rect,
    /// The block last clicked: what the inspector shows. (snarl selects only on shift-click
    /// or with a rectangle; a plain click is what people expect.)
    focus: Option<Block>,
    /// Frame the design this way on the next frame.
    fit_pending: Option<Fit>,
    /// Blocks the app selected (what was just added, pasted or duplicated): selected with
    /// snarl's own selection until the next click on the canvas.
    picked: Vec<NodeId>,
    /// Bumped to give snarl a fresh selection (it cannot be set, only started anew).
    epoch: u64,
    /// Keep this view through the snarl's fresh start.
    keep_view: Option<TSTransform>,
    /// The wire whose right-click menu is open, and where.
    wire_menu: Option<WireMenu>,
    /// Each block's title in the last frame: screen rectangle and font size.
    titles: HashMap<Block, (egui::Rect, f32)>,
    /// Far out, where the overview wrote each expanded group's title (screen): a click
    /// there collapses the group, as one on the frame's strip does.
    overview_titles: HashMap<GroupId, egui::Rect>,
}

/// A wire's right-click menu: the pins it joins, and where the click was (screen).
#[derive(Clone, Copy, Debug)]
pub(crate) struct WireMenu {
    from: (Block, usize),
    to: (Block, usize),
    at: Pos2,
}

/// How the canvas frames the design when it opens or is fitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// The whole design if it can be read whole (titles at least 11 px), else the design's
    /// start at the zoom where it can, the minimap showing the rest (as Netron and code
    /// editors open a big file): what the app opens with, and a double click on the canvas.
    Readable,
    /// The whole design however small (the overview names the blocks far out).
    Whole,
}

/// The lowest zoom at which blocks' titles (12.5 pt) are 11 px on the screen.
pub const READABLE: f32 = 0.88;

/// The graph → screen transform that shows `design` in `view` as `fit` asks, at most at zoom
/// 1 (a small design is not blown up).
fn fitting(design: &Design, view: egui::Rect, fit: Fit) -> TSTransform {
    let bb = crate::design::layout::shown(design).boxes.into_iter().fold(
        egui::Rect::NOTHING,
        |bb, (_, [x, y], [w, h])| {
            bb.union(egui::Rect::from_min_size(Pos2::new(x, y), egui::vec2(w, h)))
        },
    );
    if !bb.is_finite() || view.width() <= 0.0 || view.height() <= 0.0 {
        return TSTransform::from_translation(view.min.to_vec2());
    }
    let bb = bb.expand(40.0);
    let whole = (view.width() / bb.width())
        .min(view.height() / bb.height())
        .clamp(0.02, 1.0);
    if fit == Fit::Whole || whole >= READABLE {
        return TSTransform::from_translation(view.center().to_vec2())
            * TSTransform::from_scaling(whole)
            * TSTransform::from_translation(-bb.center().to_vec2());
    }
    // The start: the left edge (wires run left to right), and the top where the design is
    // taller than the view (top to bottom); centred across where it fits.
    let scale = READABLE;
    let place = |lo: f32, hi: f32, view_lo: f32, view_len: f32| {
        if (hi - lo) * scale <= view_len {
            view_lo + (view_len - (hi - lo) * scale) / 2.0 - lo * scale
        } else {
            view_lo - lo * scale
        }
    };
    TSTransform {
        scaling: scale,
        translation: egui::vec2(
            place(bb.min.x, bb.max.x, view.min.x, view.width()),
            place(bb.min.y, bb.max.y, view.min.y, view.height()),
        ),
    }
}

/// Below this zoom the canvas is an overview: blocks are coloured boxes named in type large
/// enough to read, and the wire labels hide (they would be smaller than 5 px).
pub const OVERVIEW_BELOW: f32 = 0.45;
/// How far out and in the canvas zooms.
const MIN_ZOOM: f32 = 0.02;
const MAX_ZOOM: f32 = 2.0;

impl Default for Canvas {
    fn default() -> Self {
        Canvas {
            snarl: Snarl::new(),
            scene: Scene::default(),
            shown: None,
            rects: HashMap::new(),
            pins: HashMap::new(),
            selection: Vec::new(),
            transform: TSTransform::IDENTITY,
            view: egui::Rect::ZERO,
            focus: None,
            fit_pending: Some(Fit::Readable),
            picked: Vec::new(),
            epoch: 0,
            keep_view: None,
            wire_menu: None,
            titles: HashMap::new(),
            overview_titles: HashMap::new(),
        }
    }
}

impl Canvas {
    /// Rebuilds the view from the design.
    pub fn rebuild(&mut self, design: &Design, revision: u64) {
        let scene = Scene::new(design);
        let mut snarl = Snarl::new();
        let mut ids = HashMap::new();
        for n in &design.nodes {
            if scene.block_of(n.id) == Some(Block::Node(n.id)) {
                let id = snarl.insert_node(Pos2::new(n.pos[0], n.pos[1]), Block::Node(n.id));
                ids.insert(Block::Node(n.id), id);
            }
        }
        for g in design.groups.iter().filter(|g| g.collapsed) {
            let id = snarl.insert_node(Pos2::new(g.pos[0], g.pos[1]), Block::Group(g.id));
            ids.insert(Block::Group(g.id), id);
        }
        for e in &design.edges {
            let Some(((a, out), (b, input))) = scene.wire(e) else {
                continue;
            };
            if let (Some(&a), Some(&b)) = (ids.get(&a), ids.get(&b)) {
                snarl.connect(
                    OutPinId {
                        node: a,
                        output: out,
                    },
                    InPinId { node: b, input },
                );
            }
        }
        // A block that went away (collapsed, deleted) can no longer be the focus.
        if self.focus.is_some_and(|f| !ids.contains_key(&f)) {
            self.focus = None;
        }
        self.snarl = snarl;
        self.scene = scene;
        self.shown = Some(revision);
    }

    /// Frames the design readably on the next frame (on open and after Auto layout).
    pub fn fit(&mut self) {
        self.fit_pending = Some(Fit::Readable);
    }

    /// Frames the design as `fit` asks on the next frame.
    pub fn fit_as(&mut self, fit: Fit) {
        self.fit_pending = Some(fit);
    }

    /// Zooms by `factor` about the middle of the view (Ctrl+=, Ctrl+−, the corner buttons).
    pub fn zoom_by(&mut self, factor: f32) {
        self.zoom_to((self.transform.scaling * factor).clamp(MIN_ZOOM, MAX_ZOOM));
    }

    /// Selects `nodes` (what was just added, pasted or duplicated) and nothing else; the first
    /// is what the inspector shows.
    pub fn select(&mut self, nodes: Vec<NodeId>) {
        self.focus = nodes.first().map(|n| Block::Node(*n));
        self.picked = nodes;
        self.restart_selection();
    }

    /// Focuses a collapsed group (one just made), with nothing else selected.
    pub fn select_group(&mut self, group: GroupId) {
        self.focus = Some(Block::Group(group));
        self.picked.clear();
        self.restart_selection();
    }

    /// Drops snarl's own selection, keeping the view where it is.
    fn restart_selection(&mut self) {
        self.epoch += 1;
        self.keep_view = Some(self.transform);
    }

    /// The collapsed group last clicked, if that is what the inspector should show.
    pub fn focused_group(&self) -> Option<GroupId> {
        match self.focus {
            Some(Block::Group(g)) => Some(g),
            _ => None,
        }
    }

    /// Draws the canvas; returns the edits asked for.
    pub fn show(&mut self, ui: &mut Ui, design: &Design, analysis: &Analysis) -> Vec<Edit> {
        let frames = frames::frames(design, &self.rects);
        let mut viewer = Viewer {
            design,
            analysis,
            scene: &self.scene,
            edits: Vec::new(),
            rects: HashMap::new(),
            pins: PinMap::default(),
            transform: TSTransform::IDENTITY,
            focus: self.focus,
            fit: None,
            selection: &self.selection,
            frames: frames.iter().map(|(_, r, t)| (*r, t.clone())).collect(),
            wire_clicked: None,
            prev: &self.rects,
            clip: ui.max_rect(),
            titles: HashMap::new(),
        };
        let clip = ui.max_rect();
        viewer.fit = self.keep_view.take();
        if let Some(fit) = self.fit_pending.take() {
            viewer.fit = Some(fitting(design, clip, fit));
        }
        // Far enough out to see a ResNet-50 whole; below OVERVIEW_BELOW the overview takes
        // over from the blocks' own (then unreadable) text.
        let style = SnarlStyle {
            collapsible: Some(false),
            min_scale: Some(MIN_ZOOM),
            max_scale: Some(MAX_ZOOM),
            // A double click fits readably (see `Fit`), not snarl's whole-at-any-size.
            centering: Some(false),
            ..SnarlStyle::new()
        };
        let id = ui.id().with("canvas").with(self.epoch);
        self.view = clip;
        SnarlWidget::new()
            .id(id)
            .style(style)
            .show(&mut self.snarl, &mut viewer, ui);
        let mut edits = std::mem::take(&mut viewer.edits);
        let rects = std::mem::take(&mut viewer.rects);
        let pins = viewer.pins.take();
        self.titles = std::mem::take(&mut viewer.titles);
        self.transform = viewer.transform;
        let wire_clicked = viewer.wire_clicked;
        self.rects = rects;
        self.pins = pins;
        let mut opened_now = false;
        if let Some((from, to)) = wire_clicked
            && let Some(at) = ui.input(|i| i.pointer.interact_pos())
        {
            self.wire_menu = Some(WireMenu { from, to, at });
            opened_now = true;
        }
        edits.extend(self.clicks(ui, clip, &frames));
        let selected = self.selected(ui, id, design);
        edits.extend(self.keys(ui, &selected));
        edits.extend(self.moves(ui, design));
        if self.transform.scaling < OVERVIEW_BELOW {
            // Above snarl's own layer (which draws the blocks), or the boxes hide under them.
            let snarl_layer = egui::LayerId::new(ui.layer_id().order, id);
            let layer = egui::LayerId::new(ui.layer_id().order, id.with("overview"));
            ui.ctx().set_sublayer(snarl_layer, layer);
            let painter = egui::Painter::new(ui.ctx().clone(), layer, clip);
            self.overview(&painter, design);
        } else {
            self.overview_titles.clear();
            self.wire_labels(ui, clip, design, analysis);
        }
        let snarl_layer = egui::LayerId::new(ui.layer_id().order, id);
        self.minimap(ui, design, clip, snarl_layer);
        self.zoom_buttons(ui, clip, snarl_layer);
        edits.extend(self.wire_menu(ui, design, analysis, opened_now));
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

    /// A rectangle in graph space where it was drawn on the screen in the last frame.
    pub fn to_screen(&self, rect: egui::Rect) -> egui::Rect {
        self.transform * rect
    }

    /// Zooms to `scale` about the middle of the view from the next frame (tests, scripts).
    pub fn zoom_to(&mut self, scale: f32) {
        let c = self.view.center();
        let at = self.transform.inverse() * c;
        self.keep_view = Some(
            TSTransform::from_translation(c.to_vec2())
                * TSTransform::from_scaling(scale)
                * TSTransform::from_translation(-at.to_vec2()),
        );
    }

    /// Pans (keeping the zoom) so that a block at `pos` of about `size` (graph space) is in
    /// view, if it isn't: what was just added is where the user looks.
    pub fn reveal(&mut self, pos: [f32; 2], size: [f32; 2]) {
        let block =
            egui::Rect::from_min_size(Pos2::new(pos[0], pos[1]), egui::vec2(size[0], size[1]));
        let now = self.keep_view.unwrap_or(self.transform);
        let seen = now.inverse() * self.view;
        if self.view.width() <= 0.0 || seen.contains_rect(block.expand(10.0)) {
            return;
        }
        self.keep_view = Some(
            TSTransform::from_translation(self.view.center().to_vec2())
                * TSTransform::from_scaling(now.scaling)
                * TSTransform::from_translation(-block.center().to_vec2()),
        );
    }

    /// The design point in the middle of the view, and the zoom.
    pub fn view_centre(&self) -> (Pos2, f32) {
        (
            self.transform.inverse() * self.view.center(),
            self.transform.scaling,
        )
    }

    /// The canvas's screen rectangle in the last frame.
    pub fn view_rect(&self) -> egui::Rect {
        self.view
    }

    /// Where a node was drawn on the screen in the last frame.
    pub fn screen_rect(&self, id: NodeId) -> Option<egui::Rect> {
        self.rects
            .get(&Block::Node(id))
            .map(|r| self.transform * *r)
    }

    /// Where a collapsed group was drawn on the screen in the last frame.
    pub fn group_screen_rect(&self, id: GroupId) -> Option<egui::Rect> {
        self.rects
            .get(&Block::Group(id))
            .map(|r| self.transform * *r)
    }

    /// Where an expanded group's frame title was drawn on the screen in the last frame.
    pub fn frame_title_screen_rect(&self, design: &Design, id: GroupId) -> Option<egui::Rect> {
        frames::frames(design, &self.rects)
            .into_iter()
            .find(|(g, _, _)| *g == id)
            .map(|(_, r, _)| self.transform * frames::title_rect(r))
    }

    /// Where a node's title was drawn on the screen in the last frame, and its font size
    /// there (none far out or off screen, where titles are not drawn).
    pub fn title_on_screen(&self, id: NodeId) -> Option<(egui::Rect, f32)> {
        self.titles.get(&Block::Node(id)).copied()
    }

    /// Far out, where the overview wrote an expanded group's title in the last frame.
    pub fn overview_title_screen_rect(&self, id: GroupId) -> Option<egui::Rect> {
        self.overview_titles.get(&id).copied()
    }

    /// Where a pin was drawn on the screen in the last frame.
    pub fn pin_screen_pos(&self, id: NodeId, side: PinSide) -> Option<Pos2> {
        self.pins
            .get(&(Block::Node(id), side))
            .map(|p| self.transform * *p)
    }
}
