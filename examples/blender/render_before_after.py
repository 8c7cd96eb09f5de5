"""Render the before/after image of docs/blender.md (make blender-render).

    blender -b --factory-startup --python examples/blender/render_before_after.py -- \
        [--python-dir <libdss tree>/python] [--out docs/blender-before-after.png]

The simulated artist of the tests (seed 0): from all-zero shape keys, 30 slider releases
picked by a line search on the distance to a hidden target. Four icospheres, left to right:
the start, 30 steps along random directions, 30 steps with the add-on's directions, the
target. Rendered with Workbench when this Blender can make an OpenGL context headless, else
with Cycles on the CPU (which needs none).
"""

import math
import os
import sys

import bpy
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
opts = {argv[i].lstrip("-"): argv[i + 1] for i in range(0, len(argv) - 1, 2)}
if opts.get("python-dir"):
    sys.path.insert(0, opts["python-dir"])
sys.path.insert(0, HERE)
OUT = os.path.abspath(opts.get("out", "blender-before-after.png"))

import dss_sliders  # noqa: E402
import scene  # noqa: E402

dss_sliders.register()
ico = scene.build()
for name in ("Blob", "Cut", "Plain"):
    bpy.data.objects.remove(bpy.data.objects[name])
p = ico.dss_sliders
kbs = ico.data.shape_keys.key_blocks[1:]


def set_keys(values):
    for kb, v in zip(kbs, values):
        kb.value = v
    bpy.context.view_layer.update()


def snapshot(label, x):
    """A static copy of the evaluated icosphere, placed at x, with a caption below it."""
    dg = bpy.context.evaluated_depsgraph_get()
    me = bpy.data.meshes.new_from_object(ico.evaluated_get(dg))
    obj = bpy.data.objects.new(label, me)
    obj.location = (x, 0.0, 0.0)
    bpy.context.collection.objects.link(obj)
    for poly in me.polygons:
        poly.use_smooth = True
    font = bpy.data.curves.new(label + " text", 'FONT')
    font.body, font.align_x, font.size = label, 'CENTER', 0.32
    text = bpy.data.objects.new(label + " text", font)
    text.location = (x, -1.0, -1.55)
    text.rotation_euler = (math.pi / 2, 0.0, 0.0)
    bpy.context.collection.objects.link(text)


def artist(sampler, target):
    set_keys(np.zeros(len(kbs)))
    p.sampler, p.seed = sampler, 0
    bpy.ops.dss.start()
    s = dss_sliders.session.get(ico)
    line = s.dss.LineSearch(samples=65, refine=True, goal="minimize")
    # the line search scores the session's f: with the compact factor (shape keys), R y(z),
    # whose distances are the mesh's (docs/blender.md), so the target is f at its latent point
    goal = s.model.generate(z_target[None, :])[0] if s.space.compact else target
    for _ in range(30):
        t, _ = line.find_optimal(s.search, lambda x: np.linalg.norm(x - goal, axis=1))
        p.slider = 2.0 * t - 1.0
        bpy.ops.dss.accept()
    return np.linalg.norm(positions() - target.reshape(-1, 3))


def positions():
    dg = bpy.context.evaluated_depsgraph_get()
    me = ico.evaluated_get(dg).data
    x = np.empty(3 * len(me.vertices))
    me.vertices.foreach_get("co", x)
    return x.reshape(-1, 3)


rng = np.random.default_rng(100)
lo = np.array([kb.slider_min for kb in kbs])
hi = np.array([kb.slider_max for kb in kbs])
values = rng.uniform(lo, hi)
z_target = 2.0 * (values - lo) / (hi - lo) - 1.0
set_keys(values)
target = positions().ravel().copy()
snapshot("target", 4.5)
set_keys(np.zeros(len(kbs)))
start = np.linalg.norm(positions().ravel() - target)
snapshot(f"start\ndistance {start:.2f}", -4.5)
d_rnd = artist("random", target)
snapshot(f"30 random\ndistance {d_rnd:.2f}", -1.5)
d_dss = artist("singular", target)
snapshot(f"30 add-on\ndistance {d_dss:.2f}", 1.5)
ico.hide_render = True

sc = bpy.context.scene
cam = bpy.data.objects["Camera"]
cam.location, cam.rotation_euler = (0.0, -13.0, -0.45), (math.pi / 2, 0.0, 0.0)
cam.data.type, cam.data.ortho_scale = 'ORTHO', 12.0
sc.render.resolution_x, sc.render.resolution_y = 1200, 420
sc.render.filepath = OUT
light = bpy.data.objects["Light"]
light.data.type, light.data.energy = 'SUN', 4.0
light.rotation_euler = (0.9, 0.2, -0.5)
sc.world = sc.world or bpy.data.worlds.new("World")
sc.world.color = (0.8, 0.8, 0.82)
sc.render.engine = 'BLENDER_WORKBENCH'
try:
    bpy.ops.render.render(write_still=True)
    engine = "Workbench"
except RuntimeError as exc:
    print(f"Workbench failed headless ({exc}); using Cycles on the CPU")
    sc.render.engine = 'CYCLES'
    sc.cycles.device, sc.cycles.samples = 'CPU', 32
    sc.world.use_nodes = True
    sc.world.node_tree.nodes["Background"].inputs[0].default_value = (0.8, 0.8, 0.82, 1.0)
    bpy.ops.render.render(write_still=True)
    engine = "Cycles"
print(f"wrote {OUT} ({engine}); distances: start {start:.3f}, random {d_rnd:.3f}, "
      f"add-on {d_dss:.3f}")
