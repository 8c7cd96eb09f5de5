#!/bin/sh
# A scripted session of the slider program (examples/slider), driven with --keys, checking what
# it saves: the images (PGM header, size, content) and the final latent vector.
#
# The checks are properties that hold whatever the platform's libm rounds, rather than stored
# checksums:
#   - moving the slider changes the image; committing keeps it (the centre moves to where the
#     slider was); undoing brings the start image back, byte for byte;
#   - commit then undo leaves the centre exactly at the start; commits move it;
#   - the image of the written centre, drawn by --render (the generator alone, not through
#     libdss), is the image the session saved there;
#   - the same keys give the same files (the session is seeded).
# usage: tests/slider/scripted.sh path/to/slider
set -u
prog=${1:?usage: scripted.sh path/to/slider}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0; checks=0
ok()   { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "check-slider: FAIL: $*" >&2; }
same() { if cmp -s "$1" "$2"; then ok; else fail "$3"; fi; }
differ() { if cmp -s "$1" "$2"; then fail "$3"; else ok; fi; }
run() { # run NAME ARGS...: the program with its output in $tmp/NAME.log; fails on a non-zero exit
    name=$1; shift
    if "$prog" "$@" >"$tmp/$name.log" 2>&1; then ok; else
        fail "$name: exit status $? (output below)"; cat "$tmp/$name.log" >&2; fi
}
has() { # has NAME TEXT: the run's output has a line containing TEXT
    if grep -qF -- "$2" "$tmp/$1.log"; then ok; else fail "$1: no line with '$2'"; fi
}
pgm_ok() { # a binary PGM of 36 x 36 grey pixels with some contrast
    f=$1
    if [ "$(head -n 3 "$f" | tr '\n' ' ')" = "P5 36 36 255 " ]; then ok; else
        fail "$f: header is not 'P5 36 36 255'"; fi
    if [ "$(wc -c < "$f")" -eq $((13 + 36 * 36)) ]; then ok; else fail "$f: wrong size"; fi
    # the picture has a shape on a background: many grey levels, dark and light ones
    stats=$(tail -c $((36 * 36)) "$f" | od -An -v -tu1 | tr -s ' ' '\n' | grep . |
            awk '{ seen[$1] = 1; if ($1 < 90) d++; if ($1 > 150) l++ }
                 END { n = 0; for (v in seen) n++; print n, d + 0, l + 0 }')
    set -- $stats
    if [ "$1" -ge 40 ] && [ "$2" -ge 20 ] && [ "$3" -ge 20 ]; then ok; else
        fail "$f: flat image ($1 grey levels, $2 dark and $3 light pixels)"; fi
}

# 1. The start: quit at once. The centre is the start point.
run start --keys 'q' --latent "$tmp/start.lat"
if [ "$(grep -c . "$tmp/start.lat")" -eq 32 ] && awk '$1 + 0 != $1 { exit 1 }' "$tmp/start.lat"
then ok; else fail "start.lat is not 32 numbers"; fi

# 2. The main session. Saved images:
#    001 at the start, 002 after three steps right, 003 after committing there,
#    004 after undoing the commit, 005 after more commits (slider in the middle: f(centre)).
keys='s \R\R\R s \n s u s  \R\R\R\R\R \n  \L \n  n  \E \n  s q'
run main --keys "$keys" --out "$tmp/main" --latent "$tmp/main.lat"
for i in 1 2 3 4 5; do pgm_ok "$tmp/main/slider-00$i.pgm"; done
differ "$tmp/main/slider-001.pgm" "$tmp/main/slider-002.pgm" "moving the slider did not change the image"
same "$tmp/main/slider-002.pgm" "$tmp/main/slider-003.pgm" "committing changed the image (the centre should be where the slider was)"
same "$tmp/main/slider-001.pgm" "$tmp/main/slider-004.pgm" "undo did not bring the start image back"
differ "$tmp/start.lat" "$tmp/main.lat" "three commits left the centre at the start"
has main "committed t = 0.575: iteration 1, Jacobian recomputed (33 images)"
has main "undone: back to iteration 0"
has main "committed t = 0.625: iteration 1"
has main "committed t = 0.475: iteration 2, near the middle: same SVD, new direction"
has main "another direction"
has main "committed t = 1.000: iteration 3"
has main "slider: quit at iteration 3"

# the image of the written centre, drawn without libdss, is the last image saved
run render --render "$tmp/main.lat" "$tmp/render.pgm"
same "$tmp/render.pgm" "$tmp/main/slider-005.pgm" "--render of the final centre differs from the saved image"

# 3. Commit and undo: the centre is exactly the start (the latent files are printed with %.17g)
run undo --keys '\R\R\R \n u q' --latent "$tmp/undo.lat"
same "$tmp/start.lat" "$tmp/undo.lat" "commit + undo did not restore the start point"
has undo "undone: back to iteration 0, direction v$(sed -n 's/^start: direction v\([0-9]*\).*/\1/p' "$tmp/start.log")"

# a resample undone brings the first direction back; a commit in the middle keeps the SVD
run resample --keys 'n u \n q' --latent "$tmp/resample.lat"
has resample "undone: direction v$(sed -n 's/^start: direction v\([0-9]*\).*/\1/p' "$tmp/start.log") is back"
has resample "near the middle: same SVD, new direction"
same "$tmp/start.lat" "$tmp/resample.lat" "a commit at t = 0.5 moved the centre"

# 4. Same keys, same files: the session is deterministic
run again --keys "$keys" --out "$tmp/again" --latent "$tmp/again.lat"
same "$tmp/main.lat" "$tmp/again.lat" "a second run ended at another centre"
for i in 1 2 3 4 5; do
    same "$tmp/main/slider-00$i.pgm" "$tmp/again/slider-00$i.pgm" "a second run saved another image $i"
done

# 5. --start: a session started from a written centre continues from there
run restart --start "$tmp/main.lat" --keys 's q' --out "$tmp/restart" --latent "$tmp/restart.lat"
same "$tmp/main.lat" "$tmp/restart.lat" "--start did not start at the given centre"
same "$tmp/main/slider-005.pgm" "$tmp/restart/slider-001.pgm" "--start shows another image"

# 6. Mistakes are reported: nothing to undo; a bad escape; no terminal and no script
run nothing --keys 'u q'
has nothing "nothing to undo"
if "$prog" --keys '\Q' >/dev/null 2>"$tmp/bad.err"; then fail "a bad escape was accepted"
elif grep -qF 'unknown escape \Q' "$tmp/bad.err"; then ok; else fail "no message for a bad escape"; fi
if "$prog" </dev/null >/dev/null 2>"$tmp/notty.err"; then fail "ran without a terminal"
elif grep -qF 'needs a terminal' "$tmp/notty.err"; then ok; else fail "no message without a terminal"; fi

if [ "$fails" -eq 0 ]; then
    echo "check-slider: scripted session: $checks checks passed"
else
    echo "check-slider: scripted session: $fails of $checks checks failed" >&2
    exit 1
fi
