//! Help: the keyboard shortcuts (one table, which the key handling, the menus and the
//! shortcut sheet all read, so they cannot disagree) and where the documentation is.

use super::NetloomApp;
use super::actions::{AppCommand, HelpWindow, Zoom};
use crate::ui::canvas::Fit;
use egui::{Key, KeyboardShortcut, Modifiers};
use std::path::PathBuf;

const CMD: Modifiers = Modifiers::COMMAND;
const CMD_SHIFT: Modifiers = Modifiers::COMMAND.plus(Modifiers::SHIFT);

/// A shortcut, the label of its command (as the menus write it), and the command.
type Shortcut = (KeyboardShortcut, &'static str, fn() -> AppCommand);

/// The shortcuts that are commands: what the keys do wherever no text field has the keyboard.
pub(super) const SHORTCUTS: &[Shortcut] = &[
    // Each Ctrl+Shift shortcut before its Ctrl one: egui matches Ctrl+Shift+Z against Ctrl+Z.
    (KeyboardShortcut::new(CMD_SHIFT, Key::Z), "Redo", || {
        AppCommand::Redo
    }),
    (KeyboardShortcut::new(CMD, Key::Y), "Redo", || {
        AppCommand::Redo
    }),
    (KeyboardShortcut::new(CMD, Key::Z), "Undo", || {
        AppCommand::Undo
    }),
    (
        KeyboardShortcut::new(CMD_SHIFT, Key::S),
        "Save As…",
        || AppCommand::SaveAs,
    ),
    (KeyboardShortcut::new(CMD, Key::S), "Save", || {
        AppCommand::Save
    }),
    (KeyboardShortcut::new(CMD, Key::O), "Open…", || {
        AppCommand::OpenDialog
    }),
    (KeyboardShortcut::new(CMD, Key::Q), "Quit", || {
        AppCommand::Quit
    }),
    (KeyboardShortcut::new(CMD, Key::Equals), "Zoom in", || {
        AppCommand::Zoom(Zoom::In)
    }),
    (KeyboardShortcut::new(CMD, Key::Plus), "Zoom in", || {
        AppCommand::Zoom(Zoom::In)
    }),
    (KeyboardShortcut::new(CMD, Key::Minus), "Zoom out", || {
        AppCommand::Zoom(Zoom::Out)
    }),
    (
        KeyboardShortcut::new(CMD_SHIFT, Key::Num0),
        "Whole design",
        || AppCommand::Zoom(Zoom::Fit(Fit::Whole)),
    ),
    (
        KeyboardShortcut::new(CMD, Key::Num0),
        "Fit, readable",
        || AppCommand::Zoom(Zoom::Fit(Fit::Readable)),
    ),
];

/// The shortcut of the command labelled `label`, as the platform writes it ("Ctrl+S").
pub(super) fn shortcut_of(ctx: &egui::Context, label: &str) -> String {
    SHORTCUTS
        .iter()
        .find(|(_, l, _)| *l == label)
        .map(|(k, _, _)| written(ctx, k))
        .unwrap_or_default()
}

/// A shortcut as the platform writes it, with the keys egui names in words ("Equals") as
/// they are printed on the keyboard.
fn written(ctx: &egui::Context, shortcut: &KeyboardShortcut) -> String {
    let text = ctx.format_shortcut(shortcut);
    match shortcut.logical_key {
        Key::Equals => text.replace("Equals", "="),
        Key::Minus => text.replace("Minus", "−"),
        Key::Plus => text.replace("Plus", "+"),
        _ => text,
    }
}

/// Pushes the commands whose shortcuts were pressed this frame.
pub(super) fn shortcut_commands(ctx: &egui::Context, cmds: &mut Vec<AppCommand>) {
    for (shortcut, _, cmd) in SHORTCUTS {
        // The table lists Ctrl+Shift+S before Ctrl+S: egui lets an extra Shift match, so the
        // first match takes (and consumes) the key.
        if ctx.input_mut(|i| i.consume_shortcut(shortcut)) {
            cmds.push(cmd());
        }
    }
}

/// The sheet's other rows: the canvas's keys and gestures.
const CANVAS_KEYS: &[(&str, &str)] = &[
    ("Wheel, or drag the background", "Pan the canvas"),
    ("Ctrl+wheel, or pinch", "Zoom the canvas about the pointer"),
    (
        "Double-click the background",
        "Fit the design at a size you can read",
    ),
    ("Click a block", "Show it in the inspector"),
    ("Shift+click, or drag a rectangle", "Select several blocks"),
    ("Drag a block's title", "Move it"),
    ("Drag from a pin to a pin", "Wire them"),
    ("Right-click a wire", "Delete it, or insert a block into it"),
    ("Right-click the background", "Add a block there"),
    ("Del or Backspace", "Delete the selection"),
    (
        "Ctrl+C, Ctrl+V",
        "Copy and paste blocks (also between files)",
    ),
    ("Ctrl+D", "Duplicate the selection"),
    ("Ctrl+G", "Group the selection"),
    (
        "Click a group's title",
        "Collapse the group (double-click a collapsed one to open it)",
    ),
    (
        "Click a palette block",
        "Add it after the selected block, wired to it",
    ),
];

/// Where the documentation is: beside the installed binary (the .deb and the tarball put it in
/// share/doc/netloom), else the source tree's (a developer's build).
pub fn docs_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let installed = exe.parent()?.parent()?.join("share/doc/netloom");
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [installed, source]
        .into_iter()
        .find(|d| d.join("README.md").is_file())
}

/// The documents a user reads, with what each is for.
const DOCS: &[(&str, &str)] = &[
    ("README.md", "Start here: install, the views, the CLI"),
    (
        "docs/training.md",
        "Training: settings, data, what the plots show",
    ),
    (
        "docs/transfer-learning.md",
        "Pretrained weights, freezing, fine-tuning",
    ),
    ("docs/design-format.md", "The design file, block by block"),
    ("docs/scale-out.md", "Exported PyTorch code on many GPUs"),
    ("docs/performance.md", "Speed and memory, measured"),
];

impl NetloomApp {
    /// The Help menu's windows, while open.
    pub(super) fn help_windows(&mut self, ctx: &egui::Context) {
        let mut open = true;
        match self.help {
            HelpWindow::None => return,
            HelpWindow::Shortcuts => {
                egui::Window::new("Keyboard shortcuts")
                    .open(&mut open)
                    .collapsible(false)
                    .resizable(false)
                    .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
                    .show(ctx, shortcut_sheet);
            }
            HelpWindow::Docs => {
                let chosen = egui::Window::new("Documentation")
                    .open(&mut open)
                    .collapsible(false)
                    .resizable(false)
                    .default_width(560.0)
                    .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
                    .show(ctx, docs_list)
                    .and_then(|r| r.inner.flatten());
                if let Some(path) = chosen {
                    self.open_document(ctx, &path);
                }
            }
        }
        if !open {
            self.help = HelpWindow::None;
        }
    }

    /// Opens a document with the desktop's viewer; where there is none (a bare X server, a
    /// container), copies its path and says so, rather than doing nothing.
    fn open_document(&mut self, ctx: &egui::Context, path: &std::path::Path) {
        if let Err(e) = open::that_detached(path) {
            ctx.copy_text(path.display().to_string());
            self.notice = Some(format!(
                "No program to show documents could be started ({e}); the file's path is copied: {}",
                path.display()
            ));
        }
    }
}

fn shortcut_sheet(ui: &mut egui::Ui) {
    let ctx = ui.ctx().clone();
    egui::Grid::new("shortcut_sheet")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            let mut seen = Vec::new();
            for (key, label, _) in SHORTCUTS {
                // One row per command (Ctrl+= and Ctrl++ both zoom in).
                if seen.contains(label) {
                    continue;
                }
                seen.push(label);
                ui.label(egui::RichText::new(written(&ctx, key)).monospace());
                ui.label(*label);
                ui.end_row();
            }
            for (keys, what) in CANVAS_KEYS {
                ui.label(egui::RichText::new(*keys).monospace());
                ui.label(*what);
                ui.end_row();
            }
        });
}

/// The documents, each with a button that opens it; returns the one clicked.
fn docs_list(ui: &mut egui::Ui) -> Option<PathBuf> {
    let Some(dir) = docs_dir() else {
        ui.label(
            "The documentation isn't installed beside this netloom. It is in the README.md and \
             docs/ folder of netloom's source.",
        );
        return None;
    };
    let mut chosen = None;
    ui.label("netloom's documentation is in Markdown files, readable in any text editor:");
    ui.add_space(4.0);
    egui::Grid::new("docs_list").num_columns(3).show(ui, |ui| {
        for (file, what) in DOCS {
            let path = dir.join(file);
            if !path.is_file() {
                continue;
            }
            if ui
                .button(*file)
                .on_hover_text("Open it with the system's viewer for Markdown")
                .clicked()
            {
                chosen = Some(path.clone());
            }
            ui.label(*what);
            ui.add(egui::Label::new(
                egui::RichText::new(path.display().to_string())
                    .small()
                    .monospace(),
            ));
            ui.end_row();
        }
    });
    chosen
}
