#!/usr/bin/env sh
# Adds netloom to your desktop's application menu (for you alone, no root): writes
# ~/.local/share/applications/netloom.desktop pointing at this folder's bin/netloom, and the
# icons. Run it again after moving the folder; remove those files to undo.
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
mkdir -p "$DATA/applications"
sed "s|^Exec=netloom|Exec=\"$HERE/bin/netloom\"|" "$HERE/share/applications/netloom.desktop" \
    > "$DATA/applications/netloom.desktop"
cp -r "$HERE/share/icons" "$DATA/"
if command -v update-desktop-database >/dev/null; then
    update-desktop-database "$DATA/applications" || true
fi
echo "netloom is in your application menu; it runs $HERE/bin/netloom"
