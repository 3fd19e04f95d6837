#!/usr/bin/env bash
# Turns the relocatable folder build.sh stages (bin/, lib/, share/) into an AppImage.
# Usage: packaging/linux/appimage.sh STAGED_FOLDER OUT.AppImage
#
# Needs appimagetool (https://github.com/AppImage/appimagetool/releases, continuous build) on
# PATH or in $APPIMAGETOOL. It comes only from GitHub, which the project's build machines can't
# reach, so build.sh makes the AppImage only where it is installed (the release workflow
# downloads it); see packaging/README.md.
set -euo pipefail
SRC="$1"
OUT="$2"
TOOL="${APPIMAGETOOL:-appimagetool}"
command -v "$TOOL" >/dev/null || { echo "appimage: $TOOL not found (see packaging/README.md)" >&2; exit 2; }
APPDIR="$(mktemp -d "${TMPDIR:-/tmp}/netloom-appdir.XXXXXX")"
trap 'rm -rf "$APPDIR"' EXIT
mkdir -p "$APPDIR/usr"
cp -a "$SRC/bin" "$SRC/lib" "$SRC/share" "$APPDIR/usr/"
# The binary's rpath ($ORIGIN/../lib) already finds usr/lib; AppRun only starts it.
cat > "$APPDIR/AppRun" <<'RUN'
#!/bin/sh
HERE="$(dirname "$(readlink -f "$0")")"
exec "$HERE/usr/bin/netloom" "$@"
RUN
chmod +x "$APPDIR/AppRun"
cp "$SRC/share/applications/netloom.desktop" "$APPDIR/netloom.desktop"
cp "$SRC/share/icons/hicolor/256x256/apps/netloom.png" "$APPDIR/netloom.png"
ln -s netloom.png "$APPDIR/.DirIcon"
ARCH=x86_64 "$TOOL" --no-appstream "$APPDIR" "$OUT"
