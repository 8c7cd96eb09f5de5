#!/usr/bin/env python3
"""Capacity of the studio on this machine: the load test (tests/web/test_load.py: each user 30
slider moves and 10 accepts at random instants over 40 s, two server processes on one SQLite
file) at increasing numbers of users, without and with the decoder micro-batcher. Prints, per
run, the slider-move p50/p95 and accept p95 measured by the clients, and per mode the most
users served with move p95 under 50 ms. A benchmark run by hand (minutes of both cores), not
part of make check:

    make lib && PYTHONPATH=python /usr/bin/python3 tests/web/capacity.py 200 300 400
    (options: --batch-ms 2, --repeat 1)

Replays are off in these runs (WEB_LOAD_REPLAY=0: they measure, make check-web checks), and
the bound on the run's length is 150 s instead of 60 s, so that an overloaded run still
reports its latencies.
"""

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(users, batch_ms):
    env = dict(os.environ, WEB_LOAD_USERS=str(users), WEB_LOAD_BATCH_MS=str(batch_ms),
               WEB_LOAD_REPLAY="0", WEB_LOAD_BOUND="150", OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                        os.path.join(HERE, "test_load.py")], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    m = re.search(r"^LOAD (.*)$", r.stdout, re.M)
    if not m:
        tail = "\n".join(r.stdout.splitlines()[-5:])
        return {"users": users, "batch_ms": batch_ms, "failed": tail}
    out = dict(kv.split("=") for kv in m.group(1).split())
    out["failed"] = None if r.returncode == 0 else "the run failed (see the log)"
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("users", type=int, nargs="+")
    p.add_argument("--batch-ms", type=float, default=2.0)
    p.add_argument("--repeat", type=int, default=1)
    args = p.parse_args()
    best = {}
    for users in args.users:
        for batch in (0.0, args.batch_ms):
            for _ in range(args.repeat):
                r = run(users, batch)
                if r["failed"] and "move_p95" not in r:
                    print(f"users {users:4d} batch {batch:g} ms: FAILED {r['failed']}",
                          flush=True)
                    continue
                ok = float(r["move_p95"]) < 50 and not r["failed"]
                print(f"users {users:4d} batch {batch:g} ms: move p50 {r['move_p50']} ms, "
                      f"p95 {r['move_p95']} ms, accept p95 {r['accept_p95']} ms, run "
                      f"{r['elapsed']} s, load average {r['load']}"
                      f"{'' if not r['failed'] else ' (' + r['failed'] + ')'}", flush=True)
                if ok:
                    best[batch] = max(best.get(batch, 0), users)
    for batch in (0.0, args.batch_ms):
        print(f"batch {batch:g} ms: most users served at move p95 < 50 ms: "
              f"{best.get(batch, 'none of those tried')}")


if __name__ == "__main__":
    main()
