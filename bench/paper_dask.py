#!/usr/bin/env python3
"""Run bench/paper's shards on a Dask distributed cluster and merge them.

Each shard is one task: a worker runs ``paper --shard i/N --out FILE`` (the bench binary, which
must exist at the same path on every worker) in a temporary directory and returns the file's
text, so the workers need no shared file system. The client writes the texts next to each
other and runs ``paper --merge`` on them, which prints and writes the same tables as a
single-process run with the same arguments (the runs are deterministic: problem seeds 1..K,
session seeds, one BLAS thread per worker).

    # a local cluster of 4 worker processes (loopback only)
    /usr/bin/python3 bench/paper_dask.py --local 4 --shards 8 -- --cases 10 --dims 8,32,128,512

    # an existing cluster (see docs/benchmarks.md)
    /usr/bin/python3 bench/paper_dask.py --scheduler tcp://host:8786 --shards 40 -- --cases 10

Arguments after ``--`` go to every shard and to the merge (protocol options such as --cases,
--iters, --samples, --refine, --dims); --merge-args are given to the merge alone (--md, --csv,
--png, --tables, --no-plot ...).
"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BENCH = os.path.join(HERE, os.pardir, "build", "bench", "paper")


def run_shard(bench, index, count, protocol):
    """One task on a worker: the shard's file as text, and where it ran."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    with tempfile.TemporaryDirectory(prefix="dss-paper-shard-") as tmp:
        out = os.path.join(tmp, f"shard-{index}.txt")
        cmd = [bench, "--shard", f"{index}/{count}", "--out", out] + protocol
        t0 = time.time()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{shlex.join(cmd)} failed ({proc.returncode}): {proc.stderr}")
        with open(out, encoding="ascii") as f:
            text = f.read()
    return {"index": index, "text": text, "pid": os.getpid(), "host": os.uname().nodename,
            "seconds": time.time() - t0}


def parse_args(argv):
    if "--" in argv:
        cut = argv.index("--")
        argv, protocol = argv[:cut], argv[cut + 1:]
    else:
        protocol = []
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--local", type=int, metavar="WORKERS",
                       help="start a LocalCluster of this many worker processes on 127.0.0.1")
    where.add_argument("--scheduler", metavar="ADDRESS", help="an existing scheduler")
    ap.add_argument("--shards", type=int, default=None,
                    help="number of shards (default: 2 per worker)")
    ap.add_argument("--bench", default=DEFAULT_BENCH,
                    help="the bench/paper binary, at this path on every worker")
    ap.add_argument("--outdir", default=os.path.join(HERE, os.pardir, "build", "bench", "dask"),
                    help="where the shard files are written before the merge")
    ap.add_argument("--merge-args", default="", help="extra arguments for the merge, quoted")
    ap.add_argument("--timeout", type=float, default=None, help="seconds before giving up")
    args = ap.parse_args(argv)
    args.protocol = protocol
    return args


def main(argv):
    args = parse_args(argv)
    try:
        from dask.distributed import Client, LocalCluster, wait
    except ImportError:
        print("paper_dask: python3-distributed is not installed "
              "(apt-get install python3-distributed)", file=sys.stderr)
        return 2
    bench = os.path.abspath(args.bench)
    if not os.access(bench, os.X_OK):
        print(f"paper_dask: {bench} is not an executable (make benches)", file=sys.stderr)
        return 2
    cluster = None
    if args.local is not None:
        if args.local < 1:
            print("paper_dask: --local needs at least 1 worker", file=sys.stderr)
            return 2
        cluster = LocalCluster(n_workers=args.local, processes=True, threads_per_worker=1,
                               host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(args.scheduler)
    try:
        workers = client.scheduler_info()["workers"]
        count = args.shards or 2 * max(1, len(workers))
        print(f"paper_dask: {len(workers)} workers, {count} shards, protocol: "
              f"{shlex.join(args.protocol) or '(defaults)'}", flush=True)
        futures = [client.submit(run_shard, bench, i, count, args.protocol, pure=False,
                                 key=f"paper-shard-{i}-of-{count}") for i in range(1, count + 1)]
        wait(futures, timeout=args.timeout)
        results = client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    os.makedirs(args.outdir, exist_ok=True)
    files = []
    for r in sorted(results, key=lambda r: r["index"]):
        path = os.path.join(args.outdir, f"shard-{r['index']}-of-{count}.txt")
        with open(path, "w", encoding="ascii") as f:
            f.write(r["text"])
        files.append(path)
        print(f"  shard {r['index']}/{count}: {r['seconds']:.1f} s on {r['host']} "
              f"pid {r['pid']}", flush=True)
    places = {(r["host"], r["pid"]) for r in results}
    print(f"paper_dask: shards ran in {len(places)} worker processes", flush=True)
    cmd = [bench, "--merge"] + files + merge_protocol(args.protocol) + shlex.split(args.merge_args)
    proc = subprocess.run(cmd)
    return proc.returncode


def merge_protocol(protocol):
    """The merge reads the protocol from the shard files: pass on only the report options."""
    keep, skip_value = [], {"--cases", "--iters", "--samples", "--refine", "--dims"}
    it = iter(protocol)
    for arg in it:
        if arg in skip_value:
            next(it, None)
        elif arg in ("--full", "--no-compare"):
            continue
        else:
            keep.append(arg)
    return keep


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
