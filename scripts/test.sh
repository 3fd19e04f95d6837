#!/usr/bin/env bash
# Runs netloom's whole test suite: checks the machine's prerequisites (installing the missing
# ones where it can: scripts/prerequisites.sh), installs PyTorch 2.11.0 into the user cache
# when missing, builds the release binary (the bundle test packages it), then builds and runs
# every unit, integration, CLI, app and bundle test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prerequisites.sh
eval "$(scripts/provision-torch.sh)"
# No desktop portal for the tests, as on a Linux desktop without xdg-desktop-portal: the app
# tests check that file actions then fall back to netloom's own dialog instead of doing nothing.
export DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/netloom-tests-have-no-portal"
cargo build --locked --release --bin netloom
exec cargo test --locked "$@"
