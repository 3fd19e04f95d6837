"""torch.nn's transposed convolution, upsampling and ZeroPad2d (CropPad), forward and backward, for
tests/dense_layers.rs.

    dense_reference.py MANIFEST.json

Each case of the manifest names its settings, the input x, the output weights r (the loss is
sum(y * r)) and netloom's weights; this writes torch's y and the gradients of the loss with
respect to x, the weight and the bias, as .npy files named in the case.
"""

import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from torch_reference import read_npy, read_safetensors, write_npy  # noqa: E402


def main():
    torch.set_num_threads(1)
    for case in json.load(open(sys.argv[1])):
        s = case["settings"]
        if case["kind"] == "croppad":
            layer = nn.ZeroPad2d((s["left"], s["right"], s["top"], s["bottom"]))
            x = read_npy(case["x"]).requires_grad_(True)
            y = layer(x)
            (y * read_npy(case["r"])).sum().backward()
            write_npy(case["y"], y.detach())
            write_npy(case["gx"], x.grad)
            continue
        if case["kind"] == "upsample":
            extra = {"align_corners": s["align_corners"]} if s["mode"] == "bilinear" else {}
            size = tuple(s["size"]) if s["size"] is not None else None
            layer = nn.Upsample(size=size, scale_factor=s["scale_factor"], mode=s["mode"], **extra)
            x = read_npy(case["x"]).requires_grad_(True)
            y = layer(x)
            (y * read_npy(case["r"])).sum().backward()
            write_npy(case["y"], y.detach())
            write_npy(case["gx"], x.grad)
            continue
        state = read_safetensors(case["weights"])
        w = state["up.weight"]
        layer = nn.ConvTranspose2d(
            w.shape[0], s["out_channels"], tuple(w.shape[2:]), stride=tuple(s["stride"]),
            padding=tuple(s["padding"]), output_padding=tuple(s["output_padding"]),
            groups=s["groups"], bias=s["bias"], dilation=tuple(s["dilation"]))
        with torch.no_grad():
            layer.weight.copy_(w)
            if s["bias"]:
                layer.bias.copy_(state["up.bias"])
        x = read_npy(case["x"]).requires_grad_(True)
        y = layer(x)
        (y * read_npy(case["r"])).sum().backward()
        write_npy(case["y"], y.detach())
        write_npy(case["gx"], x.grad)
        write_npy(case["gw"], layer.weight.grad)
        if s["bias"]:
            write_npy(case["gb"], layer.bias.grad)


if __name__ == "__main__":
    main()
