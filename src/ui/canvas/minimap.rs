//! The minimap: when the design is larger than the view, a small map of all of it sits in the
//! canvas's corner, the part on screen outlined; a click or a drag there moves the view.

use super::Canvas;
use super::scene::Block;
use crate::design::Design;
use crate::ui::theme;
use egui::emath::TSTransform;
use egui::{Pos2, Rect, Sense, Ui, vec2};

/// The minimap's largest size on screen.
const MAX: egui::Vec2 = vec2(200.0, 120.0);
/// The least height it is drawn at.
const MIN_HEIGHT: f32 = 36.0;

impl Canvas {
    /// Draws the minimap over the canvas when part of the design is off screen, and moves the
    /// view to where it is clicked or dragged.
    pub(super) fn minimap(
        &mut self,
        ui: &mut Ui,
        design: &Design,
        clip: Rect,
        above: egui::LayerId,
    ) {
        let world = self
            .rects
            .values()
            .fold(Rect::NOTHING, |a, r| a.union(*r))
            .expand(20.0);
        let seen = self.transform.inverse() * clip;
        if !world.is_finite() || seen.contains_rect(world) || clip.width() < 3.0 * MAX.x {
            return;
        }
        // The design's shape where it fits; a long, thin network is stretched to a usable
        // height rather than drawn as a hairline.
        let sx = (MAX.x / world.width()).min(MAX.y / world.height());
        let sy = sx.max((MIN_HEIGHT / world.height()).min(MAX.y / world.height()));
        let scale = vec2(sx, sy);
        let size = world.size() * scale;
        let map = Rect::from_min_size(clip.right_bottom() - size - vec2(12.0, 12.0), size);
        let to_map = |p: Pos2| map.min + (p - world.min) * scale;
        // Its own layer above the blocks: clicks here are the map's, not a block's under it.
        let layer = egui::LayerId::new(ui.layer_id().order, ui.id().with("minimap"));
        ui.ctx().set_sublayer(above, layer);
        let map_ui = ui.new_child(egui::UiBuilder::new().layer_id(layer).max_rect(map));
        let response = map_ui.interact(map, ui.id().with("minimap_area"), Sense::click_and_drag());
        response
            .widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Other, true, "minimap"));
        let painter = map_ui.painter_at(map.expand(2.0));
        painter.rect(
            map.expand(2.0),
            3.0,
            ui.visuals().extreme_bg_color.gamma_multiply(0.92),
            egui::Stroke::new(1.0, ui.visuals().weak_text_color()),
            egui::StrokeKind::Inside,
        );
        for (block, r) in &self.rects {
            // Frozen blocks in the frozen colour, as they are marked on the canvas.
            let colour = match *block {
                _ if super::overlay::frozen(design, *block) => Some(theme::FROZEN),
                Block::Node(id) => design.node(id).map(|n| theme::kind_colour(&n.op)),
                Block::Group(_) => Some(theme::GROUP_EDGE),
            };
            if let Some(c) = colour {
                let r = Rect::from_min_max(to_map(r.min), to_map(r.max));
                painter.rect_filled(r.expand(0.5), 1.0, c);
            }
        }
        let view = Rect::from_min_max(to_map(seen.min), to_map(seen.max)).intersect(map);
        painter.rect_stroke(
            view,
            1.0,
            egui::Stroke::new(1.5, theme::FOCUS),
            egui::StrokeKind::Inside,
        );
        if (response.clicked() || response.dragged())
            && let Some(p) = response.interact_pointer_pos()
        {
            // That point of the design to the middle of the view, at the same zoom.
            let target = world.min + (p - map.min) / scale;
            self.keep_view = Some(
                TSTransform::from_translation(clip.center().to_vec2())
                    * TSTransform::from_scaling(self.transform.scaling)
                    * TSTransform::from_translation(-target.to_vec2()),
            );
            ui.ctx().request_repaint();
        }
    }
}
