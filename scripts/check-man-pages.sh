#!/bin/sh
# make install's man pages: dss(3) and exactly one page per DSS_API function of the header,
# each a real page (no .so link) that names its function and shows its prototype, groff-clean
# (-ww), and nothing else (no dss.h.3, DSS_API.3, DSS_VERSION_*.3). When make docs has run
# ($B/docs exists), this also shows that it does not change what is installed.
set -eu
make=${MAKE:-make}
B=${B:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-man-pages: $*" >&2; exit 1; }
$make --no-print-directory -s install PREFIX="$tmp/prefix" >/dev/null
man3="$tmp/prefix/share/man/man3"
sh scripts/abi-lists.sh functions | sed 's/$/.3/' > "$tmp/want"
echo dss.3 >> "$tmp/want"
LC_ALL=C sort -o "$tmp/want" "$tmp/want"
(cd "$man3" && ls) | LC_ALL=C sort > "$tmp/got"
if ! cmp -s "$tmp/want" "$tmp/got"; then
    echo "check-man-pages: installed man3 pages differ from dss.3 + one per function:" >&2
    diff "$tmp/want" "$tmp/got" | sed -n 's/^> /    extra: /p; s/^< /    missing: /p' >&2
    exit 1
fi
for page in "$man3"/dss_*.3; do
    f=$(basename "$page" .3)
    grep -q '^\.so ' "$page" && fail "$f.3 is a .so link"
    grep -q "^$f \\\\- " "$page" || fail "$f.3 has no NAME line for $f"
    grep -q "^\.B \".*$f(" "$page" || fail "$f.3 does not show the prototype of $f"
    out=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || true
    [ -z "$out" ] || fail "$f.3: groff: $out"
done
docs=""
[ -d "$B/docs/html" ] && docs=" (make docs had run: $B/docs exists)"
echo "check-man-pages: make install installed dss(3) and one page for each of the" \
     "$(($(wc -l < "$tmp/want") - 1)) functions, nothing else$docs"
