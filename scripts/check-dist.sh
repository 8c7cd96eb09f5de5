#!/bin/sh
# The release tarball builds and passes make check from a clean directory: it holds exactly the
# files git tracks, nothing built, and `make check` passes in its unpacked copy (with
# DSS_NO_APT=1: whatever it needs is installed already; optional suites say when they skip).
#   usage: scripts/check-dist.sh libdss-X.Y.Z.tar.gz libdss-X.Y.Z
set -eu
tarball=$1
name=$2
make=${MAKE:-make}
t0=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -tzf "$tarball" | grep -v '/$' | sed "s|^$name/||" | LC_ALL=C sort > "$tmp/in-tarball"
git ls-files | LC_ALL=C sort > "$tmp/tracked"
if ! cmp -s "$tmp/in-tarball" "$tmp/tracked"; then
    echo "check-dist: $tarball does not hold exactly the tracked files:" >&2
    diff "$tmp/tracked" "$tmp/in-tarball" | head -n 20 >&2
    exit 1
fi
tar -xzf "$tarball" -C "$tmp"
cd "$tmp/$name"
if ! DSS_NO_APT=1 OPENBLAS_NUM_THREADS=1 $make --no-print-directory check > "$tmp/check.log" 2>&1; then
    tail -n 40 "$tmp/check.log" >&2
    echo "check-dist: make check failed in the unpacked $tarball" >&2
    exit 1
fi
grep -E '^check: |^check-[a-z-]*: .*skipped' "$tmp/check.log" | sed 's/^/check-dist:   /'
echo "check-dist: $tarball ($(wc -l < "$tmp/tracked") files) builds and passes make check in" \
     "an empty directory ($(( $(date +%s) - t0 )) s)"
