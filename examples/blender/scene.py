"""The demonstration scene of the add-on, used by its tests and benchmark (run inside Blender).

build() makes, in the current (empty or factory) file:
  "Ico"   an icosphere (642 vertices) with a basis and 20 overlapping shape keys (mixes of 6
          smooth regional shapes along the normals, plus a small detail each; fixed seeds);
          half the keys range over [0, 1], half over [-1, 1]
  "Blob"  a UV sphere (16 x 8) with a Geometry Nodes modifier of 9 float/vector inputs
          (translation, rotation, scale, bulge, wave amplitude and frequency, stretch, noise
          amplitude and scale: 15 scalars); the topology never changes
  "Cut"   the same with a 10th input, "Cut", that deletes the part above a height: the
          topology changes with it
  "Plain" a cube with neither shape keys nor Geometry Nodes
"""

import bpy
import numpy as np

N_KEYS = 20
REGIONS = 6


def clear():
    for obj in list(bpy.data.objects):
        if obj.type == 'MESH':
            bpy.data.objects.remove(obj)


def _bumps(normal, seed, count=N_KEYS):
    """count smooth bumps along the normals (count x 3V): random centre, sign, height and
    width (fixed seed)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        c = rng.normal(size=3)
        c /= np.linalg.norm(c)
        amp = np.exp(rng.uniform(np.log(0.15), np.log(0.45))) * rng.choice([-1.0, 1.0])
        width = rng.uniform(0.3, 0.6)
        bump = amp * np.exp(-np.sum((normal - c) ** 2, axis=1) / (2 * width ** 2))
        out.append((bump[:, None] * normal).ravel())
    return np.array(out)


def add_icosphere(name="Ico", keys=N_KEYS, regions=REGIONS, seed=1, location=(0.0, 0.0, 0.0)):
    """The icosphere with `keys` shape keys. Like the keys of a character rig, they overlap:
    each is a random mix of `regions` shared shapes plus a small detail of its own (2 % of a
    shape), so the 20 sliders have about 6 independent effects. With regions=keys and no
    mixing (regions=0) every key is an independent bump instead."""
    bpy.ops.mesh.primitive_ico_sphere_add(subdivisions=4, radius=1.0, location=location)
    obj = bpy.context.active_object
    obj.name = name
    me = obj.data
    nv = len(me.vertices)
    co = np.empty(3 * nv)
    me.vertices.foreach_get("co", co)
    normal = co.reshape(-1, 3) / np.linalg.norm(co.reshape(-1, 3), axis=1, keepdims=True)
    if regions:
        shared = _bumps(normal, seed)[:regions]
        mix = np.random.default_rng(seed + 7).normal(size=(keys, regions)) / np.sqrt(regions)
        deltas = mix @ shared + 0.02 * _bumps(normal, seed + 3, keys)
    else:
        deltas = _bumps(normal, seed, keys)
    obj.shape_key_add(name="Basis")
    for i in range(keys):
        kb = obj.shape_key_add(name=f"Key{i:02d}", from_mix=False)
        kb.data.foreach_set("co", co + deltas[i])
        if i % 2:
            kb.slider_min = -1.0
    return obj


def _socket(ng, kind, name, lo, hi, default):
    s = ng.inputs.new(kind, name)
    s.min_value, s.max_value = lo, hi
    if kind == "NodeSocketVector":
        s.default_value = (default,) * 3
    else:
        s.default_value = default
    return s


def node_group(name, with_cut):
    """The Geometry Nodes group of Blob (and of Cut, with_cut=True)."""
    ng = bpy.data.node_groups.new(name, "GeometryNodeTree")
    ng.inputs.new("NodeSocketGeometry", "Geometry")
    ng.outputs.new("NodeSocketGeometry", "Geometry")
    _socket(ng, "NodeSocketVector", "Translation", -0.5, 0.5, 0.0)
    _socket(ng, "NodeSocketVector", "Rotation", -0.6, 0.6, 0.0)
    _socket(ng, "NodeSocketVector", "Scale", 0.6, 1.4, 1.0)
    _socket(ng, "NodeSocketFloat", "Bulge", -0.2, 0.3, 0.0)
    _socket(ng, "NodeSocketFloat", "Wave amplitude", 0.0, 0.3, 0.1)
    _socket(ng, "NodeSocketFloat", "Wave frequency", 1.0, 8.0, 3.0)
    _socket(ng, "NodeSocketFloat", "Stretch", -0.5, 0.5, 0.0)
    _socket(ng, "NodeSocketFloat", "Noise amplitude", 0.0, 0.5, 0.1)
    _socket(ng, "NodeSocketFloat", "Noise scale", 0.5, 5.0, 2.0)
    if with_cut:
        _socket(ng, "NodeSocketFloat", "Cut", -0.8, 1.5, 1.5)
    N, L = ng.nodes, ng.links
    gi, go = N.new("NodeGroupInput"), N.new("NodeGroupOutput")
    pos, nrm = N.new("GeometryNodeInputPosition"), N.new("GeometryNodeInputNormal")
    sep = N.new("ShaderNodeSeparateXYZ")
    L.new(pos.outputs[0], sep.inputs[0])

    def math(op, a, b):
        node = N.new("ShaderNodeMath")
        node.operation = op
        for sock, v in zip(node.inputs, (a, b)):
            if isinstance(v, float):
                sock.default_value = v
            else:
                L.new(v, sock)
        return node.outputs[0]

    gin = {s.name: gi.outputs[i] for i, s in enumerate(ng.inputs)}
    wave = math('MULTIPLY', math('SINE', math('MULTIPLY', sep.outputs[2],
                                              gin["Wave frequency"]), 0.0),
                gin["Wave amplitude"])
    noise = N.new("ShaderNodeTexNoise")
    L.new(pos.outputs[0], noise.inputs["Vector"])
    L.new(gin["Noise scale"], noise.inputs["Scale"])
    bump = math('ADD', math('ADD', wave, gin["Bulge"]),
                math('MULTIPLY', math('SUBTRACT', noise.outputs["Fac"], 0.5),
                     gin["Noise amplitude"]))
    radial = N.new("ShaderNodeVectorMath")
    radial.operation = 'SCALE'
    L.new(nrm.outputs[0], radial.inputs[0])
    L.new(bump, radial.inputs["Scale"])
    lift = N.new("ShaderNodeCombineXYZ")
    L.new(math('MULTIPLY', sep.outputs[2], gin["Stretch"]), lift.inputs[2])
    offset = N.new("ShaderNodeVectorMath")
    offset.operation = 'ADD'
    L.new(radial.outputs[0], offset.inputs[0])
    L.new(lift.outputs[0], offset.inputs[1])
    setpos = N.new("GeometryNodeSetPosition")
    L.new(gin["Geometry"], setpos.inputs["Geometry"])
    L.new(offset.outputs[0], setpos.inputs["Offset"])
    tr = N.new("GeometryNodeTransform")
    L.new(setpos.outputs[0], tr.inputs["Geometry"])
    for k in ("Translation", "Rotation", "Scale"):
        L.new(gin[k], tr.inputs[k])
    out = tr.outputs[0]
    if with_cut:
        pos2, sep2 = N.new("GeometryNodeInputPosition"), N.new("ShaderNodeSeparateXYZ")
        L.new(pos2.outputs[0], sep2.inputs[0])
        delete = N.new("GeometryNodeDeleteGeometry")
        L.new(out, delete.inputs["Geometry"])
        L.new(math('GREATER_THAN', sep2.outputs[2], gin["Cut"]), delete.inputs["Selection"])
        out = delete.outputs[0]
    L.new(out, go.inputs[0])
    return ng


def add_gn_object(name, with_cut, location, segments=16, rings=8):
    bpy.ops.mesh.primitive_uv_sphere_add(segments=segments, ring_count=rings, location=location)
    obj = bpy.context.active_object
    obj.name = name
    mod = obj.modifiers.new("Shape", "NODES")
    mod.node_group = node_group(name + "Nodes", with_cut)
    return obj


def build():
    clear()
    ico = add_icosphere()
    add_gn_object("Blob", False, (3.0, 0.0, 0.0))
    add_gn_object("Cut", True, (-3.0, 0.0, 0.0))
    bpy.ops.mesh.primitive_cube_add(location=(0.0, 3.0, 0.0))
    bpy.context.active_object.name = "Plain"
    bpy.context.view_layer.objects.active = ico
    bpy.context.view_layer.update()
    return ico
