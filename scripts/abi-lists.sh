#!/bin/sh
# The lists the ABI guard compares (docs/abi.md), each sorted, one entry a line:
#   scripts/abi-lists.sh functions      functions declared with DSS_API in include/dss/dss.h,
#                                       read from the preprocessed header (comments, #if 0 and
#                                       macros resolved by the compiler, not by a grep)
#   scripts/abi-lists.sh exports LIB    "name node" of every symbol LIB exports (nm -D)
#   scripts/abi-lists.sh map            "name node" of every name lib/libdss.map lists; fails
#                                       when a global: section uses a wildcard
#   scripts/abi-lists.sh constants      "NAME value" of every DSS_* enumerator and numeric
#                                       macro of dss.h but the version, the values printed by
#                                       a compiled program (so `2 + 1` reads as 3)
set -eu
CC=${CC:-cc}
header=include/dss/dss.h
map=lib/libdss.map
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

functions() {
    # DSS_API expands to the visibility attribute: keep the declarations that carry it
    $CC -std=c11 -E -P -Iinclude "$header" | tr '\n' ' ' | tr ';' '\n' \
        | grep 'visibility *( *"default" *)' \
        | sed -e 's/__attribute__ *(( *visibility *( *"default" *) *))//' \
              -e 's/^[^(]*[ *]\([A-Za-z_][A-Za-z0-9_]*\) *(.*/\1/' \
        | LC_ALL=C sort -u
}

exports() {
    nm -D --defined-only "$1" | awk '$2 != "A" && $3 ~ /@/ {
        split($3, p, "@+"); print p[1], p[2] }' | LC_ALL=C sort -u
}

map_names() {
    # strip comments, then walk the nodes: NODE { global: a; b; local: *; } PARENT;
    tr '\n' ' ' < "$map" | awk '
    { text = text $0 }
    END {
        while ((i = index(text, "/*")) > 0) {
            rest = substr(text, i + 2); j = index(rest, "*/")
            text = substr(text, 1, i - 1) " " (j > 0 ? substr(rest, j + 2) : "")
        }
        gsub(/;/, " ; ", text); gsub(/\{/, " { ", text); gsub(/\}/, " } ", text)
        n = split(text, w, /[ \t]+/); node = ""; sect = ""; depth = 0; bad = 0
        for (i = 1; i <= n; i++) {
            t = w[i]
            if (t == "") continue
            if (t == "{") { depth = 1; sect = "global:"; continue }
            if (t == "}") { depth = 0; continue }
            if (depth == 0) { if (t == ";") node = ""; else if (node == "") node = t; continue }
            if (t == "global:" || t == "local:") { sect = t; continue }
            if (t == ";" || sect != "global:") continue
            if (t ~ /[*?\[]/) { print "wildcard " t " in node " node > "/dev/stderr"; bad = 1 }
            print t, node
        }
        exit bad
    }' > "$tmp/map" || return 1
    LC_ALL=C sort -u "$tmp/map"
}

constants() {
    # names: every enumerator of the header's enums and every object-like DSS_* macro with a
    # value (the include guard, DSS_API and the version excepted); values: from the compiler
    $CC -std=c11 -E -P -dD -fpreprocessed "$header" > "$tmp/h.i" 2>/dev/null \
        || cpp -P -dD -fpreprocessed "$header" > "$tmp/h.i"
    {
        tr '\n' ' ' < "$tmp/h.i" | grep -o 'enum[^{};]*{[^}]*}' \
            | sed -e 's/^[^{]*{//' -e 's/}$//' | tr ',' '\n' \
            | sed -n 's/^[[:space:]]*\(DSS_[A-Z0-9_]*\).*/\1/p'
        sed -n 's/^#define \(DSS_[A-Z0-9_]*\)[[:space:]][[:space:]]*[^[:space:]].*/\1/p' "$tmp/h.i" \
            | grep -v -e '^DSS_VERSION_' -e '^DSS_API$'
    } | LC_ALL=C sort -u > "$tmp/names"
    {
        echo '#include <stdio.h>'
        echo '#include <dss/dss.h>'
        echo 'int main(void) {'
        while read -r name; do
            printf '    printf("%%s %%.17g\\n", "%s", (double)(%s));\n' "$name" "$name"
        done < "$tmp/names"
        echo '    return 0;'
        echo '}'
    } > "$tmp/constants.c"
    $CC -std=c11 -Iinclude "$tmp/constants.c" -o "$tmp/constants"
    "$tmp/constants" | LC_ALL=C sort
}

case ${1:-} in
functions) functions ;;
exports)   exports "${2:?usage: $0 exports LIB}" ;;
map)       map_names ;;
constants) constants ;;
*) echo "usage: $0 functions | exports LIB | map | constants" >&2; exit 2 ;;
esac
