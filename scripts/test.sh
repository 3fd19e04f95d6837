#!/usr/bin/env bash
# Runs netloom's whole test suite: installs PyTorch 2.11.0 into the user cache when missing,
# then builds and runs every unit, integration, CLI and app test.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/provision-torch.sh)"
# No desktop portal for the tests, as on a Linux desktop without xdg-desktop-portal: the app
# tests check that file actions then fall back to netloom's own dialog instead of doing nothing.
export DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/netloom-tests-have-no-portal"
exec cargo test --locked "$@"
