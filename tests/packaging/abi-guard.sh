#!/bin/sh
# The exact ABI guard catches what a text-reading guard let through: each case edits a scratch
# copy of the tree, rebuilds its libdss.so and expects scripts/abi-symbols.sh to fail with the
# right message; the untouched copy must pass. (make check-abi-guard, part of make check)
set -u
make=${MAKE:-make}
B=${B:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s)
fails=0

fresh() {  # a scratch tree with this build's objects and library, their times kept
    rm -rf "$tmp/tree"; mkdir -p "$tmp/tree/b"
    cp -pR Makefile mk include lib scripts abi dss.pc.in "$tmp/tree/"
    cp -pR "$B/lib" "$B"/libdss.so* "$tmp/tree/b/"
}
edit_header() {  # edit_header SED-SCRIPT: edit dss.h, keeping its time (no full rebuild)
    sed -i -e "$1" "$tmp/tree/include/dss/dss.h"
    touch -r include/dss/dss.h "$tmp/tree/include/dss/dss.h"
}
guard() {  # relink the scratch tree's shared library if needed, run the guard on it
    (cd "$tmp/tree" && $make --no-print-directory -s B=b lib \
        >/dev/null && so=$(ls -t b/libdss.so.*.*.* | head -n 1) && sh scripts/abi-symbols.sh check "$so") \
        > "$tmp/out" 2>&1
}
expect() {  # expect NAME "message fragment"
    if guard; then
        echo "abi-guard: $1: the guard passed" >&2; fails=$((fails + 1))
    elif ! grep -q -- "$2" "$tmp/out"; then
        echo "abi-guard: $1: failed without saying '$2':" >&2; cat "$tmp/out" >&2
        fails=$((fails + 1))
    else
        echo "abi-guard: $1: caught ($(grep -m1 -- "$2" "$tmp/out" | sed 's/^abi: //'))"
    fi
}
add_function() {  # add_function NODE: a new exported function dss_probe_added in NODE
    cat > "$tmp/tree/lib/probe.c" <<'C'
#include "dss/dss.h"
int dss_probe_added(void) { return 1; }
C
    edit_header 's|^DSS_API unsigned dss_version_number(void);|&\nDSS_API int dss_probe_added(void);|'
    awk -v node="$1" 'n && /global:/ { print; print "    dss_probe_added;"; n = 0; next }
                      n { print "  global:"; print "    dss_probe_added;"; n = 0 }
                      { print }
                      $1 == node && $2 == "{" { n = 1 }' \
        "$tmp/tree/lib/libdss.map" > "$tmp/map" && mv "$tmp/map" "$tmp/tree/lib/libdss.map"
}

# this release's node (additions go there) and the one before
major=$(sed -n 's/^#define DSS_VERSION_MAJOR \([0-9]*\).*/\1/p' include/dss/dss.h)
minor=$(sed -n 's/^#define DSS_VERSION_MINOR \([0-9]*\).*/\1/p' include/dss/dss.h)
node="DSS_$major.$minor"

fresh
if guard; then echo "abi-guard: the untouched tree passes"
else echo "abi-guard: the untouched tree fails:" >&2; cat "$tmp/out" >&2; exit 1; fi

fresh
edit_header 's/DSS_SAMPLER_TOP      = 2 /DSS_SAMPLER_TOP      = 2 + 1 /'
grep -q 'DSS_SAMPLER_TOP *= 2 + 1' "$tmp/tree/include/dss/dss.h" || { echo "abi-guard: edit failed" >&2; exit 1; }
expect "DSS_SAMPLER_TOP = 2 + 1" "constant DSS_SAMPLER_TOP changed from 2 to 3"

fresh
edit_header '/^DSS_API int dss_search_undo(dss_search \*search);/d'
expect "prototype of dss_search_undo deleted, symbol still exported" \
    "dss_search_undo is exported but dss.h declares no DSS_API prototype"

fresh
add_function DSS_1.0
expect "new function in node DSS_1.0" "new function dss_probe_added is in node DSS_1.0"

fresh
add_function "$node"
expect "new function in $node, baseline not updated" "is not in abi/symbols.txt: run 'make abi-symbols'"

fresh
add_function "$node"
edit_header "s/^#define DSS_VERSION_MINOR .*/#define DSS_VERSION_MINOR $((minor - 1))/"
expect "node $node without the MINOR bump" "bump DSS_VERSION_MINOR"

fresh
add_function "$node"
(cd "$tmp/tree" && $make --no-print-directory -s B=b abi-symbols >/dev/null 2>&1)
if guard && grep -q "^dss_probe_added $node\$" "$tmp/tree/abi/symbols.txt"; then
    echo "abi-guard: new function in $node after make abi-symbols: passes"
else
    echo "abi-guard: an addition done right ($node + make abi-symbols) still fails:" >&2
    cat "$tmp/out" >&2; fails=$((fails + 1))
fi

fresh
sed -i 's/^    dss_search_undo;$/    dss_search_*;/' "$tmp/tree/lib/libdss.map"
expect "wildcard in the version script" "must list every name explicitly"

fresh
sed -i '/^    dss_line_evaluations;$/d' "$tmp/tree/lib/libdss.map"
expect "function dropped from the version script" "dss_line_evaluations is declared DSS_API in dss.h but"

[ $fails -eq 0 ] || { echo "abi-guard: $fails cases not caught" >&2; exit 1; }
echo "check-abi-guard: every case caught ($(( $(date +%s) - t0 )) s)"
