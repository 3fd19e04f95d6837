//! `netloom eval DESIGN.json --weights W` or `netloom eval RUN`: loss, accuracy and the
//! confusion matrix on the validation split (a run's own data unless --data names other).

use super::common;
use crate::data::{Dataset, Preprocessor};
use crate::engine::regression::RegressionFit;
use crate::engine::run_dir::RunDir;
use crate::engine::segmentation::SegmentationFit;
use crate::engine::{
    DeviceChoice, Network, Truth, check_against_data, evaluate, load_weights, prepare_inputs,
};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `netloom eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A design file, or a run folder (its design, best weights, preprocessing and data).
    #[arg(value_name = "DESIGN.json|RUN")]
    pub design: PathBuf,
    /// The weights (.safetensors or .pt/.pth), e.g. a run's weights.safetensors or
    /// best.safetensors; needed unless the first argument is a run folder.
    #[arg(long, value_name = "W")]
    pub weights: Option<PathBuf>,
    /// The data (as for train; default: a run folder's own data, else built-in for images,
    /// toy:spiral for 2 features).
    #[arg(long, value_name = "SPEC")]
    pub data: Option<String>,
    /// Where to run.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceChoice,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: &EvalArgs) -> ExitCode {
    match eval(args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("netloom: {msg}");
            ExitCode::from(1)
        }
    }
}

fn eval(args: &EvalArgs) -> Result<String, String> {
    let src = common::source(&args.design, args.weights.as_deref())?;
    let Some(weights) = src.weights.clone() else {
        return Err(format!(
            "eval needs trained weights: pass --weights W, or give a run folder instead of {}",
            args.design.display()
        ));
    };
    let design = &src.design;
    let (spec, said) = common::data_spec_for(args.data.as_deref(), &src)?;
    if let Some(said) = said {
        eprintln!("netloom: evaluating on {said}");
    }
    let data = spec
        .load_for(design.input_shape())
        .map_err(|e| e.to_string())?;
    let device = args.device.resolve().map_err(|e| e.to_string())?.device;
    let net = Network::compile(design, device).map_err(|e| e.to_string())?;
    check_against_data(design, &net, &data).map_err(|e| e.to_string())?;
    load_weights(&net.params, &weights).map_err(|e| e.to_string())?;
    // A run directory keeps the transform fitted during training; otherwise fit it again on
    // this data's training split (deterministic, so the same data gives the same transform).
    let beside = match &src.run {
        Some(dir) => RunDir::at(dir).preprocessor(),
        None => weights.with_file_name(crate::engine::run_dir::PREPROCESSOR),
    };
    let pre = if beside.exists() {
        Preprocessor::load(&beside).map_err(|e| e.to_string())?
    } else {
        Preprocessor::fit(design.data.preprocessing, &data).map_err(|e| e.to_string())?
    };
    let (x, y) = prepare_inputs(&data.val, &data, device).map_err(|e| e.to_string())?;
    let r = evaluate(&net, &pre, (&x, &y), Truth::of(&data), 256).map_err(|e| e.to_string())?;
    if let Some(fit) = &r.regression {
        return Ok(regression_report(&data, r.loss, fit, args.json));
    }
    if let Some(fit) = &r.segmentation {
        return Ok(segmentation_report(&data, r.loss, fit, args.json));
    }
    if args.json {
        let v = serde_json::json!({
            "data": data.name, "samples": data.val.len(), "loss": r.loss, "accuracy": r.accuracy,
            "classes": data.classes, "confusion": r.confusion.counts,
        });
        return Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        ));
    }
    let mut out = format!(
        "{}: {} validation samples\nloss      {:.4}\naccuracy  {:.2}%\n\nconfusion (rows: true class, columns: predicted)\n",
        data.name,
        data.val.len(),
        r.loss,
        r.accuracy * 100.0
    );
    let w = data
        .classes
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(5)
        .min(14);
    out += &format!("{:w$}", "");
    for i in 0..data.classes.len() {
        out += &format!(" {i:>6}");
    }
    out.push('\n');
    for (i, row) in r.confusion.counts.iter().enumerate() {
        let name: String = data
            .classes
            .get(i)
            .map_or(String::new(), |n| n.chars().take(w).collect());
        out += &format!("{name:w$}");
        for c in row {
            out += &format!(" {c:>6}");
        }
        out.push('\n');
    }
    Ok(out)
}

/// A regression's evaluation: the loss (on the standardised target) and MAE, RMSE (in the
/// target's units) and R².
fn regression_report(data: &Dataset, loss: f64, fit: &RegressionFit, json: bool) -> String {
    let target = data.quantity.as_ref().map_or("", |q| q.name.as_str());
    if json {
        let v = serde_json::json!({
            "data": data.name, "samples": data.val.len(), "loss": loss, "target": target,
            "mae": fit.mae, "rmse": fit.rmse, "r2": fit.r2,
        });
        return format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    format!(
        "{}: {} validation samples, predicting \"{target}\"\nloss      {:.4} (MSE of the standardised target)\nMAE       {}\nRMSE      {}\nR²        {:.4}\n",
        data.name,
        data.val.len(),
        loss,
        crate::units::sig(fit.mae),
        crate::units::sig(fit.rmse),
        fit.r2
    )
}

/// A segmentation's evaluation: the per-pixel loss, pixel accuracy, and each class's IoU.
fn segmentation_report(data: &Dataset, loss: f64, fit: &SegmentationFit, json: bool) -> String {
    if json {
        let iou: Vec<Option<f64>> = fit
            .iou
            .iter()
            .map(|&v| (!v.is_nan()).then_some(v))
            .collect();
        let v = serde_json::json!({
            "data": data.name, "samples": data.val.len(), "loss": loss,
            "pixel_accuracy": fit.pixel_accuracy, "mean_iou": fit.mean_iou,
            "classes": data.classes, "iou": iou,
        });
        return format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    let mut out = format!(
        "{}: {} validation images\nloss            {:.4} (per pixel)\npixel accuracy  {:.2}%\nmean IoU        {:.4}\n\nIoU per class\n",
        data.name,
        data.val.len(),
        loss,
        fit.pixel_accuracy * 100.0,
        fit.mean_iou
    );
    for (name, iou) in data.classes.iter().zip(&fit.iou) {
        if iou.is_nan() {
            out += &format!("  {name:14} (in neither the masks nor the predictions)\n");
        } else {
            out += &format!("  {name:14} {iou:.4}\n");
        }
    }
    out
}
