//! What the UI can ask the app for: [`AppCommand`] and the small vocabularies it carries
//! (which lesson, which zoom, which Help window, which step of an export). Panels, menus,
//! shortcuts and dialogs queue commands while drawing; `commands.rs` applies them at the end of
//! the frame. This module names things and does nothing, so every part of the app can ask
//! without the parts importing each other in circles (tests/layers.rs forbids circles).
//! The behaviour of each vocabulary stays with its owner: `impl Lesson` in the Learn view,
//! `impl Zoom` and the shortcut table in `help.rs`, the Export window in `export.rs`.

use super::View;
use super::dialogs::FilePurpose;
use super::training::TrainAction;
use crate::design::{self, edit::Edit};
use crate::ui::canvas::Fit;
use std::path::PathBuf;

/// Things the UI asks for while drawing; applied after the frame.
pub(super) enum AppCommand {
    New,
    OpenDialog,
    /// File → Import ONNX…: ask for the model file.
    ImportDialog,
    OpenFile(PathBuf),
    OpenExample(&'static str, &'static str),
    /// A new design from a template of a known architecture (torchvision's names).
    OpenTemplate(&'static str),
    Save,
    SaveAs,
    RestoreAutosave,
    DiscardAutosave,
    Copy,
    Paste(String),
    Train(TrainAction),
    /// Open Help → About.
    About,
    /// Ask for a run folder to show in the Train view.
    OpenRunFolder,
    /// Ask for a sweep folder to show in the Experiments view.
    OpenSweepFolder,
    /// Ask where to save the Experiments view's sweep as a file.
    SaveSweepDialog,
    /// Ask for a sweep file to open into the Experiments view's editor.
    OpenSweepDialog,
    /// A sweep trial's design into the editor, as a new unsaved design (its trial's name).
    OpenTrialDesign(Box<crate::design::Design>, String),
    /// Something the Export window asked for.
    Export(ExportAction),
    /// A file dialog's answer (native or in-app).
    Chosen(FilePurpose, PathBuf),
    /// A command the user let replace unsaved changes ("Don't save").
    Discarding(Box<AppCommand>),
    Show(View),
    /// Show a Learn lesson, on a block of the design where it is about one.
    Lesson(Lesson, Option<String>),
    Undo,
    Redo,
    /// Auto layout, wires running this way.
    Layout(design::layout::Direction),
    /// Zoom the canvas (menu, keys).
    Zoom(Zoom),
    /// Open a Help window.
    Help(HelpWindow),
    Edit(Edit),
    Quit,
}

impl AppCommand {
    /// True for commands that replace the document (so unsaved changes are asked about first).
    pub(super) fn replaces_document(&self) -> bool {
        matches!(
            self,
            AppCommand::New
                | AppCommand::OpenDialog
                | AppCommand::ImportDialog
                | AppCommand::OpenFile(_)
                | AppCommand::OpenExample(..)
                | AppCommand::OpenTemplate(_)
                | AppCommand::OpenTrialDesign(..)
                | AppCommand::RestoreAutosave
                | AppCommand::Quit
        )
    }
}

/// A zoom the user asked for (menu, key or canvas button).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zoom {
    In,
    Out,
    Fit(Fit),
}

/// Which Help window is open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HelpWindow {
    #[default]
    None,
    Shortcuts,
    Docs,
}

/// What the Export window asks the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum ExportAction {
    /// Open the window.
    Open,
    /// Write the export as the window describes it.
    Start,
    /// Ask for the destination.
    ChooseDestination,
    /// Ask for a weights file.
    ChooseWeights,
}

/// The lessons, in the order the view lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Lesson {
    /// Optimizers racing over loss surfaces.
    Optimizers,
    /// Zero-centring, standardising, PCA and whitening.
    Preprocessing,
    /// Activation functions and their derivatives.
    Activations,
    /// A convolution or pooling window sliding over a real sample.
    Convolution,
    /// Batch norm's effect on activations; dropout's mask.
    Normalisation,
    /// A transposed convolution's window in reverse, and its checkerboard.
    TransposedConvolution,
}
