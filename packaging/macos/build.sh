#!/usr/bin/env bash
# Builds netloom.app and a .dmg on macOS (arm64) from a finished release build.
#   netloom-VERSION-macos-arm64.dmg  holding netloom.app:
#     Contents/MacOS/netloom            rpath @executable_path/../Frameworks
#     Contents/Frameworks/              libtorch_cpu, libc10, libomp (+ libtorch) from the wheel
#     Contents/Resources/netloom.icns   assets/icons/netloom.icns
#     Contents/Resources/examples/      the example designs
#
# Usage (on a Mac): eval "$(scripts/provision-torch.sh)"; cargo build --release
#                   packaging/macos/build.sh [--out dist]
# libtorch is the macOS arm64 PyPI wheel torch==2.11.0 (CPU + MPS). This recipe can't run on
# the project's Linux build machines; the release workflow runs it on a macOS runner.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/dist"
[ "${1:-}" = "--out" ] && OUT="$2"
[ "$(uname -s)" = Darwin ] || { echo "package: this recipe runs on macOS" >&2; exit 2; }
[ -n "${LIBTORCH:-}" ] || eval "$("$ROOT/scripts/provision-torch.sh")"
BINARY="$ROOT/target/release/netloom"
[ -x "$BINARY" ] || { echo "package: build first: cargo build --release" >&2; exit 2; }
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n1)"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
APP="$STAGE/netloom.app/Contents"
mkdir -p "$APP/MacOS" "$APP/Frameworks" "$APP/Resources"
sed "s/@VERSION@/$VERSION/g" "$ROOT/packaging/macos/Info.plist.in" > "$APP/Info.plist"
cp "$ROOT/assets/icons/netloom.icns" "$APP/Resources/netloom.icns"
cp -R "$ROOT/examples" "$APP/Resources/examples"
mkdir -p "$APP/Resources/licences"
cp "$ROOT/LICENSE" "$APP/Resources/licences/netloom-LICENSE.txt"
cp "$ROOT/assets/fashion-mnist/LICENSE" "$APP/Resources/licences/fashion-mnist-LICENSE.txt"
cp "$ROOT/assets/licences/pytorch-LICENSE.txt" "$APP/Resources/licences/pytorch-LICENSE.txt"

install -m 755 "$BINARY" "$APP/MacOS/netloom"
# The build's rpath names the wheel; the bundle's names its own Frameworks folder.
install_name_tool -delete_rpath "$LIBTORCH/lib" "$APP/MacOS/netloom" 2>/dev/null || true
install_name_tool -add_rpath "@executable_path/../Frameworks" "$APP/MacOS/netloom"

# The dylibs the binary loads through @rpath, followed transitively within the wheel.
queue=("$APP/MacOS/netloom")
while [ ${#queue[@]} -gt 0 ]; do
    file="${queue[0]}"; queue=("${queue[@]:1}")
    for lib in $(otool -L "$file" | awk 'NR>1 {print $1}' | grep '^@rpath/' | sed 's|^@rpath/||'); do
        [ -e "$APP/Frameworks/$lib" ] && continue
        [ -f "$LIBTORCH/lib/$lib" ] || { echo "package: $file needs @rpath/$lib, not in $LIBTORCH/lib" >&2; exit 2; }
        install -m 755 "$LIBTORCH/lib/$lib" "$APP/Frameworks/$lib"
        install_name_tool -add_rpath "@loader_path" "$APP/Frameworks/$lib" 2>/dev/null || true
        queue+=("$APP/Frameworks/$lib")
    done
done

# Ad-hoc signature: Apple silicon refuses unsigned code. A release signs with a Developer ID
# (codesign --sign "Developer ID Application: ..." --options runtime) and notarises.
codesign --force --deep --sign - "$STAGE/netloom.app"
"$STAGE/netloom.app/Contents/MacOS/netloom" --version

mkdir -p "$OUT"
DMG="$OUT/netloom-$VERSION-macos-arm64.dmg"
hdiutil create -volname netloom -srcfolder "$STAGE/netloom.app" -ov -format UDZO "$DMG" >/dev/null
printf 'package: %-46s %6s\n' "$(basename "$DMG")" "$(du -h "$DMG" | cut -f1)"
