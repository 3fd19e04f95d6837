"""PyTorch reference for netloom's engine tests, written independently of netloom's code.

Reads a netloom design (JSON) and builds the same network from torch.nn modules, loads the
weights netloom wrote (safetensors, parsed here so no extra package is needed) with
load_state_dict(strict=True), runs it in eval mode and writes the output.

Usage: python3 torch_reference.py MANIFEST.json
MANIFEST: [{"design": ..., "weights": ..., "input": X.npy, "output": Y.npy}, ...]
"""
import ast
import json
import struct
import sys

import torch
import torch.nn as nn
from torchvision.models.convnext import LayerNorm2d

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        t = torch.frombuffer(bytearray(data[start:end]), dtype=dtype) if end > start else torch.zeros(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def read_npy(path):
    raw = open(path, "rb").read()
    assert raw[:6] == b"\x93NUMPY"
    (hlen,) = struct.unpack("<H", raw[8:10])
    header = ast.literal_eval(raw[10:10 + hlen].decode())
    assert header["descr"] == "<f4" and not header["fortran_order"]
    return torch.frombuffer(bytearray(raw[10 + hlen:]), dtype=torch.float32).reshape(header["shape"]).clone()


def write_npy(path, t):
    t = t.detach().contiguous().to(torch.float32)
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (tuple(t.shape),)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        # Without numpy (the torch wheel doesn't need it): the raw little-endian bytes.
        f.write(bytes(t.flatten().view(torch.uint8).tolist()))


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def topo_order(nodes, edges):
    indeg = {n["id"]: 0 for n in nodes}
    for e in edges:
        indeg[e["to"]] += 1
    ready = sorted(i for i, d in indeg.items() if d == 0)
    order = []
    while ready:
        i = ready.pop(0)
        order.append(i)
        for e in edges:
            if e["from"] == i:
                indeg[e["to"]] -= 1
                if indeg[e["to"]] == 0:
                    ready.append(e["to"])
    return order


class PlainLayerNorm(nn.Module):
    """LayerNorm with no scale and shift over dimension 1 (an image's channels)."""

    def __init__(self, eps, image):
        super().__init__()
        self.eps, self.image = eps, image

    def forward(self, x):
        if self.image:
            x = x.permute(0, 2, 3, 1)
        y = nn.functional.layer_norm(x, x.shape[-1:], eps=self.eps)
        return y.permute(0, 3, 1, 2) if self.image else y


class Reference(nn.Module):
    """The design as torch.nn modules, one attribute per node name (so state-dict keys match)."""

    def __init__(self, design, state):
        super().__init__()
        self.nodes = {n["id"]: n for n in design["nodes"]}
        self.inputs = {}
        for e in sorted(design["edges"], key=lambda e: e.get("port", 0)):
            self.inputs.setdefault(e["to"], []).append(e["from"])
        self.order = topo_order(design["nodes"], design["edges"])
        image = {}
        for i in self.order:
            node = self.nodes[i]
            op, name = node["op"], node["name"]
            t = op["type"]
            ins = self.inputs.get(i, [])
            is_image = image[ins[0]] if ins else "channels" in op
            module = None
            if t == "conv2d":
                w = state[name + ".weight"]
                groups = op.get("groups", 1)
                module = nn.Conv2d(w.shape[1] * groups, op["out_channels"], pair(op["kernel_size"]),
                                   stride=pair(op.get("stride", 1)), padding=pair(op.get("padding", 0)),
                                   dilation=pair(op.get("dilation", 1)), groups=groups, bias=op.get("bias", True))
            elif t == "conv_transpose2d":
                w = state[name + ".weight"]
                groups = op.get("groups", 1)
                module = nn.ConvTranspose2d(w.shape[0], op["out_channels"], pair(op["kernel_size"]),
                                            stride=pair(op.get("stride", 1)), padding=pair(op.get("padding", 0)),
                                            output_padding=pair(op.get("output_padding", 0)), groups=groups,
                                            bias=op.get("bias", True), dilation=pair(op.get("dilation", 1)))
            elif t in ("max_pool2d", "avg_pool2d"):
                cls = nn.MaxPool2d if t == "max_pool2d" else nn.AvgPool2d
                stride = op.get("stride")
                extra = {"count_include_pad": op.get("count_include_pad", True)} if t == "avg_pool2d" else {}
                module = cls(pair(op["kernel_size"]), stride=pair(stride) if stride is not None else None,
                             padding=pair(op.get("padding", 0)), ceil_mode=op.get("ceil_mode", False), **extra)
            elif t == "adaptive_avg_pool2d":
                module = nn.AdaptiveAvgPool2d(pair(op["output_size"]))
            elif t == "batch_norm":
                c = state[name + ".running_mean"].shape[0]
                cls = nn.BatchNorm2d if is_image else nn.BatchNorm1d
                module = cls(c, eps=op.get("eps", 1e-5), momentum=op.get("momentum", 0.1), affine=op.get("affine", True))
            elif t == "layer_norm":
                eps = op.get("eps", 1e-5)
                if op.get("elementwise_affine", True):
                    c = state[name + ".weight"].shape[0]
                    module = LayerNorm2d(c, eps=eps) if is_image else nn.LayerNorm(c, eps=eps)
                else:
                    module = PlainLayerNorm(eps, is_image)
            elif t == "layer_scale":
                self.register_parameter(name, nn.Parameter(torch.empty_like(state[name])))
            elif t == "dropout":
                module = nn.Dropout(op.get("p", 0.5))
            elif t == "dropout2d":
                module = nn.Dropout2d(op.get("p", 0.5))
            elif t == "activation":
                f = op["function"]
                module = {
                    "relu": lambda: nn.ReLU(),
                    "leaky_relu": lambda: nn.LeakyReLU(op.get("negative_slope", 0.01)),
                    "elu": lambda: nn.ELU(op.get("alpha", 1.0)),
                    "selu": lambda: nn.SELU(),
                    "gelu": lambda: nn.GELU(),
                    "sigmoid": lambda: nn.Sigmoid(),
                    "tanh": lambda: nn.Tanh(),
                    "silu": lambda: nn.SiLU(),
                    "softmax": lambda: nn.Softmax(dim=op.get("dim", 1)),
                    "relu6": lambda: nn.ReLU6(),
                    "hardtanh": lambda: nn.Hardtanh(op.get("min_val", -1.0), op.get("max_val", 1.0)),
                    "hardsigmoid": lambda: nn.Hardsigmoid(),
                    "hardswish": lambda: nn.Hardswish(),
                }[f]()
            elif t == "flatten":
                module = nn.Flatten()
                is_image = False
            elif t == "linear":
                w = state[name + ".weight"]
                module = nn.Linear(w.shape[1], op["out_features"], bias=op.get("bias", True))
                is_image = False
            image[i] = is_image
            if module is not None:
                self.add_module(name, module)

    def forward(self, x):
        outs = {}
        for i in self.order:
            node = self.nodes[i]
            t = node["op"]["type"]
            ins = [outs[j] for j in self.inputs.get(i, [])]
            if t == "input":
                y = x
            elif t == "output":
                y = ins[0]
            elif t == "add":
                y = ins[0]
                for other in ins[1:]:
                    y = y + other
            elif t == "concat":
                y = torch.cat(ins, dim=1)
            elif t == "mul":
                y = ins[0]
                for other in ins[1:]:
                    y = y * other
            elif t == "layer_scale":
                y = ins[0] * getattr(self, node["name"])
            else:
                y = getattr(self, node["name"])(ins[0])
            outs[i] = y
        return y


def main():
    torch.set_grad_enabled(False)
    for case in json.load(open(sys.argv[1])):
        design = json.load(open(case["design"]))
        state = read_safetensors(case["weights"])
        net = Reference(design, state)
        net.load_state_dict(state, strict=True)
        net.eval()
        write_npy(case["output"], net(read_npy(case["input"])))


if __name__ == "__main__":
    main()
