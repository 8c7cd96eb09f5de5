"""Shared pieces of the web studio's tests: start a server process, talk to it over HTTP.

Servers listen on 127.0.0.1 on a free port and stop by themselves (--lifetime), so a crashed
test never leaves one behind for long.
"""

import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir))
SERVER = os.path.join(TREE, "examples", "web", "server.py")
OUT = os.environ.get("WEB_TEST_OUT", os.path.join(TREE, "build", "web-test"))
LIFETIME = 300  # seconds a test server lives at most

sys.path.insert(0, os.path.join(TREE, "examples", "web"))


class Server:
    """A server.py process on ``db``; ``port`` 0 picks a free one."""

    def __init__(self, db, port=0, name="server", limits="", args=()):
        self.db, self.name = db, name
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", OMP_WAIT_POLICY="PASSIVE",
                   OPENBLAS_NUM_THREADS="1")
        os.makedirs(OUT, exist_ok=True)
        self.log_path = os.path.join(OUT, f"{name}.log")
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, "--db", db, "--port", str(port), "--quiet",
             "--lifetime", str(LIFETIME), "--limits", limits] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        lines = queue.Queue()
        threading.Thread(target=self._pump, args=(lines,), daemon=True).start()
        deadline = time.monotonic() + 120  # the first start may train the model (~20 s)
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise RuntimeError(f"{name}: no 'listening on' line within 120 s")
            if line is None:
                raise RuntimeError(f"{name}: exited early; see {self.log_path}")
            m = re.match(r"listening on http://127\.0\.0\.1:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                self.url = f"http://127.0.0.1:{self.port}"
                return

    def _pump(self, lines):
        with open(self.log_path, "a") as log:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                lines.put(line)
        lines.put(None)

    def kill(self):
        """SIGKILL: the harshest stop, nothing gets flushed on the way out."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Client:
    """One user: a keep-alive connection and the session cookie."""

    def __init__(self, port, sid=None):
        self.port = port
        self.sid = sid
        self.conn = None

    def request(self, method, path, body=None, raw=None, headers=None):
        """(status, headers dict, body bytes). ``body`` is sent as JSON, ``raw`` as is (both
        as application/json unless ``headers`` says otherwise)."""
        extra, headers = headers or {}, {}
        if self.sid is not None:
            headers["Cookie"] = f"dss_session={self.sid}"
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        if data is not None:
            headers["Content-Type"] = "application/json"
        headers.update(extra)
        for attempt in (0, 1):  # a keep-alive connection the server closed: reconnect once
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                payload = r.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        m = re.search(r"dss_session=([^;]+)", hdrs.get("set-cookie", ""))
        if m:
            self.sid = m.group(1)
        return r.status, hdrs, payload

    def json(self, method, path, body=None, raw=None, headers=None):
        status, _, payload = self.request(method, path, body, raw, headers)
        return status, json.loads(payload)

    def start(self):
        """A new session (POST /api/session): (status, state)."""
        return self.json("POST", "/api/session", {})

    def close(self):
        if self.conn is not None:
            self.conn.close()


def studio():
    """The server's model in this process (for replays): torch with 1 thread, like the server."""
    import torch
    import studio as studio_mod
    torch.set_num_threads(1)
    vae, _ = studio_mod.load_vae()
    torch.set_num_threads(1)
    return studio_mod, studio_mod.Studio(vae)


class Gunicorn:
    """gunicorn (Debian's, through /usr/bin/python3 -m gunicorn) with examples/web's config on
    ``db`` (a SQLite path or a postgresql:// URL), in its own process group: ``kill`` is a
    SIGKILL of the master and its workers at once, like a machine lost. Stops by itself
    after LIFETIME seconds (DSS_WEB_LIFETIME)."""

    CONF = os.path.join(TREE, "examples", "web", "gunicorn.conf.py")

    def __init__(self, db, port=0, name="gunicorn", workers=2, threads=4, limits="",
                 read_timeout=10):
        self.db, self.name, self.workers = db, name, workers
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", OMP_WAIT_POLICY="PASSIVE",
                   OPENBLAS_NUM_THREADS="1", DSS_WEB_DB=db,
                   DSS_WEB_BIND=f"127.0.0.1:{port}", DSS_WEB_WORKERS=str(workers),
                   DSS_WEB_THREADS=str(threads), DSS_WEB_LIMITS=limits,
                   DSS_WEB_READ_TIMEOUT=str(read_timeout), DSS_WEB_LIFETIME=str(LIFETIME))
        os.makedirs(OUT, exist_ok=True)
        self.log_path = os.path.join(OUT, f"{name}.log")
        self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", self.CONF],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env, text=True, start_new_session=True, cwd=OUT)
        lines = queue.Queue()
        threading.Thread(target=Server._pump, args=(self, lines), daemon=True).start()
        deadline = time.monotonic() + 120
        ready = 0
        self.port = None
        while ready < workers:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise RuntimeError(f"{name}: {ready} of {workers} workers ready in 120 s")
            if line is None:
                raise RuntimeError(f"{name}: exited early; see {self.log_path}")
            m = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                self.url = f"http://127.0.0.1:{self.port}"
            ready += len(re.findall(r"dss-web: worker \d+ ready", line))

    def pids(self):
        """The master's and the workers' process ids."""
        out = subprocess.run(["pgrep", "-g", str(self.proc.pid)], stdout=subprocess.PIPE,
                             text=True).stdout
        return [int(p) for p in out.split()]

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        try:  # workers left behind by a killed master
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
