//! ONNX, written in Rust: the inference graph (BatchNorm in eval mode, Dropout gone) at
//! opset 17, with a named input `input` and output `output`, a dynamic batch dimension, the
//! weights as initializers under their state-dict names, and netloom's node names.

use super::ExportError;
use super::onnx_proto::{
    AttributeProto, Dimension, DimensionValue, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, TensorProto, TensorShapeProto, TensorType, TypeProto, ValueInfoProto,
    attribute_type, data_type,
};
use super::plan::{Plan, Step};
use crate::design::{ActivationFn, BatchNorm, Conv2d, Op, Pair, Shape};
use crate::engine::ParamStore;
use prost::Message;
use tch::{Device, Kind, Tensor};

/// The operator set written: 17 (ONNX 1.12, 2022) is read by every current runtime.
pub const OPSET: i64 = 17;
/// The IR version that goes with opset 17.
const IR_VERSION: i64 = 8;

fn ints(name: &str, v: Vec<i64>) -> AttributeProto {
    AttributeProto {
        name: name.to_owned(),
        ints: v,
        r#type: attribute_type::INTS,
        ..Default::default()
    }
}

fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: name.to_owned(),
        i: v,
        r#type: attribute_type::INT,
        ..Default::default()
    }
}

fn float(name: &str, v: f64) -> AttributeProto {
    AttributeProto {
        name: name.to_owned(),
        f: v as f32,
        r#type: attribute_type::FLOAT,
        ..Default::default()
    }
}

fn hw(p: Pair) -> Vec<i64> {
    vec![p.h() as i64, p.w() as i64]
}

/// ONNX pads: begin of each axis, then end of each axis.
fn pads(p: Pair) -> Vec<i64> {
    vec![p.h() as i64, p.w() as i64, p.h() as i64, p.w() as i64]
}

fn value_info(name: &str, shape: Shape) -> ValueInfoProto {
    let mut dim = vec![Dimension {
        value: Some(DimensionValue::DimParam("batch".to_owned())),
    }];
    dim.extend(shape.dims().iter().map(|&d| Dimension {
        value: Some(DimensionValue::DimValue(d as i64)),
    }));
    ValueInfoProto {
        name: name.to_owned(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorType {
                elem_type: data_type::FLOAT,
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
    }
}

/// The graph being written.
struct Writer<'a> {
    params: &'a ParamStore,
    graph: GraphProto,
}

impl Writer<'_> {
    fn node(
        &mut self,
        op: &str,
        name: &str,
        input: &[&str],
        output: &str,
        attrs: Vec<AttributeProto>,
    ) {
        self.graph.node.push(NodeProto {
            input: input.iter().map(|s| (*s).to_owned()).collect(),
            output: vec![output.to_owned()],
            name: name.to_owned(),
            op_type: op.to_owned(),
            attribute: attrs,
        });
    }

    /// Adds an initializer from raw f32 values.
    fn constant(&mut self, name: &str, dims: Vec<i64>, values: &[f32]) {
        self.graph.initializer.push(TensorProto {
            dims,
            data_type: data_type::FLOAT,
            name: name.to_owned(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        });
    }

    /// Adds the network's tensor `name` as an initializer; its name in the graph is `name`.
    fn weight(&mut self, name: &str) -> Result<String, ExportError> {
        let p = self
            .params
            .by_name(name)
            .ok_or_else(|| ExportError::Unsupported {
                node: name.to_owned(),
                why: "its tensor is missing from the compiled network".to_owned(),
            })?;
        let t: Tensor = p
            .tensor
            .detach()
            .to_device(Device::Cpu)
            .to_kind(Kind::Float)
            .contiguous();
        let dims = t.size();
        let values =
            Vec::<f32>::try_from(t.flatten(0, -1)).map_err(|e| ExportError::Unsupported {
                node: name.to_owned(),
                why: format!("its values can't be read: {e}"),
            })?;
        self.constant(name, dims, &values);
        Ok(name.to_owned())
    }

    /// Writes one step; returns the name of the value it produces.
    fn step(&mut self, step: &Step<'_>, ins: &[String]) -> Result<String, ExportError> {
        let name = step.node.name.as_str();
        let x = ins.first().cloned().unwrap_or_else(|| "input".to_owned());
        let out = format!("{name}.out");
        match &step.node.op {
            Op::Input(_) => return Ok("input".to_owned()),
            Op::Output(_) => {
                self.node("Identity", name, &[&x], "output", vec![]);
                return Ok("output".to_owned());
            }
            // Inference graph: dropout is the identity.
            Op::Dropout(_) | Op::Dropout2d(_) => return Ok(x),
            Op::Conv2d(c) => self.conv(name, c, x, &out)?,
            Op::MaxPool2d(p) | Op::AvgPool2d(p) => {
                let mut attrs = vec![
                    ints("kernel_shape", hw(p.kernel_size)),
                    ints("strides", hw(p.effective_stride())),
                    ints("pads", pads(p.padding)),
                    int("ceil_mode", i64::from(p.ceil_mode)),
                ];
                let op = if matches!(step.node.op, Op::MaxPool2d(_)) {
                    "MaxPool"
                } else {
                    // netloom (like torch) counts padded zeros in the average.
                    attrs.push(int("count_include_pad", 1));
                    "AveragePool"
                };
                self.node(op, name, &[&x], &out, attrs);
            }
            Op::AdaptiveAvgPool2d(p) => self.adaptive_pool(step, p.output_size, &x, &out)?,
            Op::BatchNorm(b) => self.batch_norm(step, b, &x, &out)?,
            Op::Activation(a) => self.activation(name, a, &x, &out),
            Op::Flatten(_) => self.node("Flatten", name, &[&x], &out, vec![int("axis", 1)]),
            Op::Linear(l) => {
                let w = self.weight(&format!("{name}.weight"))?;
                let mut inputs = vec![x, w];
                if l.bias {
                    inputs.push(self.weight(&format!("{name}.bias"))?);
                }
                let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                self.node("Gemm", name, &refs, &out, vec![int("transB", 1)]);
            }
            Op::Add(_) => self.add(name, ins, &out),
            Op::Concat(_) => {
                let refs: Vec<&str> = ins.iter().map(String::as_str).collect();
                self.node("Concat", name, &refs, &out, vec![int("axis", 1)]);
            }
        }
        Ok(out)
    }

    fn conv(&mut self, name: &str, c: &Conv2d, x: String, out: &str) -> Result<(), ExportError> {
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

    fn adaptive_pool(
        &mut self,
        step: &Step<'_>,
        size: Pair,
        x: &str,
        out: &str,
    ) -> Result<(), ExportError> {
        let name = step.node.name.as_str();
        let (_, h, w) =
            step.in_shape
                .and_then(|s| s.as_image())
                .ok_or_else(|| ExportError::Unsupported {
                    node: name.to_owned(),
                    why: "its input is not an image".to_owned(),
                })?;
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

    fn batch_norm(
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

    /// A chain of binary Adds, in port order (as the engine sums).
    fn add(&mut self, name: &str, ins: &[String], out: &str) {
        let Some(first) = ins.first() else {
            return;
        };
        if ins.len() < 2 {
            self.node("Identity", name, &[first], out, vec![]);
            return;
        }
        let mut acc = first.clone();
        for (k, other) in ins.iter().enumerate().skip(1) {
            let o = if k + 1 == ins.len() {
                out.to_owned()
            } else {
                format!("{name}.sum{k}")
            };
            self.node("Add", &format!("{name}#{k}"), &[&acc, other], &o, vec![]);
            acc = o;
        }
    }

    fn activation(&mut self, name: &str, a: &crate::design::Activation, x: &str, out: &str) {
        match a.function {
            ActivationFn::Relu => self.node("Relu", name, &[x], out, vec![]),
            ActivationFn::LeakyRelu => self.node(
                "LeakyRelu",
                name,
                &[x],
                out,
                vec![float("alpha", a.negative_slope())],
            ),
            ActivationFn::Elu => {
                self.node("Elu", name, &[x], out, vec![float("alpha", a.alpha())]);
            }
            // ONNX's defaults are PyTorch's SELU constants.
            ActivationFn::Selu => self.node("Selu", name, &[x], out, vec![]),
            ActivationFn::Sigmoid => self.node("Sigmoid", name, &[x], out, vec![]),
            ActivationFn::Tanh => self.node("Tanh", name, &[x], out, vec![]),
            ActivationFn::Softmax => {
                self.node("Softmax", name, &[x], out, vec![int("axis", a.dim())]);
            }
            ActivationFn::Silu => {
                let s = format!("{name}.sigmoid");
                self.node("Sigmoid", &format!("{name}#sigmoid"), &[x], &s, vec![]);
                self.node("Mul", name, &[x, &s], out, vec![]);
            }
            ActivationFn::Gelu => {
                // Opset 17 has no Gelu: x · ½ · (1 + erf(x / √2)), PyTorch's exact form.
                let (c_sqrt, c_half, c_one) = (
                    format!("{name}.inv_sqrt2"),
                    format!("{name}.half"),
                    format!("{name}.one"),
                );
                self.constant(&c_sqrt, vec![], &[std::f32::consts::FRAC_1_SQRT_2]);
                self.constant(&c_half, vec![], &[0.5]);
                self.constant(&c_one, vec![], &[1.0]);
                let v = |s: &str| format!("{name}.{s}");
                self.node(
                    "Mul",
                    &format!("{name}#scale"),
                    &[x, &c_sqrt],
                    &v("scaled"),
                    vec![],
                );
                self.node(
                    "Erf",
                    &format!("{name}#erf"),
                    &[&v("scaled")],
                    &v("erf"),
                    vec![],
                );
                self.node(
                    "Add",
                    &format!("{name}#add"),
                    &[&v("erf"), &c_one],
                    &v("plus1"),
                    vec![],
                );
                self.node(
                    "Mul",
                    &format!("{name}#half"),
                    &[x, &c_half],
                    &v("halfx"),
                    vec![],
                );
                self.node("Mul", name, &[&v("halfx"), &v("plus1")], out, vec![]);
            }
        }
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

/// The ONNX file's bytes for `plan`, with the weights in `params` (loaded and checked).
pub fn onnx_bytes(
    plan: &Plan<'_>,
    params: &ParamStore,
    title: &str,
) -> Result<Vec<u8>, ExportError> {
    let (Some(input), Some(output)) = (plan.input_shape(), plan.output_shape()) else {
        return Err(ExportError::InvalidDesign {
            count: 1,
            first: "the design needs one Input and one Output".to_owned(),
        });
    };
    let mut w = Writer {
        params,
        graph: GraphProto {
            name: title.to_owned(),
            input: vec![value_info("input", input)],
            output: vec![value_info("output", output)],
            doc_string: "written by netloom".to_owned(),
            ..Default::default()
        },
    };
    let mut values: Vec<String> = Vec::with_capacity(plan.steps.len());
    for step in &plan.steps {
        let ins: Vec<String> = step.inputs.iter().map(|&i| values[i].clone()).collect();
        values.push(w.step(step, &ins)?);
    }
    let model = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "netloom".to_owned(),
        producer_version: env!("CARGO_PKG_VERSION").to_owned(),
        doc_string: title.to_owned(),
        graph: Some(w.graph),
    };
    Ok(model.encode_to_vec())
}
