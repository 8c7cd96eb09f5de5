"""A face rig like an artist's, for the add-on's benchmarks and tests (run inside Blender).

build(level) makes "Rig": Suzanne subdivided `level` times (Subdivision Surface applied:
level 1 = 2 012 vertices, level 4 = 126 290) with a basis and 32 relative shape keys, each
driven by a vertex group of its own (Key.vertex_group):

- a key's data moves every vertex (a smooth displacement field: along the normals, or a
  sideways / vertical shift, with a random amplitude); its vertex group masks it with a smooth
  falloff (weight exp(-d^2 / 2 w^2) around a centre on the surface, width w in 0.15 .. 0.45,
  quantised to 1/64, vertices below 1/128 left out), so the effect is local, as in a rig
  driven by weight-painted groups;
- the groups overlap (centres drawn on Suzanne's surface, several per region: brows, eyes,
  cheeks, mouth, ears), and 8 keys are near copies of others: the same displacement field
  with a centre moved by 0.03 .. 0.08 and a width within 10 %, so that their columns of the
  Jacobian are nearly collinear with the original's (cosines 0.93 to 0.996 at level 1, but
  0.28 to 0.71 for the three sideways shifts, whose sign changes at the moved centre);
- half of the keys range over [0, 1], half over [-1, 1].

f is still linear in the key values (Blender adds value x weight x offset per key), so its
Jacobian is constant: column i = weight_i (per vertex) x (key_i - reference key) x the range's
half-width. deltas() returns those columns (without the half-width) from the rig's own
construction, independently of the add-on.
"""

import bpy
import numpy as np

N_KEYS = 32
N_NEAR = 8          # of N_KEYS: near copies of another key
LEVELS = 64         # weight quantisation (vertex groups are filled one weight level at a time)


def build(level=1, name="Rig", seed=11, keys=N_KEYS):
    """The rig (see the module's docstring); returns the object, made active."""
    bpy.ops.mesh.primitive_monkey_add(size=2.0)
    obj = bpy.context.active_object
    obj.name = name
    if level > 0:
        mod = obj.modifiers.new("subdiv", 'SUBSURF')
        mod.levels = level
        bpy.ops.object.modifier_apply(modifier=mod.name)
    me = obj.data
    nv = len(me.vertices)
    co = np.empty(3 * nv)
    me.vertices.foreach_get("co", co)
    p = co.reshape(-1, 3)
    normal = np.empty(3 * nv)
    me.vertices.foreach_get("normal", normal)
    normal = normal.reshape(-1, 3)
    rng = np.random.default_rng(seed)
    # centres: random vertices of the coarse shape (the same for every level: drawn from the
    # bounding box's point cloud by nearest vertex to a fixed random point)
    lo, hi = p.min(axis=0), p.max(axis=0)
    specs = []
    n_own = keys - N_NEAR
    for i in range(n_own):
        target = lo + rng.random(3) * (hi - lo)
        centre = p[np.argmin(np.sum((p - target) ** 2, axis=1))]
        width = rng.uniform(0.15, 0.45)
        amp = np.exp(rng.uniform(np.log(0.08), np.log(0.3))) * rng.choice([-1.0, 1.0])
        kind = rng.integers(3)                # 0 along the normals, 1 sideways, 2 up/down
        specs.append((centre, width, amp, kind))
    for j in range(N_NEAR):
        centre, width, amp, kind = specs[int(rng.integers(n_own))]
        step = rng.normal(size=3)
        step *= rng.uniform(0.03, 0.08) / np.linalg.norm(step)
        specs.append((centre + step, width * rng.uniform(0.9, 1.1),
                      amp * rng.uniform(0.8, 1.2), kind))
    obj.shape_key_add(name="Basis")
    for i, (centre, width, amp, kind) in enumerate(specs):
        if kind == 0:
            field = normal * amp
        elif kind == 1:
            field = np.tile([amp, 0.0, 0.0], (nv, 1)) * np.sign(p[:, :1] - centre[0] + 1e-9)
        else:
            field = np.tile([0.0, 0.0, amp], (nv, 1))
        weight = np.exp(-np.sum((p - centre) ** 2, axis=1) / (2 * width ** 2))
        group = obj.vertex_groups.new(name=f"G{i:02d}")
        q = np.round(weight * LEVELS).astype(int)
        for lev in np.unique(q):
            if lev > 0:
                group.add(np.flatnonzero(q == lev).tolist(), lev / LEVELS, 'REPLACE')
        kb = obj.shape_key_add(name=f"Key{i:02d}", from_mix=False)
        kb.data.foreach_set("co", (p + field).ravel())
        kb.vertex_group = group.name
        if i % 2:
            kb.slider_min = -1.0
    obj.data.update()
    bpy.context.view_layer.update()
    return obj


def weights(obj):
    """(groups x vertices) vertex-group weights of obj's mesh (0 where a vertex is not in a
    group), read vertex by vertex."""
    me = obj.data
    w = np.zeros((len(obj.vertex_groups), len(me.vertices)))
    for v in me.vertices:
        for g in v.groups:
            w[g.group, v.index] = g.weight
    return w


def deltas(obj):
    """(keys x 3V): each key's effect at value 1, weight x (key - reference key), from the
    key data and vertex groups (the rig's linear model, computed without the add-on)."""
    kbs = obj.data.shape_keys.key_blocks
    nv = len(obj.data.vertices)
    w = weights(obj)
    out = []
    for kb in kbs[1:]:
        a = np.empty(3 * nv, dtype=np.float32)
        b = np.empty(3 * nv, dtype=np.float32)
        kb.data.foreach_get("co", a)
        kb.relative_key.data.foreach_get("co", b)
        d = (a.astype(np.float64) - b).reshape(-1, 3)
        if kb.vertex_group:
            d *= w[obj.vertex_groups[kb.vertex_group].index][:, None]
        out.append(d.ravel())
    return np.array(out)
