//! The normalisations in ONNX: BatchNormalization, and LayerNormalization (opset 17) over the
//! last axis, an image's channels brought last by a Transpose on each side, as PyTorch's
//! exporter writes torchvision's `LayerNorm2d`.

use super::{ExportError, Writer, float, int, ints};
use crate::design::plan::Step;
use crate::design::{BatchNorm, LayerNorm};

/// The channels (or features) a norm's scale and shift run over.
fn channels(step: &Step<'_>) -> usize {
    step.in_shape
        .and_then(|s| s.dims().first().copied())
        .unwrap_or(1) as usize
}

impl Writer<'_> {
    /// A norm's scale and shift: its own weight and bias, or ones and zeros written as
    /// constants when it has none (ONNX's norms take both).
    fn scale_shift(
        &mut self,
        name: &str,
        c: usize,
        affine: bool,
    ) -> Result<(String, String), ExportError> {
        if affine {
            return Ok((
                self.weight(&format!("{name}.weight"))?,
                self.weight(&format!("{name}.bias"))?,
            ));
        }
        let (s, z) = (format!("{name}.scale_one"), format!("{name}.shift_zero"));
        self.constant(&s, vec![c as i64], &vec![1.0; c]);
        self.constant(&z, vec![c as i64], &vec![0.0; c]);
        Ok((s, z))
    }

    /// BatchNormalization with PyTorch's statistics (its momentum converted).
    pub(super) fn batch_norm(
        &mut self,
        step: &Step<'_>,
        b: &BatchNorm,
        x: &str,
        out: &str,
    ) -> Result<(), ExportError> {
        let name = step.node.name.as_str();
        let c = channels(step);
        let (scale, bias) = self.scale_shift(name, c, b.affine)?;
        let mean = self.weight(&format!("{name}.running_mean"))?;
        let var = self.weight(&format!("{name}.running_var"))?;
        // ONNX's momentum weighs the old statistics (PyTorch's the new batch).
        let attrs = vec![float("epsilon", b.eps), float("momentum", 1.0 - b.momentum)];
        self.node(
            "BatchNormalization",
            name,
            &[x, &scale, &bias, &mean, &var],
            out,
            attrs,
        );
        Ok(())
    }

    /// LayerNormalization over the channels: for an image `[n, c, h, w]` → NHWC → normalised
    /// over the last axis → NCHW.
    pub(super) fn layer_norm(
        &mut self,
        step: &Step<'_>,
        l: &LayerNorm,
        x: &str,
        out: &str,
    ) -> Result<(), ExportError> {
        let name = step.node.name.as_str();
        let c = channels(step);
        let image = step.in_shape.is_some_and(|s| s.rank() == 3);
        let (scale, bias) = self.scale_shift(name, c, l.elementwise_affine)?;
        let attrs = vec![int("axis", -1), float("epsilon", l.eps)];
        if !image {
            self.node("LayerNormalization", name, &[x, &scale, &bias], out, attrs);
            return Ok(());
        }
        let (nhwc, normed) = (format!("{name}.nhwc"), format!("{name}.normed"));
        let perm = |p: [i64; 4]| vec![ints("perm", p.to_vec())];
        self.node(
            "Transpose",
            &format!("{name}#nhwc"),
            &[x],
            &nhwc,
            perm([0, 2, 3, 1]),
        );
        self.node(
            "LayerNormalization",
            name,
            &[&nhwc, &scale, &bias],
            &normed,
            attrs,
        );
        self.node(
            "Transpose",
            &format!("{name}#nchw"),
            &[&normed],
            out,
            perm([0, 3, 1, 2]),
        );
        Ok(())
    }
}
