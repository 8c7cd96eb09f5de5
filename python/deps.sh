#!/bin/sh
# Make sure what the Python checks need is present, like scripts/deps.sh does for the C build.
#   sh python/deps.sh python    numpy and pytest, importable by $PYTHON (default /usr/bin/python3)
#   sh python/deps.sh dataset   Debian's Fashion-MNIST files (for the PyTorch example)
# As root with apt-get, install what is missing from Debian's archive; otherwise print the exact
# command to run and fail. With DSS_NO_APT=1 (make DEPS=no) apt-get is never run: what is
# missing is printed as the reason the optional suite is skipped, and the exit status is 77
# (the callers in mk/python.mk then skip instead of failing).
PYTHON=${PYTHON:-/usr/bin/python3}
DATASET_DIR=/usr/share/datasets/fashion-mnist

have() {
    case $1 in
    python)  "$PYTHON" -c 'import numpy, pytest' >/dev/null 2>&1 ;;
    dataset) [ -f "$DATASET_DIR/train-images-idx3-ubyte.gz" ] \
                 && [ -f "$DATASET_DIR/t10k-images-idx3-ubyte.gz" ] ;;
    esac
}

case $1 in
python)  pkgs="python3 python3-numpy python3-pytest"; what="numpy and pytest for $PYTHON" ;;
dataset) pkgs="dataset-fashion-mnist"; what="the Fashion-MNIST images ($DATASET_DIR)" ;;
*)       echo "usage: $0 python|dataset" >&2; exit 2 ;;
esac

have "$1" && exit 0
if [ "${DSS_NO_APT:-0}" = 1 ]; then
    echo "skipped: missing $what; not installing (DSS_NO_APT=1): apt-get install -y $pkgs"
    exit 77
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing $pkgs from Debian's archive"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs \
            >/dev/null; }; then
        echo "deps: apt-get failed" >&2
        exit 1
    fi
    have "$1" && exit 0
    echo "deps: $pkgs installed, but $what still missing" \
         "(Debian's packages serve /usr/bin/python3: run make with PYTHON=/usr/bin/python3)" >&2
    exit 1
fi
echo "deps: missing $what. Install them with:" >&2
echo "    sudo apt-get install -y $pkgs" >&2
exit 1
