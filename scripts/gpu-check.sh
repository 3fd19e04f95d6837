#!/usr/bin/env bash
# The CUDA check of the engine, as one short script for a GPU machine (see the device notes in
# docs/performance.md): the release binary, pointed at PyTorch 2.11.0's libraries, trains
# LeNet-5 for one epoch on CUDA and on the CPU and prints both epoch times.
#
#   cargo build --release && mkdir -p gpu && cp target/release/netloom gpu/
#   (on the GPU machine) bash scripts/gpu-check.sh gpu/netloom
set -euo pipefail
BIN="${1:-gpu/netloom}"
TORCH_LIB="${TORCH_LIB:-/opt/torch/.venv/lib/python3.12/site-packages/torch/lib}"
export LD_LIBRARY_PATH="$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
OUT="${OUT:-/tmp/netloom-gpu-check}"
rm -rf "$OUT" && mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
for device in cuda cpu; do
    echo "== $device"
    "$BIN" train examples/lenet5.json --device "$device" --epochs 2 --out "$OUT/$device" 2>&1 | tee "$OUT/$device.log"
done
echo "== epoch seconds (second epoch: warm)"
for device in cuda cpu; do
    awk -F, -v d="$device" '$1 == "epoch" { e = $2; s = $10 } END { print d ": epoch " e ", " s " samples/s" }' "$OUT/$device/metrics.csv"
    grep -o "epoch 2/2:.*" "$OUT/$device.log" || true
done
