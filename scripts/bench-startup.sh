#!/usr/bin/env bash
# Start-up of netloom (docs/performance.md): `netloom --version` and the time to the app's first
# frame (--exit-after-first-frame, under Xvfb), medians of N runs taken in turn, for:
#   source, CUDA loaded   the source build made to load libtorch_cuda (NETLOOM_CUDA=on): what
#                         every start cost while the build linked libtorch_cuda
#   source                the source build as it starts now (no NVIDIA driver: CUDA not loaded)
#   CPU bundle            the packaged netloom (packaging/linux/build.sh), unpacked
# Needs target/release/netloom, xvfb, patchelf. Usage: scripts/bench-startup.sh [N=7]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-7}"
eval "$(scripts/provision-torch.sh)"
export DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent
WORK="$(mktemp -d)"
trap 'kill "${XVFB_PID:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
packaging/linux/build.sh --fast --no-deb --out "$WORK/dist" >/dev/null
tar -xzf "$WORK"/dist/netloom-*-linux-x86_64.tar.gz -C "$WORK"
BUNDLE="$(echo "$WORK"/netloom-*-linux-x86_64/bin/netloom)"
export DISPLAY=:77
Xvfb "$DISPLAY" -screen 0 1280x720x24 -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!
sleep 1

seconds() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A version frame
names=("source, CUDA loaded" "source" "CPU bundle")
run_as() {
    case "$1" in
        "source, CUDA loaded") NETLOOM_CUDA=on target/release/netloom "${@:2}" ;;
        "source") target/release/netloom "${@:2}" ;;
        "CPU bundle") env -u LIBTORCH "$BUNDLE" "${@:2}" ;;
    esac
}
for _ in $(seq "$N"); do
    for name in "${names[@]}"; do
        version[$name]+="$(seconds run_as "$name" --version) "
        frame[$name]+="$(seconds run_as "$name" --exit-after-first-frame) "
    done
done
printf '%-22s %14s %18s\n' "" "--version (ms)" "first frame (ms)"
for name in "${names[@]}"; do
    v=$(tr ' ' '\n' <<<"${version[$name]}" | grep . | median)
    f=$(tr ' ' '\n' <<<"${frame[$name]}" | grep . | median)
    printf '%-22s %14s %18s\n' "$name" "$v" "$f"
done
echo "(medians of $N runs each, taken in turn; $(nproc) cores)"
