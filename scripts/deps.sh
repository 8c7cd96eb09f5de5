#!/bin/sh
# Make sure the build's system packages are present: pkg-config, LAPACK/BLAS, cmocka.
# As root with apt-get, install what is missing from Debian's archive; otherwise print the exact
# command to run and fail. DSS_NO_APT=1 (make DEPS=no) never runs apt-get: a package build.
PKGS="pkg-config liblapack-dev libblas-dev libcmocka-dev"
missing=""
command -v pkg-config >/dev/null 2>&1 || missing="pkg-config"
if [ -z "$missing" ]; then
    pkg-config --exists lapack blas || missing="$missing liblapack-dev libblas-dev"
    pkg-config --exists cmocka || missing="$missing libcmocka-dev"
fi
[ -z "$missing" ] && exit 0
if [ "${DSS_NO_APT:-0}" = 1 ]; then
    echo "deps: missing$missing; not installing them (DSS_NO_APT=1)" >&2
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing$missing from Debian's archive"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PKGS >/dev/null \
        && exit 0
    echo "deps: apt-get failed" >&2
    exit 1
fi
echo "deps: missing$missing. Install them with:" >&2
echo "    sudo apt-get install -y $PKGS" >&2
exit 1
