//! The number format a run computes in (the design's `precision`), and the loss scaling that
//! fp16 needs.
//!
//! tch's `autocast` switches libtorch's CUDA autocast only, in fp16, with no way to choose
//! bf16 or the CPU. netloom's layers are its own code, so it applies autocast's policy itself:
//! a convolution or linear layer casts its input, weight and bias to the 16-bit format and
//! computes in it; batch norm takes the 16-bit input with its fp32 parameters and statistics
//! (libtorch's mixed kernels, on the CPU and CUDA alike); element-wise layers keep whatever
//! format arrives; the logits return to fp32 before the loss. The casts sit in the autograd
//! graph, so the gradients reach the fp32 master weights as fp32.

use super::error::EngineError;
use crate::design::Precision;
use tch::{Device, Kind, Tensor};

/// A run's resolved precision: the kind the convolutions and linear layers compute in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compute {
    /// Float, BFloat16 or Half.
    pub kind: Kind,
    /// What was asked for, so `auto` can be told apart in what the run records.
    pub asked: Precision,
}

impl Compute {
    /// Plain fp32: what compiling gives, and what export and the lessons use.
    pub const FP32: Compute = Compute {
        kind: Kind::Float,
        asked: Precision::Fp32,
    };

    /// The name of the format actually used ("fp32", "bf16", "fp16").
    pub fn name(self) -> &'static str {
        match self.kind {
            Kind::BFloat16 => "bf16",
            Kind::Half => "fp16",
            _ => "fp32",
        }
    }

    /// True when the layers compute in a 16-bit format.
    pub fn is_mixed(self) -> bool {
        self.kind != Kind::Float
    }

    /// `x` in the compute format (libtorch returns `x` itself, uncopied, when it already is).
    pub(super) fn cast(self, x: &Tensor) -> Result<Tensor, tch::TchError> {
        x.f_to_kind(self.kind)
    }
}

/// Resolves `precision` for `device`. `auto` is bf16 on a CUDA GPU of compute capability 8.0 or
/// more (where bf16 runs on the tensor cores) and fp32 everywhere else, including where the
/// capability can't be read: never slower than fp32 by surprise. A format asked for by name
/// is checked with one small convolution on the device, so a device without it is told at the
/// start, in netloom's words.
pub fn resolve(precision: Precision, device: Device) -> Result<Compute, EngineError> {
    let kind = match precision {
        Precision::Fp32 => Kind::Float,
        Precision::Bf16 => Kind::BFloat16,
        Precision::Fp16 => Kind::Half,
        Precision::Auto => match device {
            Device::Cuda(i) if cuda_capability(i).is_some_and(|(major, _)| major >= 8) => {
                Kind::BFloat16
            }
            _ => Kind::Float,
        },
    };
    let compute = Compute {
        kind,
        asked: precision,
    };
    if compute.is_mixed() {
        try_format(compute, device)?;
    }
    Ok(compute)
}

/// One convolution, its batch norm and their backward pass in the format, on the device.
fn try_format(compute: Compute, device: Device) -> Result<(), EngineError> {
    let attempt = || -> Result<(), tch::TchError> {
        let x = Tensor::f_ones([2, 3, 8, 8], (Kind::Float, device))?;
        let w = Tensor::f_ones([4, 3, 3, 3], (Kind::Float, device))?.set_requires_grad(true);
        let y = compute.cast(&x)?.f_conv2d(
            &compute.cast(&w)?,
            None::<Tensor>,
            [1, 1],
            [1, 1],
            [1, 1],
            1,
        )?;
        let ones = || Tensor::f_ones([4], (Kind::Float, device));
        let z = y.f_batch_norm(
            Some(&ones()?),
            Some(&ones()?.f_zeros_like()?),
            Some(&ones()?.f_zeros_like()?),
            Some(&ones()?),
            true,
            0.1,
            1e-5,
            true,
        )?;
        z.f_to_kind(Kind::Float)?.f_sum(Kind::Float)?.f_backward()?;
        Ok(())
    };
    attempt().map_err(|e| EngineError::Precision {
        precision: compute.name(),
        device: format!("{device:?}"),
        detail: e.to_string().lines().next().unwrap_or_default().to_owned(),
    })
}

/// A CUDA GPU's compute capability (major, minor), from nvidia-smi: libtorch's C API has no
/// call for it. None where nvidia-smi isn't there or says nothing readable.
fn cuda_capability(index: usize) -> Option<(u32, u32)> {
    let out = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=compute_cap", "--format=csv,noheader"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    parse_capability(String::from_utf8_lossy(&out.stdout).lines().nth(index)?)
}

fn parse_capability(line: &str) -> Option<(u32, u32)> {
    let (major, minor) = line.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Dynamic loss scaling for fp16, as `torch.amp.GradScaler` does it with its defaults: the
/// loss is multiplied by `scale` before the backward pass so small gradients don't round to
/// zero in fp16; the gradients are divided by it again before clipping and the optimizer. A
/// step whose gradients overflowed is skipped and the scale halved; after `GROWTH_INTERVAL`
/// good steps in a row it doubles.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LossScale {
    /// The factor now.
    pub scale: f64,
    /// Good steps since the scale last changed.
    pub good_steps: u64,
}

/// GradScaler's defaults.
const INITIAL_SCALE: f64 = 65_536.0;
const GROWTH_INTERVAL: u64 = 2000;

impl Default for LossScale {
    fn default() -> Self {
        Self {
            scale: INITIAL_SCALE,
            good_steps: 0,
        }
    }
}

impl LossScale {
    /// Divides every gradient by the scale in place and says whether all are finite. On an
    /// overflow the gradients are left as they are (the step is skipped) and the scale halves.
    pub(super) fn unscale(&mut self, grads: &[Tensor]) -> Result<bool, EngineError> {
        let _guard = tch::no_grad_guard();
        let flags: Vec<Tensor> = grads
            .iter()
            .filter(|g| g.defined())
            .map(|g| g.f_isfinite().and_then(|f| f.f_all()))
            .collect::<Result<_, _>>()
            .map_err(|e| EngineError::torch("checking the scaled gradients", e))?;
        let finite = flags.is_empty()
            || Tensor::f_stack(&flags, 0)
                .and_then(|t| t.f_all())
                .map_err(|e| EngineError::torch("checking the scaled gradients", e))?
                .int64_value(&[])
                != 0;
        if finite {
            let inverse = 1.0 / self.scale;
            for g in grads.iter().filter(|g| g.defined()) {
                let _ = g
                    .shallow_clone()
                    .f_mul_scalar_(inverse)
                    .map_err(|e| EngineError::torch("unscaling the gradients", e))?;
            }
            self.good_steps += 1;
            if self.good_steps >= GROWTH_INTERVAL {
                self.scale *= 2.0;
                self.good_steps = 0;
            }
        } else {
            self.scale = (self.scale * 0.5).max(f64::MIN_POSITIVE);
            self.good_steps = 0;
        }
        Ok(finite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_lines_parse() {
        assert_eq!(parse_capability("9.0\n"), Some((9, 0)));
        assert_eq!(parse_capability(" 7.5"), Some((7, 5)));
        assert_eq!(parse_capability("[N/A]"), None);
    }

    #[test]
    fn auto_is_fp32_on_the_cpu_and_named_formats_run_there() {
        let auto = resolve(Precision::Auto, Device::Cpu).unwrap();
        assert_eq!((auto.kind, auto.name()), (Kind::Float, "fp32"));
        let bf16 = resolve(Precision::Bf16, Device::Cpu).unwrap();
        assert_eq!((bf16.kind, bf16.name()), (Kind::BFloat16, "bf16"));
        assert_eq!(
            resolve(Precision::Fp16, Device::Cpu).unwrap().name(),
            "fp16"
        );
        // fp32 runs cast nothing: the tensor comes back itself, not a copy.
        let x = Tensor::ones([3], (Kind::Float, Device::Cpu));
        assert_eq!(Compute::FP32.cast(&x).unwrap().data_ptr(), x.data_ptr());
    }

    #[test]
    fn the_scale_halves_on_an_overflow_and_doubles_after_good_steps() {
        let mut s = LossScale::default();
        let g = Tensor::from_slice(&[1.0f32, f32::INFINITY]);
        assert!(!s.unscale(&[g.shallow_clone()]).unwrap());
        assert_eq!(s.scale, INITIAL_SCALE / 2.0);
        // The skipped step's gradients are left alone.
        assert_eq!(Vec::<f32>::try_from(&g).unwrap()[0], 1.0);
        let g = Tensor::from_slice(&[32_768.0f32, -65_536.0]);
        for _ in 0..GROWTH_INTERVAL - 1 {
            let copy = g.copy();
            assert!(s.unscale(&[copy]).unwrap());
        }
        assert_eq!(s.scale, INITIAL_SCALE / 2.0);
        let copy = g.copy();
        assert!(s.unscale(&[copy.shallow_clone()]).unwrap());
        assert_eq!(Vec::<f32>::try_from(&copy).unwrap(), vec![1.0, -2.0]);
        assert_eq!((s.scale, s.good_steps), (INITIAL_SCALE, 0));
        let nan = Tensor::from_slice(&[f32::NAN]);
        assert!(!s.unscale(&[nan]).unwrap());
    }
}
