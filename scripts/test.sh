#!/usr/bin/env bash
# Runs netloom's whole test suite: checks the machine's prerequisites (installing the missing
# ones where it can: scripts/prerequisites.sh), installs PyTorch 2.11.0 into the user cache
# when missing, builds the release binary (the bundle test packages it), then builds and runs
# every unit, integration, CLI, app and bundle test.
#
# scripts/test.sh --quick: the fast loop while editing: the unit and doc tests, and the
# design, data and engine tests (libtorch, no Python reference, no app window, no packaging,
# no release build). Under 3 minutes on a warm build; the whole suite is still what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--quick" ]; then
    shift
    eval "$(scripts/provision-torch.sh)"
    quick=(layers design_file validation shapes_vs_libtorch examples_vs_libtorch
           data_loading augmentation preprocessing training precision)
    cargo test --locked --lib "${quick[@]/#/--test=}" "$@"
    exec cargo test --locked --doc "$@"
fi
scripts/prerequisites.sh
eval "$(scripts/provision-torch.sh)"
# No desktop portal for the tests, as on a Linux desktop without xdg-desktop-portal: the app
# tests check that file actions then fall back to netloom's own dialog instead of doing nothing.
export DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/netloom-tests-have-no-portal"
cargo build --locked --release --bin netloom
exec cargo test --locked "$@"
