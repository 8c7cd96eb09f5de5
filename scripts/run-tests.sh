#!/bin/sh
# Run each cmocka test program (optionally under $VALGRIND) and print one closing line.
passed=0; failed=0; bad=""
for t in "$@"; do
    out=$($VALGRIND "$t" 2>&1); rc=$?
    printf '%s\n' "$out"
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    if [ $rc -ne 0 ]; then
        bad="$bad $(basename "$t")"
        [ -z "$f" ] && failed=$((failed + 1))
    fi
done
echo "check: $passed passed, $failed failed"
[ -z "$bad" ] || { echo "failing programs:$bad" >&2; exit 1; }
