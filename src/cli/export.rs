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
    /// A design file, a run folder (its design.json, best.safetensors, preprocessor.json and
    /// the data it trained on are used), or a sweep file (with --format ray-tune).
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

/// The sweep SOURCE is, if it is one (a file whose "format" is "netloom-sweep").
fn sweep_of(path: &Path) -> Result<Option<crate::design::sweep::Sweep>, String> {
    if path.is_dir() {
        return Ok(None);
    }
    let Ok(text) = crate::fsio::read_regular_to_string(path) else {
        return Ok(None);
    };
    let is_sweep = serde_json::from_str::<serde_json::Value>(&text)
        .is_ok_and(|v| v["format"] == crate::design::sweep::SWEEP_FORMAT);
    if !is_sweep {
        return Ok(None);
    }
    crate::design::sweep::Sweep::from_json(&text)
        .map(Some)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A Ray Tune export: the sweep's design and data (relative to the sweep file), and the sweep.
fn sweep_request(
    args: &ExportArgs,
    sweep: crate::design::sweep::Sweep,
) -> Result<ExportRequest, String> {
    if args.format != ExportFormat::RayTune {
        return Err(format!(
            "{} is a sweep: export it with --format ray-tune (or export its design)",
            args.source.display()
        ));
    }
    let folder = args.source.parent().unwrap_or(Path::new("")).to_owned();
    let beside = |p: &Path| {
        if p.is_relative() {
            folder.join(p)
        } else {
            p.to_owned()
        }
    };
    let design_path = sweep
        .design
        .as_deref()
        .map(|d| beside(Path::new(d)))
        .ok_or_else(|| {
            format!(
                "{} names no design: add \"design\": \"FILE\" to it",
                args.source.display()
            )
        })?;
    let design = common::design(&design_path)?;
    let data = match (&args.data, &sweep.data) {
        (Some(s), _) => Some(crate::data::DataSpec::parse(s).map_err(|e| e.to_string())?),
        (None, Some(s)) => Some(
            crate::data::DataSpec::parse(s)
                .map_err(|e| format!("{}: its data \"{s}\": {e}", args.source.display()))?
                .map_paths(&|p| beside(p)),
        ),
        (None, None) => None,
    };
    Ok(ExportRequest {
        design,
        title: title_of(&args.source),
        format: args.format,
        weights: None,
        preprocessor: None,
        data,
        out: args.out.clone(),
        inputs: vec![args.source.clone(), design_path],
        opset: args.opset,
        classes: None,
        sweep: Some(Box::new(sweep)),
    })
}

fn request(args: &ExportArgs) -> Result<ExportRequest, String> {
    if let Some(sweep) = sweep_of(&args.source)? {
        return sweep_request(args, sweep);
    }
    if args.format == ExportFormat::RayTune {
        return Err(format!(
            "--format ray-tune exports a sweep: give its SWEEP.json (docs/design-format.md, \"Sweeps\"), not {}",
            args.source.display()
        ));
    }
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
        sweep: None,
    })
}
