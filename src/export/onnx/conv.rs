//! Convolutions in ONNX: Conv, and ConvTranspose with PyTorch's `output_padding` (explicit
//! pads and no `output_shape`, so ONNX computes PyTorch's size).

use super::{ExportError, Writer, hw, int, ints, pads};
use crate::design::{Conv2d, ConvTranspose2d};

impl Writer<'_> {
    /// Conv with PyTorch's settings as attributes.
    pub(super) fn conv(
        &mut self,
        name: &str,
        c: &Conv2d,
        x: String,
        out: &str,
    ) -> Result<(), ExportError> {
        let w = self.weight(&format!("{name}.weight"))?;
        let mut inputs = vec![x, w];
        if c.bias {
            inputs.push(self.weight(&format!("{name}.bias"))?);
        }
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let attrs = vec![
            ints("kernel_shape", hw(c.kernel_size)),
            ints("strides", hw(c.stride)),
            ints("pads", pads(c.padding)),
            ints("dilations", hw(c.dilation)),
            int("group", c.groups.max(1) as i64),
        ];
        self.node("Conv", name, &refs, out, attrs);
        Ok(())
    }

    /// ConvTranspose: the weight `[in, out/groups, kh, kw]` as PyTorch keeps it.
    pub(super) fn conv_transpose(
        &mut self,
        name: &str,
        c: &ConvTranspose2d,
        x: String,
        out: &str,
    ) -> Result<(), ExportError> {
        let w = self.weight(&format!("{name}.weight"))?;
        let mut inputs = vec![x, w];
        if c.bias {
            inputs.push(self.weight(&format!("{name}.bias"))?);
        }
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let attrs = vec![
            ints("kernel_shape", hw(c.kernel_size)),
            ints("strides", hw(c.stride)),
            ints("pads", pads(c.padding)),
            ints("output_padding", hw(c.output_padding)),
            ints("dilations", hw(c.dilation)),
            int("group", c.groups.max(1) as i64),
        ];
        self.node("ConvTranspose", name, &refs, out, attrs);
        Ok(())
    }
}
