#!/usr/bin/env python3
"""The gallery mode's latency: how long a whole g x g grid of previews takes.

    make lib && OPENBLAS_NUM_THREADS=1 PYTHONPATH=python \\
        nice -n 10 /usr/bin/python3 examples/web/bench_gallery.py [--requests 200] [--g 5]

Starts examples/web/server.py on a throwaway SQLite file (or uses --url), starts a session,
switches it to the gallery mode, then asks GET /api/grid one request after another over a new
connection each (the server speaks HTTP/1.0, as a browser meets it), cycling over the whole
plane and zoomed squares, and then accepts cells (POST /api/accept_w, whose answer carries the
next grid). Prints the median, p95 and maximum of the client-measured time (connect, request,
the whole body) and of the server's own Server-Timing parts (app: the whole request inside
the server; points: point_w of each cell; decode: the one decoder call; png: the sprite's
encoding), and the load average before and after (the machine may be shared).

With --browser N it also drives the page in headless chromium (selenium; Debian's chromium,
chromium-driver, python3-selenium): N zooms in and out with the keys z and Esc, each timed by
the page itself from its request to the 25 cells drawn (window.studio.gridMs): the whole
round trip a person waits for, JSON parsing, the sprite's decoding and the drawing included.
"""

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def start_server(tmp, args):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", OMP_WAIT_POLICY="PASSIVE",
               OPENBLAS_NUM_THREADS="1")
    cmd = [sys.executable, os.path.join(HERE, "server.py"), "--db",
           os.path.join(tmp, "bench.sqlite3"), "--port", "0", "--quiet", "--lifetime", "900",
           "--limits", "client_rate=0,write_rate=0"]
    if args.batch_ms:
        cmd += ["--batch-ms", str(args.batch_ms)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            text=True)
    for line in proc.stdout:
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)/", line)
        if m:
            return proc, int(m.group(1))
    raise SystemExit("bench_gallery: the server did not start")


def call(port, method, path, sid=None, body=None):
    """(seconds, status, headers, payload) of one request on a new connection."""
    headers = {}
    if sid:
        headers["Cookie"] = f"dss_session={sid}"
    data = None if body is None else json.dumps(body)
    if data is not None:
        headers["Content-Type"] = "application/json"
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    payload = r.read()
    dt = time.perf_counter() - t0
    conn.close()
    return dt, r.status, {k.lower(): v for k, v in r.getheaders()}, payload


def timings(header):
    return {k: float(v) for k, v in re.findall(r"(\w+);dur=([0-9.]+)", header or "")}


def summary(name, values, unit="ms"):
    a = np.asarray(values, dtype=np.float64)
    print(f"  {name:<28} median {np.median(a):7.2f} {unit}   p95 {np.percentile(a, 95):7.2f} "
          f"{unit}   max {a.max():7.2f} {unit}   (n = {len(a)})")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=200, help="grid requests (200)")
    p.add_argument("--accepts", type=int, default=50, help="accepts of a cell (50)")
    p.add_argument("--g", type=int, default=5, help="the grid's size (5: 5 x 5)")
    p.add_argument("--warmup", type=int, default=10, help="requests not counted (10)")
    p.add_argument("--batch-ms", type=float, default=0.0, help="the server's --batch-ms")
    p.add_argument("--url", default=None, help="a running server (http://127.0.0.1:PORT)")
    p.add_argument("--browser", type=int, default=0,
                   help="zooms timed in headless chromium (0: none)")
    args = p.parse_args(argv)

    load0 = os.getloadavg()
    proc = None
    tmp = tempfile.mkdtemp(prefix="dss-bench-gallery-")
    if args.url:
        port = int(args.url.rstrip("/").rsplit(":", 1)[1])
    else:
        proc, port = start_server(tmp, args)
    try:
        _, status, headers, payload = call(port, "POST", "/api/session", body={})
        assert status == 201, payload
        sid = re.search(r"dss_session=([^;]+)", headers["set-cookie"]).group(1)
        _, status, _, payload = call(port, "POST", "/api/mode", sid,
                                     {"mode": "gallery", "version": 1})
        assert status == 200, payload
        version = json.loads(payload)["version"]
        views = [(0, 0, 1), (0.5, 0.5, 0.5), (-0.5, 0.25, 0.5), (0.25, -0.75, 0.25),
                 (0.125, 0.125, 0.125)]
        wall, parts, sizes = [], {}, []
        for i in range(args.warmup + args.requests):
            cx, cy, h = views[i % len(views)]
            dt, status, headers, payload = call(
                port, "GET", f"/api/grid?g={args.g}&cx={cx}&cy={cy}&h={h}&v={version}", sid)
            assert status == 200, payload
            if i < args.warmup:
                continue
            wall.append(1e3 * dt)
            sizes.append(len(payload))
            for k, v in timings(headers.get("server-timing")).items():
                parts.setdefault(k, []).append(v)
        accept_wall = []
        for i in range(args.accepts):
            _, _, _, payload = call(port, "GET", f"/api/grid?g={args.g}&v={version}", sid)
            w = json.loads(payload)["weights"][(7 * i + 3) % (args.g * args.g)]
            dt, status, _, payload = call(port, "POST", "/api/accept_w", sid,
                                          {"w": w, "version": version})
            assert status == 200, payload
            version = json.loads(payload)["version"]
            accept_wall.append(1e3 * dt)
        page_ms, page_net = [], []
        if args.browser:
            try:
                page_ms, page_net = browser_zooms(port, tmp, args.browser)
            except ImportError as e:
                print(f"bench_gallery: no browser measurement ({e}: apt-get install "
                      "python3-selenium chromium chromium-driver)")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    load1 = os.getloadavg()
    print(f"gallery {args.g} x {args.g}: {args.requests} grid requests, {args.accepts} "
          f"accepts; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"{os.cpu_count()} cores; server --batch-ms {args.batch_ms:g}")
    print(f"  load average before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, "
          f"after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    summary("GET /api/grid, end to end", wall)
    for k in ("app", "points", "decode", "png"):
        if k in parts:
            summary(f"  in the server: {k}", parts[k])
    summary("  response size", [s / 1024 for s in sizes], "kB")
    if accept_wall:
        summary("POST /api/accept_w (+ grid)", accept_wall)
    if page_ms:
        summary("zoom in the page (chromium)", page_ms)
        summary("  of which fetch + JSON", page_net)
    return 0


def browser_zooms(port, tmp, count):
    """The page's own times (ms) of ``count`` zooms (z, then Esc, alternately), in headless
    chromium on a session of its own."""
    import shutil
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    opts = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--window-size=1200,800",
                 f"--user-data-dir={os.path.join(tmp, 'profile')}"):
        opts.add_argument(flag)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")
                                              or "/usr/bin/chromedriver"), options=opts)

    def until(script, timeout=30):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if driver.execute_script(script):
                return
            time.sleep(0.01)
        raise SystemExit(f"bench_gallery: the page did not get there: {script}")
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        until("return window.studio.state && !document.body.dataset.busy")
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys("m")
        until("return window.studio.state.mode === 'gallery' && window.studio.grids > 0")
        driver.set_script_timeout(30)
        for i in range(count + 2):  # the first two are not counted
            done = len(driver.execute_script("return window.studio.gridMs"))
            body.send_keys("z" if i % 2 == 0 else Keys.ESCAPE)
            # wait inside the page (a timer every 20 ms), not by polling over WebDriver, whose
            # commands would take the page's main thread while it is being measured
            driver.execute_async_script(
                "const n = arguments[0], done = arguments[1]; const check = () => "
                "window.studio.gridMs.length > n ? done() : setTimeout(check, 20); check();",
                done)
            time.sleep(0.05)
        return (driver.execute_script("return window.studio.gridMs")[2:],
                driver.execute_script("return window.studio.gridNetMs")[2:])
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
