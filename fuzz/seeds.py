"""Seeds each fuzz target's corpus with real files: netloom's example designs and templates,
files torch.save and NumPy write, Fashion-MNIST's IDX files, CIFAR-10-format records and images
in every format netloom decodes. Small ones, so that libFuzzer mutates them quickly.

    python3 fuzz/seeds.py            # writes fuzz/corpus/<target>/ (needs torch, numpy, PIL)
"""

import gzip
import io
import json
import os
import pathlib
import struct
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import torch
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
NETLOOM = os.environ.get("NETLOOM", str(ROOT / "target" / "release" / "netloom"))


def put(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def designs():
    for path in sorted((ROOT / "examples").glob("*.json")):
        put("design", path.name, path.read_bytes())
    for name, args in [("lenet", []), ("resnet18", ["--input", "3,32,32", "--classes", "10"]),
                       ("vgg11", ["--input", "3,32,32", "--classes", "10"])]:
        out = subprocess.run([NETLOOM, "template", name, *args], capture_output=True, check=False)
        if out.returncode == 0:
            put("design", f"template-{name}.json", out.stdout)


def torch_bytes(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def pth():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(1, 2, 3)
    lin = torch.nn.Linear(4, 3)
    put("pth", "conv.pth", torch_bytes(conv.state_dict()))
    put("pth", "linear.pth", torch_bytes(lin.state_dict()))
    put("pth", "plain-dict.pth", torch_bytes(dict(lin.state_dict())))
    put("pth", "checkpoint.pth", torch_bytes({"epoch": 3, "state_dict": lin.state_dict()}))
    base = torch.arange(24, dtype=torch.float32)
    views = OrderedDict(a=base[:6].view(2, 3), b=base[6:].view(3, 6).t(), c=base[::4])
    put("pth", "views.pth", torch_bytes(views))
    dtypes = OrderedDict((str(d).split(".")[1], torch.ones(2, 2, dtype=d))
                         for d in [torch.float16, torch.bfloat16, torch.float64,
                                   torch.int64, torch.int32, torch.uint8, torch.bool])
    put("pth", "dtypes.pth", torch_bytes(dtypes))
    bn = torch.nn.BatchNorm2d(2)
    put("pth", "batchnorm.pth", torch_bytes(bn.state_dict()))


def safetensors_bytes(tensors):
    header, data = {}, b""
    for name, t in tensors.items():
        raw = t.contiguous().numpy().tobytes()
        dtype = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64",
                 torch.uint8: "U8"}[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    return struct.pack("<Q", len(head)) + head + data


def safetensors():
    torch.manual_seed(0)
    lin = torch.nn.Linear(4, 3)
    put("safetensors", "linear.safetensors", safetensors_bytes(lin.state_dict()))
    mixed = OrderedDict(a=torch.ones(2, 3, dtype=torch.float16), b=torch.arange(4),
                        c=torch.zeros(0), d=torch.ones(3, dtype=torch.uint8))
    put("safetensors", "mixed.safetensors", safetensors_bytes(mixed))


def idx():
    source = pathlib.Path("/usr/share/datasets/fashion-mnist")
    images = gzip.open(source / "t10k-images-idx3-ubyte.gz").read()
    labels = gzip.open(source / "t10k-labels-idx1-ubyte.gz").read()
    small_images = images[:4] + struct.pack(">III", 2, 28, 28) + images[16:16 + 2 * 784]
    small_labels = labels[:4] + struct.pack(">I", 2) + labels[8:10]
    # The first byte picks the dimensions: odd for images (3-d), even for labels (1-d).
    put("idx", "images", b"\x01" + small_images)
    put("idx", "images.gz", b"\x01" + gzip.compress(small_images))
    put("idx", "labels", b"\x00" + small_labels)
    put("idx", "labels.gz", b"\x00" + gzip.compress(small_labels))


def cifar():
    rng = np.random.default_rng(0)

    def records(n):
        return b"".join(bytes([i % 10]) + rng.integers(0, 256, 3072, dtype=np.uint8).tobytes()
                        for i in range(n))
    train, test = records(2), records(1)
    meta = "\n".join(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                      "horse", "ship", "truck"]).encode()
    # Three bytes first: training records, a signed byte offset from them, test records.
    put("cifar", "two-and-one", bytes([2, 0, 1]) + train + test + meta)
    put("cifar", "no-names", bytes([2, 0, 1]) + train + test)
    put("cifar", "truncated", bytes([2, 0xff, 1]) + train + test)


def npy():
    arrays = {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "f64-fortran": np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)),
        "u8": np.arange(8, dtype=np.uint8),
        "i64": np.arange(4, dtype=np.int64).reshape(1, 2, 2),
        "f16-big-endian": np.arange(3, dtype=">f2"),
        "scalar": np.float32(1.5),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "image": np.zeros((1, 1, 4, 4), dtype=np.float32),
    }
    for name, a in arrays.items():
        buf = io.BytesIO()
        np.save(buf, a)
        put("npy", name + ".npy", buf.getvalue())


def image():
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    grey = rgb.convert("L")
    rgba = rgb.convert("RGBA")
    picks = {"png": (rgb, "PNG"), "grey.png": (grey, "PNG"), "rgba.png": (rgba, "PNG"),
             "jpg": (rgb, "JPEG"), "gif": (rgb.convert("P"), "GIF"), "bmp": (rgb, "BMP"),
             "tiff": (rgb, "TIFF"), "webp": (rgb, "WEBP"), "tga": (rgb, "TGA"),
             "ppm": (rgb, "PPM"), "pgm": (grey, "PPM"), "ico": (rgb, "ICO"),
             "qoi": (rgb, "QOI")}
    for i, (name, (img, fmt)) in enumerate(picks.items()):
        buf = io.BytesIO()
        try:
            img.save(buf, fmt)
        except (KeyError, OSError, ValueError):
            continue  # a format this PIL doesn't write
        # The first byte picks the fit: channels, side and resize or crop.
        put("image", name, bytes([i * 37 % 256]) + buf.getvalue())


def main():
    for seed in (designs, pth, safetensors, idx, cifar, npy, image):
        seed()
    for folder in sorted(CORPUS.iterdir()):
        print(f"{folder.name}: {len(list(folder.iterdir()))} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
