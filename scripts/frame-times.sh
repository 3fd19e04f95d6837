#!/usr/bin/env bash
# Frame times of the release app on ResNet-34 (docs/performance.md), under Xvfb, driven by
# xdotool. Needs: xvfb, xdotool, imagemagick; target/release/netloom built.
#   scripts/frame-times.sh grouped|expanded|detail            idle on the canvas
#   scripts/frame-times.sh train-grouped|train-detail|train-plots  while training
#   scripts/frame-times.sh train-busy|train-lenet  LeNet-5 training, its plots shown, beside a
#                                                  busy loop, or not
#   scripts/frame-times.sh learn|learn-conv    the Learn view animating (optimizer paths; a conv window)
#   scripts/frame-times.sh learn-big           the optimizer paths with ResNet-34 open
# Prints the app's --frame-stats report; screenshots go to /tmp/frame-times-*.png.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/provision-torch.sh)"
export LD_LIBRARY_PATH="$LIBTORCH/lib" DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent
export LP_NUM_THREADS=1 # llvmpipe on the UI thread, so its drawing is counted in the frame
export DISPLAY="${DISPLAY_FOR_FRAMES:-:7}"
# A fresh app state every time (no saved runs, the Design view first): the clicks below land
# where they should whatever the last session left.
XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME
pgrep -f "Xvfb $DISPLAY" >/dev/null || { Xvfb "$DISPLAY" -screen 0 1280x720x24 & sleep 2; }
phase=$1
bin=${NETLOOM_BIN:-target/release/netloom}
design=/tmp/frame-times.json
case $phase in
train-busy | train-lenet) "$bin" template lenet -o "$design" --overwrite >/dev/null ;;
train-*) "$bin" template resnet34 --input 1,28,28 --classes 10 -o "$design" --overwrite >/dev/null ;;
learn-big) "$bin" template resnet34 -o "$design" --overwrite >/dev/null ;;
learn*) "$bin" template lenet -o "$design" --overwrite >/dev/null ;;
*) "$bin" template resnet34 -o "$design" --overwrite >/dev/null ;;
esac
busy=""
if [ "$phase" = train-busy ]; then
    python3 -c "while True: pass" &
    busy=$!
fi
"$bin" --frame-stats "$design" 2>/tmp/frame-times-"$phase".log &
sleep 6
w=$(xdotool search --name netloom | head -1)
xdotool windowfocus "$w"
xdotool mousemove 189 11 click 1 # the Design view (the app reopens on the last one)
sleep 1
# The whole design in view, as the rows of docs/performance.md measure it (the app opens a
# design too big to read whole at its start instead): the canvas's "All" button.
whole() { xdotool mousemove 1012 51 click 1; sleep 1; }
menu() { xdotool mousemove 53 11 click 1; sleep 0.5; xdotool mousemove "$1" "$2" click 1; sleep 1; }
zoom_in() {
    xdotool mousemove 600 360 keydown ctrl
    xdotool click --repeat 9 --delay 80 4
    xdotool keyup ctrl
    sleep 1
}
case $phase in
grouped) whole ;;
expanded | detail)
    menu 100 201 # Edit → Expand all groups
    menu 82 252  # Edit → Auto layout
    whole
    [ "$phase" = detail ] && zoom_in
    ;;
train-*)
    xdotool mousemove 236 11 click 1 # the Train view
    sleep 8
    xdotool mousemove 48 677 click 1 # Train
    sleep 4
    if [ "$phase" = train-grouped ] || [ "$phase" = train-detail ]; then
        xdotool mousemove 189 11 click 1 # back to the Design view
        sleep 1
        whole
        [ "$phase" = train-detail ] && zoom_in
    fi
    ;;
learn | learn-big)
    xdotool mousemove 279 11 click 1 # the Learn view (optimizer paths)
    sleep 1
    xdotool mousemove 690 103 click 1 # Play: 600 steps at 30 steps/s, 20 s
    ;;
learn-conv)
    xdotool mousemove 279 11 click 1 # the Learn view
    sleep 1
    xdotool mousemove 60 121 click 1 # Convolution and pooling
    sleep 6                          # LeNet compiled and a sample through it
    xdotool mousemove 490 124 click 1 # Play
    ;;
esac
xdotool mousemove 1100 600
sleep 20
import -window root /tmp/frame-times-"$phase".png
case $phase in
learn*) ;; # the lessons change nothing to save
*)
    xdotool key --window "$w" ctrl+s
    sleep 1
    ;;
esac
xdotool mousemove 19 11 click 1 # File → Quit
sleep 0.7
xdotool mousemove 30 243 click 1
sleep 4
cat /tmp/frame-times-"$phase".log
if [ -n "$busy" ]; then kill "$busy"; fi
