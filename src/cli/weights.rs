//! `netloom weights FILE [--design D]`: what a weights file holds, and how it would map onto a
//! design, without training. `netloom template NAME`: a design of a known architecture.

use super::common;
use crate::design::templates::{TEMPLATES, template};
use crate::engine::{check_weights_file, report_for};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `netloom weights`.
#[derive(Debug, Args)]
pub struct WeightsArgs {
    /// A .safetensors file, or a .pt/.pth state dict written by torch.save.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Show how the file's tensors map onto this design's nodes, by name.
    #[arg(long, value_name = "DESIGN.json")]
    pub design: Option<PathBuf>,
    /// With --design: a node (or tensor) to leave out. Repeatable.
    #[arg(long, value_name = "NODE", requires = "design")]
    pub skip: Vec<String>,
}

/// Runs `netloom weights`: exits 0, or 1 when the file fits the design in no tensor, 2 when
/// a file can't be read.
pub fn run(args: &WeightsArgs) -> ExitCode {
    let file = match check_weights_file(&args.file) {
        Ok(shapes) => shapes,
        Err(e) => {
            eprintln!("netloom: {e}");
            return ExitCode::from(super::EXIT_UNREADABLE);
        }
    };
    let Some(design_path) = &args.design else {
        println!(
            "{} in {}",
            crate::units::count(file.len() as u64, "tensor"),
            args.file.display()
        );
        for (n, s) in &file {
            println!("  {n} {s:?}");
        }
        return ExitCode::SUCCESS;
    };
    let report = common::design(design_path).and_then(|d| {
        report_for(&d, &file, &args.skip).map_err(|e| format!("{}: {e}", design_path.display()))
    });
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("netloom: {e}");
            return ExitCode::from(super::EXIT_UNREADABLE);
        }
    };
    print!("{}", report.table());
    if report.matched.is_empty() {
        eprintln!("netloom: no tensor of the file fits the design");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Arguments of `netloom template`.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// A template name (lenet, vgg16_bn, resnet50, mobilenet_v2, …); none lists them.
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// The input: channels, height, width (default 1,28,28 for lenet, else 3,224,224).
    #[arg(long, value_name = "C,H,W", value_parser = parse_chw)]
    pub input: Option<[u64; 3]>,
    /// Classes of the last layer (default 10 for lenet, 2 for the segmentation templates unet
    /// and fcn_resnet18, else 1000 as in torchvision).
    #[arg(long, value_name = "N")]
    pub classes: Option<u64>,
    /// unet only: channels at the first level, doubling at each of the four below (64, the
    /// paper's, by default; 16 trains a small set on a CPU in minutes).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub width: Option<u64>,
    /// Where to write the design (default: print it).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace FILE when it exists (it may be a design someone edited: without this, it is
    /// refused).
    #[arg(long, requires = "output")]
    pub overwrite: bool,
}

fn parse_chw(s: &str) -> Result<[u64; 3], String> {
    let parts: Vec<u64> = s
        .split(',')
        .map(|p| p.trim().parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("\"{s}\" is not C,H,W, e.g. 3,224,224"))?;
    match parts.as_slice() {
        &[c, h, w] if c > 0 && h > 0 && w > 0 => Ok([c, h, w]),
        _ => Err(format!("\"{s}\" is not C,H,W, e.g. 3,224,224")),
    }
}

/// Runs `netloom template`.
pub fn run_template(args: &TemplateArgs) -> ExitCode {
    let Some(name) = &args.name else {
        for (n, what) in TEMPLATES {
            println!("{n:10} {what}");
        }
        return ExitCode::SUCCESS;
    };
    let lenet = name == "lenet";
    let input = match args.input {
        Some(chw) => chw,
        None if lenet => [1, 28, 28],
        None => [3, 224, 224],
    };
    // A segmentation template's default is two classes (background and the thing).
    let segmentation = matches!(name.as_str(), "unet" | "fcn_resnet18");
    let classes = args.classes.unwrap_or(if lenet {
        10
    } else if segmentation {
        2
    } else {
        1000
    });
    if args.width.is_some() && name != "unet" {
        eprintln!("netloom: --width scales the unet template only");
        return ExitCode::from(2);
    }
    let built = match args.width {
        Some(w) => Some(crate::design::templates::unet(input, classes, w)),
        None => template(name, input, classes),
    };
    let Some(design) = built else {
        eprintln!(
            "netloom: no template \"{name}\"; there are {}",
            TEMPLATES.map(|(n, _)| n).join(", ")
        );
        return ExitCode::from(super::EXIT_UNREADABLE);
    };
    let analysis = crate::design::analyse(&design);
    if let Some(p) = analysis.problems.first() {
        eprintln!("netloom: {name} doesn't fit a {input:?} input: {p}");
        return ExitCode::from(1);
    }
    let json = crate::design::to_json(&design);
    if let Some(path) = args
        .output
        .as_ref()
        .filter(|p| p.exists() && !args.overwrite)
    {
        eprintln!(
            "netloom: {} exists, and netloom won't replace a file it may not have written (a design someone edited): choose another name, or add --overwrite",
            path.display()
        );
        return ExitCode::from(super::EXIT_UNREADABLE);
    }
    match &args.output {
        Some(path) => match crate::document::save_design(&design, path) {
            Ok(()) => {
                eprintln!(
                    "netloom: wrote {name} ({} parameters) to {}",
                    crate::units::thousands(analysis.totals.params),
                    path.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("netloom: {e}");
                ExitCode::from(1)
            }
        },
        None => {
            println!("{json}");
            ExitCode::SUCCESS
        }
    }
}
