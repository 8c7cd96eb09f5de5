#!/bin/sh
# Write one man(3) page per DSS_API function of include/dss/dss.h into DIR (scripts/man-pages.awk).
#   usage: scripts/man-pages.sh DIR VERSION
set -eu
dir=${1:?usage: $0 DIR VERSION}
version=${2:?usage: $0 DIR VERSION}
rm -rf "$dir"
mkdir -p "$dir"
awk -v out="$dir" -v version="$version" -f scripts/man-pages.awk include/dss/dss.h include/dss/dss.h
