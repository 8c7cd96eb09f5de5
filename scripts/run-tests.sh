#!/bin/sh
# Run each cmocka test program (optionally under $VALGRIND, or through $RUNNER: an emulator
# such as `qemu-s390x -L /` for a cross build) and print one closing line.
# The tests' matrices are tiny: OpenBLAS's worker threads only add hand-off latency (and
# noise on a busy machine), so one thread unless the caller says otherwise.
: "${OPENBLAS_NUM_THREADS:=1}"
export OPENBLAS_NUM_THREADS
passed=0; failed=0; bad=""
for t in "$@"; do
    out=$($RUNNER $VALGRIND "$t" 2>&1); rc=$?
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
