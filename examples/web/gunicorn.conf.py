"""gunicorn configuration of the slider studio (Debian's gunicorn 20.1):

    DSS_WEB_DB=postgresql:///dss?host=/run/postgresql \
        gunicorn -c examples/web/gunicorn.conf.py

serves examples/web/wsgi.py's `application` with threaded workers. Settings from the
environment: DSS_WEB_BIND (127.0.0.1:8000), DSS_WEB_WORKERS (2: one per core), DSS_WEB_THREADS
(8 per worker), DSS_WEB_READ_TIMEOUT (10 s, gworker.py), DSS_WEB_ACCESS_LOG (a file, or - for
stderr; none by default), DSS_WEB_LIFETIME (stop after so many seconds: tests); the
application's own settings (database, limits, proxies) are in wsgi.py. docs/web.md describes
the deployment behind a proxy.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))

wsgi_app = "wsgi:application"
pythonpath = HERE
bind = os.environ.get("DSS_WEB_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("DSS_WEB_WORKERS", "2"))
threads = int(os.environ.get("DSS_WEB_THREADS", "8"))
worker_class = "gworker.ThreadWorker"   # gthread, idle connections hold no thread (gworker.py)
worker_connections = 1000               # open connections per worker (idle ones hold no
                                        # thread); beyond, they wait in the backlog
backlog = 512
timeout = 30                            # a worker stuck for 30 s is killed and replaced
graceful_timeout = 20
keepalive = 5                           # seconds an idle (or new, silent) connection is kept
limit_request_line = 4094               # longer: 414 (JSON, gworker.py)
limit_request_fields = 50
limit_request_field_size = 8190
max_requests = 20000                    # recycle a worker now and then (memory)
max_requests_jitter = 2000
preload_app = False                     # each worker loads torch and the model after the fork
forwarded_allow_ips = os.environ.get("DSS_WEB_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("DSS_WEB_ACCESS_LOG") or None
errorlog = "-"
loglevel = "info"
proc_name = "dss-web"


def when_ready(server):
    lifetime = float(os.environ.get("DSS_WEB_LIFETIME", "0"))
    if lifetime > 0:  # tests: the server stops by itself
        import signal
        import threading
        timer = threading.Timer(lifetime, os.kill, (os.getpid(), signal.SIGTERM))
        timer.daemon = True
        timer.start()
