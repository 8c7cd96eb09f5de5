"""The studio on the open web (issue 18): hostile requests get a JSON 4xx and change nothing.

Cross-site and same-site-but-cross-origin writes (text/plain no-cors fetch, <form> posts,
foreign Origin or Sec-Fetch-Site), bodies over the limit refused before they are read,
anonymous GETs that create nothing, caps on sessions per client, rate limits, idle expiry by
the janitor, a bounded undo stack, security headers, malformed input that used to give 500 or
HTML, and werkzeug's thread bound and read timeout."""

import base64
import hashlib
import json
import os
import re
import shutil
import socket
import sqlite3
import tempfile
import threading
import time

import pytest

from harness import Client, Server


@pytest.fixture(scope="module")
def srv():
    tmp = tempfile.mkdtemp(prefix="dss-web-sec-")
    db = os.path.join(tmp, "sessions.sqlite3")
    s = Server(db, name="sec", limits="sessions_per_client=1000",
               args=["--read-timeout", "2", "--max-threads", "16"])
    s.db = db
    yield s
    s.stop()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def caps():
    """Small limits, to reach them quickly."""
    tmp = tempfile.mkdtemp(prefix="dss-web-caps-")
    db = os.path.join(tmp, "sessions.sqlite3")
    s = Server(db, name="caps", limits="sessions_per_client=4,client_rate=20,client_burst=40,"
               "write_rate=1,write_burst=3,idle_expiry=3,janitor_interval=0.3,undo_limit=3")
    s.db = db
    yield s
    s.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def rows(db, table="sessions"):
    with sqlite3.connect(db, timeout=30) as con:
        return con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def started(server):
    c = Client(server.port)
    status, state = c.start()
    assert status == 201, state
    return c, state


def assert_error(status, payload, expected, code):
    data = json.loads(payload) if isinstance(payload, (bytes, str)) else payload
    assert status == expected, (status, data)
    assert data["code"] == code and len(data["error"]) > 10, data


# ---- cross-site and cross-origin writes ------------------------------------------------------

def test_text_plain_no_cors_reset_is_refused(srv):
    """Finding 1: fetch(url, {mode: 'no-cors', credentials: 'include', body}) from another
    port of the same host sends text/plain with the victim's cookie (same-site)."""
    victim, state = started(srv)
    status, s2 = victim.json("POST", "/api/accept", {"t": 0.9, "version": 1})
    assert status == 200
    evil = {"Origin": f"http://127.0.0.1:{srv.port + 1}", "Sec-Fetch-Site": "same-site"}
    for ctype in ("text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                  "multipart/form-data; boundary=x", "application/jsonx", ""):
        h = dict(evil, **{"Content-Type": ctype})
        for _ in range(3):
            status, _, payload = victim.request("POST", "/api/reset",
                                                raw=json.dumps({"version": 2}), headers=h)
            assert_error(status, payload, 415, "bad_content_type")
    # the same without the browser's headers (an older browser): still refused, by the type
    status, _, payload = victim.request("POST", "/api/reset", raw='{"version": 2}',
                                        headers={"Content-Type": "text/plain"})
    assert_error(status, payload, 415, "bad_content_type")
    status, now = victim.json("GET", "/api/state")
    assert now["version"] == 2 and now["accepted"] == 1 and now["z"] == s2["z"]


@pytest.mark.parametrize("headers", [
    {"Origin": "http://127.0.0.1:1"},                       # another port: same site
    {"Origin": "http://sub.localhost.example"},
    {"Origin": "null"},                                     # sandboxed frame, data: URL
    {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "none"},
])
def test_json_from_another_origin_is_refused(srv, headers):
    victim, _ = started(srv)
    for path, body in (("/api/accept", {"t": 0.2, "version": 1}),
                       ("/api/reset", {"version": 1}), ("/api/another", {"version": 1}),
                       ("/api/undo", {"version": 1})):
        status, _, payload = victim.request("POST", path, body, headers=headers)
        assert_error(status, payload, 403, "cross_origin")
    assert victim.json("GET", "/api/state")[1]["version"] == 1


def test_same_origin_browser_headers_pass(srv):
    c, _ = started(srv)
    h = {"Origin": f"http://127.0.0.1:{srv.port}", "Sec-Fetch-Site": "same-origin"}
    status, _, payload = c.request("POST", "/api/accept", {"t": 0.7, "version": 1}, headers=h)
    assert status == 200 and json.loads(payload)["version"] == 2


def test_cross_site_form_cannot_swap_the_session(srv):
    """Finding 2: <form method=POST enctype=text/plain action=/api/session> on any site."""
    before = rows(srv.db)
    c = Client(srv.port)
    for ctype in ("text/plain", "application/x-www-form-urlencoded"):
        status, headers, payload = c.request(
            "POST", "/api/session", raw="a=b", headers={
                "Content-Type": ctype, "Origin": "https://evil.example",
                "Sec-Fetch-Site": "cross-site"})
        assert status in (403, 415) and "set-cookie" not in headers, (status, headers)
    status, headers, payload = c.request("POST", "/api/session", {}, headers={
        "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert_error(status, payload, 403, "cross_origin")
    assert "set-cookie" not in headers and c.sid is None
    assert rows(srv.db) == before


# ---- the body limit ---------------------------------------------------------------------------

def raw_exchange(port, head, body_parts=(), timeout=5.0):
    """Send a request by hand; return (seconds until the answer, status, body)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    t0 = time.monotonic()
    try:
        s.sendall(head.encode())
        for part in body_parts:
            try:
                s.sendall(part)
            except OSError:  # the server answered and closed: fine
                break
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head_end = data.index(b"\r\n\r\n")
        m = re.search(rb"content-length: *(\d+)", data[:head_end], re.I)
        while m and len(data) < head_end + 4 + int(m.group(1)):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        status = int(data.split(b" ", 2)[1])
        return time.monotonic() - t0, status, data[head_end + 4:]
    finally:
        s.close()


def test_huge_body_refused_before_reading(srv):
    """Finding 3: a 400 MB Content-Length gets 413 at once; the body is never read (the
    client sends only its first byte and waits)."""
    c, _ = started(srv)
    head = (f"POST /api/accept HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
            f"Cookie: dss_session={c.sid}\r\nContent-Type: application/json\r\n"
            f"Content-Length: 400000000\r\n\r\n{{")
    took, status, body = raw_exchange(srv.port, head)
    assert status == 413 and json.loads(body)["code"] == "too_large" and took < 3


def test_chunked_body_over_the_limit(srv):
    """Without a Content-Length (chunked), reading stops at the limit."""
    c, _ = started(srv)
    head = (f"POST /api/accept HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
            f"Cookie: dss_session={c.sid}\r\nContent-Type: application/json\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b" " * 8192
    parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 10 + [b"0\r\n\r\n"]
    took, status, body = raw_exchange(srv.port, head, parts)
    assert status == 413 and json.loads(body)["code"] == "too_large"


# ---- malformed input: JSON 4xx, never 500 or HTML -------------------------------------------

def test_malformed_input_gets_json_4xx(srv):
    c, _ = started(srv)
    deep = "[" * 30000 + "]" * 30000
    for raw, code in ((deep, "bad_json"),
                      ('{"t": ' + "[" * 20000 + "]" * 20000 + ', "version": 1}', "bad_json"),
                      ('{"t": ' + "9" * 400 + ', "version": 1}', "bad_t"),
                      ('{"t": -' + "9" * 400 + ', "version": 1}', "bad_t"),
                      ('{"t": 0.5, "version": ' + "9" * 400 + "}", "bad_version"),
                      (b'{"t": 0.5, "version": 1, "x": "\xff\xfe"}', "bad_json")):
        status, _, payload = c.request("POST", "/api/accept", raw=raw)
        assert_error(status, payload, 400, code)
    for path, code in (("/api/preview?t=" + "9" * 400, "bad_t"),
                       ("/api/preview?t=0.5&v=" + "9" * 400, "bad_version"),
                       ("/api/preview?t=0.5&v=x", "bad_version")):
        status, _, payload = c.request("GET", path)
        assert_error(status, payload, 400, code)
    assert c.json("GET", "/api/state")[1]["version"] == 1


def test_long_urls_get_json_414(srv):
    c, _ = started(srv)
    for n in (5000, 70000):  # the application's bound; werkzeug's own (64 KiB request line)
        status, headers, payload = c.request("GET", "/api/preview?t=0.5&pad=" + "a" * n)
        assert headers["content-type"].startswith("application/json"), (n, headers)
        assert_error(status, payload, 414, "url_too_long")
        c.close()
        c.conn = None


def test_stale_tab_preview_gets_the_current_state(srv):
    c, _ = started(srv)
    status, s2 = c.json("POST", "/api/accept", {"t": 0.8, "version": 1})
    status, data = c.json("GET", "/api/preview?t=0.3&v=1")
    assert_error(status, data, 409, "conflict")
    assert data["state"]["version"] == 2 and data["state"]["z"] == s2["z"]
    status, headers, png = c.request("GET", "/api/preview?t=0.3&v=2")
    assert status == 200 and png[:4] == b"\x89PNG" and headers["x-version"] == "2"


# ---- no growth from anonymous requests ------------------------------------------------------

def test_gets_create_no_sessions(srv):
    """Finding 4: every cookie-less GET /api/state created a 73 kB row (50 <img> tags on a
    third-party page: 50 rows per visit)."""
    before = rows(srv.db)
    for path in ("/api/state", "/api/preview?t=0.5", "/api/download/image.png", "/"):
        for _ in range(10):
            c = Client(srv.port)
            status, headers, _ = c.request("GET", path)
            assert "set-cookie" not in headers
            assert status in (200, 400) and (status == 200) == (path == "/")
            c.close()
    assert rows(srv.db) == before


# ---- headers -----------------------------------------------------------------------------------

def test_security_headers(srv):
    c, _ = started(srv)
    status, headers, page = c.request("GET", "/")
    script = re.search(rb"<script>(.*?)</script>", page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script).digest()).decode()
    for path in ("/", "/api/state", "/api/preview?t=0.5", "/api/nothing"):
        status, headers, _ = c.request("GET", path)
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, csp
        assert f"'sha256-{digest}'" in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        assert headers["cross-origin-resource-policy"] == "same-origin"
    status, headers, _ = c.request("GET", "/api/state")
    assert headers["cache-control"] == "no-store"
    _, headers, _ = Client(srv.port).request("POST", "/api/session", {})
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


# ---- werkzeug's server: bounded threads, a read timeout ----------------------------------------

def threads_of(pid):
    with open(f"/proc/{pid}/status") as fh:
        return int(re.search(r"Threads:\s+(\d+)", fh.read()).group(1))


def test_idle_connections_are_bounded_and_dropped(srv):
    """Finding 5: 2000 half-open requests made 2000 threads, then 2000 requests. Here 64
    connections that send half a request: the threads stay bounded (16 + the server's own),
    each is dropped after the read timeout (2 s), a normal request is answered meanwhile
    within a few timeouts, and nothing is created."""
    before = rows(srv.db)
    base = threads_of(srv.proc.pid)
    socks = []
    for _ in range(64):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.sendall(b"GET /api/state HTTP/1.1\r\nHost: x\r\n")  # and never the end
        socks.append(s)
    time.sleep(0.5)
    assert threads_of(srv.proc.pid) <= base + 17
    t0 = time.monotonic()
    c = Client(srv.port)
    status, headers, _ = c.request("GET", "/")
    took = time.monotonic() - t0
    assert status == 200 and took < 20, took
    # the half-open ones were dropped: finishing them now gets nothing
    dropped = 0
    for s in socks:
        try:
            s.sendall(b"\r\n")
            dropped += s.recv(100) == b""
        except OSError:
            dropped += 1
        s.close()
    assert dropped >= 48, dropped
    assert rows(srv.db) == before
    assert threads_of(srv.proc.pid) <= base + 17


# ---- caps, rates, expiry, undo bound (small limits: the `caps` server) -------------------------

def test_undo_is_bounded_and_writes_are_rate_limited(caps):
    """One session, 12 quick changes: 3 pass (the burst), the rest get 429 with Retry-After;
    the undo stack holds at most undo_limit (3) steps."""
    c, _ = started(caps)
    codes = []
    v = 1
    for _ in range(12):
        status, headers, payload = c.request("POST", "/api/another", {"version": v})
        codes.append(status)
        if status == 200:
            v = json.loads(payload)["version"]
        else:
            assert_error(status, payload, 429, "too_fast")
            assert int(headers["retry-after"]) >= 1
    assert codes[:3] == [200] * 3 and codes.count(429) >= 8
    time.sleep(1.1)  # a token back
    status, data = c.json("POST", "/api/another", {"version": v})
    assert status == 200 and data["undo"] == 3
    assert rows(caps.db, "undo") == 3


def test_sessions_per_client_are_capped(caps):
    made = 1  # by the test above, within the window
    for _ in range(3):
        assert Client(caps.port).start()[0] == 201
        made += 1
    status, headers, payload = Client(caps.port).request("POST", "/api/session", {})
    assert_error(status, payload, 429, "too_many_sessions")
    assert "set-cookie" not in headers and rows(caps.db) == made


def test_idle_sessions_expire(caps):
    """The janitor (every 0.3 s here) deletes sessions idle for 3 s, with their undo steps;
    the page then gets 404 unknown_session and starts afresh."""
    deadline = time.monotonic() + 15
    while rows(caps.db) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert rows(caps.db) == 0 and rows(caps.db, "undo") == 0
    c = Client(caps.port, sid="x" * 24)
    status, data = c.json("GET", "/api/state")
    assert_error(status, data, 404, "unknown_session")
    assert c.start()[0] == 201  # the expired ones no longer count against the cap


def test_requests_per_client_are_rate_limited(caps):
    c, _ = started(caps)
    codes = []
    for _ in range(80):
        status, headers, payload = c.request("GET", "/api/preview?t=0.5")
        codes.append(status)
        if status == 429:
            assert_error(status, payload, 429, "rate_limited")
    # a burst of 40 (less the session's start), then 20 per second
    assert codes.count(200) >= 35 and codes.count(429) >= 20, codes
