//! `netloom export SOURCE --format pytorch|onnx|torchscript --out PATH`: the design (and its
//! weights) as PyTorch code, ONNX or TorchScript.

use super::{EXIT_UNREADABLE, common};
use crate::engine::run_dir;
use crate::engine::run_dir::RunDir;
use crate::export::{ExportFormat, ExportRequest, OPSET, OPSETS, export};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `netloom export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A design file, or a run folder (its design.json, best.safetensors, preprocessor.json
    /// and the data it trained on are used).
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
    /// The training data train.py reads (as for train; default: a run folder's own data,
    /// else the design's default).
    #[arg(long, value_name = "SPEC")]
    pub data: Option<String>,
    /// The ONNX operator set, 17 to 21 (GELU is an op of its own from 20).
    #[arg(long, value_name = "N", default_value_t = OPSET, value_parser = parse_opset)]
    pub opset: i64,
}

fn parse_opset(s: &str) -> Result<i64, String> {
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|v| OPSETS.contains(v))
        .ok_or_else(|| {
            format!(
                "netloom writes ONNX opsets {} to {}, not {s}",
                OPSETS.start(),
                OPSETS.end()
            )
        })
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
            for note in &summary.notes {
                eprintln!("netloom: note: {note}");
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
    let source = common::source(src, args.weights.as_deref())?;
    if let Some(w) = &source.weights
        && !w.exists()
    {
        return Err(format!("the weights file does not exist: {}", w.display()));
    }
    let title = match &source.run {
        Some(dir) => dir.file_name().map_or_else(
            || title_of(&source.design_path),
            |n| n.to_string_lossy().into_owned(),
        ),
        None => title_of(&source.design_path),
    };
    // A run's own data unless --data names other: train.py trains on what the run did.
    let (data, classes) = match (&args.data, &source.run) {
        (None, Some(dir)) => {
            let record = run_dir::DataRecord::read(dir).map_err(|e| e.to_string())?;
            let (spec, said) = run_dir::data_of_run(dir, source.design.input_shape())
                .map_err(|e| e.to_string())?;
            if args.format == ExportFormat::Pytorch {
                eprintln!("netloom: train.py trains on {said}");
            }
            (Some(spec), record.map(|r| r.fingerprint.classes))
        }
        (spec, _) => (
            spec.as_deref()
                .map(crate::data::DataSpec::parse)
                .transpose()
                .map_err(|e| e.to_string())?,
            None,
        ),
    };
    let preprocessor = source
        .run
        .as_ref()
        .map(|d| RunDir::at(d).preprocessor())
        .filter(|p| p.is_file());
    let mut inputs = vec![source.design_path.clone()];
    inputs.extend(source.run.clone());
    Ok(ExportRequest {
        design: source.design,
        title,
        format: args.format,
        weights: source.weights,
        preprocessor,
        data,
        out: args.out.clone(),
        inputs,
        opset: args.opset,
        classes,
    })
}
