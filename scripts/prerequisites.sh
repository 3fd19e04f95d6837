#!/usr/bin/env bash
# Checks that this machine has what building and testing netloom needs, and installs what is
# missing where it can: on Debian/Ubuntu as root (or with password-less sudo) through apt-get.
# Elsewhere it stops at once with the exact command to run. scripts/test.sh runs it first.
#
# Usage: scripts/prerequisites.sh [--check]    (--check: report only, install nothing)
#
# What each package is for:
#   g++, python3, python3-pip   build the libtorch bindings; fetch the torch wheel (provision-torch.sh)
#   mesa-vulkan-drivers, libvulkan1, libgl1-mesa-dri
#                               a software graphics adapter (lavapipe, llvmpipe) for the app tests'
#                               rendered snapshots, and for the packaged app's window under Xvfb
#   xvfb, imagemagick           the bundle test opens the installed app on a virtual screen and
#                               takes a screenshot (import)
#   dataset-fashion-mnist       the real-data tests read the full Fashion-MNIST set
#   patchelf, binutils, dpkg    the bundle test builds the .tar.gz and .deb (packaging/linux)
#   (the linter) shellcheck     the packaging and test scripts are linted
set -euo pipefail
CHECK_ONLY=0
[ "${1:-}" = "--check" ] && CHECK_ONLY=1

say() { echo "prerequisites: $*" >&2; }

# Debian package -> a command or file that shows it is there (for systems without dpkg).
declare -A PROVIDES=(
    [g++]="cmd:c++"
    [python3]="cmd:python3"
    [python3-pip]="pip"
    [mesa-vulkan-drivers]="glob:/usr/share/vulkan/icd.d/lvp_icd*.json"
    [libvulkan1]="glob:/usr/lib/*/libvulkan.so.1"
    [libgl1-mesa-dri]="glob:/usr/lib/*/dri/swrast_dri.so"
    [xvfb]="cmd:Xvfb"
    [imagemagick]="cmd:import"
    [dataset-fashion-mnist]="glob:/usr/share/datasets/fashion-mnist/*"
    [patchelf]="cmd:patchelf"
    [binutils]="cmd:readelf"
    [dpkg]="cmd:dpkg-deb"
    [shellcheck]="cmd:shellcheck"
)
PACKAGES=(g++ python3 python3-pip mesa-vulkan-drivers libvulkan1 libgl1-mesa-dri xvfb imagemagick
    dataset-fashion-mnist patchelf binutils dpkg shellcheck)

present() {
    local pkg="$1" probe
    if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
        # Debian: ask dpkg, which also sees a package whose files moved.
        dpkg -s "$pkg" >/dev/null 2>&1 || return 1
        [ "$pkg" != python3-pip ] || python3 -m pip --version >/dev/null 2>&1
        return
    fi
    probe="${PROVIDES[$pkg]}"
    case "$probe" in
        cmd:*) command -v "${probe#cmd:}" >/dev/null 2>&1 ;;
        glob:*) compgen -G "${probe#glob:}" >/dev/null ;;
        pip) python3 -m pip --version >/dev/null 2>&1 ;;
    esac
}

# Rust comes from rustup, not apt: say so rather than install a distribution's older rustc.
if ! command -v cargo >/dev/null 2>&1; then
    say "cargo is missing: install Rust 1.95 or newer with rustup (https://rustup.rs):"
    say "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --default-toolchain 1.95"
    exit 2
fi
rust_minor="$(rustc --version | sed -n 's/^rustc 1\.\([0-9]*\).*/\1/p')"
if [ -n "$rust_minor" ] && [ "$rust_minor" -lt 95 ]; then
    say "rustc $(rustc --version | cut -d' ' -f2) is too old: netloom needs 1.95 or newer (rustup update)"
    exit 2
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    present "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    say "missing: ${missing[*]} (Debian/Ubuntu package names; see the top of $0 for what each is for)"
    say "install their equivalents with your system's package manager, then run this again"
    exit 2
fi
command=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$CHECK_ONLY" = 1 ]; then
    say "missing: ${missing[*]}; install them with:"
    say "  sudo apt-get update && sudo ${command[*]}"
    exit 2
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo)
else
    say "missing: ${missing[*]}; installing needs root. Run:"
    say "  sudo apt-get update && sudo ${command[*]}"
    exit 2
fi
say "installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive "${command[@]}" -qq >/dev/null
