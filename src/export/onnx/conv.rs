//! Convolutions and resizing in ONNX: Conv, ConvTranspose with PyTorch's `output_padding`
//! (explicit pads and no `output_shape`, so ONNX computes PyTorch's size), and Upsample as
//! Resize with the coordinate mapping PyTorch's interpolate uses.

use super::{ExportError, Writer, hw, int, ints, pads};
use crate::design::plan::Step;
use crate::design::{Conv2d, ConvTranspose2d, Upsample, UpsampleMode};
use crate::onnx_proto::{AttributeProto, attribute_type};

fn string(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: name.to_owned(),
        r#type: attribute_type::STRING,
        s: v.as_bytes().to_vec(),
        ..Default::default()
    }
}

impl Writer<'_> {
    /// Conv with PyTorch's settings as attributes.
    pub(super) fn conv(
        &mut self,
        name: &str,
        c: &Conv2d,
        x: String,
        out: &str,
    ) -> Result<(), ExportError> {
        let inputs = self.weighted(name, x, c.bias)?;
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
        let inputs = self.weighted(name, x, c.bias)?;
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

    /// Resize: nearest as PyTorch's (`asymmetric`, `floor`: the input pixel at
    /// ⌊output / scale⌋), bilinear with `pytorch_half_pixel` or `align_corners`. A scale goes
    /// as `scales` (PyTorch then maps with the scale itself), a size as `sizes`.
    pub(super) fn resize(
        &mut self,
        step: &Step<'_>,
        u: &Upsample,
        x: &str,
        out: &str,
    ) -> Result<(), ExportError> {
        let name = step.node.name.as_str();
        let mut inputs = vec![x.to_owned(), String::new()];
        match (u.scale_factor, u.size) {
            (Some(s), _) => {
                let scales = format!("{name}.scales");
                self.constant(&scales, vec![4], &[1.0, 1.0, s as f32, s as f32]);
                inputs.push(scales);
            }
            (None, size) => {
                let _ = step;
                let (oh, ow) = size.map_or((1, 1), |p| (p.h(), p.w()));
                // Sizes for N and C are the input's: read from its shape at run time.
                let shape = format!("{name}.shape");
                self.node("Shape", &format!("{name}#shape"), &[x], &shape, vec![]);
                let (start, end, nc) = (
                    format!("{name}.start"),
                    format!("{name}.end"),
                    format!("{name}.nc"),
                );
                self.constant_i64(&start, &[0]);
                self.constant_i64(&end, &[2]);
                self.node(
                    "Slice",
                    &format!("{name}#nc"),
                    &[&shape, &start, &end],
                    &nc,
                    vec![],
                );
                let (hw_name, sizes) = (format!("{name}.hw"), format!("{name}.sizes"));
                self.constant_i64(&hw_name, &[oh as i64, ow as i64]);
                self.node(
                    "Concat",
                    &format!("{name}#sizes"),
                    &[&nc, &hw_name],
                    &sizes,
                    vec![int("axis", 0)],
                );
                inputs.push(String::new());
                inputs.push(sizes);
            }
        }
        let bilinear = u.mode == UpsampleMode::Bilinear;
        let attrs = vec![
            string("mode", if bilinear { "linear" } else { "nearest" }),
            string(
                "coordinate_transformation_mode",
                match (bilinear, u.align_corners) {
                    (false, _) => "asymmetric",
                    (true, false) => "pytorch_half_pixel",
                    (true, true) => "align_corners",
                },
            ),
            string("nearest_mode", "floor"),
        ];
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        self.node("Resize", name, &refs, out, attrs);
        Ok(())
    }
}
