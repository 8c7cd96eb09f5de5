#!/bin/sh
# make check-dask: bench/paper's shards on a local Dask cluster of 4 worker processes
# (loopback only) must merge into the same tables, CSV and mean curves, byte for byte, as one
# process running the same protocol. Skips, saying why, without python3-distributed.
set -eu
PYTHON=${PYTHON:-/usr/bin/python3}
BENCH=${BENCH:-build/bench/paper}
OUT=${OUT:-build/bench/check-dask}
PROTOCOL="--dims 8 --cases 4 --iters 12"
if ! "$PYTHON" -c 'import dask.distributed' >/dev/null 2>&1; then
    echo "check-dask: skipped: python3-distributed not installed (apt-get install python3-distributed)"
    exit 0
fi
rm -rf "$OUT"
mkdir -p "$OUT"
export OPENBLAS_NUM_THREADS=1
start=$(date +%s)
# shellcheck disable=SC2086
"$BENCH" --no-compare --no-plot $PROTOCOL --md "$OUT/single.md" --csv "$OUT/single.csv" \
    --mean "$OUT/single.dat" --tables "$OUT/single.tables" > "$OUT/single.log"
# shellcheck disable=SC2086
timeout 300 "$PYTHON" bench/paper_dask.py --local 4 --shards 4 --bench "$BENCH" \
    --outdir "$OUT/shards" --timeout 240 \
    --merge-args "--no-plot --md $OUT/merged.md --csv $OUT/merged.csv --mean $OUT/merged.dat --tables $OUT/merged.tables" \
    -- $PROTOCOL > "$OUT/dask.log" 2>&1 || { cat "$OUT/dask.log"; echo "check-dask: the Dask run failed" >&2; exit 1; }
grep -q "4 workers, 4 shards" "$OUT/dask.log" || { cat "$OUT/dask.log"; echo "check-dask: not 4 workers" >&2; exit 1; }
procs=$(sed -n 's/^paper_dask: shards ran in \([0-9]*\) worker processes/\1/p' "$OUT/dask.log")
[ "${procs:-0}" -ge 2 ] || { cat "$OUT/dask.log"; echo "check-dask: the shards did not spread over worker processes" >&2; exit 1; }
for f in tables csv dat; do
    cmp "$OUT/single.$f" "$OUT/merged.$f" || { echo "check-dask: merged .$f differs from the single-process run" >&2; exit 1; }
done
# and a merge refuses a missing shard and a shard given twice
s="$OUT/shards/shard"
if "$BENCH" --merge "$s-1-of-4.txt" "$s-2-of-4.txt" "$s-3-of-4.txt" --no-plot --md "$OUT/x.md" \
        --csv "$OUT/x.csv" --mean "$OUT/x.dat" > /dev/null 2>&1 \
   || "$BENCH" --merge "$s-1-of-4.txt" "$s-1-of-4.txt" "$s-2-of-4.txt" "$s-3-of-4.txt" \
        "$s-4-of-4.txt" --no-plot --md "$OUT/x.md" --csv "$OUT/x.csv" --mean "$OUT/x.dat" \
        > /dev/null 2>&1; then
    echo "check-dask: a merge with a shard missing or repeated succeeded" >&2; exit 1
fi
echo "check-dask: 4 shards on 4 local Dask workers ($procs processes used) merged into tables, CSV and curves identical to one process ($(( $(date +%s) - start )) s)"
