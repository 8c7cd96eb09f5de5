#!/bin/sh
# The ABI guard (docs/abi.md). Usage:
#   scripts/abi-check.sh check LIB   compare LIB (a libdss.so built with -g) with the baselines
#   scripts/abi-check.sh dump LIB    write the baselines from LIB
# Baselines: abi/libdss.abi (abidw: exported functions, their types, the public structs) and
# abi/constants.txt (every DSS_* enum constant of include/dss/dss.h with its value, and the
# numeric #defines other than the version, as a compiled program prints them).
#
# check fails on: an abidiff error; an incompatible change (abidiff's bit 8: a function or
# variable removed); any other ABI change except added functions and variables (abidiff's bit 4
# remaining with --no-added-syms: a parameter, return or struct layout change, which abidiff
# alone does not call incompatible); a SONAME other than the baseline's; a constant removed or
# given another value. Added functions, variables and constants pass and are listed.
set -u
mode=${1:-}
lib=${2:-}
abi=abi/libdss.abi
constants=abi/constants.txt
headers=include/dss

if [ -z "$lib" ] || [ ! -f "$lib" ] || { [ "$mode" != check ] && [ "$mode" != dump ]; }; then
    echo "usage: $0 check|dump path/to/libdss.so.X.Y.Z" >&2
    exit 2
fi
for tool in abidw abidiff readelf; do
    command -v $tool >/dev/null 2>&1 || {
        echo "abi: $tool is missing (Debian: apt-get install abigail-tools binutils)" >&2; exit 1; }
done

# DSS_* enum constants and numeric #defines (not the version), values printed by a compiled
# program (scripts/abi-lists.sh), not read as text
list_constants() {
    sh scripts/abi-lists.sh constants
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "$mode" = dump ]; then
    mkdir -p abi
    abidw --headers-dir "$headers" --drop-private-types --no-corpus-path --no-comp-dir-path \
        --short-locs --type-id-style hash --out-file "$abi" "$lib" || exit 1
    list_constants > "$constants"
    echo "abi: wrote $abi ($(grep -c '<elf-symbol ' "$abi") symbols) and $constants" \
        "($(wc -l < "$constants") constants) from $lib"
    exit 0
fi

[ -f "$abi" ] && [ -f "$constants" ] || { echo "abi: no baseline; run make abi-dump" >&2; exit 1; }
fail=0

# 1. abidiff
abidiff --headers-dir1 "$headers" --headers-dir2 "$headers" "$abi" "$lib" > "$tmp/report"
rc=$?
if [ $((rc & 3)) -ne 0 ]; then
    cat "$tmp/report"; echo "abi: abidiff failed (status $rc)" >&2; exit 1
fi
if [ $((rc & 8)) -ne 0 ]; then
    cat "$tmp/report"; echo "abi: INCOMPATIBLE change (functions or variables removed)" >&2; fail=1
elif [ $((rc & 4)) -ne 0 ]; then
    abidiff --no-added-syms --headers-dir1 "$headers" --headers-dir2 "$headers" "$abi" "$lib" \
        > "$tmp/changed"
    rc2=$?
    if [ $((rc2 & 12)) -ne 0 ] || [ $((rc2 & 3)) -ne 0 ]; then
        cat "$tmp/changed"
        echo "abi: ABI change beyond additions (types, parameters or layouts changed)" >&2; fail=1
    else
        cat "$tmp/report"; echo "abi: additions only (compatible; bump DSS_VERSION_MINOR)"
    fi
fi

# 2. SONAME
want=$(sed -n "s/.*soname='\([^']*\)'.*/\1/p" "$abi" | head -n 1)
got=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
if [ "$want" != "$got" ]; then
    echo "abi: SONAME is '$got', the baseline's is '$want'" >&2; fail=1
fi

# 3. constants: every baseline constant keeps its value; new ones are listed
list_constants > "$tmp/constants"
while read -r name value; do
    now=$(awk -v n="$name" '$1 == n { print $2 }' "$tmp/constants")
    if [ -z "$now" ]; then
        echo "abi: constant $name ($value) was removed" >&2; fail=1
    elif [ "$now" != "$value" ]; then
        echo "abi: constant $name changed from $value to $now" >&2; fail=1
    fi
done < "$constants"
added=$(awk 'NR == FNR { seen[$1] = 1; next } !($1 in seen) { print "  " $0 }' \
    "$constants" "$tmp/constants")
[ -n "$added" ] && printf 'abi: constants added:\n%s\n' "$added"

if [ $fail -ne 0 ]; then
    echo "abi-check: FAILED against $abi and $constants (see docs/abi.md)" >&2
    exit 1
fi
echo "abi-check: $lib is compatible with $abi ($(grep -c '<elf-symbol ' "$abi") symbols," \
    "SONAME $got) and $constants ($(wc -l < "$constants") constants)"
