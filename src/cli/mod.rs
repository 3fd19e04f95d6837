//! The command line: `netloom` with no subcommand opens the app; subcommands run headless.
//! The one layer that writes to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod check;
mod common;
mod eval;
mod export;
mod forward;
mod import;
mod sweep;
mod train;
mod weights;

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// netloom: draw a neural network, see every shape, train it on libtorch.
#[derive(Debug, Parser)]
#[command(name = "netloom", version, long_version = version_report(), about, long_about = None)]
pub struct Cli {
    /// What to do; none opens the desktop app.
    #[command(subcommand)]
    pub command: Option<Subcommand>,
    /// A design to open in the app (default: the LeNet-5 example).
    #[arg(value_name = "DESIGN.json")]
    pub open: Option<PathBuf>,
    /// Measure the app's own frame times (CPU time per frame, redrawing continuously) and print
    /// the median and 99th percentile, idle and while training, when the window closes.
    #[arg(long)]
    pub frame_stats: bool,
    /// Close the app as soon as its first frame is on screen: the process's run time is then
    /// the time to the first frame (scripts/bench-startup.sh).
    #[arg(long)]
    pub exit_after_first_frame: bool,
}

/// `netloom --version`: the version, the libtorch, and the device support found at start
/// (the CUDA libraries loaded or not, and why), as a packaged netloom's first check.
fn version_report() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        let cuda = crate::engine::cuda::init();
        let devices: Vec<String> = crate::engine::available_devices()
            .into_iter()
            .map(|(_, d)| d.name)
            .collect();
        format!(
            "{}\nlibtorch {}\ndevices: {}\ncuda: {}",
            env!("CARGO_PKG_VERSION"),
            crate::engine::cuda::LIBTORCH_VERSION,
            devices.join(", "),
            cuda.describe()
        )
    })
}

/// The headless subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Subcommand {
    /// Show every node's output shape, parameters and MACs, and every problem of a design.
    ///
    /// Exits 0 for a valid design, 1 for an invalid one, 2 when the file can't be read.
    Check(check::CheckArgs),
    /// Train a design on a background thread, writing DIR/metrics.csv, DIR/weights.safetensors
    /// and DIR/design.json (plus what --resume needs).
    ///
    /// Exits 0 when the run ends or stops cleanly, 1 when training fails, 2 for bad input.
    Train(train::TrainArgs),
    /// Print loss, accuracy and the confusion matrix of trained weights on the validation split.
    Eval(eval::EvalArgs),
    /// Write the design (and its weights) as PyTorch code that trains under torchrun, as ONNX,
    /// or as TorchScript.
    ///
    /// Exits 0 when written, 1 when the design or weights can't be exported, 2 when an input
    /// can't be read or PATH can't be written (nothing is left half-written at PATH).
    Export(export::ExportArgs),
    /// Run the network in eval mode on a float32 .npy batch and write the output as .npy.
    Forward(forward::ForwardArgs),
    /// List the tensors of a weights file (.safetensors, .pt, .pth), or show how they map onto
    /// a design by name: matched, missing, unexpected and shape mismatches.
    Weights(weights::WeightsArgs),
    /// Write a design of a known architecture (LeNet, VGG, ResNet, MobileNet, EfficientNet,
    /// DenseNet, SqueezeNet, RegNet, ConvNeXt; U-Net and FCN for segmentation) with
    /// torchvision's names, ready for torchvision's weights.
    Template(weights::TemplateArgs),
    /// Read an ONNX network into a design and its weights (.safetensors): names from the
    /// exporter's module paths and the state dict's keys, so torchvision's .pth loads too.
    ///
    /// Exits 0 when written, 1 when the network has ops netloom can't represent (each listed,
    /// nothing written), 2 when the file can't be read or a destination exists.
    Import(import::ImportArgs),
    /// Train every trial of a sweep (docs/design-format.md, "Sweeps"), a few at a time, each
    /// into a run folder under --out, with --out/trials.csv; --resume DIR continues one.
    ///
    /// Exits 0 when the sweep ran, 1 when no trial could train, 2 for bad input, 130 when
    /// stopped (resumable).
    Sweep(sweep::SweepArgs),
}

/// The refusal of a first word that is neither a command nor a file: `netloom trian` would
/// otherwise open the window on a design called "trian" (or say "DISPLAY is not set" on a
/// server), and `netloom trian x.json` would say "unexpected argument". None lets clap (or the
/// app) take the arguments.
pub fn unknown_command(args: &[std::ffi::OsString]) -> Option<String> {
    use clap::CommandFactory;
    let word = args.get(1)?.to_str()?;
    if word.starts_with('-') || std::path::Path::new(word).exists() {
        return None;
    }
    let cli = Cli::command();
    let commands: Vec<String> = cli
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .chain(["help".to_owned()])
        .collect();
    if commands.iter().any(|c| c == word) {
        return None;
    }
    // A single word without a folder or an extension is meant as a command; anything followed
    // by more arguments is too (the app takes one design).
    let looks_like_a_file = word.contains(['/', '\\', '.']);
    if looks_like_a_file && args.len() <= 2 {
        return None;
    }
    let closest = commands
        .iter()
        .map(|c| (edit_distance(word, c), c))
        .min()
        .filter(|(d, c)| *d <= 2.max(c.len() / 3));
    Some(match closest {
        Some((_, c)) => format!("unknown command '{word}' (did you mean '{c}'?)"),
        None => format!(
            "unknown command '{word}': the commands are {}; to open a design in the app, give its file",
            commands.join(", ")
        ),
    })
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Exit status for a usage error or an unreadable file (clap uses 2 for usage errors too).
pub const EXIT_UNREADABLE: u8 = 2;

/// Runs a headless subcommand and returns the process exit code.
pub fn run(command: Subcommand) -> ExitCode {
    match command {
        Subcommand::Check(args) => check::run(&args),
        Subcommand::Train(args) => train::run(&args),
        Subcommand::Eval(args) => eval::run(&args),
        Subcommand::Export(args) => export::run(&args),
        Subcommand::Forward(args) => forward::run(&args),
        Subcommand::Weights(args) => weights::run(&args),
        Subcommand::Template(args) => weights::run_template(&args),
        Subcommand::Import(args) => import::run(&args),
        Subcommand::Sweep(args) => sweep::run(&args),
    }
}
