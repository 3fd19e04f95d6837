"""torchvision models as ONNX files, with onnxruntime's outputs, for the import tests.

    onnx_zoo.py OUT SPEC...

Each SPEC is NAME[:MODE[:OPSET]]: MODE `preserve` (the default) exports with
training=PRESERVE and do_constant_folding=False, which keeps batch norm as its own node;
`folded` uses torch.onnx.export's defaults, which fold batch norm into the convolutions;
`external` is `preserve` with the weights saved in a side file (model.onnx.data).
OPSET defaults to 17. For each, OUT/TAG/ gets model.onnx (batch axis dynamic), weights.pth
(the state dict, random init with non-trivial batch-norm statistics), x1.npy and x4.npy
(inputs of batch 1 and 4, 3×64×64) and y1.npy, y4.npy (onnxruntime's outputs), where TAG is
SPEC with ':' as '-'. NAME `unsupported` is a small model with ops netloom lacks;
`viewnet` one whose flattening and pooling are shape arithmetic (view, mean, squeeze);
`padnet` one with explicit zero padding (Pad) before its convolutions; `layernet` one with a
MatMul, LayerNorm, GELU and a per-feature scale on vectors; `upnet` one with transposed
convolutions.
"""

import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from torch_reference import write_npy  # noqa: E402
from transfer_reference import randomise_norms  # noqa: E402


class Unsupported(nn.Module):
    """Ops netloom has no block for: sin (twice) and cos."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 64 * 64, 10)

    def forward(self, x):
        x = torch.sin(self.conv(x))
        x = torch.cos(torch.sin(x))
        return self.fc(torch.flatten(x, 1))


class Viewnet(nn.Module):
    """Shape arithmetic a user writes: x.view(x.size(0), -1), x.mean([2, 3]), a squeeze."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8 * 32 * 32 + 8 + 8, 10)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        pooled = x.mean([2, 3])
        kept = torch.nn.functional.adaptive_avg_pool2d(x, 1).squeeze(3).squeeze(2)
        y = torch.relu(self.conv2(x))
        flat = y.view(y.size(0), -1)
        return self.fc(torch.cat([flat, pooled, kept], 1))


class Padnet(nn.Module):
    """Explicit zero padding before convolutions, as ported TensorFlow models have it."""

    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d((2, 2, 1, 1))
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 4, 3)
        self.fc = nn.Linear(4 * 66 * 68, 10)

    def forward(self, x):
        x = torch.relu(self.conv(self.pad(x)))
        x = torch.relu(self.conv2(nn.functional.pad(x, (1, 1, 1, 1))))
        return self.fc(torch.flatten(x, 1))


class Layernet(nn.Module):
    """The vector forms of the transformer-era ops: a matrix product by a weight plus a bias
    (MatMul + Add), LayerNorm over features, a per-feature scale, exact GELU."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=4, padding=1)
        self.proj = nn.Parameter(torch.randn(4 * 16 * 16, 32) * 0.05)
        self.proj_bias = nn.Parameter(torch.randn(32) * 0.1)
        self.norm = nn.LayerNorm(32)
        self.gamma = nn.Parameter(torch.rand(32) + 0.5)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = torch.flatten(self.conv(x), 1)
        x = torch.matmul(x, self.proj) + self.proj_bias
        x = nn.functional.gelu(self.norm(x)) * self.gamma
        return self.fc(x)


class Upnet(nn.Module):
    """A decoder's transposed convolutions (output_padding, groups, dilation, no bias) and
    upsampling (nearest by a scale, bilinear to a size, bilinear with corners aligned), and a
    pad that crops two sides (ZeroPad2d with negative sides: ONNX Pad with negative pads)."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1, groups=2)
        self.up2 = nn.ConvTranspose2d(8, 4, 2, dilation=2, bias=False)
        self.nearest = nn.Upsample(scale_factor=2)
        self.bilinear = nn.Upsample(size=(40, 36), mode="bilinear")
        self.corners = nn.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True)
        self.crop = nn.ZeroPad2d((1, -2, -1, 2))
        self.fc = nn.Linear(4 * 61 * 53, 10)

    def forward(self, x):
        x = torch.relu(self.up(torch.relu(self.down(x))))
        x = self.bilinear(self.nearest(self.up2(x)))
        return self.fc(torch.flatten(self.crop(self.corners(x)), 1))


def export(out, spec):
    import numpy as np
    import onnxruntime
    import torchvision

    parts = spec.split(":")
    name = parts[0]
    mode = parts[1] if len(parts) > 1 else "preserve"
    opset = int(parts[2]) if len(parts) > 2 else 17
    tag = spec.replace(":", "-")
    d = os.path.join(out, tag)
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(0)
    if name == "unsupported":
        net = Unsupported()
    elif name == "viewnet":
        net = Viewnet()
    elif name == "padnet":
        net = Padnet()
    elif name == "layernet":
        net = Layernet()
    elif name == "upnet":
        net = Upnet()
    else:
        net = getattr(torchvision.models, name)(weights=None)
    randomise_norms(net)
    net.eval()
    torch.save(net.state_dict(), os.path.join(d, "weights.pth"))
    kwargs = dict(dynamo=False, opset_version=opset, input_names=["x"], output_names=["y"],
                  dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
    if mode in ("preserve", "external"):
        kwargs.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    path = os.path.join(d, "model.onnx")
    torch.onnx.export(net, torch.randn(1, 3, 64, 64), path, **kwargs)
    if mode == "external":
        # The weights in a side file, as for a model past protobuf's 2 GB.
        import onnx
        model = onnx.load(path)
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="model.onnx.data", size_threshold=1024)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    for n in (1, 4):
        x = torch.randn(n, 3, 64, 64)
        write_npy(os.path.join(d, f"x{n}.npy"), x)
        (y,) = session.run(None, {"x": x.numpy()})
        write_npy(os.path.join(d, f"y{n}.npy"), torch.from_numpy(np.asarray(y)))


if __name__ == "__main__":
    for spec in sys.argv[2:]:
        export(sys.argv[1], spec)
