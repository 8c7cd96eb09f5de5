#!/bin/sh
# The exact ABI guard (docs/abi.md), run by `make check` (no abigail needed):
#   scripts/abi-symbols.sh check LIB    compare LIB (build/libdss.so.X.Y.Z) with the header, the
#                                       version script and the baselines abi/symbols.txt and
#                                       abi/constants.txt
#   scripts/abi-symbols.sh update LIB   rewrite both baselines after an addition (make
#                                       abi-symbols); refuses removals, moves and changed values
# What must hold:
#   - the functions declared with DSS_API in dss.h are exactly the functions LIB exports;
#   - lib/libdss.map names every exported function explicitly (no wildcard in a global: list);
#   - every function of abi/symbols.txt is still exported, in the same version node;
#   - a function not in abi/symbols.txt (an addition) is in node DSS_<MAJOR>.<MINOR> of the
#     header's version, and that version is newer than abi/symbols.txt's: additions need a
#     MINOR bump and a node of their own; a node newer than the header's version fails;
#   - every constant of abi/constants.txt keeps its value, as a compiled program prints it;
#   - the baselines list every function and constant (additions: run make abi-symbols).
set -u
mode=${1:-}
lib=${2:-}
symbols=abi/symbols.txt
constants=abi/constants.txt
if [ -z "$lib" ] || [ ! -f "$lib" ] || { [ "$mode" != check ] && [ "$mode" != update ]; }; then
    echo "usage: $0 check|update path/to/libdss.so.X.Y.Z" >&2
    exit 2
fi
lists="sh scripts/abi-lists.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
major=$(sed -n 's/^#define DSS_VERSION_MAJOR \([0-9]*\).*/\1/p' include/dss/dss.h)
minor=$(sed -n 's/^#define DSS_VERSION_MINOR \([0-9]*\).*/\1/p' include/dss/dss.h)
patch=$(sed -n 's/^#define DSS_VERSION_PATCH \([0-9]*\).*/\1/p' include/dss/dss.h)
node="DSS_$major.$minor"
fail=0
err() { echo "abi: $*" >&2; fail=1; }

$lists functions > "$tmp/header" || exit 1
$lists exports "$lib" > "$tmp/exports" || exit 1
$lists map > "$tmp/map" || { echo "abi: lib/libdss.map must list every name explicitly" >&2; exit 1; }
$lists constants > "$tmp/constants" || exit 1
cut -d' ' -f1 "$tmp/exports" > "$tmp/exported"
cut -d' ' -f1 "$tmp/map" > "$tmp/mapped"

# 1. header <-> exports <-> version script
for f in $(comm -23 "$tmp/header" "$tmp/exported"); do
    err "$f is declared DSS_API in dss.h but $lib does not export it" \
        "(list it in lib/libdss.map, node $node)"
done
for f in $(comm -13 "$tmp/header" "$tmp/exported"); do
    err "$f is exported but dss.h declares no DSS_API prototype for it (deleted or misspelt?)"
done
for f in $(comm -23 "$tmp/mapped" "$tmp/exported"); do
    err "$f is listed in lib/libdss.map but the library does not define it"
done
sed -n 's/^\(DSS_[0-9]*\.[0-9]*\) *{.*/\1/p' lib/libdss.map > "$tmp/nodes"
for n in $(cat "$tmp/nodes"); do
    v=${n#DSS_}
    if [ "${v%%.*}" != "$major" ] || [ "${v#*.}" -gt "$minor" ]; then
        err "lib/libdss.map has node $n, newer than the header's version $major.$minor.$patch" \
            "(bump DSS_VERSION_MINOR in include/dss/dss.h)"
    fi
done

# 2. exports <-> baseline
[ -f "$symbols" ] && [ -f "$constants" ] || { echo "abi: no $symbols or $constants" >&2; exit 1; }
base_version=$(sed -n 's/^# libdss \([0-9.]*\).*/\1/p' "$symbols")
base_minor=$(echo "$base_version" | cut -d. -f2)
grep -v '^#' "$symbols" | LC_ALL=C sort > "$tmp/base"
while read -r f n; do
    now=$(awk -v f="$f" '$1 == f { print $2 }' "$tmp/exports")
    if [ -z "$now" ]; then err "$f ($n) is no longer exported: an ABI break"
    elif [ "$now" != "$n" ]; then err "$f moved from node $n to $now: an ABI break"; fi
done < "$tmp/base"
added=""
while read -r f n; do
    grep -q "^$f " "$tmp/base" && continue
    added="$added $f"
    if [ "$n" != "$node" ]; then
        err "new function $f is in node $n: additions of $major.$minor go in node $node" \
            "(lib/libdss.map: $node { global: $f; } DSS_$major.$((minor - 1));)"
    elif [ -n "$base_minor" ] && [ "$minor" -le "$base_minor" ]; then
        err "new function $f, but the version ($major.$minor.$patch) is not newer than the" \
            "baseline's ($base_version): bump DSS_VERSION_MINOR and add node DSS_$major.$((minor + 1))"
    elif [ "$mode" = check ]; then
        err "new function $f ($n) is not in $symbols: run 'make abi-symbols' and commit" \
            "$symbols with it"
    fi
done < "$tmp/exports"

# 3. constants, compiled
while read -r name value; do
    now=$(awk -v n="$name" '$1 == n { print $2 }' "$tmp/constants")
    if [ -z "$now" ]; then err "constant $name ($value) was removed"
    elif [ "$now" != "$value" ]; then err "constant $name changed from $value to $now"; fi
done < "$constants"
for c in $(awk 'NR == FNR { seen[$1] = 1; next } !($1 in seen) { print $1 }' \
        "$constants" "$tmp/constants"); do
    [ "$mode" = check ] && err "new constant $c is not in $constants: run 'make abi-symbols'" \
        "and commit $constants with it"
done

if [ $fail -ne 0 ]; then
    echo "abi: FAILED ($lib against dss.h, lib/libdss.map, $symbols, $constants;" \
         "see docs/abi.md)" >&2
    exit 1
fi
if [ "$mode" = update ]; then
    released=${RELEASED:-${base_version:-$major.$minor.$patch}}
    { echo "# libdss $released (the last release; make abi-symbols RELEASED=X.Y.Z after a release): exported functions and their version nodes"
      cat "$tmp/exports"; } > "$symbols"
    cp "$tmp/constants" "$constants"
    echo "abi: wrote $symbols ($(wc -l < "$tmp/exports") functions; added:${added:- none})" \
         "and $constants ($(wc -l < "$tmp/constants") constants)"
    exit 0
fi
echo "check-abi-symbols: dss.h, lib/libdss.map and $lib agree on $(wc -l < "$tmp/exports")" \
     "functions in nodes $(cut -d' ' -f2 "$tmp/exports" | sort -u | tr '\n' ' ')and match" \
     "$symbols; $(wc -l < "$tmp/constants") constants match $constants (compiled values)"
