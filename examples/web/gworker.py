"""gunicorn's threaded worker (gthread, gunicorn 20.1 in Debian 12) with three changes for
the open web; gunicorn.conf.py selects it (worker_class = "gworker.ThreadWorker").

1. A new connection waits in the worker's poller until its first bytes arrive, like a
   kept-alive connection, instead of taking a thread at once: in gunicorn 20.1 every accepted
   connection holds a thread while it sends nothing, so `threads` idle connections stop the
   worker. An idle connection is closed after `keepalive` seconds.
2. A read timeout (DSS_WEB_READ_TIMEOUT, 10 s) on a connection being served: a client that
   sends half a request holds a thread that long at most.
3. gunicorn's own refusals (a request line over limit_request_line: 414; malformed requests:
   400) are JSON like the application's, with nosniff, instead of an HTML page.

A client that trickles bytes can still hold a thread for a while: on the open web, a buffering
proxy (nginx) in front receives whole requests before gunicorn sees them (docs/web.md).
"""

import errno
import json
import logging
import os
import selectors
import socket
from functools import partial

from gunicorn.http.errors import ForbiddenProxyRequest, LimitRequestLine
from gunicorn import util
from gunicorn.workers import gthread

READ_TIMEOUT = float(os.environ.get("DSS_WEB_READ_TIMEOUT", "10"))


class _QuietTimeouts(logging.Filter):
    """A timed-out read is the read timeout working: no traceback in the error log."""

    def filter(self, record):
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, socket.timeout)


class ThreadWorker(gthread.ThreadWorker):

    def init_process(self):
        self.log.error_log.addFilter(_QuietTimeouts())
        super().init_process()

    def accept(self, server, listener):
        try:
            sock, client = listener.accept()
        except EnvironmentError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        conn = gthread.TConn(self.cfg, sock, client, server)  # non-blocking
        self.nr_conns += 1
        conn.set_timeout()  # closed by murder_keepalived after `keepalive` s of silence
        with self._lock:
            self._keep.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ,
                                 partial(self.reuse_connection, conn))

    def enqueue_req(self, conn):
        conn.init()  # blocking from here on...
        conn.sock.settimeout(READ_TIMEOUT)  # ...but not for ever
        fs = self.tpool.submit(self.handle, conn)
        self._wrap_future(fs, conn)

    def handle_error(self, req, client, addr, exc):
        if isinstance(exc, LimitRequestLine):
            status, reason, code, msg = 414, "URI Too Long", "url_too_long", \
                "request URL too long"
        elif isinstance(exc, ForbiddenProxyRequest):
            status, reason, code, msg = 403, "Forbidden", "forbidden", "request forbidden"
        elif type(exc).__module__ == "gunicorn.http.errors":  # InvalidRequestLine, ...
            status, reason, code, msg = 400, "Bad Request", "bad_request", \
                f"malformed request ({type(exc).__name__})"
        else:
            if hasattr(req, "uri"):
                self.log.exception("Error handling request %s", req.uri)
            status, reason, code, msg = 500, "Internal Server Error", "internal", \
                "internal error"
        body = json.dumps({"error": msg, "code": code}).encode()
        head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
                "Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
        try:
            util.write_nonblock(client, head + body)
        except Exception:  # noqa: BLE001  (the client went away)
            self.log.debug("Failed to send error message.")
