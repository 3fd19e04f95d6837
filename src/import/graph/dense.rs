//! The ops of dense prediction (segmentation decoders): ConvTranspose as PyTorch's
//! ConvTranspose2d, Resize as its Upsample.

use super::attrs::*;
use super::{Dim, Reader};
use crate::design::{ConvTranspose2d, Op, Pair, Upsample, UpsampleMode};
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
        let groups = attr_int(n, "group", 1).max(1) as u64;
        let c = ConvTranspose2d {
            out_channels: *per_group as u64 * groups,
            kernel_size: Pair::HW(*kh as u64, *kw as u64).simplified(),
            stride: attr_pair(n, "strides", 1)?,
            padding: pads(n)?,
            output_padding: attr_pair(n, "output_padding", 0)?,
            dilation: attr_pair(n, "dilations", 1)?,
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

    /// Resize as PyTorch's interpolate writes it: nearest with `asymmetric` coordinates and
    /// `floor`, or linear with `pytorch_half_pixel` (or `half_pixel`) or `align_corners`; by
    /// `scales` alike in height and width, or to `sizes`.
    pub(super) fn resize(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (x, rank) = self.node_input(n, 0)?;
        let text =
            |name: &str, default: &str| attr_string(n, name).unwrap_or_else(|| default.to_owned());
        let (mode, ctm) = (
            text("mode", "nearest"),
            text("coordinate_transformation_mode", "half_pixel"),
        );
        let (mode, align_corners) = match (mode.as_str(), ctm.as_str()) {
            ("nearest", "asymmetric") if text("nearest_mode", "round_prefer_floor") == "floor" => {
                (UpsampleMode::Nearest, false)
            }
            ("linear", "pytorch_half_pixel" | "half_pixel") => (UpsampleMode::Bilinear, false),
            ("linear", "align_corners") => (UpsampleMode::Bilinear, true),
            _ => {
                return Err(Self::malformed(
                    n,
                    format!(
                        "resizes in mode {mode} with {ctm} coordinates; netloom's Upsample is PyTorch's nearest (asymmetric, floor) or bilinear (pytorch_half_pixel or align_corners)"
                    ),
                ));
            }
        };
        let scales = match n.input.get(2).filter(|s| !s.is_empty()) {
            Some(_) => self
                .constant(n, 2)?
                .and_then(|(_, a)| a.floats().map(<[f32]>::to_vec)),
            None => None,
        };
        let (scale_factor, size) = match scales.as_deref() {
            Some([1.0, 1.0, h, w]) if h == w && *h > 0.0 => (Some(f64::from(*h)), None),
            Some([]) | None => {
                let (dims, _) = self.dims_of(n, 3)?;
                match dims.as_slice() {
                    [_, _, Dim::Fixed(h), Dim::Fixed(w)] if *h > 0 && *w > 0 => {
                        (None, Some(Pair::HW(*h as u64, *w as u64).simplified()))
                    }
                    _ => {
                        return Err(Self::malformed(
                            n,
                            "resizes to sizes netloom can't read as a fixed height and width",
                        ));
                    }
                }
            }
            Some(other) => {
                return Err(Self::malformed(
                    n,
                    format!(
                        "scales by {other:?}; netloom's Upsample scales height and width alike, and never the batch or channels"
                    ),
                ));
            }
        };
        let op = Op::Upsample(Upsample {
            mode,
            scale_factor,
            size,
            align_corners,
        });
        self.add_node(n, op, &[x], rank, None);
        Ok(())
    }
}
