#!/bin/sh
# Headless Blender tests of the add-on (make check-blender):
#   run.sh ADDON_ZIP PYTHON_DIR OUT_DIR
# Each step is a new Blender process with a private user directory (the add-on is installed
# there, never into ~/.config/blender). Prints each step's wall time.
#   MODAL_RUNS=N   run the modal test (Blender with a window under Xvfb) N times (default 1),
#                  each a new Blender process; prints the count of failed runs and of crashes
#                  (no verdict written: Blender died or hung) and fails if there is any
#   MODAL_ONLY=1   run only the modal test
set -eu
zip=$1 pydir=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
BLENDER=${BLENDER:-blender}
rm -rf "$out"
mkdir -p "$out/user/scripts" "$out/user/config"
export BLENDER_USER_SCRIPTS="$out/user/scripts" BLENDER_USER_CONFIG="$out/user/config"
export PYTHONDONTWRITEBYTECODE=1 OPENBLAS_NUM_THREADS=1
t_all=$(date +%s)

step() {
    name=$1
    shift
    t0=$(date +%s)
    log="$out/$name.log"
    if ! "$@" >"$log" 2>&1 || grep -q '^Traceback' "$log"; then
        cat "$log"
        echo "check-blender: $name FAILED (log: $log)"
        exit 1
    fi
    grep -E '^  ok:|^result:' "$log" || true
    echo "check-blender: $name passed ($(( $(date +%s) - t0 )) s)"
}

run() {
    script=$1
    shift
    "$BLENDER" -b --factory-startup --python-exit-code 1 --python "$here/$script" -- \
        --zip "$zip" --python-dir "$pydir" --out "$out" "$@"
}

if [ -z "${MODAL_ONLY:-}" ]; then
    step session run test_session.py
    step resume run test_resume.py
    step derivatives run test_derivatives.py
    step gn-precision run test_gn_precision.py
    step edits run test_edits.py
    step undo run test_undo.py
    step safety run test_safety.py
    step artist run test_artist.py
    step rig run test_rig.py
    step missing env DSS_LIBRARY=/nonexistent/libdss.so.1 sh -c \
        "\"$BLENDER\" -b --factory-startup --python-exit-code 1 --python \"$here/test_missing.py\" -- --zip \"$zip\" --python-dir \"$pydir\" --out \"$out\""
fi
# the modal operator needs a window: Blender under Xvfb, Esc sent as a window event
if command -v xvfb-run >/dev/null 2>&1; then
    runs=${MODAL_RUNS:-1} i=0 failed=0 crashed=0 t0=$(date +%s)
    while [ "$i" -lt "$runs" ]; do
        i=$((i + 1))
        log="$out/modal-$i.log" result="$out/modal.result"
        rm -f "$result"
        rc=0
        timeout 300 xvfb-run -a -s "-screen 0 1280x800x24" "$BLENDER" --factory-startup \
            --enable-event-simulate --python "$here/test_modal.py" -- \
            --zip "$zip" --python-dir "$pydir" --out "$out" >"$log" 2>&1 || rc=$?
        if [ ! -s "$result" ] || [ "$rc" != 0 ]; then
            crashed=$((crashed + 1))
            echo "check-blender: modal run $i CRASHED (exit status $rc, log: $log)"
            tail -n 20 "$log"
        elif [ "$(tail -n 1 "$result")" != PASS ] || grep -q '^Traceback' "$log"; then
            failed=$((failed + 1))
            cp "$result" "$out/modal-$i.result"
            cat "$result"
            grep -A 12 '^Traceback' "$log" || true
            echo "check-blender: modal run $i FAILED (log: $log)"
        else
            if [ "$i" = 1 ]; then cat "$result"; fi
            rm -f "$log"
        fi
    done
    echo "check-blender: modal: $runs runs, $failed failed, $crashed crashed" \
        "($(( $(date +%s) - t0 )) s)"
    [ "$failed" = 0 ] && [ "$crashed" = 0 ] || { echo "check-blender: modal FAILED"; exit 1; }
else
    echo "check-blender: modal skipped: xvfb-run not installed (apt-get install xvfb)"
fi
echo "check-blender: passed ($(( $(date +%s) - t_all )) s)"
