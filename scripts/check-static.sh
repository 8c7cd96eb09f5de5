#!/bin/sh
# Static archive hygiene: build/libdss.a defines no global symbol but dss_*, and a host that
# defines functions named like libdss's internals links against it and runs.
#   usage: scripts/check-static.sh path/to/libdss.a "link libraries"
set -eu
archive=$1
libs=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -g --defined-only "$archive" | awk 'NF == 3 { print $3 }' > "$tmp/globals"
n=$(wc -l < "$tmp/globals")
others=$(grep -v '^dss_' "$tmp/globals" || true)
if [ -n "$others" ]; then
    echo "check-static: $archive defines global symbols other than dss_*:" >&2
    printf '%s\n' "$others" | sed 's/^/    /' | head -n 20 >&2
    echo "    ($(printf '%s\n' "$others" | wc -l) in all)" >&2
    exit 1
fi
[ "$n" -gt 0 ] || { echo "check-static: $archive defines no dss_* symbol" >&2; exit 1; }
# shellcheck disable=SC2086  # $libs is a list of linker arguments
${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Iinclude tests/packaging/static_clash.c "$archive" \
    -o "$tmp/static_clash" $libs
"$tmp/static_clash"
echo "check-static: $archive exports only its $n dss_* functions; a host's own mem_alloc," \
     "rng_next, ... link beside it"
