#!/bin/sh
# Static archive hygiene: build/libdss.a defines no global symbol but the public dss_* and the
# internals' reserved dssi_*, and a host that defines functions named like libdss's internals
# without the prefix (mem_alloc, rng_next, ...) links against it and runs.
#   usage: scripts/check-static.sh path/to/libdss.a "link libraries"
set -eu
archive=$1
libs=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -g --defined-only "$archive" | awk 'NF == 3 { print $3 }' > "$tmp/globals"
n=$(wc -l < "$tmp/globals")
others=$(grep -v -e '^dss_' -e '^dssi_' "$tmp/globals" || true)
if [ -n "$others" ]; then
    echo "check-static: $archive defines global symbols other than dss_* and dssi_*:" >&2
    printf '%s\n' "$others" | sed 's/^/    /' | head -n 20 >&2
    echo "    ($(printf '%s\n' "$others" | wc -l) in all)" >&2
    exit 1
fi
npub=$(grep -c '^dss_' "$tmp/globals" || true)
[ "$npub" -gt 0 ] || { echo "check-static: $archive defines no dss_* symbol" >&2; exit 1; }
# shellcheck disable=SC2086  # $libs is a list of linker arguments
${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Iinclude tests/packaging/static_clash.c "$archive" \
    -o "$tmp/static_clash" $libs
"$tmp/static_clash"
echo "check-static: $archive defines $npub dss_* functions and $((n - npub)) reserved dssi_*" \
     "internals; a host's own mem_alloc, rng_next, ... link beside it"
