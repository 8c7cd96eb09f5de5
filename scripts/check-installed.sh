#!/bin/sh
# Install into a temporary prefix, then build and run every example against that copy through
# `pkg-config --cflags --libs dss`: this proves the headers, the .pc file and the shared library.
set -e
make=${MAKE:-make}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$make --no-print-directory -s install PREFIX="$tmp/prefix" >/dev/null
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs dss)
for src in examples/*.c; do
    name=$(basename "$src" .c)
    ${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Werror $src -o "$tmp/$name" $flags -lm
    # the example must resolve libdss from the installed prefix, not from the build tree
    if ! LD_LIBRARY_PATH="$tmp/prefix/lib" ldd "$tmp/$name" | grep -q "$tmp/prefix/lib/libdss.so.1"; then
        echo "check-installed: $name does not link the installed libdss.so.1" >&2; exit 1
    fi
    LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/$name" --smoke >/dev/null
done
$make --no-print-directory -s uninstall PREFIX="$tmp/prefix" >/dev/null
left=$(find "$tmp/prefix" -type f | wc -l)
[ "$left" -eq 0 ] || { echo "check-installed: uninstall left $left files" >&2; exit 1; }
echo "check-installed: examples built and ran against an installed copy via pkg-config dss"
