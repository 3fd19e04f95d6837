#!/usr/bin/env bash
# Renders assets/icons/netloom.svg into the PNG sizes the window, the .desktop file and the
# installers use, the Windows .ico and the macOS .icns. The outputs are committed, so a build
# needs none of these tools; run this again after changing the SVG.
# Needs: rsvg-convert (librsvg2-bin), ImageMagick (convert), png2icns (icnsutils).
set -euo pipefail
cd "$(dirname "$0")/../assets/icons"
for tool in rsvg-convert convert png2icns; do
    command -v "$tool" >/dev/null || { echo "icons: $tool is missing (apt-get install librsvg2-bin imagemagick icnsutils)" >&2; exit 2; }
done
sizes=(16 32 48 64 128 256 512)
for s in "${sizes[@]}"; do
    rsvg-convert --width "$s" --height "$s" netloom.svg --output "netloom-$s.png"
done
convert netloom-16.png netloom-32.png netloom-48.png netloom-64.png netloom-128.png netloom-256.png netloom.ico
png2icns netloom.icns netloom-16.png netloom-32.png netloom-128.png netloom-256.png netloom-512.png >/dev/null
ls -l netloom*
