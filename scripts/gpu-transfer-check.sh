#!/usr/bin/env bash
# Transfer learning on a GPU machine: the docs/transfer-learning.md example on CUDA, and a
# bit-for-bit check that the frozen convolutions did not change there.
#   (on the GPU machine) bash scripts/gpu-transfer-check.sh gpu/netloom
set -euo pipefail
BIN="${1:-gpu/netloom}"
TORCH_SITE="${TORCH_SITE:-/opt/torch/.venv/lib/python3.12/site-packages}"
export LD_LIBRARY_PATH="$TORCH_SITE/torch/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
PY="${PY:-/opt/torch/.venv/bin/python}"
OUT="${OUT:-/tmp/netloom-gpu-transfer}"
rm -rf "$OUT" && mkdir -p "$OUT"
"$BIN" train examples/transfer/pretrain.json --device cuda \
    --data "builtin:fashion-mnist?classes=0,1,2,3,4,6" --out "$OUT/pretrain" 2>&1 | grep -v " step "
for init in pretrained random; do
    flags=()
    [ "$init" = pretrained ] && flags=(--init-weights "$OUT/pretrain/weights.safetensors")
    "$BIN" train examples/transfer/finetune.json --device cuda "${flags[@]}" \
        --data "builtin:fashion-mnist?classes=5,7,8,9" --out "$OUT/$init" 2>&1 | grep -v " step \|  matched"
done
"$PY" - "$OUT/pretrain/weights.safetensors" "$OUT/pretrained/weights.safetensors" <<'PYEOF'
import sys
sys.path.insert(0, "tests/reference")
from torch_reference import read_safetensors
a, b = read_safetensors(sys.argv[1]), read_safetensors(sys.argv[2])
for name in sorted(a):
    if name.startswith(("conv1.", "conv2.")):
        print(name, "unchanged" if a[name].equal(b[name]) else "CHANGED")
PYEOF
