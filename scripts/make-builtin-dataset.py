#!/usr/bin/env python3
"""Builds netloom's built-in Fashion-MNIST subset in assets/fashion-mnist/.

From Debian's `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist), it keeps the first
1,000 training images of each class (10,000) and the first 200 test images of each class
(2,000), in file order, and writes them as gzipped IDX with a fixed timestamp, so that the
output is byte-for-byte reproducible.
"""
import gzip
import os
import struct
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
DST = os.path.join(os.path.dirname(__file__), "..", "assets", "fashion-mnist")


def read(name):
    with gzip.open(os.path.join(SRC, name)) as f:
        return f.read()


def subset(prefix, per_class):
    images, labels = read(f"{prefix}-images-idx3-ubyte.gz"), read(f"{prefix}-labels-idx1-ubyte.gz")
    n, rows, cols = struct.unpack(">III", images[4:16])
    size = rows * cols
    taken, keep = [0] * 10, []
    for i in range(n):
        label = labels[8 + i]
        if taken[label] < per_class:
            taken[label] += 1
            keep.append(i)
    img = struct.pack(">IIII", 0x803, len(keep), rows, cols) + b"".join(
        images[16 + i * size : 16 + (i + 1) * size] for i in keep
    )
    lab = struct.pack(">II", 0x801, len(keep)) + bytes(labels[8 + i] for i in keep)
    return img, lab


def write(name, data):
    with open(os.path.join(DST, name), "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
            f.write(data)


os.makedirs(DST, exist_ok=True)
for prefix, per_class in (("train", 1000), ("t10k", 200)):
    img, lab = subset(prefix, per_class)
    write(f"{prefix}-images-idx3-ubyte.gz", img)
    write(f"{prefix}-labels-idx1-ubyte.gz", lab)
print("wrote", DST)
