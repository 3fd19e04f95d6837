"""Training-step time and peak GPU memory of vgg_small (3×32×32) and resnet18 (3×64×64), batch
128, SGD with momentum 0.9, on one GPU, in one command (issue 17):

- netloom: `netloom train` with its defaults (bf16 where the GPU has it, channels-last,
  cuDNN's autotuner, the loss read every 10 steps, the data on the device);
- PyTorch eager as people write it: fp32, the default layout, `loss.item()` after each step;
- PyTorch tuned: bf16 autocast, channels-last, `cudnn.benchmark`, `loss.item()` every 10 steps.

A netloom step is timed as the difference between two whole `netloom train` runs that stop
after WARM and after WARM + STEPS steps of one epoch (start-up, loading, compiling and the last
checkpoint cancel out). PyTorch's are timed in its process between two synchronisations, on a
batch already on the device (so it is spared what netloom's gathering of a batch costs).
Peak memory is what nvidia-smi reports for the process (context included), sampled every
0.1 s, the same way for all three; PyTorch's own `max_memory_allocated` is printed beside it.

Usage, on the GPU machine (scripts/gpu-check.sh runs it):
  python benches/gpu_step.py gpu/netloom [cuda|cpu] [ROUNDS]
(`cpu` checks the script itself on a machine without a GPU, with few steps.)"""
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
binary = sys.argv[1]
device = sys.argv[2] if len(sys.argv) > 2 else "cuda"
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
on_gpu = device.startswith("cuda")
work = tempfile.mkdtemp(prefix="netloom-gpu-step-")
BATCH = 128
# (warm-up steps, timed steps): one epoch holds both, so no epoch ends inside the timing.
STEPS = {"vgg_small": (40, 340), "resnet18": (20, 150)} if on_gpu else {"vgg_small": (2, 4), "resnet18": (2, 3)}


def cifar(path, n):
    """CIFAR-10's binary format: random pixels, labels 0–9."""
    with open(path, "wb") as f:
        for i in range(n):
            f.write(bytes([i % 10]) + os.urandom(3072))


def png(path, side):
    """A random RGB PNG of side × side pixels (stored, not compressed: quick to write)."""
    raw = b"".join(b"\x00" + os.urandom(side * 3) for _ in range(side))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 0))
                + chunk(b"IEND", b""))


def image_folder(root, train, val, side):
    for split, n in (("train", train), ("val", val)):
        for i in range(n):
            folder = os.path.join(root, split, f"class{i % 10}")
            os.makedirs(folder, exist_ok=True)
            png(os.path.join(folder, f"{i}.png"), side)


def design(source, path):
    """The design with the bench's training settings and no preprocessing (PyTorch gets raw
    pixels too)."""
    with open(source) as f:
        d = json.load(f)
    d["training"].update(optimizer="sgd", learning_rate=0.01, momentum=0.9, weight_decay=0.0,
                         batch_size=BATCH, epochs=1)
    d["data"] = {"preprocessing": {"method": "none"}, "augmentation": []}
    with open(path, "w") as f:
        json.dump(d, f)
    return path


def peak_memory(pid, stop, out):
    """Polls nvidia-smi for `pid`'s GPU memory (MiB) until `stop` is set; the most seen goes
    to out[0]."""
    while not stop.is_set():
        try:
            text = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory",
                                   "--format=csv,noheader,nounits"], capture_output=True, text=True).stdout
        except OSError:
            return
        for line in text.splitlines():
            p, _, mib = line.partition(",")
            if p.strip() == str(pid) and mib.strip().isdigit():
                out[0] = max(out[0] or 0, int(mib))
        stop.wait(0.1)


def run(command):
    """Runs a command to its end; its wall seconds, stdout and peak GPU memory (MiB or None)."""
    t = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop, peak = threading.Event(), [None]
    poller = threading.Thread(target=peak_memory, args=(child.pid, stop, peak))
    if on_gpu:
        poller.start()
    out, err = child.communicate()
    seconds = time.perf_counter() - t
    stop.set()
    if on_gpu:
        poller.join()
    if child.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{err[-3000:]}")
    return seconds, out + err, peak[0]


cifar_dir = os.path.join(work, "cifar")
os.makedirs(cifar_dir)
warm, steps = STEPS["vgg_small"]
cifar(os.path.join(cifar_dir, "data_batch_1.bin"), (warm + steps + 2) * BATCH)
cifar(os.path.join(cifar_dir, "test_batch.bin"), BATCH)
warm, steps = STEPS["resnet18"]
image_folder(os.path.join(work, "images"), (warm + steps + 2) * BATCH, BATCH, 64)
resnet18_json = os.path.join(work, "resnet18_template.json")
subprocess.run([binary, "template", "resnet18", "--input", "3,64,64", "--classes", "10", "-o", resnet18_json],
               check=True)
NETS = {
    "vgg_small": (design(os.path.join(HERE, "..", "examples", "vgg_small.json"), os.path.join(work, "vgg.json")),
                  f"cifar10:{cifar_dir}"),
    "resnet18": (design(resnet18_json, os.path.join(work, "resnet18.json")), f"folder:{os.path.join(work, 'images')}"),
}


def netloom(name):
    """Seconds per step, peak MiB and the precision line of `netloom train` on `name`."""
    path, data = NETS[name]
    warm, steps = STEPS[name]
    times, peak, said = {}, None, ""
    for n in (warm, warm + steps):
        out = os.path.join(work, f"run-{name}-{n}")
        shutil.rmtree(out, ignore_errors=True)
        times[n], text, mib = run([binary, "train", path, "--data", data, "--device", device,
                                   "--max-steps", str(n), "--out", out, "--log-every", "10"])
        said = next((line for line in text.splitlines() if "trainable parameters" in line), said)
        peak = mib if n == warm + steps else peak
        shutil.rmtree(out, ignore_errors=True)
    return (times[warm + steps] - times[warm]) / steps, peak, said


TORCH = r"""
import sys, time, torch
sys.path.insert(0, sys.argv[1])
from train_step_torch import NETS
name, mode, device, warm, steps = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
make, shape = NETS[name]
net = make().to(device).train()
x = torch.rand(shape, device=device)
y = torch.randint(10, (shape[0],), device=device)
tuned = mode == "tuned"
read_every = 10 if tuned else 1
if tuned:
    torch.backends.cudnn.benchmark = True
    net = net.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
def step(i):
    opt.zero_grad(set_to_none=True)
    with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=tuned):
        loss = torch.nn.functional.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
    if i % read_every == 0:
        loss.item()
def sync():
    if device.startswith("cuda"):
        torch.cuda.synchronize()
for i in range(warm):
    step(i)
sync()
t = time.perf_counter()
for i in range(steps):
    step(i)
sync()
allocated = torch.cuda.max_memory_allocated() // 2**20 if device.startswith("cuda") else 0
print((time.perf_counter() - t) / steps, allocated)
"""


def pytorch(name, mode):
    warm, steps = STEPS[name]
    _, text, mib = run([sys.executable, "-c", TORCH, HERE, name, mode, device, str(warm), str(steps)])
    seconds, allocated = text.split()[-2:]
    return float(seconds), mib, int(allocated)


sides = ["netloom", "PyTorch default", "PyTorch tuned"]
results = {(net, side): [] for net in NETS for side in sides}
memory = {}
for r in range(rounds):
    for net in NETS:
        for side in sides[r % 3:] + sides[:r % 3]:
            if side == "netloom":
                seconds, mib, said = netloom(net)
                memory[(net, side)] = (mib, None)
                if r == 0:
                    print(f"{net}: {said}")
            else:
                seconds, mib, allocated = pytorch(net, "tuned" if side == "PyTorch tuned" else "default")
                memory[(net, side)] = (mib, allocated)
            results[(net, side)].append(seconds)
shutil.rmtree(work, ignore_errors=True)
print(f"\n{device}, batch {BATCH}, {rounds} rounds: median (min) ms per training step; peak GPU memory "
      "(nvidia-smi, context included; PyTorch's max_memory_allocated in brackets)")
for net in NETS:
    ours = results[(net, "netloom")]
    for side in sides:
        t = results[(net, side)]
        mib, allocated = memory[(net, side)]
        mem = "n/a" if mib is None else f"{mib} MiB" + (f" ({allocated} MiB)" if allocated else "")
        print(f"{net:10} {side:16} {statistics.median(t) * 1e3:8.2f} ({min(t) * 1e3:.2f})  "
              f"netloom ÷ this {statistics.median(ours) / statistics.median(t):.3f}× "
              f"({min(ours) / min(t):.3f}×)  peak {mem}")
