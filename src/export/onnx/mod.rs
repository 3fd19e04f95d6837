//! ONNX, written in Rust: the inference graph (BatchNorm in eval mode, Dropout gone) at
//! opset 17 (or 18–21 on request), with the graph's input and output named after the design's
//! Input and Output nodes, a dynamic batch dimension, the weights as initializers under their
//! state-dict names (in a side file beside the model above protobuf's 2 GiB limit, as
//! torch.onnx does), netloom's node names, and metadata for deployment (class names, the
//! fitted preprocessing, netloom's version).

mod conv;
mod norm;
mod pool;

use super::ExportError;
use crate::design::plan::{Plan, Step};
use crate::design::{ActivationFn, Op, Pair, Shape};
use crate::engine::ParamStore;
use crate::onnx_proto::{
    AttributeProto, Dimension, DimensionValue, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto, TensorType,
    TypeProto, ValueInfoProto, attribute_type, data_location, data_type,
};
use prost::Message;
use std::io::Write;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// The operator set written by default: 17 (ONNX 1.12, 2022) is read by every current
/// runtime.
pub const OPSET: i64 = 17;

/// The operator sets netloom writes: every op it uses has the same definition from 17 to 21,
/// but for GELU, which is an op of its own from 20.
pub const OPSETS: std::ops::RangeInclusive<i64> = 17..=21;

/// The IR version that goes with an opset (ONNX's versioning table).
fn ir_version(opset: i64) -> i64 {
    match opset {
        ..=18 => 8,
        19 | 20 => 9,
        _ => 10,
    }
}

/// Weights above this many bytes go to a side file: a protobuf message can't pass 2 GiB, and
/// the graph needs room beside the weights. `NETLOOM_ONNX_EXTERNAL_BYTES` lowers it (tests).
const EXTERNAL_ABOVE: u64 = 1_800_000_000;

/// The side file an export to `out` writes its weights to when they are too big for one
/// protobuf: `model.onnx` → `model.onnx.data`, as torch.onnx names it.
pub fn external_data_path(out: &Path) -> Option<PathBuf> {
    let name = out.file_name()?.to_string_lossy().into_owned();
    Some(out.with_file_name(format!("{name}.data")))
}

/// Whether weights of `bytes` go to a side file.
pub fn needs_external_data(bytes: u64) -> bool {
    let limit = std::env::var("NETLOOM_ONNX_EXTERNAL_BYTES")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(EXTERNAL_ABOVE);
    bytes > limit
}

/// How to write the ONNX file.
#[derive(Clone, Debug)]
pub struct OnnxOptions {
    /// The operator set ([`OPSETS`]).
    pub opset: i64,
    /// `metadata_props`: key and value.
    pub metadata: Vec<(String, String)>,
    /// Where the weights go when they are in a side file: (the file being written, its name
    /// as the model refers to it, relative to the model).
    pub external: Option<(PathBuf, String)>,
}

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
    opset: i64,
    /// The graph's input and output value names.
    input: String,
    output: String,
    /// The side file weights go to, with its name in the model and the bytes written so far.
    external: Option<External>,
}

/// A side file of weights being written.
struct External {
    file: std::io::BufWriter<std::fs::File>,
    path: PathBuf,
    location: String,
    offset: u64,
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
            domain: String::new(),
        });
    }

    /// Adds an initializer from raw f32 values.
    fn constant(&mut self, name: &str, dims: Vec<i64>, values: &[f32]) {
        self.graph.initializer.push(TensorProto {
            dims,
            data_type: data_type::FLOAT,
            name: name.to_owned(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
    }

    /// Adds an int64 initializer (the pads of an explicit Pad).
    fn constant_i64(&mut self, name: &str, values: &[i64]) {
        self.graph.initializer.push(TensorProto {
            dims: vec![values.len() as i64],
            data_type: data_type::INT64,
            name: name.to_owned(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
    }

    /// Adds a weight's values: in the model, or appended to the side file with their place.
    fn weight_tensor(
        &mut self,
        name: &str,
        dims: Vec<i64>,
        values: &[f32],
    ) -> Result<(), ExportError> {
        let Some(ext) = &mut self.external else {
            self.constant(name, dims, values);
            return Ok(());
        };
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        ext.file
            .write_all(&bytes)
            .map_err(|source| ExportError::Write {
                what: "the ONNX weights file",
                path: ext.path.clone(),
                source,
            })?;
        let entry = |k: &str, v: String| StringStringEntryProto {
            key: k.to_owned(),
            value: v,
        };
        self.graph.initializer.push(TensorProto {
            dims,
            data_type: data_type::FLOAT,
            name: name.to_owned(),
            external_data: vec![
                entry("location", ext.location.clone()),
                entry("offset", ext.offset.to_string()),
                entry("length", bytes.len().to_string()),
            ],
            data_location: data_location::EXTERNAL,
            ..Default::default()
        });
        ext.offset += bytes.len() as u64;
        Ok(())
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
        self.weight_tensor(name, dims, &values)?;
        Ok(name.to_owned())
    }

    /// Writes one step; returns the name of the value it produces.
    fn step(&mut self, step: &Step<'_>, ins: &[String]) -> Result<String, ExportError> {
        let name = step.node.name.as_str();
        let x = ins.first().cloned().unwrap_or_else(|| self.input.clone());
        let out = format!("{name}.out");
        match &step.node.op {
            Op::Input(_) => return Ok(self.input.clone()),
            Op::Output(_) => {
                let y = self.output.clone();
                self.node("Identity", name, &[&x], &y, vec![]);
                return Ok(y);
            }
            // Inference graph: dropout is the identity.
            Op::Dropout(_) | Op::Dropout2d(_) => return Ok(x),
            Op::Conv2d(c) => self.conv(name, c, x, &out)?,
            Op::ConvTranspose2d(c) => self.conv_transpose(name, c, x, &out)?,
            Op::Upsample(u) => self.resize(step, u, &x, &out)?,
            Op::CropPad(p) => {
                // ONNX's pads: every axis's begin, then every end; negative removes.
                let pads = format!("{name}.pads");
                self.constant_i64(&pads, &[0, 0, p.top, p.left, 0, 0, p.bottom, p.right]);
                self.node("Pad", name, &[&x, &pads], &out, vec![]);
            }
            Op::MaxPool2d(p) => self.pool(step, p, true, x, &out)?,
            Op::AvgPool2d(p) => self.pool(step, p, false, x, &out)?,
            Op::AdaptiveAvgPool2d(p) => self.adaptive_pool(step, p.output_size, &x, &out)?,
            Op::BatchNorm(b) => self.batch_norm(step, b, &x, &out)?,
            Op::LayerNorm(l) => self.layer_norm(step, l, &x, &out)?,
            Op::LayerScale(_) => {
                let gamma = self.weight(name)?;
                self.node("Mul", name, &[&x, &gamma], &out, vec![]);
            }
            Op::Activation(a) => self.activation(name, a, &x, &out),
            Op::Flatten(_) => self.node("Flatten", name, &[&x], &out, vec![int("axis", 1)]),
            Op::Linear(l) => {
                let inputs = self.weighted(name, x, l.bias)?;
                let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                self.node("Gemm", name, &refs, &out, vec![int("transB", 1)]);
            }
            Op::Add(_) => self.chain("Add", name, ins, &out),
            Op::Mul(_) => self.chain("Mul", name, ins, &out),
            Op::Concat(_) => {
                let refs: Vec<&str> = ins.iter().map(String::as_str).collect();
                self.node("Concat", name, &refs, &out, vec![int("axis", 1)]);
            }
        }
        Ok(out)
    }

    /// A layer's inputs: `x`, the node's weight, and its bias when it has one.
    fn weighted(&mut self, name: &str, x: String, bias: bool) -> Result<Vec<String>, ExportError> {
        let mut inputs = vec![x, self.weight(&format!("{name}.weight"))?];
        if bias {
            inputs.push(self.weight(&format!("{name}.bias"))?);
        }
        Ok(inputs)
    }

    /// A chain of binary Adds or Muls, in port order (as the engine sums or multiplies).
    fn chain(&mut self, op: &str, name: &str, ins: &[String], out: &str) {
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
            self.node(op, &format!("{name}#{k}"), &[&acc, other], &o, vec![]);
            acc = o;
        }
    }

    /// ONNX's Clip, whose bounds are inputs from opset 11.
    fn clip(&mut self, name: &str, x: &str, out: &str, (lo, hi): (f64, f64)) {
        let (min, max) = (format!("{name}.min"), format!("{name}.max"));
        self.constant(&min, vec![], &[lo as f32]);
        self.constant(&max, vec![], &[hi as f32]);
        self.node("Clip", name, &[x, &min, &max], out, vec![]);
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
            ActivationFn::Relu6 => self.clip(name, x, out, (0.0, 6.0)),
            ActivationFn::Hardtanh => self.clip(name, x, out, a.bounds()),
            // PyTorch's relu6(x + 3) / 6 is ONNX's max(0, min(1, x/6 + 1/2)).
            ActivationFn::Hardsigmoid => self.node(
                "HardSigmoid",
                name,
                &[x],
                out,
                vec![float("alpha", 1.0 / 6.0), float("beta", 0.5)],
            ),
            ActivationFn::Hardswish => self.node("HardSwish", name, &[x], out, vec![]),
            ActivationFn::Silu => {
                let s = format!("{name}.sigmoid");
                self.node("Sigmoid", &format!("{name}#sigmoid"), &[x], &s, vec![]);
                self.node("Mul", name, &[x, &s], out, vec![]);
            }
            ActivationFn::Gelu if self.opset >= 20 => {
                // Exact (erf) GELU, PyTorch's default: the op's own default `approximate`.
                self.node("Gelu", name, &[x], out, vec![]);
            }
            ActivationFn::Gelu => {
                // Before opset 20 there is no Gelu: x · ½ · (1 + erf(x / √2)), PyTorch's exact form.
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

/// The graph's input and output value names: the design's Input and Output nodes' names,
/// unless one of them is also a weight's name (or they are the same), where `input` and
/// `output` are used.
fn io_names(plan: &Plan<'_>, params: &ParamStore) -> (String, String) {
    let name_of = |want_input: bool| {
        plan.steps
            .iter()
            .find(|s| {
                if want_input {
                    matches!(s.node.op, Op::Input(_))
                } else {
                    matches!(s.node.op, Op::Output(_))
                }
            })
            .map(|s| s.node.name.clone())
    };
    let taken = |n: &str| params.by_name(n).is_some() || n.ends_with(".out") || n.is_empty();
    let input = name_of(true)
        .filter(|n| !taken(n))
        .unwrap_or_else(|| "input".to_owned());
    let output = name_of(false)
        .filter(|n| !taken(n) && *n != input)
        .unwrap_or_else(|| "output".to_owned());
    if output == input {
        return ("input".to_owned(), "output".to_owned());
    }
    (input, output)
}

/// The ONNX file's bytes for `plan`, with the weights in `params` (loaded and checked); with
/// `options.external`, the weights go to that side file and the model refers to them there.
pub fn onnx_bytes(
    plan: &Plan<'_>,
    params: &ParamStore,
    title: &str,
    options: &OnnxOptions,
) -> Result<Vec<u8>, ExportError> {
    let (input, output) = (plan.input, plan.output);
    if !OPSETS.contains(&options.opset) {
        return Err(ExportError::Unreadable(format!(
            "netloom writes ONNX opsets {} to {}, not {}",
            OPSETS.start(),
            OPSETS.end(),
            options.opset
        )));
    }
    let external = match &options.external {
        Some((path, location)) => {
            let file = std::fs::File::create(path).map_err(|source| ExportError::Write {
                what: "the ONNX weights file",
                path: path.clone(),
                source,
            })?;
            Some(External {
                file: std::io::BufWriter::with_capacity(1 << 20, file),
                path: path.clone(),
                location: location.clone(),
                offset: 0,
            })
        }
        None => None,
    };
    let (input_name, output_name) = io_names(plan, params);
    let mut w = Writer {
        params,
        graph: GraphProto {
            name: title.to_owned(),
            input: vec![value_info(&input_name, input)],
            output: vec![value_info(&output_name, output)],
            doc_string: "written by netloom".to_owned(),
            ..Default::default()
        },
        opset: options.opset,
        input: input_name,
        output: output_name,
        external,
    };
    let mut values: Vec<String> = Vec::with_capacity(plan.steps.len());
    for step in &plan.steps {
        let ins: Vec<String> = step.inputs.iter().map(|&i| values[i].clone()).collect();
        values.push(w.step(step, &ins)?);
    }
    if let Some(ext) = w.external.take() {
        let path = ext.path.clone();
        ext.file
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .map_err(|source| ExportError::Write {
                what: "the ONNX weights file",
                path,
                source,
            })?;
    }
    let model = ModelProto {
        ir_version: ir_version(options.opset),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: options.opset,
        }],
        producer_name: "netloom".to_owned(),
        producer_version: env!("CARGO_PKG_VERSION").to_owned(),
        doc_string: title.to_owned(),
        graph: Some(w.graph),
        metadata_props: options
            .metadata
            .iter()
            .map(|(k, v)| StringStringEntryProto {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
    };
    Ok(model.encode_to_vec())
}
