//! The normalisations in ONNX: BatchNormalization, and LayerNormalization (opset 17) over the
//! last axis, an image's channels brought last by a Transpose on each side, as PyTorch's
//! exporter writes torchvision's `LayerNorm2d`.

use super::{ExportError, Writer, float, int, ints};
use crate::design::plan::Step;
use crate::design::{BatchNorm, LayerNorm};

impl Writer<'_> {
    /// BatchNormalization with PyTorch's statistics (its momentum converted).
    pub(super) fn batch_norm(
        &mut self,
        step: &Step<'_>,
        b: &BatchNorm,
        x: &str,
        out: &str,
    ) -> Result<(), ExportError> {
        let name = step.node.name.as_str();
        let c = step
            .in_shape
            .and_then(|s| s.dims().first().copied())
            .unwrap_or(1) as usize;
        let (scale, bias) = if b.affine {
            (
                self.weight(&format!("{name}.weight"))?,
                self.weight(&format!("{name}.bias"))?,
            )
        } else {
            let (s, z) = (format!("{name}.scale_one"), format!("{name}.shift_zero"));
            self.constant(&s, vec![c as i64], &vec![1.0; c]);
            self.constant(&z, vec![c as i64], &vec![0.0; c]);
            (s, z)
        };
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
        let c = step
            .in_shape
            .and_then(|s| s.dims().first().copied())
            .unwrap_or(1) as usize;
        let image = step.in_shape.is_some_and(|s| s.rank() == 3);
        let (scale, bias) = if l.elementwise_affine {
            (
                self.weight(&format!("{name}.weight"))?,
                self.weight(&format!("{name}.bias"))?,
            )
        } else {
            let (s, z) = (format!("{name}.scale_one"), format!("{name}.shift_zero"));
            self.constant(&s, vec![c as i64], &vec![1.0; c]);
            self.constant(&z, vec![c as i64], &vec![0.0; c]);
            (s, z)
        };
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
