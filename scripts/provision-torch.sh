#!/usr/bin/env bash
# Installs the exact PyTorch that netloom links against (torch==2.11.0, the PyPI wheel) into a
# per-user cache keyed by version, and prints the environment that points the build at it.
#
# Why a pip wheel and not a libtorch zip: the same wheel is what the GPU machines have, so one
# binary runs here and there; and the tests use its Python side as the numerical reference.
#
# Usage:  eval "$(scripts/provision-torch.sh)"     # installs if missing, then exports LIBTORCH & co
# A re-run when the wheel is already there only checks a marker file: well under 2 s.
set -euo pipefail

TORCH_VERSION="2.11.0"
HOME_DIR="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
CACHE_ROOT="${NETLOOM_CACHE:-${XDG_CACHE_HOME:-$HOME_DIR/.cache}/netloom}"
PREFIX="$CACHE_ROOT/torch-$TORCH_VERSION"
SITE="$PREFIX/site-packages"
MARKER="$PREFIX/.installed"

say() { echo "netloom: $*" >&2; }

if [ ! -f "$MARKER" ]; then
    PY="${PYTHON:-python3}"
    if ! command -v "$PY" >/dev/null 2>&1; then
        say "python3 is needed to install PyTorch $TORCH_VERSION: install python3 and python3-pip"
        exit 2
    fi
    if ! "$PY" -m pip --version >/dev/null 2>&1; then
        say "pip is needed to install PyTorch $TORCH_VERSION: install python3-pip"
        exit 2
    fi
    case "$(uname -s)" in
        Linux)  size="about 3 GB to download (the CUDA 13.0 build with its NVIDIA libraries), about 5 GB on disk" ;;
        Darwin) size="about 80 MB to download (CPU + MPS), about 400 MB on disk" ;;
        *)      size="about 250 MB to download (CPU), about 1 GB on disk" ;;
    esac
    say "installing torch==$TORCH_VERSION (the PyPI wheel) into $SITE"
    say "this is a one-time step: $size"
    rm -rf "$PREFIX"
    mkdir -p "$PREFIX"
    # --target keeps it out of every Python environment (no venv module needed, no PEP 668 clash).
    "$PY" -m pip install --no-input --progress-bar off --target "$SITE.partial" "torch==$TORCH_VERSION" >&2
    mv "$SITE.partial" "$SITE"
    echo "$TORCH_VERSION" > "$MARKER"
    say "torch $TORCH_VERSION is ready"
fi

# torchvision (with its own needs, numpy and pillow) for the transfer-learning tests, which
# check torchvision's own resnet18 weights against netloom's template. Separate, so that an
# existing torch cache only gains it; --no-deps so torch isn't fetched twice.
VISION="$PREFIX/vision"
if [ ! -f "$VISION/.installed" ]; then
    PY="${PYTHON:-python3}"
    say "installing torchvision==0.26.0, numpy and pillow into $VISION (about 30 MB)"
    rm -rf "$VISION" "$VISION.partial"
    "$PY" -m pip install --no-input --progress-bar off --no-deps --target "$VISION.partial" \
        "torchvision==0.26.0" numpy pillow >&2
    mv "$VISION.partial" "$VISION"
    echo "0.26.0" > "$VISION/.installed"
fi

# onnx (its checker) and onnxruntime for the export tests, which run netloom's ONNX files.
# Separate again so that an existing cache only gains them; their own dependencies (protobuf,
# numpy, ...) come along, after torchvision's on the path.
ONNX="$PREFIX/onnx"
if [ ! -f "$ONNX/.installed" ]; then
    PY="${PYTHON:-python3}"
    say "installing onnx==1.23.2 and onnxruntime==1.32.0 into $ONNX (about 40 MB)"
    rm -rf "$ONNX" "$ONNX.partial"
    "$PY" -m pip install --no-input --progress-bar off --target "$ONNX.partial" \
        "onnx==1.23.2" "onnxruntime==1.32.0" >&2
    mv "$ONNX.partial" "$ONNX"
    echo "1.23.2 1.32.0" > "$ONNX/.installed"
fi

# scikit-learn and pandas for the table tests (a logistic-regression reference on the same
# split) and the table benchmark (pandas.read_csv). Separate again, so that an existing cache
# only gains them; their own dependencies (scipy, joblib, ...) come along.
TABLES="$PREFIX/tables"
if [ ! -f "$TABLES/.installed" ]; then
    PY="${PYTHON:-python3}"
    say "installing scikit-learn==1.8.0 and pandas==2.3.3 into $TABLES (about 110 MB)"
    rm -rf "$TABLES" "$TABLES.partial"
    "$PY" -m pip install --no-input --progress-bar off --target "$TABLES.partial" \
        "scikit-learn==1.8.0" "pandas==2.3.3" >&2
    mv "$TABLES.partial" "$TABLES"
    echo "1.8.0 2.3.3" > "$TABLES/.installed"
fi

# Ray Tune for the sweep export's test and benchmark (tune.py runs the trials under Ray). Its
# own place, not on PYTHONPATH: its dependencies (numpy, pandas, protobuf) would shadow the
# pinned ones above; the test puts it last on the path of the one process that needs it.
RAY="$PREFIX/ray"
if [ ! -f "$RAY/.installed" ]; then
    PY="${PYTHON:-python3}"
    say "installing ray[tune]==2.60.0 into $RAY (about 600 MB)"
    rm -rf "$RAY" "$RAY.partial"
    "$PY" -m pip install --no-input --progress-bar off --target "$RAY.partial" \
        "ray[tune]==2.60.0" >&2
    mv "$RAY.partial" "$RAY"
    echo "2.60.0" > "$RAY/.installed"
fi

# The environment for torch-sys (build), for the test's Python reference, and for running.
echo "export NETLOOM_TORCH_SITE='$SITE'"
echo "export NETLOOM_RAY_SITE='$RAY'"
echo "export LIBTORCH='$SITE/torch'"
echo "export LIBTORCH_INCLUDE='$SITE/torch'"
echo "export LIBTORCH_LIB='$SITE/torch'"
echo "export PYTHONPATH='$SITE:$VISION:$ONNX:$TABLES'\${PYTHONPATH:+:\$PYTHONPATH}"
