"""Median add-on time of a slider move on the 20-key icosphere (make bench-blender).

    blender -b --factory-startup --python examples/blender/bench_slider.py -- \
        [--python-dir <libdss tree>/python] [--moves 2000]

A move is what the panel's slider does on every drag event: its update callback calls
dss.Search.point, writes the 20 shape key values and updates the dependency graph (the
evaluated mesh is then ready for the viewport's redraw, which is Blender's own time and not
counted). Also prints the three parts alone. Target: under 5 ms.
"""

import os
import platform
import sys
import time

import bpy
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
opts = {argv[i].lstrip("-"): argv[i + 1] for i in range(0, len(argv) - 1, 2)}
if opts.get("python-dir"):
    sys.path.insert(0, opts["python-dir"])
sys.path.insert(0, HERE)
MOVES = int(opts.get("moves", 2000))

import dss_sliders  # noqa: E402 - from this tree, after sys.path is set
import scene  # noqa: E402

dss_sliders.register()
ico = scene.build()
bpy.ops.dss.start()
s = dss_sliders.session.get(ico)
p = ico.dss_sliders
rng = np.random.default_rng(0)
positions = rng.uniform(-1.0, 1.0, MOVES)
vl = bpy.context.view_layer


def median_ms(fn):
    times = np.empty(MOVES)
    for i, v in enumerate(positions):
        t0 = time.perf_counter()
        fn(v)
        times[i] = time.perf_counter() - t0
    return 1e3 * np.median(times), 1e3 * np.percentile(times, 90)


def move(v):
    p.slider = v


z = np.empty(s.space.n)


def point(v):
    s.search.point((v + 1) * 0.5, out=z)


def apply(v):
    s.space.apply(s.search.point((v + 1) * 0.5), update=False)


def update(v):
    s.space.apply(s.search.point((v + 1) * 0.5), update=False)
    t0 = time.perf_counter()
    vl.update()
    return time.perf_counter() - t0


def update_only():
    times = np.empty(MOVES)
    for i, v in enumerate(positions):
        times[i] = update(v)
    return 1e3 * np.median(times), 1e3 * np.percentile(times, 90)


cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
            if line.startswith("model name")), platform.processor())
print(f"machine: {cpu}, {os.cpu_count()} cores; Blender {bpy.app.version_string}; "
      f"libdss {s.dss.version()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
print(f"icosphere: {s.space.m // 3} vertices, n = {s.space.n} shape keys; {MOVES} moves")
move(0.0)
for name, res in (("slider move (update callback: point + keys + depsgraph)", median_ms(move)),
                  ("  dss.Search.point alone", median_ms(point)),
                  ("  point + writing the 20 key values", median_ms(apply)),
                  ("  depsgraph update alone", update_only())):
    print(f"{name:58s} median {res[0]:.3f} ms   p90 {res[1]:.3f} ms")
