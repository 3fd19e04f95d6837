#!/usr/bin/env bash
# Runs netloom's cargo-fuzz targets (fuzz/fuzz_targets) for SECONDS each, JOBS at a time, seeded
# by fuzz/seeds.py, and prints a table of executions, time, corpus size and crashes per target.
#
#   scripts/fuzz.sh [SECONDS] [JOBS] [TARGET...]     # default 600 s, 2 at a time, all targets
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`), plus libtorch as for
# a normal build (scripts/provision-torch.sh). A crash is saved under fuzz/artifacts/TARGET/;
# `cargo +nightly fuzz run -s none -a TARGET fuzz/artifacts/TARGET/crash-…` replays it. Linux x86-64. Built without a
# sanitizer (`-s none`): netloom has no unsafe code of its own to check, and it runs ~2× faster;
# with debug assertions (`-a`), so arithmetic overflow is a crash too.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
jobs=${2:-2}
shift $(( $# < 2 ? $# : 2 ))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(design pth safetensors idx cifar npy image)
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "scripts/fuzz.sh: needs the nightly toolchain and cargo-fuzz: rustup toolchain install nightly && cargo install cargo-fuzz" >&2
    exit 2
fi
if [ -z "${LIBTORCH:-}" ] && [ -z "${LIBTORCH_USE_PYTORCH:-}" ]; then
    eval "$(scripts/provision-torch.sh)"
fi
lib=$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null || echo "${LIBTORCH:-}/lib")
export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -d fuzz/corpus ] || NETLOOM="${NETLOOM:-target/release/netloom}" python3 fuzz/seeds.py
(cd fuzz && cargo +nightly fuzz build -s none -a --target x86_64-unknown-linux-gnu)
logs=fuzz/logs
mkdir -p "$logs"
run_one() {
    local t=$1
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    # -rss_limit_mb: a loader that grows past 2 GB on a small input counts as a crash (a bomb).
    # The binaries built above, run directly: `cargo fuzz run` would rebuild each target when
    # the sources changed since, fuzzing a different netloom per target.
    "fuzz/target/x86_64-unknown-linux-gnu/release/$t" -artifact_prefix="fuzz/artifacts/$t/" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        "fuzz/corpus/$t" >"$logs/$t.log" 2>&1 || true
}
running=0
for t in "${targets[@]}"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait
printf '| target | executions | seconds | exec/s | corpus | crashes |\n| --- | ---: | ---: | ---: | ---: | ---: |\n'
for t in "${targets[@]}"; do
    log="$logs/$t.log"
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    secs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE 'in [0-9]+' | grep -oE '[0-9]+' | tail -1)
    speed=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
    crashes=$(find "fuzz/artifacts/$t" -type f | wc -l)
    printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "${runs:-?}" "${secs:-?}" "${speed:-?}" "$corpus" "$crashes"
done
