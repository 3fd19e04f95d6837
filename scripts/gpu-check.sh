#!/usr/bin/env bash
# The CUDA check of the engine, as one short script for a GPU machine (see the device notes in
# docs/performance.md): the release binary, pointed at PyTorch 2.11.0's libraries, trains
# LeNet-5 and vgg_small on CUDA and on the CPU, prints the epoch times, times vgg_small's and
# resnet18's training step and peak memory against PyTorch's (benches/gpu_step.py), and checks
# that a network computes the same on both devices.
#
#   cargo build --release && mkdir -p gpu && cp target/release/netloom gpu/
#   (on the GPU machine) bash scripts/gpu-check.sh gpu/netloom
set -euo pipefail
BIN="${1:-gpu/netloom}"
TORCH_SITE="${TORCH_SITE:-/opt/torch/.venv/lib/python3.12/site-packages}"
export LD_LIBRARY_PATH="$TORCH_SITE/torch/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
PY="${PY:-/opt/torch/.venv/bin/python}"
OUT="${OUT:-/tmp/netloom-gpu-check}"
rm -rf "$OUT" && mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$BIN" --version
# vgg_small takes 3×32×32: CIFAR-10-format random pixels (10,000 training images) stand in.
"$PY" -c "
import os, sys
d = sys.argv[1]; os.makedirs(d, exist_ok=True)
for name, n in (('data_batch_1.bin', 10000), ('test_batch.bin', 2000)):
    with open(os.path.join(d, name), 'wb') as f:
        for i in range(n):
            f.write(bytes([i % 10]) + os.urandom(3072))
" "$OUT/cifar"
for design in lenet5 vgg_small; do
    data=builtin:fashion-mnist
    [ "$design" = vgg_small ] && data="cifar10:$OUT/cifar"
    for device in cuda cpu; do
        echo "== $design on $device"
        "$BIN" train "examples/$design.json" --data "$data" --device "$device" --epochs 2 \
            --out "$OUT/$design-$device" 2>&1 | grep -v "^epoch .* step " | tee "$OUT/$design-$device.log" || true
    done
done
# Issue 17: the old behaviour on CUDA (fp32, the loss read after every step, cuDNN's
# autotuner off) against the defaults above (bf16 where the GPU has it, reads every 10 steps,
# autotuner on).
for design in lenet5 vgg_small; do
    data=builtin:fashion-mnist
    [ "$design" = vgg_small ] && data="cifar10:$OUT/cifar"
    echo "== $design on cuda, as before issue 17"
    "$BIN" train "examples/$design.json" --data "$data" --device cuda --epochs 2 \
        --precision fp32 --sync-every 1 --deterministic \
        --out "$OUT/$design-cuda-old" 2>&1 | grep -v "^epoch .* step " | tee "$OUT/$design-cuda-old.log" || true
done
# Channels-last on CUDA in bf16 is a rule from NVIDIA's guidance (engine/network.rs): the
# same default run in NCHW, to check it.
echo "== vgg_small on cuda, NCHW (NETLOOM_CHANNELS_LAST=off)"
NETLOOM_CHANNELS_LAST=off "$BIN" train examples/vgg_small.json --data "cifar10:$OUT/cifar" \
    --device cuda --epochs 2 --out "$OUT/vgg_small-cuda-nchw" 2>&1 | grep -v "^epoch .* step " \
    | tee "$OUT/vgg_small-cuda-nchw.log" || true
echo "== epoch seconds (the second epoch is warm)"
for design in lenet5 vgg_small; do
    for run in cuda cuda-old cuda-nchw cpu; do
        [ -f "$OUT/$design-$run.log" ] || continue
        echo "$design $run: $(grep -o "epoch 2/2:.*" "$OUT/$design-$run.log" || echo missing)"
        grep -oE "in (fp|bf)[0-9]+" "$OUT/$design-$run.log" | head -1 || true
    done
done
echo "== training step and peak memory against PyTorch default and tuned (benches/gpu_step.py)"
"$PY" benches/gpu_step.py "$BIN" cuda 2 || true
echo "== the same weights on both devices"
"$PY" - "$OUT/x.npy" <<'PYEOF'
import sys, struct
n = 8 * 28 * 28
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (8, 1, 28, 28), }"
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
import random
random.seed(0)
data = struct.pack("<%df" % n, *[random.gauss(0, 1) for _ in range(n)])
open(sys.argv[1], "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data)
PYEOF
for device in cuda cpu; do
    "$BIN" forward examples/lenet5.json --weights "$OUT/lenet5-cuda/weights.safetensors" \
        --input "$OUT/x.npy" --output "$OUT/y-$device.npy" --device "$device"
done
"$PY" - "$OUT/y-cuda.npy" "$OUT/y-cpu.npy" <<'PYEOF'
import sys, struct
def read(p):
    raw = open(p, "rb").read()
    (h,) = struct.unpack("<H", raw[8:10])
    body = raw[10 + h:]
    return struct.unpack("<%df" % (len(body) // 4), body)
a, b = read(sys.argv[1]), read(sys.argv[2])
scale = max(abs(v) for v in b)
diff = max(abs(x - y) for x, y in zip(a, b))
print("cuda vs cpu forward: max |diff| %.3g, relative %.3g" % (diff, diff / scale))
PYEOF
"$BIN" eval examples/lenet5.json --weights "$OUT/lenet5-cuda/best.safetensors" --device cuda | head -3
echo "== a sweep on cuda: a trial on each GPU at once (issue 32)"
cat > "$OUT/sweep.json" <<EOF
{"format": "netloom-sweep", "design": "$(pwd)/examples/lenet5.json", "data": "builtin:fashion-mnist",
 "epochs": 1, "parameters": {"training.learning_rate": {"values": [0.003, 0.01, 0.03, 0.1]}}}
EOF
"$BIN" sweep "$OUT/sweep.json" --out "$OUT/sweep" --device cuda 2>&1 | tail -8
cut -d, -f1,2,5-8 "$OUT/sweep/trials.csv"
cp -r "$OUT"/*.log "${RESULTS:-$OUT}/" 2>/dev/null || true
