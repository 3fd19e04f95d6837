#!/usr/bin/env bash
# Sweep benchmark for docs/performance.md (issue 32): an 8-trial, 1-epoch LeNet-5 sweep on the
# built-in set (10,000 training images), side by side on this machine, interleaved twice:
#   1. `netloom sweep` with its own choice of trials at once (it measures 1 × all threads
#      against 2 × half, and says what it found), then with --parallel 1 and --parallel 2;
#   2. the same sweep exported with --format ray-tune and run by tune.py under Ray Tune on
#      the same CPUs (Ray started by tune.py, one CPU per trial), whole process each.
# Usage: scripts/bench-sweep.sh   (after a release build; provisions torch and Ray like the tests)
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/provision-torch.sh)"
export LD_LIBRARY_PATH="$LIBTORCH/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export RAY_USAGE_STATS_ENABLED=0
BIN="$(pwd)/${NETLOOM:-target/release/netloom}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
CPUS=$(nproc)

cp examples/lenet5.json "$WORK/lenet5.json"
cat > "$WORK/sweep.json" <<'EOF'
{"format": "netloom-sweep", "design": "lenet5.json", "data": "builtin:fashion-mnist",
 "epochs": 1,
 "parameters": {"training.learning_rate": {"values": [0.003, 0.01, 0.03, 0.1]},
                "fc1.out_features": {"values": [60, 120]}}}
EOF
"$BIN" export "$WORK/sweep.json" --format ray-tune --out "$WORK/ray-tune" >/dev/null

now() { date +%s.%N; }
seconds() { python3 -c "print(f'{$2 - $1:.1f}')"; }

for round in 1 2; do
    echo "== round $round"
    for how in auto 1 2; do
        rm -rf "$WORK/nl"
        flags=()
        [ "$how" != auto ] && flags=(--parallel "$how")
        t0=$(now)
        "$BIN" sweep "$WORK/sweep.json" --out "$WORK/nl" "${flags[@]}" 2> "$WORK/nl.log" >/dev/null
        t1=$(now)
        echo "netloom sweep (parallel $how): $(seconds "$t0" "$t1") s"
        grep "measured" "$WORK/nl.log" | sed 's/^/  /' || true
    done
    rm -rf "$WORK/ray"
    t0=$(now)
    PYTHONPATH="$PYTHONPATH:$NETLOOM_RAY_SITE" python3 "$WORK/ray-tune/tune.py" --out "$WORK/ray" \
        --num-cpus "$CPUS" --cpus-per-trial 1 > "$WORK/ray.log" 2>&1
    t1=$(now)
    echo "tune.py under Ray Tune ($CPUS CPUs, 1 per trial): $(seconds "$t0" "$t1") s"
    grep "trials in" "$WORK/ray.log" | sed "s/^/  /" || true
done
