//! The Learn view: the lessons behind the blocks, drawn live with the engine's own code.
//! Optimizer paths, preprocessing, activations, convolution and pooling, batch norm and
//! dropout, transposed convolution; one file per lesson, the numerics in engine/ and data/.

mod activations;
mod cloud;
mod conv;
mod heat;
mod norm;
mod paths;
mod probing;
mod transpose;

use crate::app::NetloomApp;
use crate::app::actions::AppCommand;
pub use crate::app::actions::Lesson;

/// One lesson (egui's demo `View`/`Demo`): what the list and the heading say, whether it runs
/// the design on real samples, and how it draws. A new lesson is a file implementing this, a
/// `Lesson` name (app/actions.rs) and a line in [`Learn::default`].
trait Page {
    /// Which lesson this is.
    fn lesson(&self) -> Lesson;
    /// Its name in the list and its heading.
    fn title(&self) -> &'static str;
    /// Two or three sentences under the heading.
    fn blurb(&self) -> &'static str;
    /// Whether it needs the data chosen in the Train view loaded.
    fn uses_samples(&self) -> bool {
        false
    }
    /// Opened on a block of the design (the inspector's link); most lessons aren't about one.
    fn focus(&mut self, _node: Option<String>) {}
    /// Draws it.
    fn draw(&mut self, ui: &mut egui::Ui, scene: &probing::Scene<'_>);
}

/// The view's state (not saved: a lesson starts afresh each session).
pub struct Learn {
    /// The lesson showing.
    pub lesson: Lesson,
    /// Every lesson, in the order the list shows them.
    pages: Vec<Box<dyn Page>>,
}

impl Learn {
    /// Shows `lesson`, on `node` where the lesson is about one of the design's blocks.
    pub fn open(&mut self, lesson: Lesson, node: Option<String>) {
        self.lesson = lesson;
        if let Some(page) = self.pages.iter_mut().find(|p| p.lesson() == lesson) {
            page.focus(node);
        }
    }
}

impl Default for Learn {
    fn default() -> Self {
        Learn {
            lesson: Lesson::Optimizers,
            pages: vec![
                Box::new(paths::Paths::default()),
                Box::new(cloud::Cloud::default()),
                Box::new(activations::Activations::default()),
                Box::new(conv::Conv::default()),
                Box::new(norm::Norm::default()),
                Box::new(transpose::Transpose::default()),
            ],
        }
    }
}

/// Draws the Learn view.
pub(in crate::app) fn show(app: &mut NetloomApp, ui: &mut egui::Ui, _cmds: &mut Vec<AppCommand>) {
    let ctx = ui.ctx().clone();
    let lesson = app.learn.lesson;
    if app
        .learn
        .pages
        .iter()
        .any(|p| p.lesson() == lesson && p.uses_samples())
    {
        // These lessons use real samples: keep the chosen data loaded.
        app.training.update_views(&ctx, &app.doc.design);
    }
    let scene = probing::Scene {
        design: &app.doc.design,
        analysis: &app.doc.analysis,
        revision: app.doc.revision,
        data: app
            .training
            .preview()
            .loaded(app.training.data(), app.doc.design.input_shape()),
        picked: app.training.preview().current_shared(app.training.data()),
        run_dir: app
            .training
            .last_run_with_weights(&app.doc.design)
            .map(|(_, d)| d.to_path_buf()),
        selected: app
            .canvas
            .selection
            .first()
            .and_then(|&id| app.doc.design.node(id))
            .map(|n| n.name.clone()),
        data_problem: app
            .training
            .data_mismatch(&app.doc.design, &app.doc.analysis),
    };
    let learn = &mut app.learn;
    egui::Panel::left("learn_lessons")
        .exact_size(180.0)
        .show(ui, |ui| {
            ui.heading("Lessons");
            for page in &learn.pages {
                ui.selectable_value(&mut learn.lesson, page.lesson(), page.title());
            }
        });
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            let lesson = learn.lesson;
            if let Some(page) = learn.pages.iter_mut().find(|p| p.lesson() == lesson) {
                ui.heading(page.title());
                ui.add(egui::Label::new(page.blurb()).wrap());
                ui.add_space(6.0);
                page.draw(ui, &scene);
            }
        });
    });
}
