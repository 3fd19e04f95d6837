#!/usr/bin/env bash
# Runs netloom's whole test suite: installs PyTorch 2.11.0 into the user cache when missing,
# then builds and runs every unit, integration, CLI and app test.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/provision-torch.sh)"
exec cargo test --locked "$@"
