#!/bin/sh
# Regenerate tests/golden/paper_v1.h from libdss 1.0's code (the commit before the radius
# policy), independently of the library under test: export that commit, build it, run
# tests/golden/scripted.c against it. Run from the repository root.
set -eu
BASE=151d868
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git archive "$BASE" | tar -x -C "$tmp"
make -C "$tmp" -s lib >/dev/null
cc -std=c11 -O2 -I"$tmp/include" tests/golden/scripted.c "$tmp/build/libdss.a" \
    $(pkg-config --libs lapack blas) -lm -o "$tmp/scripted"
# any machine and BLAS will do: test_radius compares decisions exactly and centres within a
# derived tolerance, never the bits
OPENBLAS_NUM_THREADS=1 "$tmp/scripted" > tests/golden/paper_v1.h
echo "tests/golden/paper_v1.h written from libdss at $BASE"
