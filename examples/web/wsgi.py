"""The slider studio as a WSGI application, for a production server:

    gunicorn -c examples/web/gunicorn.conf.py          # wsgi:application, see that file

Configured by the environment (each process reads it when it imports this module):

    DSS_WEB_DB             the session database: postgresql://... (libpq URI) or a SQLite file
                           (default build/web/sessions.sqlite3: one machine only)
    DSS_WEB_WEIGHTS        the VAE's weights (default build/web/<model tag>.pt); they must exist:
                           train them once with `examples/web/server.py --prepare` (make web)
    DSS_WEB_LIMITS         name=value,... over server.LIMITS (rates, caps, expiry, undo steps)
    DSS_WEB_ORIGINS        comma-separated origins (https://studio.example) allowed to change
                           state besides the request's own (behind a proxy that rewrites Host)
    DSS_WEB_PROXIES        how many proxies in front set X-Forwarded-For/-Proto/-Host (0): the
                           client address for the limits, and the scheme and host of the origin
    DSS_WEB_SECURE_COOKIE  1: the session cookie is Secure (the site is served over HTTPS)
    DSS_WEB_BATCH_MS       > 0: decode concurrent requests' images in one forward pass, waiting
                           at most this many milliseconds for the others (0)

Every worker process loads the decoder (~1 s) and opens its own connections; the session
state lives only in the database, so any worker of any machine serves any request.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # requests run in parallel threads instead

import server  # noqa: E402
import studio as studio_mod  # noqa: E402


def create_application(environ=os.environ):
    import torch
    db = environ.get("DSS_WEB_DB") or os.path.join(studio_mod.TREE, "build", "web",
                                                   "sessions.sqlite3")
    weights = environ.get("DSS_WEB_WEIGHTS") or studio_mod.default_weights()
    if not os.path.exists(weights):  # never train in N workers at once
        raise SystemExit(f"wsgi.py: no model weights at {weights}: run "
                         "`examples/web/server.py --prepare` (or make web) once")
    limits = server.parse_limits(environ.get("DSS_WEB_LIMITS", ""))
    vae, _ = studio_mod.load_vae(weights, log=lambda m: None)
    torch.set_num_threads(1)
    store = server.open_db(db, int(limits["undo_limit"]))
    origins = [o.strip() for o in environ.get("DSS_WEB_ORIGINS", "").split(",") if o.strip()]
    app = server.create_app(store, studio_mod.Studio(vae), limits, origins=origins,
                            secure_cookie=environ.get("DSS_WEB_SECURE_COOKIE") == "1",
                            batch_ms=float(environ.get("DSS_WEB_BATCH_MS", "0")))
    proxies = int(environ.get("DSS_WEB_PROXIES", "0"))
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,
                                x_host=proxies)
    # one write (atomic on a pipe): the workers' lines never interleave
    os.write(2, f"dss-web: worker {os.getpid()} ready ({store.kind} store)\n".encode())
    return app


application = create_application()
