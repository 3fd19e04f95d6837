"""Whole-process LeNet-5 epoch: `netloom train` against the same model in a plain PyTorch
script (benches/lenet_epoch_torch.py), start-up, data loading and the test-set evaluation
included, taking turns round by round on the same threads.

Usage (scripts/provision-torch.sh's environment, so python3 has torch and the binary finds
libtorch): python3 benches/lenet_epoch.py target/release/netloom [ROUNDS]"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

DATA = "/usr/share/datasets/fashion-mnist"
HERE = os.path.dirname(os.path.abspath(__file__))
binary, rounds = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
threads = str(os.cpu_count())
out = tempfile.mkdtemp(prefix="netloom-lenet-epoch-")
sides = {
    "netloom train": [binary, "train", os.path.join(HERE, "..", "examples", "lenet5.json"), "--epochs", "1",
                      "--data", f"idx:{DATA}", "--out", os.path.join(out, "run"), "--log-every", "100"],
    "PyTorch script": [sys.executable, os.path.join(HERE, "lenet_epoch_torch.py"), DATA, threads, "loader"],
    "PyTorch, slices": [sys.executable, os.path.join(HERE, "lenet_epoch_torch.py"), DATA, threads, "slices"],
}
times = {name: [] for name in sides}
for r in range(rounds):
    names = list(sides)
    for name in names[r % len(names):] + names[:r % len(names)]:
        t = time.perf_counter()
        done = subprocess.run(sides[name], capture_output=True, text=True)
        times[name].append(time.perf_counter() - t)
        if done.returncode != 0:
            sys.exit(f"{name} failed:\n{done.stderr}")
        if r == 0:
            last = (done.stdout + done.stderr).strip().splitlines()[-1]
            print(f"{name}: {last}")
print(f"LeNet-5, one Fashion-MNIST epoch (60,000 images) and the 10,000-image test set, {threads} threads, "
      f"{rounds} rounds: median (min) seconds for the whole process")
ours = times["netloom train"]
for name, t in times.items():
    print(f"{name:16} {statistics.median(t):7.2f} ({min(t):.2f})   "
          f"netloom ÷ this: {statistics.median(ours) / statistics.median(t):.3f}× ({min(ours) / min(t):.3f}×)")
