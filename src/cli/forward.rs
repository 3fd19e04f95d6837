//! `netloom forward DESIGN.json --weights W --input X.npy --output Y.npy` (or a run folder in
//! place of the design and weights): the network alone in eval mode (no preprocessing),
//! float32 NCHW in and out. The hook for comparing with PyTorch.

use super::common;
use crate::engine::npy::{self, NpyArray};
use crate::engine::{DeviceChoice, Network, load_weights};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use tch::{Device, Tensor};

/// Arguments of `netloom forward`.
#[derive(Debug, Args)]
pub struct ForwardArgs {
    /// A design file, or a run folder (its design and best weights).
    #[arg(value_name = "DESIGN.json|RUN")]
    pub design: PathBuf,
    /// The weights (.safetensors, or a .pt/.pth state dict); needed unless the first argument
    /// is a run folder.
    #[arg(long, value_name = "W")]
    pub weights: Option<PathBuf>,
    /// Input batch, float32, shape [n, …the Input's shape].
    #[arg(long, value_name = "X.npy")]
    pub input: PathBuf,
    /// Where to write the output batch.
    #[arg(long, value_name = "Y.npy")]
    pub output: PathBuf,
    /// Where to run.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceChoice,
}

/// Runs the command.
pub fn run(args: &ForwardArgs) -> ExitCode {
    match forward(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Unreadable(msg)) => {
            eprintln!("netloom: {msg}");
            ExitCode::from(super::EXIT_UNREADABLE)
        }
        Err(Failure::Failed(msg)) => {
            eprintln!("netloom: {msg}");
            ExitCode::from(1)
        }
    }
}

/// Why `forward` stopped: an input that can't be read (exit 2, as the README promises) or a
/// failure of the run itself (exit 1).
enum Failure {
    Unreadable(String),
    Failed(String),
}

impl From<String> for Failure {
    fn from(msg: String) -> Self {
        Failure::Failed(msg)
    }
}

fn forward(args: &ForwardArgs) -> Result<(), Failure> {
    let src = common::source(&args.design, args.weights.as_deref()).map_err(Failure::Unreadable)?;
    let Some(weights) = src.weights.clone() else {
        return Err(Failure::Unreadable(format!(
            "forward needs trained weights: pass --weights W, or give a run folder instead of {}",
            args.design.display()
        )));
    };
    let mut inputs = vec![src.design_path.clone(), weights.clone(), args.input.clone()];
    inputs.extend(src.run.clone());
    crate::fsio::refuse_overwriting_inputs(&args.output, &inputs).map_err(Failure::Unreadable)?;
    npy::replaceable(&args.output).map_err(|e| Failure::Unreadable(e.to_string()))?;
    let design = src.design;
    let device = args.device.resolve().map_err(|e| e.to_string())?.device;
    let net = Network::compile(&design, device).map_err(|e| e.to_string())?;
    load_weights(&net.params, &weights).map_err(|e| {
        if e.is_unreadable_input() {
            Failure::Unreadable(e.to_string())
        } else {
            Failure::Failed(e.to_string())
        }
    })?;
    let x = npy::read(&args.input).map_err(|e| Failure::Unreadable(e.to_string()))?;
    let want = net.input_shape.dims();
    let got: Vec<u64> = x.shape.iter().skip(1).map(|&d| d as u64).collect();
    if x.shape.is_empty() || got != want {
        return Err(Failure::Failed(format!(
            "the input has shape {:?} but the design's Input takes [n, {}]: {}",
            x.shape,
            want.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            args.input.display()
        )));
    }
    let dims: Vec<i64> = x.shape.iter().map(|&d| d as i64).collect();
    let t = Tensor::from_slice(&x.data)
        .view(dims.as_slice())
        .to_device(device);
    let y = {
        let _guard = tch::no_grad_guard();
        net.forward(&t, false, None).map_err(|e| e.to_string())?
    };
    let shape: Vec<usize> = y.size().iter().map(|&d| d as usize).collect();
    let data: Vec<f32> = Vec::try_from(y.to_device(Device::Cpu).flatten(0, -1))
        .map_err(|e: tch::TchError| e.to_string())?;
    npy::write(&args.output, &NpyArray { shape, data }).map_err(|e| Failure::Failed(e.to_string()))
}
