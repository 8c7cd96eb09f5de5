"""Blender process: finite differences through Geometry Nodes respect float32 (issue 21 item 2).

The scene, built here: a column (21 rings of 16 vertices, z in [-1.5, 1.5]) under a Geometry
Nodes group with n = 11 inputs: Twist (rotation about z by Twist * z), Taper (x, y scaled by
1 + Taper * z), Bend (x += Bend * z^2), Noise and Noise scale (a 3D Perlin noise at the
original position, scaled: p += Noise * (color - 0.5)), Scale (vector) and Offset (vector), all
at the middle of their ranges (z = 0, so libdss's step is h = sqrt(FLT_EPSILON) = 3.45e-4 in z).

The oracle: central differences of the same evaluation with a large step H = 1e-2 (in z), 29
times the add-on's, so rounding is 29x smaller relative to the step, and its truncation error
(H^2 / 6) f''' is estimated by Richardson: e_oracle ~ (4/3) |J_H - J_{H/2}| (the difference of
two central schemes whose error scales as H^2).

The tolerance for the add-on's forward differences, column i (Weyl: every singular value
moves by at most ||E||_2 <= ||E||_F):
  truncation   (h / 2) ||f''_i||, f''_i from the oracle's second differences at step H
               (taken twice, as f'' varies over [c, c + h] and the estimate has error O(H^2));
  rounding     each output coordinate is within k u X of exact in both evaluations (u = eps/2,
               X the largest |coordinate|, k = 32: about 20 float32 operations from socket to
               position, the noise's own small share scaled by Noise <= 0.2), so an entry errs
               by at most 2 k u X / h = k eps X / h, a column by sqrt(m) times that;
  the stored step  the stepped socket value v + dv is stored in float32, so dv errs by up to
               2 u max|v| (both values rounded), relatively 4 u max|v| / ((hi - lo) h).
||E||_F <= sqrt(sum_i col_i^2) + ||E_oracle||_F. With double precision's step (1.5e-8) the same
differences are rounding noise, far above the bound (checked, and printed).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpy
import numpy as np

import common
from common import check

a = common.args()
addon = common.enable_addon(a)
session = addon.session
EPS = float(np.finfo(np.float32).eps)
U = EPS / 2

# ---- the column and its node group --------------------------------------------------------
for o in list(bpy.data.objects):
    bpy.data.objects.remove(o)
S, R = 16, 21
ang = 2 * np.pi * np.arange(S) / S
verts = [(0.5 * np.cos(t), 0.5 * np.sin(t), z) for z in np.linspace(-1.5, 1.5, R) for t in ang]
faces = [(r * S + j, r * S + (j + 1) % S, (r + 1) * S + (j + 1) % S, (r + 1) * S + j)
         for r in range(R - 1) for j in range(S)]
me = bpy.data.meshes.new("Column")
me.from_pydata(verts, [], faces)
col = bpy.data.objects.new("Column", me)
bpy.context.scene.collection.objects.link(col)
bpy.context.view_layer.objects.active = col

ng = bpy.data.node_groups.new("ColumnNodes", "GeometryNodeTree")
ng.inputs.new("NodeSocketGeometry", "Geometry")
ng.outputs.new("NodeSocketGeometry", "Geometry")
RANGES = {"Twist": (0.0, 1.2), "Taper": (-0.6, 0.2), "Bend": (-0.2, 0.6), "Noise": (0.0, 0.2),
          "Noise scale": (1.0, 3.0)}
for name, (lo, hi) in RANGES.items():
    s = ng.inputs.new("NodeSocketFloat", name)
    s.min_value, s.max_value, s.default_value = lo, hi, 0.5 * (lo + hi)
for name, (lo, hi) in {"Scale": (0.5, 1.5), "Offset": (-1.0, 1.0)}.items():
    s = ng.inputs.new("NodeSocketVector", name)
    s.min_value, s.max_value, s.default_value = lo, hi, (0.5 * (lo + hi),) * 3
N, L = ng.nodes, ng.links
gi, go = N.new("NodeGroupInput"), N.new("NodeGroupOutput")
g = {s.name: gi.outputs[i] for i, s in enumerate(ng.inputs)}
pos = N.new("GeometryNodeInputPosition")
sep = N.new("ShaderNodeSeparateXYZ")
L.new(pos.outputs[0], sep.inputs[0])
zc = sep.outputs[2]


def math(op, x, y):
    node = N.new("ShaderNodeMath")
    node.operation = op
    for sock, v in zip(node.inputs, (x, y)):
        if isinstance(v, float):
            sock.default_value = v
        else:
            L.new(v, sock)
    return node.outputs[0]


def vmath(op, x, y=None, scale=None):
    node = N.new("ShaderNodeVectorMath")
    node.operation = op
    L.new(x, node.inputs[0])
    if y is not None:
        L.new(y, node.inputs[1])
    if scale is not None:
        L.new(scale, node.inputs["Scale"])
    return node.outputs[0]


taper = math('ADD', math('MULTIPLY', g["Taper"], zc), 1.0)            # 1 + Taper z
txy = N.new("ShaderNodeCombineXYZ")
L.new(math('MULTIPLY', sep.outputs[0], taper), txy.inputs[0])
L.new(math('MULTIPLY', sep.outputs[1], taper), txy.inputs[1])
L.new(zc, txy.inputs[2])
rot = N.new("ShaderNodeVectorRotate")
rot.rotation_type = 'Z_AXIS'
L.new(txy.outputs[0], rot.inputs["Vector"])
L.new(math('MULTIPLY', g["Twist"], zc), rot.inputs["Angle"])
bend = N.new("ShaderNodeCombineXYZ")
L.new(math('MULTIPLY', g["Bend"], math('MULTIPLY', zc, zc)), bend.inputs[0])
noise = N.new("ShaderNodeTexNoise")
noise.inputs["Detail"].default_value = 0.0
L.new(pos.outputs[0], noise.inputs["Vector"])
L.new(g["Noise scale"], noise.inputs["Scale"])
wobble = vmath('SCALE', vmath('SUBTRACT', noise.outputs["Color"], None), scale=g["Noise"])
wobble.node.inputs[1].default_value = (0.5, 0.5, 0.5)
p = vmath('ADD', vmath('ADD', rot.outputs[0], bend.outputs[0]), wobble)
setpos = N.new("GeometryNodeSetPosition")
L.new(g["Geometry"], setpos.inputs["Geometry"])
L.new(p, setpos.inputs["Position"])
tr = N.new("GeometryNodeTransform")
L.new(setpos.outputs[0], tr.inputs["Geometry"])
L.new(g["Scale"], tr.inputs["Scale"])
L.new(g["Offset"], tr.inputs["Translation"])
L.new(tr.outputs[0], go.inputs[0])
mod = col.modifiers.new("Column", 'NODES')
mod.node_group = ng
bpy.context.view_layer.update()

col.dss_sliders.space = 'GEOMETRY_NODES'
check(bpy.ops.dss.start() == {'FINISHED'}, "Start on the Geometry Nodes column")
s = session.get(col)
sp = s.space
m, n = sp.m, sp.n
check(n == 11 and m == 3 * S * R and not s.exact and s.model.precision == EPS
      and np.allclose(s.search.center(), 0.0, atol=1e-6),
      f"n = 11 inputs ({', '.join(sp.labels())}), m = {m}, finite differences, precision "
      f"FLT_EPSILON declared, centre z = 0")
sv_fd = s.search.singular_values().copy()


# ---- the oracle ---------------------------------------------------------------------------
def f(z):
    out = np.empty((1, m))
    sp.f(np.asarray(z, dtype=np.float64)[None, :], out)
    return out[0]


c = np.zeros(n)
f0 = f(c)
X = np.abs(f0).max()


def central(H):
    J, D2 = np.empty((m, n)), np.empty((m, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = H
        fp, fm = f(c + e), f(c - e)
        J[:, i] = (fp - fm) / (2 * H)
        D2[:, i] = (fp - 2 * f0 + fm) / H ** 2
    return J, D2


H = 1e-2
J_H, D2 = central(H)
J_H2, _ = central(H / 2)
sp.apply(c)
J_or = J_H2 + (J_H2 - J_H) / 3                       # Richardson: the H^4 scheme
E_oracle = 4.0 / 3.0 * np.linalg.norm(J_H - J_H2) + np.sqrt(m * n) * 32 * U * X / H
sv_or = np.linalg.svd(J_or, compute_uv=False)

h = np.sqrt(EPS)                                     # libdss's step at |c_i| <= 1
vmax = np.maximum(np.abs(sp.lo), np.abs(sp.hi))
trunc = h / 2 * 2 * np.linalg.norm(D2, axis=0)
rnd = np.sqrt(m) * 32 * EPS * X / h
stored = 4 * U * vmax / ((sp.hi - sp.lo) * h) * np.linalg.norm(J_or, axis=0)
bound = np.sqrt(np.sum((trunc + rnd + stored) ** 2)) + E_oracle
err = np.abs(sv_fd - sv_or).max()
print(f"  oracle singular values   {np.array2string(sv_or, precision=3)}")
print(f"  add-on (float32 step)    {np.array2string(sv_fd, precision=3)}")
print(f"  bound parts: truncation {np.linalg.norm(trunc):.2e}, rounding "
      f"{np.sqrt(n) * rnd:.2e}, stored step {np.linalg.norm(stored):.2e}, oracle {E_oracle:.2e}")
check(err <= bound,
      f"the add-on's singular values match the oracle's: max error {err:.2e} <= the derived "
      f"bound {bound:.2e} ({bound / sv_or[0]:.1%} of s_max {sv_or[0]:.3g})")

# the same differences with double precision's default step (what the add-on did before)
s.model.precision = None
check(bpy.ops.dss.reset() == {'FINISHED'}, "Reset with the precision undeclared")
sv_bad = s.search.singular_values()
err_bad = np.abs(sv_bad - sv_or).max()
print(f"  double-precision step    {np.array2string(sv_bad, precision=3)}")
check(err_bad > 3 * bound,
      f"with double precision's step (1.5e-8) the error is {err_bad:.2e}, "
      f"{err_bad / bound:.1f}x the bound")
print("result: Geometry Nodes precision test passed")
