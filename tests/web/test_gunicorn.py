"""The production setup: gunicorn (threaded workers, examples/web/gunicorn.conf.py and
wsgi.py) on PostgreSQL (a throwaway cluster, tests/web/pg.py). Two gunicorn instances on two
ports share one database, like two machines behind a proxy; one is killed with SIGKILL in the
middle of a burst of accepts, and every acknowledged step must still be there, and every
session must replay equal."""

import json
import http.client
import random
import socket
import threading
import time

import numpy as np
import pytest

import harness
from harness import Client, Gunicorn

USERS = 8
ACCEPTS = 10    # landed accepts per user
KILL_AFTER = 25  # acknowledged accepts (of all users) before the SIGKILL


@pytest.fixture(scope="module")
def pair(postgres):
    postgres.reset()
    limits = "sessions_per_client=1000,write_rate=0,client_rate=0"
    a = Gunicorn(postgres.url, name="gunicorn-a", workers=2, threads=4, limits=limits,
                 read_timeout=2)
    b = Gunicorn(postgres.url, name="gunicorn-b", workers=1, threads=4, limits=limits)
    box = {"a": a, "b": b, "pg": postgres}
    yield box
    for g in (box["a"], box["b"]):
        g.stop()


def test_wsgi_entry_point_serves_the_api(pair):
    a, b = pair["a"], pair["b"]
    c = Client(a.port)
    status, headers, page = c.request("GET", "/")
    assert status == 200 and b'id="slider"' in page
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    status, s1 = c.start()
    assert status == 201 and s1["version"] == 1
    c.port = b.port  # the other instance, the same database
    c.close()
    c.conn = None
    status, s2 = c.json("POST", "/api/accept", {"t": 0.8, "version": 1})
    assert status == 200 and s2["version"] == 2
    c.port = a.port
    c.close()
    c.conn = None
    status, headers, png = c.request("GET", "/api/preview?t=0.5&v=2")
    assert status == 200 and png[:4] == b"\x89PNG" and headers["x-version"] == "2"
    status, data = c.json("POST", "/api/accept", {"t": 0.3, "version": 1})
    assert status == 409 and data["code"] == "conflict" and data["state"]["z"] == s2["z"]
    status, _, payload = c.request("POST", "/api/reset", raw='{"version": 2}',
                                   headers={"Content-Type": "text/plain"})
    assert status == 415 and json.loads(payload)["code"] == "bad_content_type"


def test_gunicorn_refusals_are_json(pair):
    a = pair["a"]
    for n, status in ((3000, 414), (6000, 414)):  # the application's bound; gunicorn's
        c = Client(a.port)
        got, headers, payload = c.request("GET", "/api/preview?t=0.5&pad=" + "a" * n)
        assert got == status and headers["content-type"] == "application/json", headers
        assert json.loads(payload)["code"] == "url_too_long"
        assert headers["x-content-type-options"] == "nosniff"
        c.close()
    s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
    s.sendall(b"GARBAGE\x01 / HTTP/1.1\r\n\r\n")
    answer = s.recv(4096)
    s.close()
    assert answer.startswith(b"HTTP/1.1 400") and b'"code": "bad_request"' in answer


def test_idle_connections_hold_no_thread(pair):
    """Finding 6: gunicorn's workers were blocked by a few idle connections (one thread per
    accepted connection). 150 connections that send nothing, on an instance with 2 x 4
    threads: normal requests are still answered at once. Then 8 connections that send half a
    request: each holds a thread for the read timeout (2 s here) and is closed; the idle ones
    are closed after keepalive (5 s)."""
    a = pair["a"]
    idle = [socket.create_connection(("127.0.0.1", a.port), timeout=10) for _ in range(150)]
    time.sleep(0.5)
    times = []
    for _ in range(5):
        c = Client(a.port)
        t0 = time.monotonic()
        status, _, _ = c.request("GET", "/")
        times.append(time.monotonic() - t0)
        assert status == 200
        c.close()
    assert max(times) < 5, times  # stock gthread: over 20 s
    half = []
    for _ in range(8):
        s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
        s.sendall(b"GET /api/state HTTP/1.1\r\nHost: x\r\n")
        half.append(s)
    time.sleep(6.5)
    closed = 0
    for s in idle + half:
        try:
            closed += s.recv(100) == b""
        except OSError:
            closed += 1
        s.close()
    assert closed == len(idle) + len(half)


def replay(studio_mod, st, seed, z0, ts):
    dss = studio_mod.dss
    s = dss.Search(st.model, seed=seed, **studio_mod.SEARCH_PARAMS)
    s.start(np.array(z0))
    centers = []
    for t in ts:
        s.commit(t)
        centers.append(s.center().tolist())
    return s.center().tolist(), centers


def test_sigkill_mid_burst_loses_no_acknowledged_step(pair):
    """8 users accept as fast as they can, each request to either instance; after 25
    acknowledged accepts, instance A (master and workers) gets SIGKILL. Users then go to B. An
    accept whose answer was lost is looked up on B (it landed or it did not: one transaction).
    At the end, on B and on A restarted: every acknowledged version is there, each session is
    at 1 + its landed accepts, and replaying its accepts from its start gives its centre and
    history bit for bit."""
    a, b, pg = pair["a"], pair["b"], pair["pg"]
    acks = []
    lock = threading.Lock()
    killed = threading.Event()
    errors = []
    logs = {}
    inflight = {"a": 0, "b": 0}

    def user(i):
        rng = random.Random(77 + i)
        ports = {"a": a.port, "b": b.port}
        cl = {k: Client(p) for k, p in ports.items()}
        try:
            status, state = cl["b"].start()
            assert status == 201
            for c in cl.values():
                c.sid = cl["b"].sid
            log = logs[i] = {"seed": state["seed"], "z0": state["z"], "landed": [],
                             "acked": [], "lost": 0, "found": 0, "sid": cl["b"].sid}
            version = 1
            while len(log["landed"]) < ACCEPTS:
                name = "b" if killed.is_set() else rng.choice("ab")
                t = round(rng.uniform(0.05, 0.95), 3)
                try:
                    inflight[name] += 1
                    try:
                        status, data = cl[name].json("POST", "/api/accept",
                                                     {"t": t, "version": version})
                    finally:
                        inflight[name] -= 1
                except (OSError, ValueError, http.client.HTTPException):
                    # the answer was lost (killed mid-request, or mid-body: IncompleteRead)
                    log["lost"] += 1
                    status, data = cl["b"].json("GET", "/api/state")
                    assert status == 200, data
                    if data["version"] == version + 1:
                        log["landed"].append(t)  # it landed before the kill
                        log["found"] += 1
                    else:
                        assert data["version"] == version, (version, data["version"])
                    version = data["version"]
                    continue
                assert status == 200, (status, data)
                assert data["version"] == version + 1
                version = data["version"]
                log["landed"].append(t)
                log["acked"].append(version)
                with lock:
                    acks.append((i, version))
        except BaseException as e:  # noqa: B902
            errors.append((i, repr(e)))
        finally:
            for c in cl.values():
                c.close()

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(USERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    # kill when enough steps were acknowledged and requests are in flight on A
    while (len(acks) < KILL_AFTER or inflight["a"] < 2) and time.monotonic() < deadline \
            and not errors and any(t.is_alive() for t in threads):
        time.sleep(0.001)
    busy = inflight["a"]
    a.kill()  # SIGKILL to the master and the workers, mid-burst
    killed.set()
    at_kill = len(acks)
    for t in threads:
        t.join(timeout=max(1, deadline - time.monotonic()))
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    assert at_kill >= KILL_AFTER and busy >= 2 and len(acks) > at_kill  # and after the kill

    restarted = Gunicorn(pg.url, port=a.port, name="gunicorn-a-restarted", workers=1,
                         threads=4, limits="sessions_per_client=1000")
    pair["a"] = restarted
    studio_mod, st = harness.studio()
    lost = found = 0
    for i, log in sorted(logs.items()):
        want_z, want_hist = replay(studio_mod, st, log["seed"], log["z0"], log["landed"])
        for port in (b.port, restarted.port):
            c = Client(port, sid=log["sid"])
            status, final = c.json("GET", "/api/state")
            c.close()
            assert status == 200
            assert final["version"] == 1 + len(log["landed"]) == 1 + ACCEPTS
            assert set(log["acked"]) <= set(range(2, final["version"] + 1))
            assert final["accepted"] == ACCEPTS
            assert final["z"] == want_z, f"user {i}: the centre is not the replay's"
            assert final["undo"] == min(20, ACCEPTS)
        lost += log["lost"]
        found += log["found"]
    # the history strip's latents (metadata) are the replay's centres too
    rows = pg.sql("SELECT id, meta FROM sessions")
    metas = {sid: json.loads(m) for sid, m in rows}
    for log in logs.values():
        assert metas[log["sid"]]["history"] == replay(studio_mod, st, log["seed"], log["z0"],
                                                      log["landed"])[1]
    orphans = pg.sql("SELECT COUNT(*) FROM undo WHERE session NOT IN (SELECT id FROM sessions)")
    assert orphans[0][0] == 0
    print(f"\nkill: {at_kill} accepts acknowledged before the SIGKILL ({busy} requests in "
          f"flight there), {len(acks)} in all, "
          f"{lost} answers lost with the instance ({found} of those accepts had landed, as B "
          "showed)")
