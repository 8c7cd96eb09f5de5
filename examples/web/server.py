#!/usr/bin/env python3
"""Slider studio: explore the Fashion-MNIST VAE with libdss sliders in a web browser (or, in
the gallery mode, a grid of previews across a 2-D subspace).

    make web                                              # or:
    /usr/bin/python3 examples/web/server.py --db build/web/sessions.sqlite3 --port 8000

then open http://127.0.0.1:8000/. Each browser session (a cookie) owns a libdss session that
lives, between requests, as saved bytes in a database (SQLite here; PostgreSQL with --db
postgresql://...): restart the server, or run several on the same database, and every user
resumes where they were (docs/web.md). This runs werkzeug's threaded server, with a bound on
its threads and a read timeout, for one machine; on the open web run examples/web/wsgi.py
under gunicorn (examples/web/gunicorn.conf.py, docs/web.md).

Needs Debian's python3-flask, python3-torch, python3-numpy and dataset-fashion-mnist, for
/usr/bin/python3. It listens on 127.0.0.1 only unless told otherwise.
"""

import argparse
import collections
import hashlib
import json
import logging
import math
import os
import random
import re
import secrets
import sys
import threading
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see fashion_mnist.py: before torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

try:
    from flask import Flask, Response, request
    from werkzeug.exceptions import HTTPException
except ImportError:
    sys.exit("server.py: Flask is missing: sudo apt-get install -y python3-flask "
             "(and run this with /usr/bin/python3)")

import studio as studio_mod  # noqa: E402
from store import Conflict, NothingToUndo, open_store  # noqa: E402

COOKIE = "dss_session"
SID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
UNCHANGED = object()  # an action that changes nothing (mutate writes no new version)
MIN_HALF = 2.0 ** -10  # the gallery's smallest square: half-width (10 zooms by 2)
CLOSE = {"Connection": "close"}  # a refusal that leaves the body unread ends the connection

# What one client may do. Rates are per server process (N processes allow N times as much:
# put the same limits in the proxy in front, docs/web.md); the session counts are in the
# database, shared by all processes.
LIMITS = {
    "max_body": 64 * 1024,          # bytes of a request body (413 beyond, before reading it)
    "max_url": 2048,                # characters of a request's path and query (414 beyond)
    "sessions_per_client": 30,      # sessions one client address may start per window (429)
    "session_window": 3600.0,       # seconds
    "max_sessions": 200000,         # live sessions in the database (503 beyond)
    "client_rate": 100.0,           # API requests per second per client address (0: no limit)
    "client_burst": 300,
    "write_rate": 5.0,              # state changes per second per session (0: no limit)
    "write_burst": 20,
    "idle_expiry": 30 * 86400.0,    # seconds without a write or a page load: deleted
    "janitor_interval": 600.0,      # seconds between the janitor's rounds (0: no janitor)
    "undo_limit": 20,               # undo steps kept per session
}


def parse_limits(text, base=None):
    """'name=value,name=value' over LIMITS (or ``base``): ValueError for unknown names."""
    out = dict(LIMITS if base is None else base)
    for item in filter(None, (s.strip() for s in (text or "").split(","))):
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in LIMITS:
            raise ValueError(f"unknown limit {name!r} (known: {', '.join(LIMITS)})")
        out[name] = type(LIMITS[name])(float(value))
    return out


class SearchCache:
    """Loaded sessions of recent previews, per process: a slider drag sends many previews on
    one state, and loading 70 kB of saved bytes into a new dss.Search each time costs more than
    the preview itself. An entry is used only while the database row holds the very bytes it
    was loaded from (compared in full: a few microseconds), so the database stays the only
    truth: another process's write, an undo or a damaged row all miss the cache."""

    def __init__(self, size=128):  # a loaded search holds ~0.85 MB (its SVD workspaces)
        self.size = size
        self.entries = collections.OrderedDict()
        self.lock = threading.Lock()

    def get(self, sid, state):
        with self.lock:
            entry = self.entries.get(sid)
            if entry is None or entry[0] != state:
                return None
            self.entries.move_to_end(sid)
            return entry

    def put(self, sid, state, search):
        with self.lock:
            entry = self.entries[sid] = (bytes(state), search, threading.Lock())
            self.entries.move_to_end(sid)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
            return entry


class RateLimiter:
    """Token buckets by key (a client address, a session): ``rate`` per second, bursts of
    ``burst``. Bounded: the least recently seen keys are forgotten beyond ``max_keys`` (they
    come back with a full bucket, which only ever allows more)."""

    def __init__(self, rate, burst, max_keys=50000):
        self.rate, self.burst, self.max_keys = float(rate), float(burst), max_keys
        self.buckets = collections.OrderedDict()
        self.lock = threading.Lock()

    def allow(self, key):
        """(True, 0) or (False, seconds until a token)."""
        if self.rate <= 0:
            return True, 0.0
        now = time.monotonic()
        with self.lock:
            tokens, then = self.buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            ok = tokens >= 1.0
            if ok:
                tokens -= 1.0
            self.buckets[key] = (tokens, now)
            while len(self.buckets) > self.max_keys:
                self.buckets.popitem(last=False)
        return ok, 0.0 if ok else (1.0 - tokens) / self.rate


class Janitor(threading.Thread):
    """Deletes idle sessions (and their undo steps) every ``interval`` seconds, in every
    server process (the deletes are idempotent, and on PostgreSQL two janitors skip each
    other's rows)."""

    def __init__(self, store, idle, interval, log):
        super().__init__(name="janitor", daemon=True)
        self.store, self.idle, self.interval, self.log = store, idle, interval, log
        self.rounds = 0

    def run(self):
        while True:
            try:
                gone = self.store.expire(self.idle)
                if gone:
                    self.log.info("janitor: %d idle sessions deleted", gone)
            except Exception:  # noqa: BLE001  (a database outage: try again next round)
                self.log.exception("janitor: expiry failed")
            self.rounds += 1
            time.sleep(self.interval * random.uniform(0.8, 1.2))


def page_and_csp():
    """index.html and its Content-Security-Policy: the inline script and style are allowed by
    their hashes, nothing else runs; no framing (frame-ancestors), no forms, no plugins."""
    import base64
    with open(os.path.join(HERE, "index.html"), "rb") as fh:
        page = fh.read()

    def hashes(tag):
        found = re.findall(rb"<" + tag + rb">(.*?)</" + tag + rb">", page, re.S)
        return " ".join("'sha256-" + base64.b64encode(hashlib.sha256(b).digest()).decode()
                        + "'" for b in found)
    csp = (f"default-src 'none'; script-src {hashes(b'script')}; "
           f"style-src {hashes(b'style')}; img-src 'self' data: blob:; connect-src 'self'; "
           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return page, csp


class ApiError(Exception):
    def __init__(self, status, code, message, headers=None, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra
        self.headers = headers or {}


def create_app(store, studio, limits=None, origins=(), secure_cookie=False, janitor=True,
               batch_ms=0.0):
    """The WSGI application (a Flask app) on ``store`` and ``studio``. ``limits`` overrides
    LIMITS; ``origins`` are origins (``https://host``) allowed to send state-changing
    requests besides the request's own; ``secure_cookie`` marks the cookie Secure (HTTPS);
    ``batch_ms`` > 0 decodes the images of concurrent requests in one forward pass, waiting
    at most that long for the others (studio.DecodeBatcher). examples/web/wsgi.py builds one
    from the environment for gunicorn."""
    app = Flask(__name__, static_folder=None)
    lim = dict(LIMITS, **(limits or {}))
    cache = SearchCache()
    app.config["MAX_CONTENT_LENGTH"] = lim["max_body"]
    page, csp = page_and_csp()
    allowed_origins = {o.rstrip("/") for o in origins}
    per_client = RateLimiter(lim["client_rate"], lim["client_burst"])
    per_session = RateLimiter(lim["write_rate"], lim["write_burst"])
    log = logging.getLogger("dss-web")
    if not log.handlers:
        h = logging.StreamHandler()
        h.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        log.addHandler(h)
        log.setLevel(logging.INFO)
    if janitor and lim["janitor_interval"] > 0:
        app.janitor = Janitor(store, lim["idle_expiry"], lim["janitor_interval"], log)
        app.janitor.start()
    app.limits = lim
    inflight = [0]
    inflight_lock = threading.Lock()
    if batch_ms > 0:
        studio.batch_decoding(batch_ms / 1000.0, lambda: inflight[0])

    # ---- helpers ------------------------------------------------------------------------

    def client_key():
        """Who the client is for the limits: its address (the proxy's X-Forwarded-For when
        the deployment says it is behind one), hashed: no address is stored."""
        addr = request.remote_addr or "?"
        return hashlib.sha256(addr.encode()).hexdigest()[:16]

    def session_id(required=True):
        sid = request.cookies.get(COOKIE)
        if sid is None:
            if required:
                raise ApiError(400, "no_session", "no session yet: POST /api/session starts "
                               "one (the page does)")
            return None
        if not SID_RE.match(sid):
            raise ApiError(400, "bad_session_id", "malformed session id in the cookie")
        return sid

    def load(sid, with_meta=True):
        row = store.get(sid, with_meta)
        if row is None:
            raise ApiError(404, "unknown_session", "this session is unknown to the server "
                           "(expired, or from another database); a new one is needed")
        try:
            s, meta = studio.open(row, with_meta)
        except studio_mod.SessionError as e:
            raise ApiError(422, e.code + "_session", e.message + "; a new one is needed")
        return row, s, meta

    def body():
        """The request's JSON object. The size was checked before (guard); this reads at most
        max_body + 1 bytes whatever the client says, and any JSON error (syntax, nesting
        deeper than the parser's recursion limit, bad UTF-8) is a 400."""
        raw = request.stream.read(lim["max_body"] + 1)
        if len(raw) > lim["max_body"]:
            raise too_large()
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            raise ApiError(400, "bad_json", "the request body must be a JSON object")
        return data

    def too_large():
        return ApiError(413, "too_large", f"request body too large (at most "
                        f"{lim['max_body']} bytes)", headers=CLOSE)

    def number_t(value):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ApiError(400, "bad_t", "t must be a number in [0, 1]")
        try:
            t = float(value)
        except (ValueError, OverflowError):  # OverflowError: a 400-digit integer
            raise ApiError(400, "bad_t", "t must be a number in [0, 1]") from None
        if not (math.isfinite(t) and 0.0 <= t <= 1.0):
            raise ApiError(400, "bad_t", f"t must be in [0, 1], got {str(value)[:40]!r}")
        return t

    def number_in(value, lo, hi, code, what):
        """A finite number in [lo, hi] (a JSON number, or the text of one from a query)."""
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ApiError(400, code, f"{what} must be a number in [{lo:g}, {hi:g}]")
        try:
            x = float(value)
        except (ValueError, OverflowError):
            raise ApiError(400, code, f"{what} must be a number in [{lo:g}, {hi:g}]") from None
        if not (math.isfinite(x) and lo <= x <= hi):
            raise ApiError(400, code, f"{what} must be in [{lo:g}, {hi:g}], got "
                           f"{str(value)[:40]!r}")
        return x

    def weights_of(data):
        """The gallery's accept: ``w``, a list of 2 numbers in [-1, 1]."""
        w = data.get("w")
        if not isinstance(w, list) or len(w) != 2:
            raise ApiError(400, "bad_weights", "w must be a list of 2 numbers in [-1, 1] "
                           "(the weights of the chosen cell)")
        return [number_in(x, -1.0, 1.0, "bad_weights", "each weight") for x in w]

    def grid_view(args):
        """A gallery's size and square from a query: g (GRIDS, default GRID), the centre
        cx, cy and the half-width h (default 0, 0, 1): the square must lie in [-1, 1]^2."""
        g = args.get("g", str(studio_mod.GRID))
        if not (g.isdigit() and len(g) < 3 and int(g) in studio_mod.GRIDS):
            raise ApiError(400, "bad_grid", "g (the gallery's size) must be one of "
                           + ", ".join(map(str, studio_mod.GRIDS)))
        cx = number_in(args.get("cx", "0"), -1.0, 1.0, "bad_weights", "cx")
        cy = number_in(args.get("cy", "0"), -1.0, 1.0, "bad_weights", "cy")
        h = number_in(args.get("h", "1"), MIN_HALF, 1.0, "bad_weights", "h (the half-width)")
        if abs(cx) + h > 1.0 + 1e-9 or abs(cy) + h > 1.0 + 1e-9:
            raise ApiError(400, "bad_weights", "the gallery's square [cx - h, cx + h] x "
                           "[cy - h, cy + h] must lie within [-1, 1] x [-1, 1]")
        return int(g), cx, cy, h

    def version_of(data):
        v = data.get("version")
        if isinstance(v, bool) or not isinstance(v, int) or not 0 < v < 2 ** 62:
            raise ApiError(400, "bad_version", "version (a positive integer: the state the "
                           "page shows) is required")
        return v

    def session_key(sid):
        """Names the session to the page (its slider memory) without revealing the id."""
        return hashlib.sha256(sid.encode()).hexdigest()[:16]

    def state_dict(sid, s, meta, version):
        out = studio.state(s, meta, version, store.undo_depth(sid))
        out["session"] = session_key(sid)
        return out

    def state_json(sid, s, meta, version, status=200, message=None):
        out = state_dict(sid, s, meta, version)
        if message:
            out["message"] = message
        return Response(json.dumps(out), status, mimetype="application/json")

    def with_cookie(resp, sid):
        resp.set_cookie(COOKIE, sid, max_age=int(lim["idle_expiry"]), httponly=True,
                        samesite="Strict", secure=secure_cookie)
        return resp

    def new_session(status=201, message=None):
        client = client_key()
        window = lim["session_window"]
        if store.recent_sessions(client, time.time() - window) >= lim["sessions_per_client"]:
            raise ApiError(429, "too_many_sessions", "too many new sessions from this "
                           "address; try again later", headers={"Retry-After": "60"})
        if store.count() >= lim["max_sessions"]:
            raise ApiError(503, "full", "the server holds as many sessions as it may; try "
                           "again later", headers={"Retry-After": "300"})
        sid = secrets.token_urlsafe(18)
        state, meta = studio.new()
        version = store.create(sid, studio.tag, state, meta, client=client)
        _, s, m = load(sid)
        return with_cookie(state_json(sid, s, m, version, status, message), sid)

    def conflict(sid):
        row, s, meta = load(sid)
        raise ApiError(409, "conflict", "this session changed in another window or tab; "
                       "showing its current state", state=state_dict(sid, s, meta, row.version))

    def wrong_mode(sid, want):
        """409: the session is not in the mode the request is for (another tab switched it,
        or a client asked for the other mode's action); with the current state."""
        row, s, meta = load(sid)
        have = studio.mode(s)
        raise ApiError(409, "wrong_mode", f"this session is in the {have} mode, not the "
                       f"{want} mode (switch with POST /api/mode); showing its current state",
                       state=state_dict(sid, s, meta, row.version))

    def write_allowed(sid):
        ok, wait = per_session.allow(sid)
        if not ok:
            raise ApiError(429, "too_fast", "too many changes in a short time; slow down",
                           headers={"Retry-After": str(max(1, math.ceil(wait)))})

    def mutate(action):
        """Read the row, check the page's version, run ``action(search, meta, data)``, write
        the new bytes at version + 1 (pushing the old ones for undo); an action that returns
        UNCHANGED writes nothing (the state as it is)."""
        sid = session_id()
        data = body()
        version = version_of(data)
        write_allowed(sid)
        row, s, meta = load(sid)
        if row.version != version:
            conflict(sid)
        if action(s, meta, data) is UNCHANGED:
            return state_json(sid, s, meta, row.version)
        try:
            new_version = store.replace(sid, version, studio.tag, s.save(), json.dumps(meta),
                                        undo=(row.state, row.meta))
        except Conflict:
            conflict(sid)
        return state_json(sid, s, meta, new_version)

    def json_error(status, code, message, headers=None):
        return Response(json.dumps({"error": message, "code": code}), status,
                        mimetype="application/json", headers=headers)

    # ---- what every request passes through -------------------------------------------------

    @app.before_request
    def enter():  # first: teardown_request runs whatever happens next
        with inflight_lock:
            inflight[0] += 1

    @app.teardown_request
    def leave(exc):
        with inflight_lock:
            inflight[0] -= 1

    @app.before_request
    def guard():
        env = request.environ
        if len(env.get("PATH_INFO", "")) + len(env.get("QUERY_STRING", "")) > lim["max_url"]:
            raise ApiError(414, "url_too_long", f"request URL too long (at most "
                           f"{lim['max_url']} characters)")
        if request.path.startswith("/api/"):
            ok, wait = per_client.allow(client_key())
            if not ok:
                raise ApiError(429, "rate_limited", "too many requests from this address; "
                               "slow down", headers={"Retry-After": str(max(1, math.ceil(wait)))})
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        # A state-changing request. Only the page's own fetch() may send one: a JSON body
        # (a cross-site <form> or a no-cors fetch cannot send application/json without a
        # CORS preflight, which this server never grants), and when the browser says where
        # the request comes from (Sec-Fetch-Site, Origin), it must be this very origin: not
        # another port or a sibling subdomain, which are "same-site" to the cookie.
        if request.mimetype != "application/json":
            raise ApiError(415, "bad_content_type", "state-changing requests must send "
                           "Content-Type: application/json", headers=CLOSE)
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site != "same-origin":
            raise ApiError(403, "cross_origin", f"refused: a request from another site "
                           f"(Sec-Fetch-Site: {site[:20]})", headers=CLOSE)
        origin = request.headers.get("Origin")
        if origin is not None:
            own = request.host_url.rstrip("/")
            if origin.rstrip("/") != own and origin.rstrip("/") not in allowed_origins:
                raise ApiError(403, "cross_origin", f"refused: a request from another "
                               f"origin ({origin[:80]})", headers=CLOSE)
        length = request.content_length
        if length is not None and length > lim["max_body"]:
            raise too_large()

    @app.after_request
    def headers(resp):
        h = resp.headers
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h["X-Frame-Options"] = "DENY"
        h["Content-Security-Policy"] = csp
        h["Cross-Origin-Resource-Policy"] = "same-origin"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.path.startswith("/api/"):
            h.setdefault("Cache-Control", "no-store")
        return resp

    # ---- errors: JSON, always --------------------------------------------------------------

    @app.errorhandler(ApiError)
    def api_error(e):
        out = {"error": e.message, "code": e.code}
        out.update(e.extra)
        return Response(json.dumps(out), e.status, mimetype="application/json",
                        headers=e.headers)

    @app.errorhandler(Exception)
    def internal(e):
        if isinstance(e, HTTPException):
            return json_error(e.code, "http", e.description)
        app.logger.exception("internal error")
        return json_error(500, "internal", f"internal error ({type(e).__name__}); the "
                          "session is unchanged")

    @app.errorhandler(404)
    def not_found(e):
        return json_error(404, "not_found", "no such page")

    @app.errorhandler(405)
    def bad_method(e):
        return json_error(405, "method", "method not allowed here")

    @app.errorhandler(413)
    def too_large_413(e):
        return json_error(413, "too_large", "request body too large",
                          headers={"Connection": "close"})

    # ---- routes -------------------------------------------------------------------------

    def read_session(sid):
        """The stored row and the cached (state, dss.Search, lock) of a read-only request
        (a preview or a grid). With v= (the version the page shows), a session that moved on
        gets 409 with its current state."""
        v = request.args.get("v")
        if v is not None and not (v.isdigit() and len(v) < 19):
            raise ApiError(400, "bad_version", "v must be a positive integer")
        row = store.get(sid, with_meta=False)
        if row is not None and v is not None and int(v) != row.version:
            conflict(sid)
        entry = None if row is None or row.model != studio.tag else cache.get(sid, row.state)
        if entry is None:
            row, s, _ = load(sid, with_meta=False)
            entry = cache.put(sid, row.state, s)
        return row, entry

    @app.route("/")
    def index():
        return Response(page, mimetype="text/html", headers={"Cache-Control": "no-cache"})

    @app.route("/api/state")
    def get_state():
        """The page's session (400 no_session when the browser has none: the page then
        starts one with POST /api/session; a GET never creates anything)."""
        sid = session_id()
        row, s, meta = load(sid)
        store.touch(sid)  # a page load: the session is in use
        return state_json(sid, s, meta, row.version)

    @app.route("/api/session", methods=["POST"])
    def post_session():
        """Start a new session (first visit, or after an unknown or damaged one)."""
        body()
        return new_session()

    @app.route("/api/preview")
    def preview():
        """The image at slider position t, as a 28 x 28 PNG (read-only: nothing is written).
        With v= (the version the page shows), a session that moved on gets 409 with its
        current state instead of an image of a state the page does not show."""
        t0 = time.perf_counter()
        sid = session_id()
        t = number_t(request.args.get("t", ""))
        row, entry = read_session(sid)
        with entry[2]:  # one dss.Search is not for two threads at once
            if studio.mode(entry[1]) != "slider":
                wrong_mode(sid, "slider")
            z = entry[1].point(t)
        png = studio.png(studio.decode(z)[0])
        ms = 1e3 * (time.perf_counter() - t0)  # the time spent here, without queueing
        return Response(png, mimetype="image/png",
                        headers={"X-Version": str(row.version),
                                 "Server-Timing": f"app;dur={ms:.2f}"})

    @app.route("/api/accept", methods=["POST"])
    def accept():
        def act(s, meta, data):
            t = number_t(data.get("t"))
            if studio.mode(s) != "slider":
                wrong_mode(session_id(), "slider")
            studio.accept(s, meta, t)
        return mutate(act)

    @app.route("/api/grid")
    def grid():
        """The gallery mode's previews: a g x g grid over the square [cx - h, cx + h] x
        [cy - h, cy + h] of the session's 2-D subspace weights, decoded in one decoder call
        and sent as one PNG sprite with the cells' weights (JSON; read-only). With v= (the
        version the page shows), a session that moved on gets 409 with its current state."""
        t0 = time.perf_counter()
        sid = session_id()
        g, cx, cy, h = grid_view(request.args)
        row, entry = read_session(sid)
        with entry[2]:
            if studio.mode(entry[1]) != "gallery":
                wrong_mode(sid, "gallery")
            out, _, times = studio.grid(entry[1], g, cx, cy, h)
        out["version"] = row.version
        ms = 1e3 * (time.perf_counter() - t0)
        timing = ", ".join(f"{k};dur={v:.2f}" for k, v in times.items())
        return Response(json.dumps(out), mimetype="application/json",
                        headers={"X-Version": str(row.version),
                                 "Server-Timing": f"app;dur={ms:.2f}, {timing}"})

    @app.route("/api/accept_w", methods=["POST"])
    def accept_w():
        """The gallery's accept: the centre moves to the chosen cell's weights w."""
        def act(s, meta, data):
            w = weights_of(data)
            if studio.mode(s) != "gallery":
                wrong_mode(session_id(), "gallery")
            studio.accept_w(s, meta, w)
        return mutate(act)

    @app.route("/api/mode", methods=["POST"])
    def mode():
        """Switch the session between the slider (l = 1) and the gallery (l = 2): the same
        centre, Jacobian and history, a new subspace of the other dimension; a step that Undo
        takes back. Asking for the mode the session is in changes nothing (200)."""
        def act(s, meta, data):
            want = data.get("mode")
            if want not in studio_mod.MODES:
                raise ApiError(400, "bad_mode", "mode must be 'slider' or 'gallery'")
            if studio.mode(s) == want:
                return UNCHANGED
            studio.set_mode(s, want)
        return mutate(act)

    @app.route("/api/another", methods=["POST"])
    def another():
        return mutate(lambda s, meta, data: s.resample())

    @app.route("/api/reset", methods=["POST"])
    def reset():
        """Start again from a new random garment; undo brings the old session back."""
        def act(s, meta, data):
            state, fresh = studio.new(mode=studio.mode(s))  # in the same mode
            s.load(state)
            meta.clear()
            meta.update(json.loads(fresh))
        return mutate(act)

    @app.route("/api/undo", methods=["POST"])
    def undo():
        sid = session_id()
        version = version_of(body())
        write_allowed(sid)
        load(sid)  # 404/422 before anything else
        try:
            new_version, state, meta = store.undo(sid, version)
        except NothingToUndo:
            raise ApiError(409, "nothing_to_undo", "nothing to undo") from None
        except Conflict:
            conflict(sid)
        row, s, m = load(sid)
        return state_json(sid, s, m, new_version)

    @app.route("/api/download/<what>")
    def download(what):
        sid = session_id()
        row, s, meta = load(sid, with_meta=False)
        where = {}
        if studio.mode(s) == "gallery":  # w=w1,w2 (default: the centre)
            if "t" in request.args:
                wrong_mode(sid, "slider")
            text = request.args.get("w", "0,0").split(",")
            if len(text) != 2:
                raise ApiError(400, "bad_weights", "w must be two numbers: w=w1,w2")
            w = [number_in(x, -1.0, 1.0, "bad_weights", "each weight") for x in text]
            z = s.point_w(w)
            where["w"] = w
        else:
            if "w" in request.args:
                wrong_mode(sid, "gallery")
            t = number_t(request.args.get("t", "0.5"))
            z = s.point(t)
            where["t"] = t
        if what == "image.png":
            return Response(studio.png(studio.decode(z)[0], scale=10), mimetype="image/png",
                            headers={"Content-Disposition":
                                     f'attachment; filename="dss-v{row.version}.png"'})
        if what == "latent.json":
            out = {"model": studio.tag, "version": row.version, **where, "z": z.tolist()}
            return Response(json.dumps(out, indent=1), mimetype="application/json",
                            headers={"Content-Disposition":
                                     f'attachment; filename="dss-v{row.version}-latent.json"'})
        raise ApiError(404, "not_found", "downloads are image.png and latent.json")

    return app


def make_dev_server(host, port, app, max_threads=32, read_timeout=10.0):
    """werkzeug's threaded server with a bound on its request threads (the next connection
    waits in the listen backlog), one request per connection, and a read timeout (a client
    that sends nothing, or half a request, is dropped after ``read_timeout`` seconds); werkzeug's own
    errors (a request line over 64 KiB: 414; garbage: 400) are JSON like the application's."""
    from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

    class Handler(WSGIRequestHandler):
        timeout = read_timeout  # socketserver.StreamRequestHandler: settimeout on the socket
        # one request per connection: a thread serves a request, not an idle keep-alive
        # connection (max_threads idle browsers would otherwise hold every thread)
        protocol_version = "HTTP/1.0"

        def send_error(self, code, message=None, explain=None):
            text = message or {400: "bad request", 414: "request URL too long"}.get(
                code, "request refused")
            data = json.dumps({"error": text, "code": "url_too_long" if code == 414
                               else "http"}).encode()
            self.close_connection = True
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                if getattr(self, "command", None) != "HEAD":
                    self.wfile.write(data)
            except OSError:
                pass

    class Server(ThreadedWSGIServer):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.slots = threading.BoundedSemaphore(max_threads)

        def process_request(self, request, client_address):
            self.slots.acquire()  # blocks the accept loop: the backlog holds the rest
            try:
                super().process_request(request, client_address)
            except BaseException:
                self.slots.release()
                raise

        def process_request_thread(self, request, client_address):
            try:
                super().process_request_thread(request, client_address)
            finally:
                self.slots.release()

    return Server(host, port, app, handler=Handler)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=os.path.join(studio_mod.TREE, "build", "web",
                                                "sessions.sqlite3"),
                   help="the session database: a SQLite file (build/web/sessions.sqlite3) or "
                        "a postgresql:// URL")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (8000; 0 = any free port)")
    p.add_argument("--weights", default=None, help="VAE weights cache (build/web/*.pt)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads per request (1: requests run in parallel instead)")
    p.add_argument("--max-threads", type=int, default=32,
                   help="requests served at once (32); more connections wait")
    p.add_argument("--read-timeout", type=float, default=10.0,
                   help="seconds a connection may stay silent (10)")
    p.add_argument("--limits", default="",
                   help="name=value,... over the defaults: " +
                        ", ".join(f"{k}={v}" for k, v in LIMITS.items()))
    p.add_argument("--batch-ms", type=float, default=0.0,
                   help="decode concurrent requests' images together, waiting at most this "
                        "many milliseconds for the others (0: no batching)")
    p.add_argument("--origin", action="append", default=[],
                   help="another origin allowed to change state (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no request log")
    p.add_argument("--prepare", action="store_true",
                   help="train (or check) the cached model, then exit")
    p.add_argument("--lifetime", type=float, default=0,
                   help="stop by itself after this many seconds (tests; 0 = never)")
    args = p.parse_args(argv)
    if not 0 <= args.port <= 65535:
        p.error(f"--port must be in 0..65535, got {args.port}")
    try:
        args.limits = parse_limits(args.limits)
    except ValueError as e:
        p.error(str(e))
    return args


def open_db(url, undo_limit):
    if not url.startswith(("postgresql:", "postgres:")):
        os.makedirs(os.path.dirname(os.path.abspath(url)), exist_ok=True)
    return open_store(url, undo_limit=undo_limit)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import torch

    vae, _ = studio_mod.load_vae(args.weights, log=lambda m: print(m, flush=True))
    if args.prepare:
        return 0
    torch.set_num_threads(args.threads)
    try:
        store = open_db(args.db, int(args.limits["undo_limit"]))
    except Exception as e:  # noqa: BLE001  (sqlite3.Error, psycopg2.Error, OSError)
        sys.exit(f"server.py: cannot open the session database {args.db}: {e}")
    app = create_app(store, studio_mod.Studio(vae), args.limits, origins=args.origin,
                     batch_ms=args.batch_ms)
    if args.quiet:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        server = make_dev_server(args.host, args.port, app, args.max_threads,
                                 args.read_timeout)
    except (OSError, OverflowError) as e:
        sys.exit(f"server.py: cannot listen on {args.host}:{args.port}: {e}")
    # the first line tells scripts (and tests) where it listens
    print(f"listening on http://{args.host}:{server.server_port}/ (database {args.db}, "
          f"pid {os.getpid()})", flush=True)
    t0 = time.time()
    if args.lifetime > 0:
        timer = threading.Timer(args.lifetime, server.shutdown)
        timer.daemon = True
        timer.start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    print(f"stopped after {time.time() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
