#!/usr/bin/env python3
"""Slider studio: explore the Fashion-MNIST VAE with libdss sliders in a web browser.

    make web                                              # or:
    /usr/bin/python3 examples/web/server.py --db build/web/sessions.sqlite3 --port 8000

then open http://127.0.0.1:8000/. Each browser session (a cookie) owns a libdss session that
lives, between requests, as saved bytes in SQLite: restart the server, or run several on the
same database, and every user resumes where they were (docs/web.md).

Needs Debian's python3-flask, python3-torch, python3-numpy and dataset-fashion-mnist, for
/usr/bin/python3. It listens on 127.0.0.1 only unless told otherwise.
"""

import argparse
import collections
import json
import math
import os
import re
import secrets
import sys
import threading
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see fashion_mnist.py: before torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

try:
    from flask import Flask, Response, request, send_file
    from werkzeug.exceptions import HTTPException
except ImportError:
    sys.exit("server.py: Flask is missing: sudo apt-get install -y python3-flask "
             "(and run this with /usr/bin/python3)")

import studio as studio_mod  # noqa: E402
from store import Conflict, NothingToUndo, Store  # noqa: E402

COOKIE = "dss_session"
SID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


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


class ApiError(Exception):
    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def create_app(store, studio):
    app = Flask(__name__, static_folder=None)
    cache = SearchCache()
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024

    # ---- helpers ------------------------------------------------------------------------

    def session_id(required=True):
        sid = request.cookies.get(COOKIE)
        if sid is None:
            if required:
                raise ApiError(400, "no_session", "no session cookie: load the page first "
                               "(GET /api/state starts a session)")
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
        data = request.get_json(silent=True, force=True)
        if not isinstance(data, dict):
            raise ApiError(400, "bad_json", "the request body must be a JSON object")
        return data

    def number_t(value):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ApiError(400, "bad_t", "t must be a number in [0, 1]")
        try:
            t = float(value)
        except ValueError:
            raise ApiError(400, "bad_t", "t must be a number in [0, 1]") from None
        if not (math.isfinite(t) and 0.0 <= t <= 1.0):
            raise ApiError(400, "bad_t", f"t must be in [0, 1], got {str(value)[:40]!r}")
        return t

    def version_of(data):
        v = data.get("version")
        if isinstance(v, bool) or not isinstance(v, int) or not 0 < v < 2 ** 62:
            raise ApiError(400, "bad_version", "version (a positive integer: the state the "
                           "page shows) is required")
        return v

    def state_json(sid, s, meta, version, status=200, message=None):
        out = studio.state(s, meta, version, store.undo_depth(sid))
        if message:
            out["message"] = message
        return Response(json.dumps(out), status, mimetype="application/json",
                        headers={"Cache-Control": "no-store"})

    def with_cookie(resp, sid):
        resp.set_cookie(COOKIE, sid, max_age=30 * 86400, httponly=True, samesite="Strict")
        return resp

    def new_session(status=201, message=None):
        sid = secrets.token_urlsafe(18)
        state, meta = studio.new()
        version = store.create(sid, studio.tag, state, meta)
        _, s, m = load(sid)
        return with_cookie(state_json(sid, s, m, version, status, message), sid)

    def conflict(sid):
        row, s, meta = load(sid)
        out = studio.state(s, meta, row.version, store.undo_depth(sid))
        raise ApiError(409, "conflict", "this session changed in another window or tab; "
                       "showing its current state", state=out)

    def mutate(action):
        """Read the row, check the page's version, run ``action(search, meta)``, write the new
        bytes at version + 1 (pushing the old ones for undo)."""
        sid = session_id()
        data = body()
        version = version_of(data)
        row, s, meta = load(sid)
        if row.version != version:
            conflict(sid)
        action(s, meta, data)
        try:
            new_version = store.replace(sid, version, studio.tag, s.save(), json.dumps(meta),
                                        undo=(row.state, row.meta))
        except Conflict:
            conflict(sid)
        return state_json(sid, s, meta, new_version)

    # ---- routes -------------------------------------------------------------------------

    @app.errorhandler(ApiError)
    def api_error(e):
        out = {"error": e.message, "code": e.code}
        out.update(e.extra)
        return Response(json.dumps(out), e.status, mimetype="application/json")

    @app.errorhandler(Exception)
    def internal(e):
        if isinstance(e, HTTPException):
            return Response(json.dumps({"error": e.description, "code": "http"}), e.code,
                            mimetype="application/json")
        app.logger.exception("internal error")
        return Response(json.dumps({"error": f"internal error ({type(e).__name__}); the "
                                    "session is unchanged", "code": "internal"}), 500,
                        mimetype="application/json")

    @app.errorhandler(404)
    def not_found(e):
        return Response(json.dumps({"error": "no such page", "code": "not_found"}), 404,
                        mimetype="application/json")

    @app.errorhandler(405)
    def bad_method(e):
        return Response(json.dumps({"error": "method not allowed here", "code": "method"}),
                        405, mimetype="application/json")

    @app.errorhandler(413)
    def too_large(e):
        return Response(json.dumps({"error": "request body too large", "code": "too_large"}),
                        413, mimetype="application/json")

    @app.route("/")
    def index():
        return send_file(os.path.join(HERE, "index.html"), mimetype="text/html",
                         max_age=0)

    @app.route("/api/state")
    def get_state():
        """The page's session; a new one when the browser has none."""
        sid = session_id(required=False)
        if sid is None:
            return new_session()
        row, s, meta = load(sid)
        return state_json(sid, s, meta, row.version)

    @app.route("/api/session", methods=["POST"])
    def post_session():
        """Start a new session (after an unknown or damaged one)."""
        return new_session()

    @app.route("/api/preview")
    def preview():
        """The image at slider position t, as a 28 x 28 PNG (read-only: nothing is written)."""
        t0 = time.perf_counter()
        sid = session_id()
        t = number_t(request.args.get("t", ""))
        row = store.get(sid, with_meta=False)
        entry = None if row is None or row.model != studio.tag else cache.get(sid, row.state)
        if entry is None:
            row, s, _ = load(sid, with_meta=False)
            entry = cache.put(sid, row.state, s)
        with entry[2]:  # one dss.Search is not for two threads at once
            z = entry[1].point(t)
        png = studio.png(studio.decode(z)[0])
        ms = 1e3 * (time.perf_counter() - t0)  # the time spent here, without queueing
        return Response(png, mimetype="image/png",
                        headers={"Cache-Control": "no-store", "X-Version": str(row.version),
                                 "Server-Timing": f"app;dur={ms:.2f}"})

    @app.route("/api/accept", methods=["POST"])
    def accept():
        def act(s, meta, data):
            studio.accept(s, meta, number_t(data.get("t")))
        return mutate(act)

    @app.route("/api/another", methods=["POST"])
    def another():
        return mutate(lambda s, meta, data: s.resample())

    @app.route("/api/reset", methods=["POST"])
    def reset():
        """Start again from a new random garment; undo brings the old session back."""
        def act(s, meta, data):
            state, fresh = studio.new()
            s.load(state)
            meta.clear()
            meta.update(json.loads(fresh))
        return mutate(act)

    @app.route("/api/undo", methods=["POST"])
    def undo():
        sid = session_id()
        version = version_of(body())
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
        t = number_t(request.args.get("t", "0.5"))
        row, s, meta = load(sid, with_meta=False)
        z = s.point(t)
        if what == "image.png":
            return Response(studio.png(studio.decode(z)[0], scale=10), mimetype="image/png",
                            headers={"Content-Disposition":
                                     f'attachment; filename="dss-v{row.version}.png"'})
        if what == "latent.json":
            out = {"model": studio.tag, "version": row.version, "t": t, "z": z.tolist()}
            return Response(json.dumps(out, indent=1), mimetype="application/json",
                            headers={"Content-Disposition":
                                     f'attachment; filename="dss-v{row.version}-latent.json"'})
        raise ApiError(404, "not_found", "downloads are image.png and latent.json")

    return app


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=os.path.join(studio_mod.TREE, "build", "web",
                                                "sessions.sqlite3"),
                   help="SQLite database of the sessions (build/web/sessions.sqlite3)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (8000; 0 = any free port)")
    p.add_argument("--weights", default=None, help="VAE weights cache (build/web/*.pt)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads per request (1: requests run in parallel instead)")
    p.add_argument("--quiet", action="store_true", help="no request log")
    p.add_argument("--prepare", action="store_true",
                   help="train (or check) the cached model, then exit")
    p.add_argument("--lifetime", type=float, default=0,
                   help="stop by itself after this many seconds (tests; 0 = never)")
    args = p.parse_args(argv)
    if not 0 <= args.port <= 65535:
        p.error(f"--port must be in 0..65535, got {args.port}")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import torch
    from werkzeug.serving import make_server

    vae, _ = studio_mod.load_vae(args.weights, log=lambda m: print(m, flush=True))
    if args.prepare:
        return 0
    torch.set_num_threads(args.threads)
    import sqlite3
    try:
        os.makedirs(os.path.dirname(os.path.abspath(args.db)), exist_ok=True)
        store = Store(args.db)
    except (OSError, sqlite3.Error) as e:
        sys.exit(f"server.py: cannot open the session database {args.db}: {e}")
    app = create_app(store, studio_mod.Studio(vae))
    if args.quiet:
        import logging
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        server = make_server(args.host, args.port, app, threaded=True)
    except (OSError, OverflowError) as e:
        sys.exit(f"server.py: cannot listen on {args.host}:{args.port}: {e}")
    # the first line tells scripts (and tests) where it listens
    print(f"listening on http://{args.host}:{server.server_port}/ (database {args.db}, "
          f"pid {os.getpid()})", flush=True)
    t0 = time.time()
    if args.lifetime > 0:
        import threading
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
