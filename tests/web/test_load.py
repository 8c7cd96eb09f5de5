"""Load: 50 simulated users on two server processes sharing one database.

Each user (a thread with its own session) does 10 rounds of 3 slider moves (preview
requests) and 1 accept, at random instants spread over 40 s, sending each request to either
process at random. Afterwards every user's session is replayed in this process from its
own start (seed and latent) and its own accepts: the final latent must be bit-identical, and
every preview image must be the one its slider position gives at that point of the replay. No
request may fail and the whole run is bounded (60 s). The 95th-percentile slider-move latency
(measured by the client, wall time per request) is printed; the target is 50 ms on 2 cores.
"""

import os
import random
import shutil
import tempfile
import threading
import time

import numpy as np

import harness
from harness import Client, Server

USERS = int(os.environ.get("WEB_LOAD_USERS", 50))
ROUNDS, MOVES = 10, 3            # 30 moves and 10 accepts per user
SPAN = float(os.environ.get("WEB_LOAD_SPAN", 40))  # seconds over which a user's actions fall
BOUND = float(os.environ.get("WEB_LOAD_BOUND", 60))  # seconds the whole load may take
BATCH_MS = os.environ.get("WEB_LOAD_BATCH_MS", "0")  # the servers' --batch-ms
# tests/web/capacity.py measures (and only measures) with the replays off: 0
REPLAY = os.environ.get("WEB_LOAD_REPLAY", "1") != "0"


def user(i, ports, start_barrier, record, errors):
    """One user. Its 40 actions are scheduled at random instants over SPAN seconds (an open
    loop: a slow answer does not slow the next request down, so latency is not hidden), each
    to either process."""
    rng = random.Random(1000 + i)
    clients = {p: Client(p) for p in ports}  # a keep-alive connection to each process
    c = clients[rng.choice(ports)]
    log = {"moves": [], "accepts": [], "move_ms": [], "move_server_ms": [], "accept_ms": []}
    plan = sorted(rng.uniform(0, SPAN) for _ in range(ROUNDS * (MOVES + 1)))
    try:
        status, state = c.start()
        assert status == 201, (status, state)
        log["seed"], log["z0"], version = state["seed"], state["z"], state["version"]
        for other in clients.values():
            other.sid = c.sid
        start_barrier.wait(timeout=60)
        t_start = time.monotonic()
        for k, at in enumerate(plan):
            time.sleep(max(0.0, t_start + at - time.monotonic()))
            c = clients[rng.choice(ports)]
            t = round(rng.random(), 3)
            if k % (MOVES + 1) < MOVES:  # a slider move
                t0 = time.perf_counter()
                status, headers, png = c.request("GET", f"/api/preview?t={t}")
                log["move_ms"].append(1e3 * (time.perf_counter() - t0))
                if status != 200 or int(headers["x-version"]) != version:
                    raise AssertionError(f"user {i}: preview {status} {png[:200]!r}")
                log["move_server_ms"].append(float(headers["server-timing"].split("=")[1]))
                log["moves"].append((len(log["accepts"]), t, png))
            else:  # release and accept
                t0 = time.perf_counter()
                status, state = c.json("POST", "/api/accept", {"t": t, "version": version})
                log["accept_ms"].append(1e3 * (time.perf_counter() - t0))
                if status != 200 or state["version"] != version + 1:
                    raise AssertionError(f"user {i}: accept {status} {str(state)[:200]}")
                version = state["version"]
                log["accepts"].append(t)
        log["final"] = state
        record[i] = log
    except BaseException as e:  # noqa: B902  (reported by the main thread)
        errors.append((i, repr(e)))
    finally:
        for other in clients.values():
            other.close()


def replay(studio_mod, st, log):
    """The user's session run again here: (final centre, preview PNGs in order)."""
    dss = studio_mod.dss
    s = dss.Search(st.model, seed=log["seed"], **studio_mod.SEARCH_PARAMS)
    s.start(np.array(log["z0"]))
    pngs = []
    moves = iter(log["moves"])
    move = next(moves, None)
    for k in range(len(log["accepts"]) + 1):
        while move is not None and move[0] == k:
            pngs.append(st.png(st.decode(s.point(move[1]))[0]))
            move = next(moves, None)
        if k < len(log["accepts"]):
            s.commit(log["accepts"][k])
    return s.center(), pngs


def test_fifty_users():
    tmp = tempfile.mkdtemp(prefix="dss-web-load-")
    db = os.path.join(tmp, "sessions.sqlite3")
    # all users come from one address here: no per-address limits
    limits = "sessions_per_client=100000,client_rate=0"
    args = ["--batch-ms", BATCH_MS]
    servers = [Server(db, name="load-a", limits=limits, args=args),
               Server(db, name="load-b", limits=limits, args=args)]
    try:
        ports = [s.port for s in servers]
        record, errors = {}, []
        barrier = threading.Barrier(USERS)
        threads = [threading.Thread(target=user, args=(i, ports, barrier, record, errors),
                                    daemon=True) for i in range(USERS)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(0.1, BOUND - (time.monotonic() - t0)))
        elapsed = time.monotonic() - t0
        stuck = sum(t.is_alive() for t in threads)
        assert stuck == 0, f"{stuck} users still running after {BOUND:.0f} s"
        assert not errors, errors[:5]
        assert len(record) == USERS
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)  # ~40 MB of sessions and undo steps

    moves = np.concatenate([log["move_ms"] for log in record.values()])
    accepts = np.concatenate([log["accept_ms"] for log in record.values()])
    p50, p95, p99 = np.percentile(moves, [50, 95, 99])
    s50, s95 = np.percentile(np.concatenate([log["move_server_ms"]
                                             for log in record.values()]), [50, 95])
    a50, a95 = np.percentile(accepts, [50, 95])
    print(f"\nload: {USERS} users x ({ROUNDS * MOVES} moves + {ROUNDS} accepts) on 2 processes "
          f"({os.cpu_count()} cores) in {elapsed:.1f} s; slider move latency p50 {p50:.1f} ms, "
          f"p95 {p95:.1f} ms, p99 {p99:.1f} ms (target p95 < 50 ms); accept p50 {a50:.1f} ms, "
          f"p95 {a95:.1f} ms; time inside the server per move (no queueing) p50 {s50:.1f} ms, "
          f"p95 {s95:.1f} ms; machine load average {os.getloadavg()[0]:.1f}")
    print(f"LOAD users={USERS} batch_ms={BATCH_MS} move_p50={p50:.1f} move_p95={p95:.1f} "
          f"accept_p95={a95:.1f} elapsed={elapsed:.1f} load={os.getloadavg()[0]:.1f}")
    if not REPLAY:
        return

    # isolation: each user's end is a replay of its own actions, bit for bit, and so are
    # all the images it was shown on the way
    studio_mod, st = harness.studio()
    for i, log in sorted(record.items()):
        final, pngs = replay(studio_mod, st, log)
        assert log["final"]["z"] == final.tolist(), f"user {i}: final latent differs"
        assert log["final"]["accepted"] == ROUNDS
        assert [m[2] for m in log["moves"]] == pngs, f"user {i}: a preview differs"
    seeds = {log["seed"] for log in record.values()}
    assert len(seeds) == USERS  # distinct sessions (a mix-up could not hide behind equal seeds)
