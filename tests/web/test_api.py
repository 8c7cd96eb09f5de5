"""The studio's HTTP API: bad input gets a 4xx and a message, sessions are isolated, and two
server processes on one database never lose an update."""

import json
import os
import shutil
import sqlite3
import tempfile
import threading

import pytest

from harness import Client, Server

# this module starts many sessions from one address, and hammers one session on purpose
LIMITS = "sessions_per_client=1000,write_rate=0"


@pytest.fixture(scope="module")
def servers():
    tmp = tempfile.mkdtemp(prefix="dss-web-api-")
    db = os.path.join(tmp, "sessions.sqlite3")
    a = Server(db, name="api-a", limits=LIMITS)
    b = Server(db, name="api-b", limits=LIMITS)
    yield a, b, db
    a.stop()
    b.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def fresh(server):
    c = Client(server.port)
    status, state = c.start()
    assert status == 201 and state["version"] == 1 and c.sid
    return c, state


def assert_error(status, data, expected_status, code):
    assert status == expected_status, (status, data)
    assert data["code"] == code, data
    assert isinstance(data["error"], str) and len(data["error"]) > 10, data


def test_page_is_served(servers):
    c = Client(servers[0].port)
    status, headers, body = c.request("GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b'id="slider"' in body and b"requestAnimationFrame" in body


def test_malformed_json(servers):
    c, state = fresh(servers[0])
    for raw in ("{bad", "", "[1, 2]", "null", '"t"'):
        status, data = c.json("POST", "/api/accept", raw=raw)
        assert_error(status, data, 400, "bad_json")
    status, data = c.json("POST", "/api/accept", {"t": 0.5})
    assert_error(status, data, 400, "bad_version")
    for v in ("1", 2 ** 80, -3, 1.0, True):
        status, data = c.json("POST", "/api/accept", {"t": 0.5, "version": v})
        assert_error(status, data, 400, "bad_version")
    # nothing was written
    assert c.json("GET", "/api/state")[1]["version"] == 1


@pytest.mark.parametrize("t", ["-0.01", "1.5", "nan", "inf", "abc", ""])
def test_out_of_range_t_preview(servers, t):
    c, _ = fresh(servers[0])
    status, data = c.json("GET", "/api/preview?t=" + t)
    assert_error(status, data, 400, "bad_t")


@pytest.mark.parametrize("t", [-1, 1.0000001, True, None, "x", [0.5], 1e308 * 10])
def test_out_of_range_t_accept(servers, t):
    c, state = fresh(servers[0])
    raw = json.dumps({"t": t, "version": state["version"]}, allow_nan=True)
    status, data = c.json("POST", "/api/accept", raw=raw)
    assert_error(status, data, 400, "bad_t")
    assert c.json("GET", "/api/state")[1]["version"] == 1


def test_unknown_and_malformed_session_ids(servers):
    for path, body in (("/api/state", None), ("/api/preview?t=0.5", None),
                       ("/api/accept", {"t": 0.5, "version": 1}),
                       ("/api/undo", {"version": 1}), ("/api/download/latent.json", None)):
        method = "GET" if body is None else "POST"
        status, data = Client(servers[0].port, sid="x" * 24).json(method, path, body)
        assert_error(status, data, 404, "unknown_session")
        status, data = Client(servers[0].port, sid="bad id;").json(method, path, body)
        assert_error(status, data, 400, "bad_session_id")
    for path in ("/api/preview?t=0.5", "/api/state"):
        status, data = Client(servers[0].port).json("GET", path)
        assert_error(status, data, 400, "no_session")


def corrupt(db, sid, column, value):
    with sqlite3.connect(db, timeout=30) as con:
        con.execute(f"UPDATE sessions SET {column} = ? WHERE id = ?", (value, sid))


@pytest.mark.parametrize("column, damage, code", [
    ("state", lambda b: b[:100] + bytes([b[100] ^ 0x40]) + b[101:], "unreadable_session"),
    ("state", lambda b: b[: len(b) // 2], "unreadable_session"),
    ("state", lambda b: "not bytes at all", "unreadable_session"),
    ("meta", lambda m: m[:-5], "unreadable_session"),
    ("meta", lambda m: json.dumps({"seed": 1, "history": [[0.0] * 3], "accepted": 1}),
     "unreadable_session"),
    ("meta", lambda m: json.dumps({"seed": 1, "history": [["x"] * 64], "accepted": 1}),
     "unreadable_session"),
    ("meta", lambda m: json.dumps([1, 2]), "unreadable_session"),
    ("model", lambda m: "someone-elses-model", "foreign_session"),
])
def test_corrupted_row_gets_a_message_and_a_fresh_start(servers, column, damage, code):
    a, b, db = servers
    c, state = fresh(a)
    with sqlite3.connect(db, timeout=30) as con:
        old = con.execute(f"SELECT {column} FROM sessions WHERE id = ?", (c.sid,)).fetchone()[0]
    corrupt(db, c.sid, column, damage(old))
    for server in (a, b):  # every process says the same
        c.port = server.port
        c.close()
        c.conn = None
        # a preview needs only the saved bytes: it still works when just the metadata is bad
        preview = [] if column == "meta" else [("GET", "/api/preview?t=0.3", None)]
        for method, path, body in [("GET", "/api/state", None)] + preview + [
                                   ("POST", "/api/accept", {"t": 0.3, "version": 1}),
                                   ("POST", "/api/another", {"version": 1}),
                                   ("POST", "/api/undo", {"version": 1})]:
            status, data = c.json(method, path, body)
            assert_error(status, data, 422, code)
    # the fresh start the page then asks for
    old_sid = c.sid
    status, state = c.start()
    assert status == 201 and c.sid != old_sid and state["version"] == 1
    assert c.json("GET", "/api/state")[0] == 200


def test_conflict_never_overwrites(servers):
    a, b, _ = servers
    c, state = fresh(a)
    status, s2 = c.json("POST", "/api/accept", {"t": 0.8, "version": 1})
    assert status == 200 and s2["version"] == 2 and s2["accepted"] == 1
    c.port = b.port
    c.close()
    c.conn = None
    status, data = c.json("POST", "/api/accept", {"t": 0.1, "version": 1})  # a stale tab
    assert_error(status, data, 409, "conflict")
    assert data["state"]["version"] == 2 and data["state"]["z"] == s2["z"]
    status, data = c.json("POST", "/api/undo", {"version": 2})
    assert status == 200 and data["version"] == 3 and data["z"] == state["z"]
    status, data = c.json("POST", "/api/undo", {"version": 3})
    assert_error(status, data, 409, "nothing_to_undo")


def test_two_processes_never_lose_an_update(servers):
    """8 threads, half on each process, hammer one session: each accept either lands (and is
    counted exactly once) or is refused with 409; nothing is lost or applied twice."""
    a, b, _ = servers
    owner, _ = fresh(a)
    landed = []
    errors = []

    def worker(i):
        c = Client((a, b)[i % 2].port, sid=owner.sid)
        try:
            for _ in range(6):
                status, data = c.json("GET", "/api/state")
                v = data["version"]
                status, _, raw = c.request("POST", "/api/accept",
                                           {"t": 0.25 + 0.05 * i, "version": v})
                data = json.loads(raw) if raw[:1] == b"{" else raw
                if status == 200:
                    landed.append((v, data["version"], i))
                elif status != 409:
                    errors.append((status, data))
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    status, final = owner.json("GET", "/api/state")
    # every landed accept moved the version by exactly one, from distinct versions
    assert sorted(new for _, new, _ in landed) == list(range(2, 2 + len(landed)))
    assert all(new == old + 1 for old, new, _ in landed)
    assert final["version"] == 1 + len(landed) and final["accepted"] == len(landed)
    assert final["undo"] == min(20, len(landed))  # the undo bound
    print(f"\nconcurrency: {len(landed)} of 48 accepts landed, the others got 409")


def test_downloads(servers):
    c, state = fresh(servers[0])
    status, headers, body = c.request("GET", "/api/download/image.png?t=0.5")
    assert status == 200 and body[:8] == b"\x89PNG\r\n\x1a\n"
    assert "attachment" in headers["content-disposition"]
    status, data = c.json("GET", "/api/download/latent.json?t=0.5")
    assert status == 200 and data["z"] == state["z"] and data["t"] == 0.5
    status, data = c.json("GET", "/api/download/latent.json?t=7")
    assert_error(status, data, 400, "bad_t")
    status, data = c.json("GET", "/api/download/other")
    assert_error(status, data, 404, "not_found")


def test_reset_starts_elsewhere_and_undo_brings_it_back(servers):
    c, state = fresh(servers[0])
    status, s2 = c.json("POST", "/api/accept", {"t": 0.9, "version": 1})
    assert status == 200 and s2["accepted"] == 1
    status, s3 = c.json("POST", "/api/reset", {"version": 2})
    assert status == 200 and s3["version"] == 3
    assert s3["accepted"] == 0 and s3["history"] == [] and s3["seed"] != s2["seed"]
    assert s3["z"] != s2["z"] and s3["undo"] == 2
    status, s4 = c.json("POST", "/api/undo", {"version": 3})
    assert status == 200 and s4["z"] == s2["z"] and s4["accepted"] == 1
    assert s4["history"] == s2["history"]
    status, s5 = c.json("POST", "/api/another", {"version": 4})
    assert status == 200 and s5["z"] == s4["z"] and s5["ends"] != s4["ends"]
