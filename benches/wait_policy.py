"""Which wait confirms issue 27's cause: `netloom train` of LeNet-5 (2 epochs, built-in data) with
the thread count fixed at the cores' (--threads, so the tuner is off) and only OpenMP's wait
changed: libgomp's default (spin 300,000 turns), GOMP_SPINCOUNT=10000 (netloom's default now) and
OMP_WAIT_POLICY=PASSIVE (sleep at once); quiet, and beside another netloom training. ROUNDS rounds,
the sides taking turns; median (worst) seconds of the whole process.

Usage (scripts/provision-torch.sh's environment): python3 benches/wait_policy.py
target/release/netloom [ROUNDS]"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
binary = os.path.abspath(sys.argv[1])
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
work = tempfile.mkdtemp(prefix="netloom-wait-")
lenet = os.path.join(ROOT, "examples", "lenet5.json")
cores = str(os.cpu_count())
n = [0]


def out():
    n[0] += 1
    return os.path.join(work, f"r{n[0]}")


SIDES = {"libgomp (spin 300,000)": "libgomp", "GOMP_SPINCOUNT=10000": "spin:10000", "PASSIVE": "passive"}
times = {}
for case in ["quiet", "another netloom training"]:
    for r in range(rounds):
        names = list(SIDES)
        for name in names[r % 3:] + names[:r % 3]:
            other = None
            if case != "quiet":
                other = subprocess.Popen([binary, "train", lenet, "--epochs", "1000", "--out", out()],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(3)
            t = time.perf_counter()
            done = subprocess.run([binary, "train", lenet, "--epochs", "2", "--threads", cores, "--out", out()],
                                  capture_output=True, text=True,
                                  env={**os.environ, "NETLOOM_OMP_WAIT": SIDES[name]})
            t = time.perf_counter() - t
            if other:
                other.kill()
                other.wait()
            if done.returncode != 0:
                sys.exit(done.stderr[-2000:])
            times.setdefault((case, name), []).append(t)
            print(f"{case:26} {name:24} {t:6.2f} s", flush=True)
print(f"\n{cores} threads fixed, {rounds} rounds: median (worst) seconds")
print("| competing with | " + " | ".join(SIDES) + " |")
print("| --- |" + " ---: |" * len(SIDES))
for case in ["quiet", "another netloom training"]:
    cells = [f"{statistics.median(times[(case, s)]):.1f} ({max(times[(case, s)]):.1f})" for s in SIDES]
    print(f"| {case} | " + " | ".join(cells) + " |")
