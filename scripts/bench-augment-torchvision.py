#!/usr/bin/env python3
"""torchvision.transforms.v2 side of benches/augment.rs: the same operations on the same kind
of batch (256 RGB images, 32x32, float in [0, 1]); prints images per second.

Run by the Rust bench, which sets PYTHONPATH to the provisioned torch and to torchvision 0.26.0
(pip install --target ~/.cache/netloom/torchvision-0.26.0/site-packages --no-deps \
     torchvision==0.26.0 numpy pillow).
"""
import sys
import time

import torch
from torchvision.transforms import v2

ITERS = int(sys.argv[1]) if len(sys.argv) > 1 else 5

torch.manual_seed(0)
batch = torch.rand(256, 3, 32, 32)
pipeline = v2.Compose([
    v2.RandomHorizontalFlip(p=0.5),
    v2.RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=10),
    v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05),
    v2.GaussianNoise(sigma=0.02, clip=True),
    v2.RandomErasing(p=0.5, scale=(0.04, 0.16), ratio=(1.0, 1.0), value=0),
])


def rate(fn):
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(ITERS):
        fn()
    return ITERS * batch.shape[0] / (time.perf_counter() - start)


# What a DataLoader does: each image gets its own random parameters.
per_image = rate(lambda: torch.stack([pipeline(img) for img in batch]))
# One call on the whole batch: fast, but every image gets the same parameters.
batched = rate(lambda: pipeline(batch))
print(f"torchvision per_image {per_image:.0f}")
print(f"torchvision batched {batched:.0f}")
print(f"torch threads {torch.get_num_threads()}")
