#!/usr/bin/env bash
# Peak memory to read pretrained weights for a design (docs/performance.md, "Reading weights"):
# the maximum resident set of `netloom forward resnet18.json --weights FILE` on one image for
#   tiny       a .pth holding one 4-element tensor: refused after the network is built, so the
#              baseline (libtorch, the network's own 45 MB)
#   resnet18   torchvision's ResNet-18 state dict: read, loaded and run on the image
#   big        the same plus a 1 GB tensor the design doesn't have: refused, having read
#              only the tensors the design has
#   bomb       the same plus a 4 GB tensor of zeros deflated to a few MB: refused likewise
# and `netloom weights FILE --design resnet18.json`, which reads only the file's pickle.
# Needs target/release/netloom, torch and torchvision (scripts/provision-torch.sh), GNU time.
# Usage: scripts/bench-weights-memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/provision-torch.sh)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
target/release/netloom template resnet18 -o "$WORK/resnet18.json" 2>/dev/null
python3 - "$WORK" <<'EOF'
import sys, torch, torchvision, zipfile, shutil
work = sys.argv[1]
sd = torchvision.models.resnet18().state_dict()
torch.save({"x": torch.zeros(4)}, f"{work}/tiny.pth")
import numpy
numpy.save(f"{work}/x.npy", numpy.zeros((1, 3, 224, 224), dtype=numpy.float32))
torch.save(sd, f"{work}/resnet18.pth")
big = dict(sd)
big["unused.weight"] = torch.ones(256 << 20)
torch.save(big, f"{work}/big.pth")
# The bomb: torch.save's archive, re-zipped with deflate (netloom reads deflated records too).
bomb = dict(sd)
bomb["unused.weight"] = torch.zeros(1 << 30)
torch.save(bomb, f"{work}/bomb-stored.pth")
with zipfile.ZipFile(f"{work}/bomb-stored.pth") as src, \
        zipfile.ZipFile(f"{work}/bomb.pth", "w", zipfile.ZIP_DEFLATED) as dst:
    for info in src.infolist():
        with src.open(info) as f, dst.open(info.filename, "w", force_zip64=True) as g:
            shutil.copyfileobj(f, g, 1 << 24)
EOF
rm -f "$WORK/bomb-stored.pth"
tensors=$(python3 -c "import torch,sys; print(sum(t.numel()*t.element_size() for t in torch.load(sys.argv[1]).values()))" "$WORK/resnet18.pth")
printf '| file | size on disk | max RSS, forward | over the baseline | over ÷ tensors needed | max RSS, weights --design |\n| --- | ---: | ---: | ---: | ---: | ---: |\n'
peak() {
    /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >/dev/null 2>&1 || true
    tail -1 "$WORK/rss"
}
base=0
for f in tiny resnet18 big bomb; do
    size=$(stat -c %s "$WORK/$f.pth")
    kb=$(peak target/release/netloom forward "$WORK/resnet18.json" --weights "$WORK/$f.pth" \
        --input "$WORK/x.npy" --output "$WORK/y.npy")
    listing=$(peak target/release/netloom weights "$WORK/$f.pth" --design "$WORK/resnet18.json")
    [ "$f" = tiny ] && base=$kb
    over=$(( (kb - base) * 1024 ))
    printf '| %s | %d MB | %d MB | %d MB | %s | %d MB |\n' "$f" $((size >> 20)) $((kb >> 10)) \
        $((over >> 20)) "$(python3 -c "print(f'{$over / $tensors:.2f}×')")" $((listing >> 10))
done
echo "tensors ResNet-18 needs: $((tensors >> 20)) MB"
