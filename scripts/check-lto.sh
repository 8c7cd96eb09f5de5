#!/bin/sh
# Link-time optimisation, as Ubuntu and Fedora build packages (dpkg-buildflags with
# DEB_BUILD_MAINT_OPTIONS=optimize=+lto: -flto=auto -ffat-lto-objects): into $1, build the
# library, the examples and the tests, run the tests, and check the static archive (only dss_*
# and the reserved dssi_* defined; a host with its own mem_alloc links beside it).
#   usage: scripts/check-lto.sh BUILD_DIR
set -eu
b=$1
make=${MAKE:-make}
t0=$(date +%s)
eval "$(DEB_BUILD_MAINT_OPTIONS=optimize=+lto dpkg-buildflags --export=sh)"
export CPPFLAGS CFLAGS LDFLAGS
echo "check-lto: CFLAGS=$CFLAGS"
echo "check-lto: LDFLAGS=$LDFLAGS"
case "$CFLAGS" in *-flto*) ;; *) echo "check-lto: dpkg-buildflags gave no -flto" >&2; exit 1 ;; esac
rm -rf "$b"
$make --no-print-directory -s B="$b" all tests >/dev/null
sh scripts/run-tests.sh "$b"/tests/test_* | tail -n 1
CC="${CC:-cc} $CFLAGS $LDFLAGS" sh scripts/check-static.sh "$b/libdss.a" "$(pkg-config --libs lapack blas) -lm"
"$b/examples/quickstart" >/dev/null
echo "check-lto: passed ($(( $(date +%s) - t0 )) s)"
