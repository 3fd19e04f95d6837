//! The ops of dense prediction (segmentation decoders): ConvTranspose as PyTorch's
//! ConvTranspose2d.

use super::Reader;
use super::attrs::*;
use crate::design::{ConvTranspose2d, Op, Pair};
use crate::import::ImportError;
use crate::onnx_proto::NodeProto;

impl Reader<'_> {
    /// ConvTranspose with explicit pads and `output_padding` (PyTorch's exporter writes no
    /// `output_shape` or auto_pad).
    pub(super) fn conv_transpose(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (x, _) = self.node_input(n, 0)?;
        let (wname, w) = self
            .constant(n, 1)?
            .ok_or_else(|| Self::malformed(n, "has no weight"))?;
        let bias = self.constant(n, 2)?;
        let [_, per_group, kh, kw] = w.dims.as_slice() else {
            return Err(Self::malformed(
                n,
                format!(
                    "has a {}-d weight; netloom's ConvTranspose2d is 2-d",
                    w.dims.len()
                ),
            ));
        };
        if attr(n, "output_shape").is_some()
            || attr_string(n, "auto_pad").is_some_and(|p| !p.is_empty() && p != "NOTSET")
        {
            return Err(Self::malformed(
                n,
                "sizes its output by output_shape or auto_pad; export with explicit padding and output_padding (PyTorch's exporter does)",
            ));
        }
        let two = |name: &str, default: i64| -> Result<Pair, ImportError> {
            let v = attr_ints(n, name).unwrap_or_else(|| vec![default, default]);
            match v.as_slice() {
                [h, w] if *h >= 0 && *w >= 0 => Ok(Pair::HW(*h as u64, *w as u64).simplified()),
                _ => Err(Self::malformed(
                    n,
                    format!("has {name} {v:?}; netloom reads two values (height, width)"),
                )),
            }
        };
        let groups = attr_int(n, "group", 1).max(1) as u64;
        let c = ConvTranspose2d {
            out_channels: *per_group as u64 * groups,
            kernel_size: Pair::HW(*kh as u64, *kw as u64).simplified(),
            stride: two("strides", 1)?,
            padding: pads(n)?,
            output_padding: two("output_padding", 0)?,
            dilation: two("dilations", 1)?,
            groups,
            bias: bias.is_some(),
        };
        let prefix = wname.strip_suffix(".weight").map(str::to_owned);
        let (_, name) = self.add_node(n, Op::ConvTranspose2d(c), &[x], 4, prefix.as_deref());
        let source = self.origin(&wname).to_owned();
        self.weight(&name, "weight", &source, w);
        if let Some((bname, b)) = bias {
            let source = self.origin(&bname).to_owned();
            self.weight(&name, "bias", &source, b);
        }
        Ok(())
    }
}
