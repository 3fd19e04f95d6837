//! What the Learn view's transposed-convolution lesson draws, computed by the network code a
//! run uses: a ConvTranspose2d built from a design, run forward. One input pixel shows the
//! window in reverse (it paints the kernel, stride apart); an even input shows how many
//! windows land on each output pixel, uneven (a checkerboard) when the kernel size is not a
//! multiple of the stride.

use super::error::{EngineError, TorchContext};
use super::network::Network;
use crate::design::{ConvTranspose2d, Design, InputOp, Loss, Op, OutputOp};
use tch::{Device, Kind, Tensor};

/// A map the lesson draws: `side`×`side` values, row by row.
#[derive(Clone, Debug, PartialEq)]
pub struct Map {
    /// Pixels per side.
    pub side: usize,
    /// The values.
    pub values: Vec<f32>,
}

/// A one-channel ConvTranspose2d of `kernel` and `stride` (no bias) on a `size`×`size` input,
/// its weight set to `weight` (kernel × kernel values, row by row), run on `input`.
fn run(
    size: i64,
    kernel: u64,
    stride: u64,
    weight: &[f32],
    input: &[f32],
) -> Result<Map, EngineError> {
    let mut design = Design::default();
    let x = design.add(
        "input",
        Op::Input(InputOp::image(1, size as u64, size as u64)),
        [0.0; 2],
    );
    let mut up = ConvTranspose2d::new(1, kernel, stride);
    up.bias = false;
    let t = design.add("up", Op::ConvTranspose2d(up), [0.0; 2]);
    let out = design.add("output", Op::Output(OutputOp { loss: Loss::Mse }), [0.0; 2]);
    design.connect(x, t, 0);
    design.connect(t, out, 0);
    let net = Network::compile(&design, Device::Cpu)?;
    let k = kernel as i64;
    let w = Tensor::from_slice(weight)
        .f_reshape([1, 1, k, k])
        .ctx("the lesson's kernel")?;
    net.params.load_named(
        &[("up.weight".to_owned(), w)],
        std::path::Path::new("lesson"),
    )?;
    let _guard = tch::no_grad_guard();
    let x = Tensor::from_slice(input)
        .f_reshape([1, 1, size, size])
        .ctx("the lesson's input")?;
    let y = net.forward(&x, false, None)?;
    let side = y.size().last().copied().unwrap_or(0) as usize;
    let values = Vec::<f32>::try_from(y.to_kind(Kind::Float).flatten(0, -1))
        .map_err(|e| EngineError::torch("the lesson's output", e))?;
    Ok(Map { side, values })
}

/// One input pixel in the middle of a 3×3 input painting a kernel of 1, 2, 3, … (so its
/// orientation shows), `stride` apart from where its neighbours would.
pub fn window(kernel: u64, stride: u64) -> Result<Map, EngineError> {
    let k = (kernel * kernel) as usize;
    let weight: Vec<f32> = (1..=k).map(|v| v as f32).collect();
    let mut input = vec![0f32; 9];
    input[4] = 1.0;
    run(3, kernel, stride, &weight, &input)
}

/// How many windows cover each output pixel: all-one weights on an all-one `size`×`size` input.
pub fn overlap(size: u64, kernel: u64, stride: u64) -> Result<Map, EngineError> {
    let weight = vec![1f32; (kernel * kernel) as usize];
    let input = vec![1f32; (size * size) as usize];
    run(size as i64, kernel, stride, &weight, &input)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_kernel_the_stride_does_not_divide_leaves_a_checkerboard() {
        // Kernel 3, stride 2: interior pixels are covered by 1, 2 or 4 windows.
        let m = overlap(4, 3, 2).unwrap();
        assert_eq!(m.side, 9);
        let row = |r: usize| &m.values[r * 9..(r + 1) * 9];
        assert_eq!(row(3), &[1.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 1.0]);
        assert_eq!(row(4), &[2.0, 2.0, 4.0, 2.0, 4.0, 2.0, 4.0, 2.0, 2.0]);
        // Kernel 4, stride 2: every interior pixel is covered by 4.
        let even = overlap(4, 4, 2).unwrap();
        assert_eq!(even.side, 10);
        assert!(
            even.values[2 * 10 + 2..2 * 10 + 8]
                .iter()
                .all(|&v| v == 4.0)
        );
        // One pixel paints the kernel, at stride × its position.
        let w = window(2, 3).unwrap();
        assert_eq!(w.side, 8);
        assert_eq!(&w.values[3 * 8 + 3..3 * 8 + 5], &[1.0, 2.0]);
        assert_eq!(&w.values[4 * 8 + 3..4 * 8 + 5], &[3.0, 4.0]);
        assert_eq!(w.values.iter().sum::<f32>(), 10.0);
    }
}
