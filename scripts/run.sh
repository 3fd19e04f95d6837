#!/usr/bin/env bash
# Builds netloom (release) and opens the app on its default design, LeNet-5.
# Extra arguments go to netloom, e.g. `scripts/run.sh check examples/lenet5.json`.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/provision-torch.sh)"
cargo build --release --locked
exec target/release/netloom "$@"
