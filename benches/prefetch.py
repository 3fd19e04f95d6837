"""Making the next batch on a helper thread while a step trains (engine/feed.rs), against
making each batch in line (`--no-prefetch`): whole `netloom train` processes on the CPU,
taking turns round by round, on three workloads:

- LeNet-5, one full Fashion-MNIST epoch (Debian's dataset-fashion-mnist; the built-in subset
  where it isn't installed), no augmentation: batches are cheap to make;
- LeNet-5 with six augmentations on the built-in subset, one epoch: making a batch costs about
  as much as training on it;
- vgg_small with the same augmentations, 60 steps of 128 random CIFAR-10-format images: a
  step costs ten times its batch.

Usage (scripts/provision-torch.sh's environment, so the binary finds libtorch):
python3 benches/prefetch.py target/release/netloom [ROUNDS]"""
import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "examples")
FASHION = "/usr/share/datasets/fashion-mnist"
binary, rounds = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
work = tempfile.mkdtemp(prefix="netloom-prefetch-")
AUGMENT = [
    {"op": "horizontal_flip"},
    {"op": "random_crop", "padding": 4},
    {"op": "rotate", "degrees": 10},
    {"op": "brightness", "delta": 0.1},
    {"op": "contrast", "factor": 0.1},
    {"op": "cutout", "min": 0.1, "max": 0.3},
]


def augmented(name):
    with open(os.path.join(EXAMPLES, f"{name}.json")) as f:
        design = json.load(f)
    design = copy.deepcopy(design)
    design["data"]["augmentation"] = AUGMENT
    path = os.path.join(work, f"{name}_augmented.json")
    with open(path, "w") as f:
        json.dump(design, f)
    return path


cifar = os.path.join(work, "cifar")
os.makedirs(cifar)
for name, n in (("data_batch_1.bin", 10000), ("test_batch.bin", 500)):
    with open(os.path.join(cifar, name), "wb") as f:
        for i in range(n):
            f.write(bytes([i % 10]) + os.urandom(3072))
fashion = f"idx:{FASHION}" if os.path.isdir(FASHION) else "builtin:fashion-mnist"
jobs = {
    "LeNet-5, one epoch": [os.path.join(EXAMPLES, "lenet5.json"), "--data", fashion, "--epochs", "1"],
    "LeNet-5 augmented, one epoch": [augmented("lenet5"), "--epochs", "1"],
    "vgg_small augmented, 60 steps": [augmented("vgg_small"), "--data", f"cifar10:{cifar}",
                                      "--epochs", "1", "--max-steps", "60"],
}
sides = {"in line": ["--no-prefetch"], "ahead": []}
times = {(job, side): [] for job in jobs for side in sides}
for r in range(rounds):
    for job, args in jobs.items():
        names = list(sides)
        for side in names[r % 2:] + names[:r % 2]:
            out = os.path.join(work, "run")
            shutil.rmtree(out, ignore_errors=True)
            command = [binary, "train", *args, *sides[side], "--out", out, "--log-every", "1000"]
            t = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            times[(job, side)].append(time.perf_counter() - t)
            if done.returncode != 0:
                sys.exit(f"{job} {side} failed:\n{done.stderr}")
shutil.rmtree(work, ignore_errors=True)
print(f"{os.cpu_count()} cores, {rounds} rounds: median (min) seconds for the whole process")
for job in jobs:
    line = times[(job, "in line")]
    ahead = times[(job, "ahead")]
    print(f"{job:32} in line {statistics.median(line):6.2f} ({min(line):.2f})   "
          f"ahead {statistics.median(ahead):6.2f} ({min(ahead):.2f})   "
          f"ahead ÷ in line: {statistics.median(ahead) / statistics.median(line):.3f}× "
          f"({min(ahead) / min(line):.3f}×)")
