#!/usr/bin/env bash
# Export benchmarks for docs/performance.md (issue 13):
#   1. the time `netloom export` takes to write resnet18 (3×224×224, 1000 classes, with
#      weights) as PyTorch code, ONNX and TorchScript: best of 3 each, whole process;
#   2. one epoch of the exported LeNet-5 train.py alone and under torchrun with 2 CPU
#      processes, interleaved 3 times: the epoch time train.py prints, and the whole process.
# Usage: scripts/bench-export.sh   (after a release build; provisions torch like the tests)
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/provision-torch.sh)"
export LD_LIBRARY_PATH="$LIBTORCH/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
BIN="${NETLOOM:-target/release/netloom}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
best_of_3() {  # prints the fastest wall time of "$@" in seconds
    local best=""
    for _ in 1 2 3; do
        local t0 t1
        t0=$(now); "$@" >/dev/null; t1=$(now)
        best=$(python3 -c "a='$best'; t=$t1-$t0; print(t if not a else min(float(a), t))")
    done
    printf '%.2f' "$best"
}

echo "== resnet18 export (3x224x224, 1000 classes), best of 3, whole process"
"$BIN" template resnet18 --input 3,224,224 --classes 1000 -o "$WORK/r.json" >/dev/null
"$BIN" export "$WORK/r.json" --format pytorch --out "$WORK/r-py" >/dev/null
(cd "$WORK/r-py" && python3 -c "import torch, model; torch.manual_seed(0); model.save_safetensors(model.Net().state_dict(), '../w.safetensors')")
for f in pytorch onnx torchscript; do
    out="$WORK/r-out-$f"
    t=$(best_of_3 "$BIN" export "$WORK/r.json" --format "$f" --weights "$WORK/w.safetensors" --out "$out")
    size=$(du -sb "$out" | cut -f1)
    echo "$f: ${t} s, $((size / 1000000)) MB"
done

echo "== LeNet-5, one epoch of the exported train.py (built-in set, 10,000 images)"
"$BIN" export examples/lenet5.json --format pytorch --out "$WORK/lenet" >/dev/null
cd "$WORK/lenet"
for round in 1 2 3; do
    for mode in alone torchrun2; do
        t0=$(now)
        if [ "$mode" = alone ]; then
            out=$(python3 train.py --epochs 1 --out "run-$mode-$round")
        else
            out=$(python3 -m torch.distributed.run --standalone --nproc_per_node=2 train.py --epochs 1 --out "run-$mode-$round" 2>"log-$round") \
                || { echo "torchrun failed:"; cat "log-$round"; exit 1; }
        fi
        t1=$(now)
        epoch=$(echo "$out" | sed -n 's/.*(\([0-9.]*\) s)$/\1/p')
        acc=$(echo "$out" | sed -n 's/^validation accuracy //p')
        wall=$(python3 -c "print(f'{$t1-$t0:.2f}')")
        echo "round $round $mode: epoch ${epoch} s, whole process ${wall} s, val acc ${acc}"
    done
done
