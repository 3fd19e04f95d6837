//! Pooling in ONNX with PyTorch's windows: max and average pooling (ceil mode written as
//! explicit padding), and adaptive average pooling (as an average pool, or as two matrix
//! products for uneven windows).

use super::{ExportError, Writer, hw, int, ints};
use crate::design::plan::Step;
use crate::design::{Pair, Pool2d};

impl Writer<'_> {
    /// A pooling layer with PyTorch's output size. PyTorch's `ceil_mode` drops a last window
    /// that would start in the right padding, which ONNX's `ceil_mode` doesn't (onnxruntime
    /// then computes one more output than PyTorch): so the file never uses `ceil_mode`, and
    /// writes the windows PyTorch takes as explicit end padding instead. For an average that
    /// counts padding, the padding PyTorch counts becomes an explicit zero Pad and the pool
    /// counts only what it covers, so a window reaching past it is divided as PyTorch does.
    pub(super) fn pool(
        &mut self,
        step: &Step<'_>,
        p: &Pool2d,
        max: bool,
        x: String,
        out: &str,
    ) -> Result<(), ExportError> {
        let name = step.node.name.as_str();
        let (h, w) = image_size(step)?;
        let (k, s, pad) = (p.kernel_size, p.effective_stride(), p.padding);
        let axes = [
            PoolAxis::new(h, k.h(), s.h(), pad.h(), p.ceil_mode),
            PoolAxis::new(w, k.w(), s.w(), pad.w(), p.ceil_mode),
        ];
        let extends = axes.iter().any(|a| a.extra_end() > 0);
        let counts_padding = !max && p.count_include_pad;
        let mut attrs = vec![ints("kernel_shape", hw(k)), ints("strides", hw(s))];
        let mut input = x;
        if counts_padding && extends {
            // Zero padding made explicit; the pool then counts only what lies inside it.
            let pads_name = format!("{name}.pads");
            let (ph, pw) = (pad.h() as i64, pad.w() as i64);
            self.constant_i64(&pads_name, &[0, 0, ph, pw, 0, 0, ph, pw]);
            let padded = format!("{name}.padded");
            self.node(
                "Pad",
                &format!("{name}#pad"),
                &[&input, &pads_name],
                &padded,
                vec![],
            );
            input = padded;
            attrs.push(ints(
                "pads",
                vec![0, 0, axes[0].extra_end(), axes[1].extra_end()],
            ));
            attrs.push(int("count_include_pad", 0));
        } else {
            attrs.push(ints(
                "pads",
                vec![
                    pad.h() as i64,
                    pad.w() as i64,
                    axes[0].end_pad(),
                    axes[1].end_pad(),
                ],
            ));
            if !max {
                attrs.push(int("count_include_pad", i64::from(p.count_include_pad)));
            }
        }
        let op = if max { "MaxPool" } else { "AveragePool" };
        self.node(op, name, &[&input], out, attrs);
        Ok(())
    }

    pub(super) fn adaptive_pool(
        &mut self,
        step: &Step<'_>,
        size: Pair,
        x: &str,
        out: &str,
    ) -> Result<(), ExportError> {
        let name = step.node.name.as_str();
        let (h, w) = image_size(step)?;
        let (oh, ow) = (size.h(), size.w());
        if (oh, ow) == (1, 1) {
            self.node("GlobalAveragePool", name, &[x], out, vec![]);
        } else if oh > 0 && ow > 0 && h % oh == 0 && w % ow == 0 {
            // Equal windows: exactly an average pool.
            let k = vec![(h / oh) as i64, (w / ow) as i64];
            let attrs = vec![ints("kernel_shape", k.clone()), ints("strides", k)];
            self.node("AveragePool", name, &[x], out, attrs);
        } else {
            // Uneven windows (or upsampling): Y = P_h · X · P_wᵀ with the averaging matrices
            // of PyTorch's windows, exact for any sizes.
            let (ph, pw) = (format!("{name}.pool_h"), format!("{name}.pool_w_t"));
            self.constant(
                &ph,
                vec![oh as i64, h as i64],
                &pooling_matrix(h, oh, false),
            );
            self.constant(&pw, vec![w as i64, ow as i64], &pooling_matrix(w, ow, true));
            let cols = format!("{name}.cols");
            self.node("MatMul", &format!("{name}#w"), &[x, &pw], &cols, vec![]);
            self.node("MatMul", name, &[&ph, &cols], out, vec![]);
        }
        Ok(())
    }
}

/// One axis of a pooling layer, with the number of windows PyTorch takes along it.
struct PoolAxis {
    len: i64,
    k: i64,
    s: i64,
    p: i64,
    out: i64,
}

impl PoolAxis {
    fn new(len: u64, k: u64, s: u64, p: u64, ceil: bool) -> PoolAxis {
        let out = crate::design::pool_out(len, k, s, p, ceil).unwrap_or(1);
        let i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        PoolAxis {
            len: i(len),
            k: i(k),
            s: i(s),
            p: i(p),
            out: i(out),
        }
    }

    /// How far PyTorch's last window reaches past the right padding (its ceil mode's extra
    /// window): 0 when every window lies inside the padded input.
    fn extra_end(&self) -> i64 {
        ((self.out - 1) * self.s + self.k - (self.len + 2 * self.p)).max(0)
    }

    /// The right padding with which rounding down gives PyTorch's windows.
    fn end_pad(&self) -> i64 {
        self.p + self.extra_end()
    }
}

/// The `[out, len]` matrix (or its transpose) whose row `i` averages PyTorch's adaptive
/// pooling window `floor(i·len/out) .. ceil((i+1)·len/out)`.
fn pooling_matrix(len: u64, out: u64, transposed: bool) -> Vec<f32> {
    let (len, out) = (len as usize, out as usize);
    let mut m = vec![0.0f32; len * out];
    for i in 0..out {
        let start = i * len / out;
        let end = ((i + 1) * len).div_ceil(out);
        let weight = 1.0 / (end - start).max(1) as f32;
        for j in start..end.min(len) {
            let at = if transposed { j * out + i } else { i * len + j };
            m[at] = weight;
        }
    }
    m
}

/// The height and width of a pooling step's input, which must be an image.
fn image_size(step: &Step<'_>) -> Result<(u64, u64), ExportError> {
    step.in_shape
        .and_then(|s| s.as_image())
        .map(|(_, h, w)| (h, w))
        .ok_or_else(|| ExportError::Unsupported {
            node: step.node.name.clone(),
            why: "its input is not an image".to_owned(),
        })
}
