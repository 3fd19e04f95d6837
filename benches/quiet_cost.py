"""What issue 27's defaults cost on a quiet machine: whole `netloom train` processes, now (OpenMP
threads spin 10,000 turns then sleep; fewer threads tried while steps are slow) against as
before (NETLOOM_OMP_WAIT=libgomp: libgomp's default wait, and the thread count fixed at the
cores' with --threads), taking turns round by round: LeNet-5 for 2 epochs of the built-in data,
and vgg_small for 120 steps of CIFAR-shaped random data.

Usage (scripts/provision-torch.sh's environment): python3 benches/quiet_cost.py
target/release/netloom [ROUNDS]"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import random_cifar  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
binary = os.path.abspath(sys.argv[1])
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
work = tempfile.mkdtemp(prefix="netloom-quiet-")
cores = str(os.cpu_count())
cifar = random_cifar.write(os.path.join(work, "cifar"))
n = [0]


def cmd(design, *extra):
    n[0] += 1
    return [binary, "train", os.path.join(ROOT, "examples", design), "--out", os.path.join(work, f"r{n[0]}"),
            "--log-every", "100", *extra]


WORKLOADS = {
    "LeNet-5, 2 epochs": lambda *e: cmd("lenet5.json", "--epochs", "2", *e),
    "vgg_small, 120 steps": lambda *e: cmd("vgg_small.json", "--data", f"cifar10:{cifar}", "--max-steps", "120",
                                           *e),
}
SIDES = {
    "now": ((), {}),
    "before": (("--threads", cores), {"NETLOOM_OMP_WAIT": "libgomp"}),
}
times = {}
for r in range(rounds):
    for work_name, make in WORKLOADS.items():
        order = list(SIDES) if r % 2 == 0 else list(SIDES)[::-1]
        for side in order:
            extra, env = SIDES[side]
            t = time.perf_counter()
            done = subprocess.run(make(*extra), capture_output=True, text=True, env={**os.environ, **env})
            if done.returncode != 0:
                sys.exit(done.stderr[-2000:])
            times.setdefault((work_name, side), []).append(time.perf_counter() - t)
print(f"Quiet machine, {cores} cores, {rounds} rounds, sides taking turns: median (min) seconds")
for work_name in WORKLOADS:
    now, before = times[(work_name, "now")], times[(work_name, "before")]
    print(f"{work_name:22} now {statistics.median(now):6.2f} ({min(now):.2f})   before "
          f"{statistics.median(before):6.2f} ({min(before):.2f})   now ÷ before "
          f"{statistics.median(now) / statistics.median(before):.3f}× ({min(now) / min(before):.3f}×)")
