//! `model.py`: the design as an `nn.Module` a Python user reads in a minute.
//!
//! Submodules sit where their dotted names say (`layer1.0.conv1` is `self.layer1["0"].conv1`,
//! containers being `nn.ModuleDict`s), so netloom's safetensors and torchvision's own state
//! dicts load with `load_state_dict(strict=True)`. `forward` has one line per node, in the
//! design's execution order.

use super::python::{self, float, is_module_attribute, is_plain_attribute, variable};
use crate::design::plan::{Plan, Step};
use crate::design::{ActivationFn, Op, Pair};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The safetensors helpers every exported file shares (model.py holds them; train.py imports).
const HELPERS: &str = include_str!("safetensors.py");

/// torchvision's `LayerNorm2d` (ConvNeXt): LayerNorm over the channels at every pixel.
const LAYER_NORM_2D: &str = r#"
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an image at every pixel (torchvision's, for ConvNeXt)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


"#;

fn pair(p: Pair) -> String {
    match p {
        Pair::Same(v) => v.to_string(),
        p => format!("({}, {})", p.h(), p.w()),
    }
}

/// The `nn` constructor of a node with parameters or settings; `None` for Add, Concat, Mul, Input
/// and Output, which are written inline in `forward`.
fn constructor(step: &Step<'_>) -> Option<String> {
    let cin = step
        .in_shape
        .and_then(|s| s.dims().first().copied())
        .unwrap_or(1);
    let s = match &step.node.op {
        Op::Conv2d(_) | Op::ConvTranspose2d(_) => conv(step, cin),
        Op::Upsample(u) => {
            let mut args = Vec::new();
            if let Some(s) = u.scale_factor {
                args.push(format!("scale_factor={}", float(s)));
            }
            if let Some(p) = u.size {
                args.push(format!("size=({}, {})", p.h(), p.w()));
            }
            let bilinear = u.mode == crate::design::UpsampleMode::Bilinear;
            args.push(format!(
                "mode=\"{}\"",
                if bilinear { "bilinear" } else { "nearest" }
            ));
            if bilinear {
                let corners = if u.align_corners { "True" } else { "False" };
                args.push(format!("align_corners={corners}"));
            }
            format!("nn.Upsample({})", args.join(", "))
        }
        // ZeroPad2d takes (left, right, top, bottom); a negative side crops, as F.pad does.
        Op::CropPad(p) => format!(
            "nn.ZeroPad2d(({}, {}, {}, {}))",
            p.left, p.right, p.top, p.bottom
        ),
        Op::MaxPool2d(p) | Op::AvgPool2d(p) => {
            let kind = if matches!(step.node.op, Op::MaxPool2d(_)) {
                "MaxPool2d"
            } else {
                "AvgPool2d"
            };
            let mut args = vec![format!("kernel_size={}", pair(p.kernel_size))];
            if p.effective_stride() != p.kernel_size {
                args.push(format!("stride={}", pair(p.effective_stride())));
            }
            if p.padding.h() != 0 || p.padding.w() != 0 {
                args.push(format!("padding={}", pair(p.padding)));
            }
            if p.ceil_mode {
                args.push("ceil_mode=True".to_owned());
            }
            if kind == "AvgPool2d" && !p.count_include_pad {
                args.push("count_include_pad=False".to_owned());
            }
            format!("nn.{kind}({})", args.join(", "))
        }
        Op::AdaptiveAvgPool2d(p) => format!("nn.AdaptiveAvgPool2d({})", pair(p.output_size)),
        Op::BatchNorm(_) | Op::LayerNorm(_) | Op::LayerScale(_) => norm(step, cin),
        Op::Dropout(d) => format!("nn.Dropout(p={})", float(d.p)),
        Op::Dropout2d(d) => format!("nn.Dropout2d(p={})", float(d.p)),
        Op::Activation(a) => match a.function {
            ActivationFn::LeakyRelu => {
                format!("nn.LeakyReLU(negative_slope={})", float(a.negative_slope()))
            }
            ActivationFn::Elu => format!("nn.ELU(alpha={})", float(a.alpha())),
            ActivationFn::Softmax => format!("nn.Softmax(dim={})", a.dim()),
            ActivationFn::Hardtanh => {
                let (lo, hi) = a.bounds();
                format!("nn.Hardtanh(min_val={}, max_val={})", float(lo), float(hi))
            }
            f => format!("nn.{}()", f.name()),
        },
        Op::Flatten(_) => "nn.Flatten()".to_owned(),
        Op::Linear(l) => {
            let fin = step.in_shape.map_or(1, |s| s.numel());
            let bias = if l.bias { "" } else { ", bias=False" };
            format!("nn.Linear({fin}, {}{bias})", l.out_features)
        }
        Op::Add(_) | Op::Concat(_) | Op::Mul(_) | Op::Input(_) | Op::Output(_) => return None,
    };
    Some(s)
}

/// The constructor of a convolution or a transposed convolution, with only the settings
/// that differ from PyTorch's defaults.
fn conv(step: &Step<'_>, cin: u64) -> String {
    match &step.node.op {
        Op::Conv2d(c) => {
            let mut args = vec![
                cin.to_string(),
                c.out_channels.to_string(),
                format!("kernel_size={}", pair(c.kernel_size)),
            ];
            let one = Pair::Same(1);
            if c.stride != one && c.stride != Pair::HW(1, 1) {
                args.push(format!("stride={}", pair(c.stride)));
            }
            if c.padding.h() != 0 || c.padding.w() != 0 {
                args.push(format!("padding={}", pair(c.padding)));
            }
            if c.dilation.h() != 1 || c.dilation.w() != 1 {
                args.push(format!("dilation={}", pair(c.dilation)));
            }
            if c.groups > 1 {
                args.push(format!("groups={}", c.groups));
            }
            if !c.bias {
                args.push("bias=False".to_owned());
            }
            format!("nn.Conv2d({})", args.join(", "))
        }
        Op::ConvTranspose2d(c) => {
            let mut args = vec![
                cin.to_string(),
                c.out_channels.to_string(),
                format!("kernel_size={}", pair(c.kernel_size)),
            ];
            for (name, v, default) in [
                ("stride", c.stride, 1),
                ("padding", c.padding, 0),
                ("output_padding", c.output_padding, 0),
                ("dilation", c.dilation, 1),
            ] {
                if v.h() != default || v.w() != default {
                    args.push(format!("{name}={}", pair(v)));
                }
            }
            if c.groups > 1 {
                args.push(format!("groups={}", c.groups));
            }
            if !c.bias {
                args.push("bias=False".to_owned());
            }
            format!("nn.ConvTranspose2d({})", args.join(", "))
        }
        _ => String::new(),
    }
}

/// The constructor of a normalising node: BatchNorm1d/2d, LayerNorm (LayerNorm2d on images)
/// or a LayerScale's bare parameter.
fn norm(step: &Step<'_>, cin: u64) -> String {
    let image = step.in_shape.is_some_and(|s| s.rank() == 3);
    match &step.node.op {
        Op::BatchNorm(b) => {
            let kind = if image { "BatchNorm2d" } else { "BatchNorm1d" };
            let mut args = vec![cin.to_string()];
            if b.eps != 1e-5 {
                args.push(format!("eps={}", float(b.eps)));
            }
            if b.momentum != 0.1 {
                args.push(format!("momentum={}", float(b.momentum)));
            }
            if !b.affine {
                args.push("affine=False".to_owned());
            }
            format!("nn.{kind}({})", args.join(", "))
        }
        Op::LayerNorm(l) => {
            let kind = if image { "LayerNorm2d" } else { "nn.LayerNorm" };
            let mut args = vec![cin.to_string()];
            if l.eps != 1e-5 {
                args.push(format!("eps={}", float(l.eps)));
            }
            if !l.elementwise_affine {
                args.push("elementwise_affine=False".to_owned());
            }
            format!("{kind}({})", args.join(", "))
        }
        // A bare parameter, registered on its parent module (see `init_lines`).
        Op::LayerScale(l) => {
            let shape = if image {
                format!("({cin}, 1, 1)")
            } else {
                format!("({cin},)")
            };
            format!("nn.Parameter(torch.full({shape}, {}))", float(l.init))
        }
        _ => String::new(),
    }
}

/// How submodules are reached and registered: containers are `nn.ModuleDict`s.
struct Modules {
    /// Paths that are `nn.ModuleDict` containers.
    containers: HashSet<String>,
}

impl Modules {
    /// The expression reaching the module at `path` (`self.layer1["0"].conv1`).
    fn access(&self, path: &str) -> String {
        let mut expr = "self".to_owned();
        let mut at = String::new();
        for seg in path.split('.') {
            expr = match Slot::of(seg, self.containers.contains(&at)) {
                Slot::Attribute => format!("{expr}.{seg}"),
                Slot::Key => format!("{expr}[{}]", python::string(seg)),
                Slot::Added | Slot::Raw => format!("{expr}._modules[{}]", python::string(seg)),
            };
            if !at.is_empty() {
                at.push('.');
            }
            at.push_str(seg);
        }
        expr
    }

    /// The module owning `path`, and the last segment's name there.
    fn owner<'p>(&self, path: &'p str) -> (String, &'p str) {
        let (parent, seg) = path.rsplit_once('.').unwrap_or(("", path));
        let owner = if parent.is_empty() {
            "self".to_owned()
        } else {
            self.access(parent)
        };
        (owner, seg)
    }

    /// The expression reaching a bare parameter (a LayerScale's) at `path`: an attribute of
    /// its parent module, dict or not.
    fn parameter(&self, path: &str) -> String {
        let (owner, seg) = self.owner(path);
        if is_plain_attribute(seg) {
            format!("{owner}.{seg}")
        } else {
            format!("getattr({owner}, {})", python::string(seg))
        }
    }

    /// The statement registering `module` at `path`; a parameter (`nn.Parameter(…)`) is
    /// registered on the parent as a parameter, which a `ModuleDict`'s `[key] =` can't do.
    fn register(&self, path: &str, module: &str) -> String {
        let (owner, seg) = self.owner(path);
        let key = python::string(seg);
        if module.starts_with("nn.Parameter(") {
            return format!("{owner}.register_parameter({key}, {module})");
        }
        let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
        match Slot::of(seg, self.containers.contains(parent)) {
            Slot::Attribute => format!("{owner}.{seg} = {module}"),
            Slot::Key => format!("{owner}[{key}] = {module}"),
            Slot::Added => format!("{owner}.add_module({key}, {module})"),
            Slot::Raw => format!("{owner}._modules[{key}] = {module}"),
        }
    }
}

/// How a submodule's name can be written in Python.
enum Slot {
    /// `parent.name`: a plain identifier.
    Attribute,
    /// `parent["0"]`: a key of an `nn.ModuleDict` that isn't an identifier (digits, keywords).
    Key,
    /// `parent.add_module("in", m)`, read back through `_modules`: not an identifier, and the
    /// parent is no dict.
    Added,
    /// `parent._modules["eval"]`: a name nn.Module already has as an attribute; `add_module`
    /// refuses those, so it goes into the module table directly (state dicts come from there).
    Raw,
}

impl Slot {
    fn of(seg: &str, parent_is_dict: bool) -> Slot {
        if is_plain_attribute(seg) {
            Slot::Attribute
        } else if is_module_attribute(seg) {
            Slot::Raw
        } else if parent_is_dict {
            Slot::Key
        } else {
            Slot::Added
        }
    }
}

/// The `__init__` body: containers first where needed, then each node's module.
fn init_lines(plan: &Plan<'_>, modules: &Modules, leaves: &HashMap<&str, String>) -> Vec<String> {
    let mut lines = Vec::new();
    let mut made: BTreeSet<String> = BTreeSet::new();
    for step in &plan.steps {
        let name = step.node.name.as_str();
        let Some(module) = leaves.get(name) else {
            continue;
        };
        // Each prefix must exist before its children: a container, or a node's own module.
        let segs: Vec<&str> = name.split('.').collect();
        for i in 1..segs.len() {
            let prefix = segs[..i].join(".");
            if made.insert(prefix.clone()) {
                let m = leaves
                    .get(prefix.as_str())
                    .cloned()
                    .unwrap_or_else(|| "nn.ModuleDict()".to_owned());
                lines.push(modules.register(&prefix, &m));
            }
        }
        if made.insert(name.to_owned()) {
            lines.push(modules.register(name, module));
        }
    }
    lines
}

/// The `forward` body: one line per node.
fn forward_lines(plan: &Plan<'_>, modules: &Modules, vars: &[String]) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        let ins: Vec<&str> = step.inputs.iter().map(|&j| vars[j].as_str()).collect();
        let first = ins.first().copied().unwrap_or("x");
        let shape = step
            .out_shape
            .map(|s| {
                let dims: Vec<String> = s.dims().iter().map(u64::to_string).collect();
                format!("  # [n, {}]", dims.join(", "))
            })
            .unwrap_or_default();
        let v = &vars[i];
        let line = match &step.node.op {
            Op::Input(_) => continue,
            Op::Output(_) => format!("return {first}"),
            Op::Add(_) => format!("{v} = {}{shape}", ins.join(" + ")),
            Op::Concat(_) => format!("{v} = torch.cat([{}], dim=1){shape}", ins.join(", ")),
            Op::Mul(_) => format!("{v} = {}{shape}", ins.join(" * ")),
            Op::LayerScale(_) => format!(
                "{v} = {first} * {}{shape}",
                modules.parameter(&step.node.name)
            ),
            _ => format!("{v} = {}({first}){shape}", modules.access(&step.node.name)),
        };
        lines.push(line);
    }
    lines
}

/// Variable names for every node's output, unique, the Input's being the forward argument
/// `x` (as in PyTorch's own modules; never `input`, which would hide Python's builtin).
fn variables(plan: &Plan<'_>) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    seen.insert("x".to_owned());
    plan.steps
        .iter()
        .map(|s| {
            if s.inputs.is_empty() && matches!(s.node.op, Op::Input(_)) {
                return "x".to_owned();
            }
            let base = variable(&s.node.name);
            let mut v = base.clone();
            let mut k = 2;
            while !seen.insert(v.clone()) {
                v = format!("{base}_{k}");
                k += 1;
            }
            v
        })
        .collect()
}

/// The text of model.py for `plan`; `title` names the design in the docstring.
pub fn model_py(plan: &Plan<'_>, title: &str) -> String {
    let leaves: HashMap<&str, String> = plan
        .steps
        .iter()
        .filter_map(|s| constructor(s).map(|c| (s.node.name.as_str(), c)))
        .collect();
    let mut containers = HashSet::new();
    containers.insert(String::new());
    for name in leaves.keys() {
        let segs: Vec<&str> = name.split('.').collect();
        for i in 1..segs.len() {
            let prefix = segs[..i].join(".");
            if !leaves.contains_key(prefix.as_str()) {
                containers.insert(prefix);
            }
        }
    }
    // The root is an nn.Module, not a dict: only its children below are indexed.
    containers.remove("");
    let modules = Modules { containers };
    let vars = variables(plan);
    let input = plan
        .steps
        .iter()
        .position(|s| s.inputs.is_empty())
        .map_or("x".to_owned(), |i| vars[i].clone());
    let shape = |s: crate::design::Shape| {
        let dims: Vec<String> = s.dims().iter().map(u64::to_string).collect();
        if dims.len() == 1 {
            format!("({},)", dims[0])
        } else {
            format!("({})", dims.join(", "))
        }
    };
    let mut out = String::new();
    out += &format!(
        "\"\"\"{} as a PyTorch module, written by netloom {}.\n\nLoad netloom's weights with `build(\"weights.safetensors\")`; train with train.py.\n\"\"\"\n\n",
        python::docstring_text(title),
        env!("CARGO_PKG_VERSION")
    );
    out += "import torch\nfrom torch import nn\n\n";
    if leaves.values().any(|m| m.starts_with("LayerNorm2d(")) {
        out += LAYER_NORM_2D;
    }
    out += &format!("INPUT_SHAPE = {}\n", shape(plan.input));
    out += &format!("OUTPUT_SHAPE = {}\n\n\n", shape(plan.output));
    out += "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n";
    for l in init_lines(plan, &modules, &leaves) {
        out += &format!("        {l}\n");
    }
    out += &format!("\n    def forward(self, {input}):  # [n, *INPUT_SHAPE]\n");
    for l in forward_lines(plan, &modules, &vars) {
        out += &format!("        {l}\n");
    }
    out += "\n\n";
    out += HELPERS;
    out += "\n\nif __name__ == \"__main__\":\n";
    out += "    net = Net().eval()\n    print(net)\n";
    out += "    print(sum(p.numel() for p in net.parameters()), \"parameters\")\n";
    out += "    print(\"output shape:\", tuple(net(torch.zeros(2, *INPUT_SHAPE)).shape))\n";
    out
}
