//! File dialogs that never fail silently. Every "choose a file" in the app goes through
//! [`FileDialogs::ask`] with a [`FilePurpose`], and every answer comes back through one path
//! (`AppCommand::Chosen`), whether the native dialog or the in-app one gave it.
//!
//! The native dialog (rfd) answers `None` both when the user cancels and when it could not
//! open at all: on a Linux desktop without an xdg-desktop-portal and without zenity, rfd
//! reports the failure only in its log. So netloom listens to rfd's log: an error from rfd
//! during a call means the dialog never showed. Then the app switches to the in-app dialog
//! (egui-file-dialog) for the rest of the session, says so once in the error bar, and opens it
//! for the same request, so the user's Save or Open still happens.
//!
//! `NETLOOM_FILE_DIALOG=in-app` chooses the in-app dialog from the start (for desktops whose
//! native dialog hangs rather than fails).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a chosen path is for; it decides the dialog's title, kind and filters, and what the app
/// does with the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilePurpose {
    /// Open a design (.json).
    OpenDesign,
    /// Import a network (.onnx).
    ImportOnnx,
    /// Save the design under a new name.
    SaveDesign,
    /// A folder with one subfolder of images per class, to train on.
    DataFolder,
    /// A table (CSV or TSV, gzipped or not), to train on.
    DataTable,
    /// A segmentation folder (images/ and masks/), to train on.
    DataMasks,
    /// Pretrained weights to start from.
    Weights,
    /// Every run's metrics, as CSV.
    MetricsCsv,
    /// The window as PNG (the plots).
    PlotsPng,
    /// Where an export goes.
    ExportTo(crate::export::ExportFormat),
    /// Weights to export with the design.
    ExportWeights,
    /// A run folder to show in the Train view (netloom's, or an exported train.py's).
    RunFolder,
    /// A sweep folder to show in the Experiments view (netloom's, or tune.py's results).
    SweepFolder,
    /// Where the Experiments view's sweep is saved as a file.
    SaveSweep,
    /// A sweep file to open into the Experiments view's editor.
    OpenSweep,
}

/// Whether a dialog picks an existing file, names a file to write, or picks a folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Open,
    Save(&'static str),
    Folder,
}

impl FilePurpose {
    fn title(self) -> &'static str {
        match self {
            FilePurpose::OpenDesign => "Open a netloom design",
            FilePurpose::ImportOnnx => "Import an ONNX model",
            FilePurpose::SaveDesign => "Save the design",
            FilePurpose::DataFolder => "A folder with one subfolder of images per class",
            FilePurpose::DataTable => "A table to train on (CSV or TSV)",
            FilePurpose::DataMasks => "A folder with images/ and masks/ (a mask PNG per image)",
            FilePurpose::Weights => "Pretrained weights",
            FilePurpose::MetricsCsv => "Save the metrics of every run",
            FilePurpose::PlotsPng => "Save the plots",
            FilePurpose::ExportTo(_) => "Export to",
            FilePurpose::ExportWeights => "Weights to export",
            FilePurpose::RunFolder => "A run folder (with metrics.csv)",
            FilePurpose::SweepFolder => "A sweep folder (with trials.csv)",
            FilePurpose::SaveSweep => "Save the sweep",
            FilePurpose::OpenSweep => "Open a netloom sweep",
        }
    }

    fn kind(self) -> Kind {
        match self {
            FilePurpose::OpenDesign
            | FilePurpose::ImportOnnx
            | FilePurpose::DataTable
            | FilePurpose::Weights
            | FilePurpose::ExportWeights
            | FilePurpose::OpenSweep => Kind::Open,
            FilePurpose::SaveSweep => Kind::Save("sweep.json"),
            FilePurpose::ExportTo(f) => Kind::Save(f.default_name()),
            FilePurpose::SaveDesign => Kind::Save("design.json"),
            FilePurpose::MetricsCsv => Kind::Save("metrics.csv"),
            FilePurpose::PlotsPng => Kind::Save("training.png"),
            FilePurpose::DataFolder
            | FilePurpose::DataMasks
            | FilePurpose::RunFolder
            | FilePurpose::SweepFolder => Kind::Folder,
        }
    }

    /// The filter's name and extensions (none for folders).
    fn filter(self) -> Option<(&'static str, &'static [&'static str])> {
        match self {
            FilePurpose::OpenDesign | FilePurpose::SaveDesign => {
                Some(("netloom design", &["json"]))
            }
            FilePurpose::OpenSweep | FilePurpose::SaveSweep => Some(("netloom sweep", &["json"])),
            FilePurpose::Weights | FilePurpose::ExportWeights => {
                Some(("weights", &["safetensors", "pt", "pth", "bin"]))
            }
            FilePurpose::ExportTo(crate::export::ExportFormat::Onnx) | FilePurpose::ImportOnnx => {
                Some(("ONNX", &["onnx"]))
            }
            FilePurpose::ExportTo(crate::export::ExportFormat::Torchscript) => {
                Some(("TorchScript", &["pt"]))
            }
            FilePurpose::ExportTo(_) => None,
            FilePurpose::MetricsCsv => Some(("CSV", &["csv"])),
            FilePurpose::DataTable => Some(("table", &["csv", "tsv", "gz"])),
            FilePurpose::PlotsPng => Some(("PNG", &["png"])),
            FilePurpose::DataFolder
            | FilePurpose::DataMasks
            | FilePurpose::RunFolder
            | FilePurpose::SweepFolder => None,
        }
    }
}

/// What asking gave at once.
#[derive(Debug, PartialEq, Eq)]
pub enum Asked {
    /// The native dialog gave this path.
    Picked(PathBuf),
    /// The user cancelled the native dialog.
    Cancelled,
    /// The in-app dialog is open; its answer comes from [`FileDialogs::show`]. `fell_back`
    /// says why the native dialog could not open, the one time netloom switched over.
    InApp { fell_back: Option<String> },
}

/// Errors rfd logged, counted, with the last message (see the module doc).
static NATIVE_FAILURES: AtomicUsize = AtomicUsize::new(0);
static LAST_FAILURE: Mutex<Option<String>> = Mutex::new(None);

/// The logger that hears rfd's failures. Other records are dropped, as they were before
/// netloom had a logger.
struct DialogLog;

impl log::Log for DialogLog {
    fn enabled(&self, meta: &log::Metadata<'_>) -> bool {
        meta.level() <= log::Level::Error && meta.target().starts_with("rfd")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            if let Ok(mut last) = LAST_FAILURE.lock() {
                *last = Some(record.args().to_string());
            }
            NATIVE_FAILURES.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn flush(&self) {}
}

/// Installs the listener once per process. Another logger installed first (a test harness,
/// an embedding app) wins; then a failed native dialog reads as a cancel, as without netloom.
fn listen_to_rfd() {
    static LOGGER: DialogLog = DialogLog;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Error);
    }
}

/// The app's file dialogs: native while it works, in-app after it failed once.
pub struct FileDialogs {
    native: bool,
    /// The in-app dialog, with what it was opened for.
    in_app: Option<(FilePurpose, egui_file_dialog::FileDialog)>,
}

impl Default for FileDialogs {
    fn default() -> Self {
        listen_to_rfd();
        let forced = std::env::var("NETLOOM_FILE_DIALOG").is_ok_and(|v| v == "in-app");
        FileDialogs {
            native: !forced,
            in_app: None,
        }
    }
}

impl FileDialogs {
    /// Asks for a path for `purpose`, starting in `start` when given.
    pub fn ask(&mut self, purpose: FilePurpose, start: Option<&Path>, name: Option<&str>) -> Asked {
        let mut fell_back = None;
        if self.native {
            let before = NATIVE_FAILURES.load(Ordering::SeqCst);
            let picked = native(purpose, start, name);
            if let Some(path) = picked {
                return Asked::Picked(path);
            }
            if NATIVE_FAILURES.load(Ordering::SeqCst) == before {
                return Asked::Cancelled;
            }
            self.native = false;
            let why = LAST_FAILURE
                .lock()
                .ok()
                .and_then(|l| l.clone())
                .unwrap_or_default();
            fell_back = Some(format!(
                "The system file dialog could not open: no desktop portal answered, and its fallback \
                 failed ({why}). netloom uses its own file dialog from now on; installing \
                 xdg-desktop-portal with a backend (such as xdg-desktop-portal-gtk), or zenity, \
                 brings the system one back."
            ));
        }
        self.open_in_app(purpose, start, name);
        Asked::InApp { fell_back }
    }

    /// True while the in-app dialog is open for `purpose`.
    pub fn is_asking(&self, purpose: FilePurpose) -> bool {
        self.in_app.as_ref().is_some_and(|(p, _)| *p == purpose)
    }

    /// True while the in-app dialog is open.
    pub fn is_open(&self) -> bool {
        self.in_app.is_some()
    }

    fn open_in_app(&mut self, purpose: FilePurpose, start: Option<&Path>, name: Option<&str>) {
        let mut dialog = egui_file_dialog::FileDialog::new()
            .title(purpose.title())
            .id(egui::Id::new("netloom_file_dialog"))
            .as_modal(true)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .default_size([720.0, 440.0]);
        if let Some(dir) = start {
            dialog = dialog.initial_directory(dir.to_owned());
        }
        if let Some((name, exts)) = purpose.filter() {
            dialog = dialog
                .add_file_filter_extensions(name, exts.to_vec())
                .default_file_filter(name);
            if let Kind::Save(_) = purpose.kind()
                && let Some(ext) = exts.first()
            {
                dialog = dialog
                    .add_save_extension(name, ext)
                    .default_save_extension(name);
            }
        }
        match purpose.kind() {
            Kind::Open => dialog.pick_file(),
            Kind::Save(default) => {
                dialog = dialog.default_file_name(name.unwrap_or(default));
                dialog.save_file();
            }
            Kind::Folder => dialog.pick_directory(),
        }
        self.in_app = Some((purpose, dialog));
    }

    /// Draws the in-app dialog while it is open; gives the path once the user chose one.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<(FilePurpose, PathBuf)> {
        let (purpose, dialog) = self.in_app.as_mut()?;
        let purpose = *purpose;
        dialog.update(ctx);
        let picked = dialog.take_picked();
        let closed = !matches!(dialog.state(), egui_file_dialog::DialogState::Open);
        if picked.is_some() || closed {
            self.in_app = None;
        }
        picked.map(|p| (purpose, p))
    }
}

/// The system dialog for `purpose` (blocks until it closes).
fn native(purpose: FilePurpose, start: Option<&Path>, name: Option<&str>) -> Option<PathBuf> {
    let mut dialog = rfd::FileDialog::new().set_title(purpose.title());
    if let Some(dir) = start {
        dialog = dialog.set_directory(dir);
    }
    if let Some((name, exts)) = purpose.filter() {
        dialog = dialog.add_filter(name, exts);
    }
    match purpose.kind() {
        Kind::Open => dialog.pick_file(),
        Kind::Save(default) => dialog.set_file_name(name.unwrap_or(default)).save_file(),
        Kind::Folder => dialog.pick_folder(),
    }
}
