#!/usr/bin/env bash
# Builds netloom's Linux packages from a finished release build:
#   netloom-VERSION-linux-x86_64.tar.gz       a relocatable folder (bin/, lib/, share/), CPU
#   netloom_VERSION_amd64.deb                 the same files under /opt/netloom  (needs dpkg-deb)
#   netloom-VERSION-linux-x86_64-cuda.tar.gz  the CUDA add-on, with --cuda (about 3 GB unpacked)
#   netloom-VERSION-x86_64.AppImage           when appimagetool is on PATH (packaging/README.md)
#
# Usage: packaging/linux/build.sh [--binary target/release/netloom] [--out dist] [--cuda]
#                                 [--no-deb] [--fast]
# --fast compresses at gzip -1 (the bundle test); releases use the default levels.
# libtorch comes from $LIBTORCH (scripts/provision-torch.sh sets it): the PyPI wheel
# torch==2.11.0 netloom was built against. Needs: patchelf, readelf and objdump (binutils), tar, gzip.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BINARY="$ROOT/target/release/netloom"
OUT="$ROOT/dist"
CUDA=0
DEB=auto
FAST=0
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) BINARY="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --cuda) CUDA=1; shift ;;
        --no-deb) DEB=0; shift ;;
        --fast) FAST=1; shift ;;
        *) echo "package: unknown argument $1 (see the usage at the top of $0)" >&2; exit 2 ;;
    esac
done

die() { echo "package: $*" >&2; exit 2; }
for tool in patchelf readelf objdump tar gzip; do
    command -v "$tool" >/dev/null || die "$tool is missing: sudo apt-get install patchelf binutils tar gzip"
done
[ -x "$BINARY" ] || die "no release binary at $BINARY: build it with 'cargo build --release' first"
[ -n "${LIBTORCH:-}" ] || eval "$("$ROOT/scripts/provision-torch.sh")"
TORCH_LIB="$LIBTORCH/lib"
SITE="$(cd "$LIBTORCH/.." && pwd)"
[ -f "$TORCH_LIB/libtorch_cpu.so" ] || die "no libtorch_cpu.so in $TORCH_LIB (LIBTORCH=$LIBTORCH)"

VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n1)"
NAME="netloom-$VERSION-linux-x86_64"
STAGE="$(mktemp -d "${TMPDIR:-/tmp}/netloom-package.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
DIR="$STAGE/$NAME"
mkdir -p "$OUT" "$DIR/bin" "$DIR/lib" "$DIR/share/applications" "$DIR/share/netloom" \
    "$DIR/share/doc/netloom/licences"
LEVEL=6
[ "$FAST" = 1 ] && LEVEL=1

# --- the binary, its rpath pointing at the bundle's own lib/ -----------------------------------
install -m 755 "$BINARY" "$DIR/bin/netloom"
command -v strip >/dev/null && strip --strip-unneeded "$DIR/bin/netloom"
# shellcheck disable=SC2016 # $ORIGIN is for the dynamic loader, not the shell
patchelf --set-rpath '$ORIGIN/../lib' "$DIR/bin/netloom"

# --- the libraries: what the binary needs, followed from its NEEDED entries into the wheel -----
# Searched in torch/lib and the wheel's nvidia/*/lib. Everything else (libc, libstdc++, libm, ...)
# is the base system's. PyPI's libtorch_cpu.so (the CUDA 13 build) needs libcudart and libcupti:
# NVIDIA's user-space runtime, 5 MB, which load without a GPU or driver; no other CUDA library
# is bundled (libtorch_cuda and the rest are the add-on).
find_lib() {
    local name="$1" d
    for d in "$TORCH_LIB" "$SITE"/nvidia/*/lib; do
        [ -f "$d/$name" ] && { echo "$d/$name"; return 0; }
    done
    return 1
}
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
queue=("$DIR/bin/netloom")
while [ ${#queue[@]} -gt 0 ]; do
    file="${queue[0]}"; queue=("${queue[@]:1}")
    for lib in $(needed "$file"); do
        [ -e "$DIR/lib/$lib" ] && continue
        if src="$(find_lib "$lib")"; then
            case "$lib" in
                libtorch_cuda*|libc10_cuda*|libcudnn*|libcublas*|libnccl*)
                    die "$file needs $lib: the CPU bundle must not (was the binary linked with libtorch_cuda?)" ;;
            esac
            install -m 755 "$src" "$DIR/lib/$lib"
            # shellcheck disable=SC2016 # as above
            patchelf --set-rpath '$ORIGIN' "$DIR/lib/$lib"
            queue+=("$DIR/lib/$lib")
        fi
    done
done

# --- desktop entry, icons, examples, licences -------------------------------------------------
install -m 644 "$ROOT/packaging/linux/netloom.desktop" "$DIR/share/applications/netloom.desktop"
for size in 16 32 48 64 128 256 512; do
    mkdir -p "$DIR/share/icons/hicolor/${size}x${size}/apps"
    install -m 644 "$ROOT/assets/icons/netloom-$size.png" \
        "$DIR/share/icons/hicolor/${size}x${size}/apps/netloom.png"
done
mkdir -p "$DIR/share/icons/hicolor/scalable/apps"
install -m 644 "$ROOT/assets/icons/netloom.svg" "$DIR/share/icons/hicolor/scalable/apps/netloom.svg"
cp -r "$ROOT/examples" "$DIR/share/netloom/examples"
install -m 644 "$ROOT/README.md" "$DIR/share/doc/netloom/README.md"
# Help -> Documentation lists these (the Markdown only: the screenshots stay in the source).
mkdir -p "$DIR/share/doc/netloom/docs"
install -m 644 "$ROOT"/docs/*.md "$DIR/share/doc/netloom/docs/"
install -m 644 "$ROOT/LICENSE" "$DIR/share/doc/netloom/licences/netloom-LICENSE.txt"
install -m 644 "$ROOT/assets/fashion-mnist/LICENSE" "$DIR/share/doc/netloom/licences/fashion-mnist-LICENSE.txt"
install -m 644 "$SITE/torch-2.11.0.dist-info/licenses/LICENSE" "$DIR/share/doc/netloom/licences/pytorch-LICENSE.txt"
install -m 644 "$SITE/torch-2.11.0.dist-info/licenses/NOTICE" "$DIR/share/doc/netloom/licences/pytorch-NOTICE.txt"
for lic in "$SITE"/nvidia_cuda_runtime-*.dist-info/licenses/License.txt; do
    install -m 644 "$lic" "$DIR/share/doc/netloom/licences/nvidia-cuda-runtime-License.txt"
done
install -m 755 "$ROOT/packaging/linux/install-desktop-entry.sh" "$DIR/install-desktop-entry.sh"

size_of() { du -h "$1" | cut -f1; }
report() { printf 'package: %-46s %6s\n' "$(basename "$1")" "$(size_of "$1")"; }

# --- the tarball ---------------------------------------------------------------------------------
TARBALL="$OUT/$NAME.tar.gz"
tar -C "$STAGE" -cf - "$NAME" | gzip "-$LEVEL" > "$TARBALL.partial"
mv "$TARBALL.partial" "$TARBALL"
report "$TARBALL"

# --- the .deb: the same files under /opt/netloom ---------------------------------------------
if [ "$DEB" = auto ] && command -v dpkg-deb >/dev/null; then
    DEBROOT="$STAGE/deb"
    mkdir -p "$DEBROOT/DEBIAN" "$DEBROOT/opt" "$DEBROOT/usr/bin" "$DEBROOT/usr/share"
    cp -a "$DIR" "$DEBROOT/opt/netloom"
    rm "$DEBROOT/opt/netloom/install-desktop-entry.sh"
    ln -s /opt/netloom/bin/netloom "$DEBROOT/usr/bin/netloom"
    mv "$DEBROOT/opt/netloom/share/applications" "$DEBROOT/usr/share/applications"
    mv "$DEBROOT/opt/netloom/share/icons" "$DEBROOT/usr/share/icons"
    mkdir -p "$DEBROOT/usr/share/doc/netloom"
    cp "$ROOT/packaging/linux/copyright" "$DEBROOT/usr/share/doc/netloom/copyright"
    installed_kb="$(du -sk "$DEBROOT" | cut -f1)"
    # The newest glibc and libstdc++ symbol versions anything in the bundle uses, as Depends.
    versions() { objdump -T "$DIR"/bin/netloom "$DIR"/lib/* | grep -oE "$1_[0-9.]+" | sort -uV | tail -n1; }
    glibc="$(versions GLIBC)"; glibcxx="$(versions GLIBCXX)"
    case "${glibcxx#GLIBCXX_3.4.}" in
        2[0-5]) gcc=7 ;; 26) gcc=8 ;; 27) gcc=9 ;; 28) gcc=10 ;; 29) gcc=11 ;; 30) gcc=12 ;;
        31) gcc=13 ;; *) gcc=14 ;;
    esac
    sed -e "s/@VERSION@/$VERSION/" -e "s/@INSTALLED_SIZE@/$installed_kb/" \
        -e "s/@GLIBC@/${glibc#GLIBC_}/" -e "s/@GCC@/$gcc/" \
        "$ROOT/packaging/linux/control.in" > "$DEBROOT/DEBIAN/control"
    DEBFILE="$OUT/netloom_${VERSION}_amd64.deb"
    if [ "$FAST" = 1 ]; then compress=(-Zgzip -z1); else compress=(-Zxz -z6); fi
    dpkg-deb --root-owner-group "${compress[@]}" --build "$DEBROOT" "$DEBFILE" >/dev/null
    report "$DEBFILE"
elif [ "$DEB" = auto ]; then
    echo "package: no dpkg-deb here, so no .deb (apt-get install dpkg)" >&2
fi

# --- the CUDA add-on: libtorch_cuda and NVIDIA's libraries, in the wheel's own layout ---------
if [ "$CUDA" = 1 ]; then
    ADD="$STAGE/cuda/$NAME/lib/cuda"
    mkdir -p "$ADD/torch/lib"
    for lib in libtorch_cuda.so libc10_cuda.so libtorch_cuda_linalg.so libtorch_nvshmem.so libcaffe2_nvrtc.so; do
        install -m 755 "$TORCH_LIB/$lib" "$ADD/torch/lib/$lib"
    done
    # engine/cuda.rs checks this against the version netloom was built with.
    install -m 644 "$LIBTORCH/version.py" "$ADD/torch/version.py"
    for d in "$SITE"/nvidia/*/lib; do
        rel="nvidia/$(basename "$(dirname "$d")")/lib"
        mkdir -p "$ADD/$rel"
        find "$d" -maxdepth 1 -name '*.so*' -exec cp {} "$ADD/$rel/" \;
    done
    mkdir -p "$ADD/licences"
    for lic in "$SITE"/nvidia_*.dist-info/licenses/License.txt; do
        pkg="$(basename "$(dirname "$(dirname "$lic")")" .dist-info)"
        cp "$lic" "$ADD/licences/$pkg-License.txt"
    done
    ADDON="$OUT/$NAME-cuda.tar.gz"
    tar -C "$STAGE/cuda" -cf - "$NAME" | gzip "-$LEVEL" > "$ADDON.partial"
    mv "$ADDON.partial" "$ADDON"
    report "$ADDON"
    echo "package: CUDA add-on unpacked: $(du -sh "$ADD" | cut -f1)"
fi

# --- the AppImage, where appimagetool is available ----------------------------------------------
if command -v "${APPIMAGETOOL:-appimagetool}" >/dev/null; then
    "$ROOT/packaging/linux/appimage.sh" "$DIR" "$OUT/netloom-$VERSION-x86_64.AppImage"
    report "$OUT/netloom-$VERSION-x86_64.AppImage"
else
    echo "package: no appimagetool on PATH, so no AppImage (see packaging/README.md)" >&2
fi
