"""Training on a busy machine (issue 27): `netloom train` of LeNet-5 (2 epochs, the built-in
data) and the same model in a plain PyTorch script, each alone and beside a competitor: another
netloom training, a heavier one (vgg_small), a Python busy loop (unpinned, and pinned to core
0), a second copy of itself started at the same moment; and alone under `taskset -c 1`.

netloom runs twice per case: as it is now (OpenMP's threads spin 10,000 turns, then sleep,
and the trainer takes threads away while its steps are faster without them), and as before
issue 27: NETLOOM_OMP_WAIT=libgomp (libgomp's own default: 300,000 turns) with the thread
count fixed at the cores' (--threads). Every case runs ROUNDS times, the sides taking turns; the table gives the median and
the worst, and each as a multiple of the quiet median.

Usage (scripts/provision-torch.sh's environment, so python3 has torch and the binary finds
libtorch): python3 benches/busy.py target/release/netloom [ROUNDS] [CASE...]"""
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
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
only = sys.argv[3:]
work = tempfile.mkdtemp(prefix="netloom-busy-")
lenet = os.path.join(ROOT, "examples", "lenet5.json")
cores = str(os.cpu_count())

# The built-in data as IDX files, for the PyTorch script: what an export ships.
subprocess.run([binary, "export", lenet, "--format", "pytorch", "--out", os.path.join(work, "py")],
               check=True, capture_output=True)
idx = os.path.join(work, "py", "data")
# A CIFAR-format set of random pixels for the heavier competitor.
cifar = random_cifar.write(os.path.join(work, "cifar"))

run_no = [0]


def out_dir():
    run_no[0] += 1
    return os.path.join(work, f"run{run_no[0]}")


def netloom_cmd(*extra):
    return [binary, "train", lenet, "--epochs", "2", "--log-every", "100", "--out", out_dir(), *extra]


def torch_cmd():
    return [sys.executable, os.path.join(HERE, "lenet_epoch_torch.py"), idx, cores, "loader", "2"]


SIDES = {
    "netloom": (netloom_cmd, {}),
    "netloom before issue 27": (lambda: netloom_cmd("--threads", cores), {"NETLOOM_OMP_WAIT": "libgomp"}),
    "PyTorch script": (torch_cmd, {}),
}

BUSY_LOOP = [sys.executable, "-c", "while True: pass"]
COMPETITORS = {
    "quiet": None,
    "another netloom training": lambda: [binary, "train", lenet, "--epochs", "1000", "--out", out_dir()],
    "a heavier training (vgg_small)": lambda: [binary, "train", os.path.join(ROOT, "examples", "vgg_small.json"),
                                               "--data", f"cifar10:{cifar}", "--epochs", "1000",
                                               "--out", out_dir()],
    "a Python busy loop": lambda: BUSY_LOOP,
    "a busy loop pinned to core 0": lambda: ["taskset", "-c", "0"] + BUSY_LOOP,
    "a second copy of itself": "twin",
    "taskset -c 1, nothing else": "taskset",
}


def timed(cmd, env):
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env})
    if done.returncode != 0:
        sys.exit(f"{cmd} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - t


def one(case, make, env):
    comp = COMPETITORS[case]
    if comp is None:
        return timed(make(), env)
    if comp == "taskset":
        return timed(["taskset", "-c", "1"] + make(), env)
    if comp == "twin":
        twin = subprocess.Popen(make(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, **env})
        t = timed(make(), env)
        twin.wait()
        return t
    other = subprocess.Popen(comp(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)  # the competitor is up and busy
    try:
        return timed(make(), env)
    finally:
        other.kill()
        other.wait()


results = {}
for case in COMPETITORS:
    if only and case not in only:
        continue
    for r in range(rounds):
        names = list(SIDES)
        for name in names[r % len(names):] + names[:r % len(names)]:
            make, env = SIDES[name]
            t = one(case, make, env)
            results.setdefault((case, name), []).append(t)
            print(f"{case:32} {name:28} {t:7.2f} s", flush=True)

print(f"\nLeNet-5, 2 epochs of the built-in data, {cores} threads, {rounds} rounds: median (worst) "
      "seconds of the whole process, and ÷ its quiet median")
quiet = {name: statistics.median(results[("quiet", name)]) for name in SIDES if ("quiet", name) in results}
print(f"| competing with | " + " | ".join(SIDES) + " |")
print("| --- |" + " --- |" * len(SIDES))
for case in COMPETITORS:
    cells = []
    for name in SIDES:
        t = results.get((case, name))
        if not t:
            cells.append("–")
            continue
        q = quiet.get(name, float("nan"))
        cells.append(f"{statistics.median(t):.1f} s ({max(t):.1f}) {statistics.median(t) / q:.1f}× "
                     f"({max(t) / q:.1f}×)")
    print(f"| {case} | " + " | ".join(cells) + " |")
