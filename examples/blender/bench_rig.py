"""The add-on on a face rig (examples/blender/rig.py): how far a simulated artist gets with each
kind of slider direction, and what an Accept costs with the full and the compact Jacobian.

    blender -b --factory-startup --python examples/blender/bench_rig.py -- \\
        --python-dir <libdss tree>/python [--level 1] [--targets 16] [--accepts 30] \\
        [--methods singular,once,order,random] [--out FILE.json] [--scene ico]
    ... bench_rig.py -- --python-dir ... --scale 1 --level 4 --compact 0|1 [--repeats 12]

Artist mode (default). Hidden targets: key values uniform in each key's range (seed 1000 + i
for target i). From all-zero keys, the artist moves the slider to the point closest to the
target mesh (101 slider positions t, then a golden-section refinement over the best cell;
the distance is the Euclidean norm over all vertex coordinates, from the rig's own linear
model of the keys, rig.deltas()), releases it there and presses Accept (bpy.ops.dss.accept),
`accepts` times. Directions ("methods", the add-on's Directions choices, session.DIRECTIONS):
singular (the paper's importance sampling), once (with DSS_SEARCH_KEEP_SHOWN), order (the
singular directions in singular-value order, each once, cycling), random (uniformly random);
a name with "+" adds libdss 1.1's recommended slider (DSS_RADIUS_ADAPTIVE and
DSS_SEARCH_STALL_COMMITS = 4), e.g. "once+".
The add-on's seed is the target's index. Prints, at 10, 15 and 30 Accepts, the median and
geometric mean of the ratios of distances (baseline / method) with 95 % bootstrap intervals
over targets (10 000 resamples, seed 0), and the count of targets where the method is closer.
The final distances are checked against Blender's evaluated mesh. --scene ico: the same on
the add-on's test scene (scene.py's 20-key icosphere) instead of the rig; --regions 0 makes
its keys 20 independent bumps.

Scale mode (--scale 1): Start, then `repeats` Accepts at fixed slider positions, and slider
moves; prints the median Accept time (the operator: the commit job, saving the session, showing
the new centre; then the job and the saving alone, `repeats` times each), the median slider-move time (the panel's update
callback: point, key values, depsgraph update) and Blender's own time for one key's value
and the update, and for an undo step after a key value changed, libdss's bytes held and peak bytes
(Search.stat), and the process's resident memory (VmRSS, VmHWM) after Start and at the end.
One configuration per Blender process, so that the resident memory is its own.
"""

import json
import os
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

import dss_sliders  # noqa: E402 - from this tree, after sys.path is set
import rig  # noqa: E402

LEVEL = int(opts.get("level", 1))
TARGETS = int(opts.get("targets", 16))
ACCEPTS = int(opts.get("accepts", 30))
METHODS = opts.get("methods", "singular,once,order,random").split(",")
CHECKPOINTS = [c for c in (10, 15, 30) if c <= ACCEPTS]
session = dss_sliders.session
space_mod = dss_sliders.space
for _m in METHODS:      # "name+": the add-on's choice plus libdss 1.1's recommended slider
    if _m.endswith("+"):            # (DSS_RADIUS_ADAPTIVE, DSS_SEARCH_STALL_COMMITS = 4)
        session.DIRECTIONS[_m] = dict(session.DIRECTIONS[_m[:-1]], radius_policy="adaptive",
                                      stall_commits=4)


def proc_kb(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def header():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(l.split(":", 1)[1].strip() for l in fh if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"machine: {cpu}, {os.cpu_count()} cores; Blender {bpy.app.version_string}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '')}")


def clear():
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj)


def evaluated(obj):
    dg = bpy.context.evaluated_depsgraph_get()
    me = obj.evaluated_get(dg).data
    x = np.empty(3 * len(me.vertices))
    me.vertices.foreach_get("co", x)
    return x


def set_values(obj, values):
    kbs = obj.data.shape_keys.key_blocks
    for kb, v in zip(kbs[1:], values):
        kb.value = v
    bpy.context.view_layer.update()


def start(obj, method, seed, reach=1.5):
    """A new session on obj, as the Start button makes it, with `method`'s directions."""
    p = obj.dss_sliders
    p.seed, p.reach = seed, reach
    s = session.create(obj, 'SHAPE_KEYS', "", seed, method, reach)
    s.run("start")
    p.iteration = 0
    s.store(obj)
    p.slider = 0.0
    return s


class Artist:
    """The simulated artist on the rig's linear model: G = D D^T (keys x keys), so that the
    squared mesh distance of key values v to the target's vt is (v - vt) G (v - vt)."""

    def __init__(self, obj, D):
        self.obj = obj
        self.G = D @ D.T
        self.z = None

    def dist(self, s, ts, vt):
        out = np.empty(len(ts))
        z = np.empty(s.space.n)
        for j, t in enumerate(ts):
            s.search.point(float(t), out=z)
            dv = s.space.values(z) - vt
            out[j] = np.sqrt(max(0.0, dv @ self.G @ dv))
        return out

    def choose(self, s, vt):
        """The slider position t in [0, 1] closest to the target: 101 positions, then a
        golden-section search over the best one's neighbours."""
        grid = np.linspace(0.0, 1.0, 101)
        d = self.dist(s, grid, vt)
        k = int(np.argmin(d))
        a, b = grid[max(0, k - 1)], grid[min(100, k + 1)]
        g = (np.sqrt(5.0) - 1.0) / 2.0
        c, e = b - g * (b - a), a + g * (b - a)
        fc, fe = self.dist(s, [c, e], vt)
        for _ in range(40):
            if fc < fe:
                b, e, fe = e, c, fc
                c = b - g * (b - a)
                fc = self.dist(s, [c], vt)[0]
            else:
                a, c, fc = c, e, fe
                e = a + g * (b - a)
                fe = self.dist(s, [e], vt)[0]
        t, dt = (c, fc) if fc < fe else (e, fe)
        return (t, dt) if dt < d[k] else (float(grid[k]), float(d[k]))

    def run(self, method, seed, vt):
        """Distances after 0..ACCEPTS Accepts from all-zero keys; the indices shown."""
        obj = self.obj
        set_values(obj, np.zeros(len(vt)))
        s = start(obj, method, seed)
        p = obj.dss_sliders
        z = np.empty(s.space.n)
        s.search.center(out=z)
        dv = s.space.values(z) - vt
        out = [np.sqrt(dv @ self.G @ dv)]
        shown = [int(s.search.basis_indices()[0])]
        for _ in range(ACCEPTS):
            t, d = self.choose(s, vt)
            p.slider = 2.0 * t - 1.0                   # the release point, as a drag sets it
            assert bpy.ops.dss.accept() == {'FINISHED'}, p.error
            out.append(d)
            shown.append(int(s.search.basis_indices()[0]))
        return np.array(out), shown, s


def boot_ci(r, stat, rng, reps=10000):
    idx = rng.integers(0, len(r), size=(reps, len(r)))
    vals = stat(r[idx])
    return np.percentile(vals, [2.5, 97.5])


def gmean(x, axis=-1):
    return np.exp(np.mean(np.log(x), axis=axis))


def artist_mode():
    header()
    clear()
    if opts.get("scene") == "ico":        # the add-on's test scene (scene.py) instead
        import scene
        obj = scene.add_icosphere(regions=int(opts.get("regions", scene.REGIONS)))
    else:
        obj = rig.build(LEVEL)
    D = rig.deltas(obj)
    kbs = obj.data.shape_keys.key_blocks[1:]
    lo = np.array([kb.slider_min for kb in kbs])
    hi = np.array([kb.slider_max for kb in kbs])
    sv = np.linalg.svd(D * (0.5 * (hi - lo))[:, None], compute_uv=False)
    what = ("the test scene's icosphere" if opts.get("scene") == "ico" else
            f"rig: Suzanne, subdivision level {LEVEL}")
    print(f"{what}: {len(obj.data.vertices)} vertices, "
          f"n = {len(kbs)} keys; singular values of the Jacobian "
          f"{sv[0]:.3g} .. {sv[-1]:.3g} (condition {sv[0] / sv[-1]:.3g})")
    print(f"artist: {TARGETS} targets, {ACCEPTS} Accepts, methods {', '.join(METHODS)}")
    artist = Artist(obj, D)
    dist = {m: [] for m in METHODS}
    repeats = {m: [] for m in METHODS}
    t0 = time.perf_counter()
    worst_check = 0.0
    for i in range(TARGETS):
        vt = np.random.default_rng(1000 + i).uniform(lo, hi)
        set_values(obj, vt)
        target = evaluated(obj).copy()
        line = f"target {i:2d}:"
        for m in METHODS:
            d, shown, s = artist.run(m, i, vt)
            # the model's distance against Blender's evaluated mesh (float32 coordinates)
            worst_check = max(worst_check, abs(np.linalg.norm(evaluated(obj) - target) - d[-1]))
            dist[m].append(d)
            # shown twice within the first n + 1 directions (the start's and n Accepts')
            first = shown[:len(vt)]
            repeats[m].append(len(first) - len(set(first)) if shown[0] >= 0 else -1)
            line += f" {m} {d[-1]:.3g}"
            session.drop(obj)
        print(line, flush=True)
    print(f"({time.perf_counter() - t0:.0f} s; largest difference between the model's "
          f"final distance and Blender's evaluated mesh: {worst_check:.2e})")
    res = {"level": LEVEL, "vertices": len(obj.data.vertices), "targets": TARGETS,
           "accepts": ACCEPTS, "distances": {m: np.array(v).tolist() for m, v in dist.items()},
           "repeats": repeats}
    report(dist, repeats)
    if opts.get("out"):
        with open(opts["out"], "w") as fh:
            json.dump(res, fh)


def report(dist, repeats):
    rng = np.random.default_rng(0)
    dist = {m: np.array(v) for m, v in dist.items()}
    print("\nmedian distance to the target (all targets):")
    print("  Accepts  " + "  ".join(f"{m:>10s}" for m in dist))
    for c in [0] + CHECKPOINTS:
        print(f"  {c:7d}  " + "  ".join(f"{np.median(dist[m][:, c]):10.4g}" for m in dist))
    for base in ("random", "order", "singular"):
        if base not in dist:
            continue
        for m in dist:
            if m == base:
                continue
            for c in CHECKPOINTS:
                r = dist[base][:, c] / dist[m][:, c]
                med, gm = np.median(r), gmean(r)
                cm = boot_ci(r, lambda x: np.median(x, axis=1), rng)
                cg = boot_ci(r, lambda x: gmean(x, axis=1), rng)
                print(f"{base:>8s}/{m:<8s} after {c:2d}: median {med:6.3g} "
                      f"[{cm[0]:.3g}, {cm[1]:.3g}]  geometric mean {gm:6.3g} "
                      f"[{cg[0]:.3g}, {cg[1]:.3g}]  {m} closer on {int(np.sum(r > 1))}/{len(r)}")
    for m, rep in repeats.items():
        print(f"{m}: directions shown twice among the first n: "
              f"{'n/a (random)' if min(rep) < 0 else rep}")


def scale_mode():
    header()
    compact = bool(int(opts.get("compact", "1")))
    repeats = int(opts.get("repeats", 12))
    space_mod.COMPACT = compact
    clear()
    obj = rig.build(LEVEL)
    bpy.context.view_layer.objects.active = obj
    rss0 = proc_kb("VmRSS")
    t0 = time.perf_counter()
    s = start(obj, opts.get("method", "singular"), 0)
    t_start = time.perf_counter() - t0
    rss1 = proc_kb("VmRSS")
    p = obj.dss_sliders
    ts = np.random.default_rng(0).uniform(0.1, 0.9, repeats)
    times = []
    for t in ts:
        p.slider = 2.0 * t - 1.0
        t0 = time.perf_counter()
        assert bpy.ops.dss.accept() == {'FINISHED'}, p.error
        times.append(time.perf_counter() - t0)
    jobs, stores, shows = [], [], []      # the parts: libdss's job, saving, showing the centre
    for t in ts:
        t0 = time.perf_counter()
        s.run(f"commit:{float(t)!r}")
        jobs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        s.store(obj)
        stores.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        s.show(0.0)
        shows.append(time.perf_counter() - t0)
    moves = []
    for v in np.random.default_rng(1).uniform(-1, 1, 50):
        t0 = time.perf_counter()
        p.slider = v
        moves.append(time.perf_counter() - t0)
    native = []                           # Blender alone: one key's value and the update
    kb = obj.data.shape_keys.key_blocks[1]
    for v in np.random.default_rng(2).uniform(0, 1, 20):
        t0 = time.perf_counter()
        kb.value = v
        bpy.context.view_layer.update()
        native.append(time.perf_counter() - t0)
    pushes = []                           # Blender's undo step after a key value changed
    for v in np.random.default_rng(3).uniform(0, 1, 8):
        kb.value = v
        t0 = time.perf_counter()
        bpy.ops.ed.undo_push(message="bench")
        pushes.append(time.perf_counter() - t0)
    print(f"rig level {LEVEL}: {len(obj.data.vertices)} vertices, n = {s.space.n}, "
          f"libdss's m = {s.space.model_m} ({'compact factor R' if compact else 'full Jacobian'})")
    print(f"  Start (reads the keys and groups{', QR' if compact else ''}, first SVD): "
          f"{t_start * 1e3:.0f} ms")
    print(f"  Accept: median {np.median(times) * 1e3:.1f} ms over {repeats} "
          f"(min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f})")
    print(f"    of which the commit job (Jacobian request answered, SVD, draw): median "
          f"{np.median(jobs) * 1e3:.1f} ms; saving the session into the object: median "
          f"{np.median(stores) * 1e3:.1f} ms; showing the new centre (key values, update): "
          f"median {np.median(shows) * 1e3:.1f} ms")
    print(f"  slider move: median {np.median(moves) * 1e3:.2f} ms over {len(moves)}")
    print(f"  Blender alone (one key's value set, view layer updated): median "
          f"{np.median(native) * 1e3:.2f} ms over {len(native)}")
    print(f"  Blender's undo step (Accept is registered with UNDO) after one key value "
          f"changed: median {np.median(pushes) * 1e3:.1f} ms over {len(pushes)}")
    print(f"  libdss: bytes held {s.search.stat('bytes_held')}, peak bytes "
          f"{s.search.stat('peak_bytes')}")
    print(f"  process: VmRSS before Start {rss0 // 1024} MB, after Start {rss1 // 1024} MB, "
          f"at the end {proc_kb('VmRSS') // 1024} MB, peak (VmHWM) {proc_kb('VmHWM') // 1024} MB")


dss_sliders.register()
try:
    if opts.get("scale", "0") != "0":
        scale_mode()
    else:
        artist_mode()
finally:
    dss_sliders.unregister()
