//! `netloom import MODEL.onnx -o DESIGN.json`: an ONNX network as a design and its weights,
//! which the design names as its pretrained weights.

use crate::import::{ImportError, import_onnx};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `netloom import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The ONNX file (weights in a side file beside it are read too).
    #[arg(value_name = "MODEL.onnx")]
    pub model: PathBuf,
    /// Where to write the design.
    #[arg(long, short, value_name = "DESIGN.json")]
    pub output: PathBuf,
    /// Where to write the weights (default: beside the design, as DESIGN.safetensors).
    #[arg(long, value_name = "OUT.safetensors")]
    pub weights: Option<PathBuf>,
    /// Replace the design or weights file when it exists (without this, it is refused).
    #[arg(long)]
    pub overwrite: bool,
    /// Print every weight's mapping, not only the summary and notes.
    #[arg(long, short)]
    pub verbose: bool,
}

/// The weights' default place: the design's path with `.safetensors`.
fn weights_beside(design: &Path) -> PathBuf {
    design.with_extension("safetensors")
}

/// Runs `netloom import`.
pub fn run(args: &ImportArgs) -> ExitCode {
    let weights = args
        .weights
        .clone()
        .unwrap_or_else(|| weights_beside(&args.output));
    for path in [&args.output, &weights] {
        if path.exists() && !args.overwrite {
            eprintln!(
                "netloom: {} exists, and netloom won't replace a file it may not have written: choose another name, or add --overwrite",
                path.display()
            );
            return ExitCode::from(super::EXIT_UNREADABLE);
        }
    }
    let started = std::time::Instant::now();
    let imported = match import_onnx(&args.model) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("netloom: {e}");
            // A file netloom can't read is bad input (2); a network it can't represent, 1.
            let code = match e {
                ImportError::Io { .. } | ImportError::NotOnnx { .. } => super::EXIT_UNREADABLE,
                _ => 1,
            };
            return ExitCode::from(code);
        }
    };
    // Weights first: a design without its weights is the worse half to be left with. The
    // design names them as the pretrained weights runs start from (saved relative to its
    // folder when beside it), as the app's import does.
    let (design, report) = match imported.write_weights(&weights) {
        Ok(written) => written,
        Err(e) => {
            eprintln!("netloom: {e}");
            return ExitCode::from(super::EXIT_UNREADABLE);
        }
    };
    if let Err(e) = crate::document::save_design(&design, &args.output) {
        eprintln!("netloom: can't write {}: {e}", args.output.display());
        let _ = std::fs::remove_file(&weights);
        return ExitCode::from(super::EXIT_UNREADABLE);
    }
    println!("{}", report.text(args.verbose));
    let a = crate::design::analyse(&design);
    eprintln!(
        "netloom: imported {} nodes ({} parameters, {} groups) in {:.2} s: {} and {}",
        design.nodes.len(),
        crate::units::thousands(a.totals.params),
        design.groups.len(),
        started.elapsed().as_secs_f64(),
        args.output.display(),
        weights.display()
    );
    ExitCode::SUCCESS
}
