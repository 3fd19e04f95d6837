//! `netloom export SOURCE --format pytorch|onnx|torchscript --out PATH`: the design (and its
//! weights) as PyTorch code, ONNX or TorchScript.

use super::{EXIT_UNREADABLE, common};
use crate::engine::export::{ExportFormat, ExportRequest, export};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `netloom export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A design file, or a run folder (its design.json, best.safetensors and preprocessor.json
    /// are used).
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,
    /// What to write.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Where: a folder for pytorch, a file for onnx and torchscript.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// The weights (.safetensors, .pt, .pth); needed for onnx and torchscript unless SOURCE is
    /// a run folder.
    #[arg(long, value_name = "W")]
    pub weights: Option<PathBuf>,
    /// The training data train.py reads (as for train; default: the design's default).
    #[arg(long, value_name = "SPEC")]
    pub data: Option<String>,
}

/// Runs the command: 0 when written, 1 when the design or weights can't be exported, 2 when
/// an input can't be read or the destination can't be written.
pub fn run(args: &ExportArgs) -> ExitCode {
    let started = Instant::now();
    let req = match request(args) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("netloom: {msg}");
            return ExitCode::from(EXIT_UNREADABLE);
        }
    };
    match export(&req) {
        Ok(summary) => {
            let total: u64 = summary.files.iter().map(|(_, n)| n).sum();
            println!(
                "wrote {} ({}, {} file(s), {:.1} MB) in {:.2} s",
                summary.out.display(),
                req.format.label(),
                summary.files.len(),
                total as f64 / 1e6,
                started.elapsed().as_secs_f64()
            );
            if summary.files.len() > 1 {
                for (name, size) in &summary.files {
                    println!("  {name:<40} {size:>12} bytes");
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("netloom: {e}");
            ExitCode::from(if e.is_input_problem() {
                EXIT_UNREADABLE
            } else {
                1
            })
        }
    }
}

fn title_of(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "design".to_owned(), |s| s.to_string_lossy().into_owned())
}

fn request(args: &ExportArgs) -> Result<ExportRequest, String> {
    let src = &args.source;
    let (design_path, weights, preprocessor) = if src.is_dir() {
        let design = src.join("design.json");
        if !design.is_file() {
            return Err(format!(
                "{} is a folder without design.json: give a design file or a run folder",
                src.display()
            ));
        }
        let best = src.join("best.safetensors");
        let weights = args
            .weights
            .clone()
            .or_else(|| best.is_file().then_some(best));
        let pre = src.join("preprocessor.json");
        (design, weights, pre.is_file().then_some(pre))
    } else {
        (src.clone(), args.weights.clone(), None)
    };
    if let Some(w) = &weights
        && !w.is_file()
    {
        return Err(format!("the weights file does not exist: {}", w.display()));
    }
    let design = common::design(&design_path)?;
    let title = if src.is_dir() {
        src.file_name().map_or_else(
            || title_of(&design_path),
            |n| n.to_string_lossy().into_owned(),
        )
    } else {
        title_of(&design_path)
    };
    let data = args
        .data
        .as_deref()
        .map(crate::data::DataSpec::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    Ok(ExportRequest {
        design,
        title,
        format: args.format,
        weights,
        preprocessor,
        data,
        out: args.out.clone(),
    })
}
