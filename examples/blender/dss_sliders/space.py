"""The latent space and the generator f, built from an object's Blender data.

z (n values) is the sliders' latent point, normalised so that the prior box [-1, 1]^n maps onto
each input's own range [lo, hi]: value = lo + (y + 1) / 2 * (hi - lo), where y = z inside the
box and z folded back into it by mirrors at its ends outside (see fold()).
The inputs are the object's shape key values (range slider_min..slider_max) and the float and
vector inputs of one Geometry Nodes modifier (range min_value..max_value of the group's socket;
a vector gives 3 scalars). f(z) sets the inputs, updates the dependency graph and reads the
evaluated mesh: its vertex positions (m = 3 x vertices) or, when the inputs change the topology,
a fixed-size descriptor (points sampled on the surface at fixed barycentric positions).
"""

import json

import bpy
import numpy as np

from . import guard

SPACES = ("SHAPE_KEYS", "GEOMETRY_NODES", "BOTH")
SURFACE_SAMPLES = 256        # points of the descriptor used when the topology changes
UNBOUNDED = 1e30             # a socket range beyond this is taken as "no range"
FORMAT = 1                   # version of the JSON saved in obj["dss_space"]
#: New sessions on plain shape keys give libdss the compact factor R (n x n) of the key
#: matrix instead of the m x n mesh Jacobian (Space.use_compact); benchmarks and tests set
#: this to False to compare with the full Jacobian.
COMPACT = True
CHUNK_ROWS = 3 * 4096        # rows of the key matrix per block of the blocked QR


def fold(z):
    """(y, dy/dz): z folded into [-1, 1] by mirrors at the ends (a triangle wave of period 4,
    y = z inside the box). Blender clamps a shape key to its slider range (and Geometry Nodes
    clamp to the socket's), so a plain linear map would make f flat outside the box and leave
    a centre that drifted out stuck there; folded, a slider that runs past an input's end
    comes back, and no direction ever stops changing the inputs (dy/dz = +-1)."""
    u = np.mod(z + 1.0, 4.0)
    up = u <= 2.0
    return np.where(up, u - 1.0, 3.0 - u), np.where(up, 1.0, -1.0)


class SpaceError(Exception):
    """The object cannot provide the requested latent space; str() is for the user."""


def _key_layout(obj):
    """What the session's key indices and Jacobian depend on: relative or absolute keys, and
    each key block's name, mute and reference key, in order (None: no shape keys)."""
    keys = obj.data.shape_keys if obj.type == 'MESH' else None
    if keys is None:
        return None
    return (bool(keys.use_relative),
            tuple((kb.name, bool(kb.mute), kb.relative_key.name if kb.relative_key else "")
                  for kb in keys.key_blocks))


def _layout_change(before, now):
    """A sentence naming what changed between two _key_layout()s (None: nothing)."""
    if before == now:
        return None
    if now is None:
        return "all its shape keys were deleted"
    if before[0] != now[0]:
        return ("its shape keys were switched to " +
                ("relative" if now[0] else "absolute (not relative)"))
    names0 = [b[0] for b in before[1]]
    names1 = [b[0] for b in now[1]]
    if names0 != names1:
        gone = [n for n in names0 if n not in names1]
        new = [n for n in names1 if n not in names0]
        if len(gone) == 1 and len(new) == 1 and len(names0) == len(names1) \
                and names0.index(gone[0]) == names1.index(new[0]):
            return f"the shape key '{gone[0]}' was renamed to '{new[0]}'"
        parts = []
        if gone:
            parts.append("the shape key" + ("s " if len(gone) > 1 else " ") +
                         ", ".join(f"'{n}'" for n in gone) + " was deleted")
        if new:
            parts.append("the shape key" + ("s " if len(new) > 1 else " ") +
                         ", ".join(f"'{n}'" for n in new) + " was added")
        return " and ".join(parts) if parts else "its shape keys were reordered"
    for (name, mute0, rel0), (_, mute1, rel1) in zip(before[1], now[1]):
        if mute0 != mute1:
            return f"the shape key '{name}' was {'muted' if mute1 else 'unmuted'}"
        if rel0 != rel1:
            return f"the reference key of '{name}' changed from '{rel0}' to '{rel1}'"
    return "its shape keys changed"


def _gn_modifier(obj, name):
    mods = [m for m in obj.modifiers if m.type == 'NODES' and m.node_group is not None]
    if name:
        mods = [m for m in mods if m.name == name]
    return mods[0] if mods else None


def _key_inputs(obj):
    keys = obj.data.shape_keys if obj.type == 'MESH' else None
    if keys is None or len(keys.key_blocks) < 2:
        return []
    return [{"kind": "key", "name": kb.name, "comp": -1,
             "lo": float(kb.slider_min), "hi": float(kb.slider_max)}
            for kb in keys.key_blocks[1:] if not kb.mute]


def _socket_range(sock, default):
    lo, hi = float(sock.min_value), float(sock.max_value)
    if abs(lo) >= UNBOUNDED or abs(hi) >= UNBOUNDED or not hi > lo:
        half = max(1.0, abs(default))          # no usable range: the default +- max(1, |it|)
        return default - half, default + half
    return lo, hi


def _gn_inputs(mod):
    out = []
    for sock in mod.node_group.inputs:
        if sock.type == 'VALUE':
            lo, hi = _socket_range(sock, float(mod[sock.identifier]))
            out.append({"kind": "gn", "name": sock.identifier, "label": sock.name,
                        "comp": -1, "lo": lo, "hi": hi})
        elif sock.type == 'VECTOR':
            value = mod[sock.identifier]
            for c in range(3):
                lo, hi = _socket_range(sock, float(value[c]))
                out.append({"kind": "gn", "name": sock.identifier,
                            "label": f"{sock.name}[{'XYZ'[c]}]", "comp": c, "lo": lo, "hi": hi})
    return out


class Space:
    """The inputs the sliders explore on one object, and f and its Jacobian over them."""

    def __init__(self, obj, which, modifier, inputs, mode, z_initial):
        self.obj_name = obj.name
        self.which = which
        self.modifier = modifier            # name of the Geometry Nodes modifier, or ""
        self.inputs = inputs
        self.mode = mode                    # 'VERTICES' or 'SURFACE'
        self.z_initial = np.asarray(z_initial, dtype=np.float64)
        self.lo = np.array([i["lo"] for i in inputs])
        self.hi = np.array([i["hi"] for i in inputs])
        self._keys = [i for i, d in enumerate(inputs) if d["kind"] == "key"]
        self._gn = [i for i, d in enumerate(inputs) if d["kind"] == "gn"]
        self._vertices = None
        self._rng_u = np.random.default_rng(0).random((SURFACE_SAMPLES, 3))
        self._key_index = None
        self._jacobian = None
        self._layout = _key_layout(obj) if self._keys else None
        self._gn_layout = guard.gn_layout(obj, modifier) if self._gn else None
        self.n = len(inputs)
        self.m = 3 * SURFACE_SAMPLES if mode == 'SURFACE' else 3 * self.vertex_count()
        self.compact = False                # see use_compact()
        self._factor = None                 # R, n x n (compact)
        self._vertex_weights = None         # while K is built: weights and key coordinates
        self._key_co = None

    @property
    def model_m(self):
        """The size of libdss's f: n with the compact factor, else m (the mesh's)."""
        return self.n if self.compact else self.m

    def use_compact(self, on=True):
        """Give libdss the compact factor (shape keys only, exact Jacobian): f(z) = R y(z)
        with R the n x n triangular factor of a QR of the key matrix K (m x n, column i = key
        i's weighted offset times the range's half-width), and Jacobian R diag(fold'(z)).
        The mesh is basis + const + K y(z), and ||K (a - b)|| = ||R (a - b)|| for all a, b
        (K = Q R, Q with orthonormal columns): libdss's singular values, right singular
        vectors and distances are those of the mesh-space f, while it holds n x n numbers
        instead of m x n."""
        self.compact = bool(on)

    # ---- building and persisting -----------------------------------------------------

    @classmethod
    def from_object(cls, obj, which, modifier_name=""):
        """The space of `which` ('SHAPE_KEYS', 'GEOMETRY_NODES', 'BOTH') on obj."""
        if obj is None or obj.type != 'MESH':
            raise SpaceError("Select a mesh object: the sliders explore a mesh's shape keys "
                             "or Geometry Nodes inputs")
        inputs = []
        if which in ("SHAPE_KEYS", "BOTH"):
            keys = _key_inputs(obj)
            if not keys and which == "SHAPE_KEYS":
                raise SpaceError(f"'{obj.name}' has no shape keys besides its basis: add some, "
                                 "or explore a Geometry Nodes modifier's inputs")
            inputs += keys
        mod = None
        if which in ("GEOMETRY_NODES", "BOTH"):
            mod = _gn_modifier(obj, modifier_name)
            if mod is None and which == "GEOMETRY_NODES":
                what = f"named '{modifier_name}'" if modifier_name else "with a node group"
                raise SpaceError(f"'{obj.name}' has no Geometry Nodes modifier {what}")
            if mod is not None:
                gn = _gn_inputs(mod)
                if not gn and which == "GEOMETRY_NODES":
                    raise SpaceError(f"The node group of modifier '{mod.name}' has no float "
                                     "or vector inputs to explore")
                inputs += gn
        if not inputs:
            raise SpaceError(f"'{obj.name}' has neither shape keys nor Geometry Nodes inputs "
                             "to explore")
        space = cls(obj, which, mod.name if mod else "", inputs, 'VERTICES',
                    np.zeros(len(inputs)))
        space.z_initial = space.read_z()
        space.mode = space._probe_topology()
        space.m = 3 * SURFACE_SAMPLES if space.mode == 'SURFACE' else 3 * space.vertex_count()
        space.apply(space.z_initial)
        space.use_compact(COMPACT and space.exact_jacobian_possible())
        return space

    def to_json(self):
        return json.dumps({"format": FORMAT, "which": self.which, "modifier": self.modifier,
                           "inputs": self.inputs, "mode": self.mode, "m": self.m,
                           "z_initial": [float(v).hex() for v in self.z_initial],
                           "compact": self.compact})

    @classmethod
    def from_json(cls, obj, text):
        """The space saved with a session; SpaceError when the object no longer matches."""
        try:
            d = json.loads(text)
            if d.get("format") != FORMAT:
                raise ValueError(f"format {d.get('format')!r}")
            inputs = d["inputs"]
            z0 = [float.fromhex(v) for v in d["z_initial"]]
            space = cls(obj, d["which"], d["modifier"], inputs, d["mode"], z0)
            space.compact = bool(d.get("compact", False))   # saved before it: the full J
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SpaceError(f"The saved slider space of '{obj.name}' is damaged ({exc}); "
                             "press Reset to start a new session") from None
        now = cls._current_inputs(obj, space.which, space.modifier)
        if [(i["kind"], i["name"], i["comp"]) for i in now] != \
                [(i["kind"], i["name"], i["comp"]) for i in inputs] or space.m != d["m"]:
            raise SpaceError(f"The shape keys or Geometry Nodes inputs of '{obj.name}' changed "
                             "since the session was saved; press Reset to start a new session")
        if space.compact and not space.exact_jacobian_possible():
            raise SpaceError(f"The session of '{obj.name}' was saved with the exact shape-key "
                             "Jacobian, which no longer applies (a modifier was enabled or the "
                             "keys made absolute since); press Start for a new session")
        return space

    @staticmethod
    def _current_inputs(obj, which, modifier):
        out = []
        if which in ("SHAPE_KEYS", "BOTH"):
            out += _key_inputs(obj)
        if which in ("GEOMETRY_NODES", "BOTH"):
            mod = _gn_modifier(obj, modifier)
            if mod is not None:
                out += _gn_inputs(mod)
        return out

    # ---- inputs <-> z ------------------------------------------------------------------

    @property
    def obj(self):
        obj = bpy.data.objects.get(self.obj_name)
        if obj is None:
            raise SpaceError(f"The object '{self.obj_name}' no longer exists")
        return obj

    def labels(self):
        return [d.get("label", d["name"]) for d in self.inputs]

    def values(self, z):
        """Input values for latent z, folded into each input's range."""
        y, _ = fold(np.asarray(z, dtype=np.float64))
        return self.lo + (y + 1.0) * 0.5 * (self.hi - self.lo)

    def read_z(self):
        """The latent point of the object's current input values."""
        obj = self.obj
        vals = np.empty(self.n)
        if self._keys:
            kbs = obj.data.shape_keys.key_blocks
            for i in self._keys:
                vals[i] = kbs[self.inputs[i]["name"]].value
        if self._gn:
            mod = obj.modifiers[self.modifier]
            for i in self._gn:
                d = self.inputs[i]
                v = mod[d["name"]]
                vals[i] = v[d["comp"]] if d["comp"] >= 0 else v
        return np.clip(2.0 * (vals - self.lo) / (self.hi - self.lo) - 1.0, -1.0, 1.0)

    def check(self, obj=None):
        """SpaceError, before anything is written, when the object's shape keys are no longer
        laid out as when the session started (added, deleted, reordered, renamed, muted or
        unmuted keys, relative/absolute or a reference key changed): the session's key indices
        and Jacobian would write into the wrong keys."""
        obj = self.obj if obj is None else obj
        if self._gn:            # and the Geometry Nodes inputs (guard.py)
            what = guard.gn_layout_change(self.modifier, self._gn_layout,
                                          guard.gn_layout(obj, self.modifier))
            if what is not None:
                raise SpaceError(f"The Geometry Nodes inputs of '{obj.name}' changed since the "
                                 f"session started: {what}. Nothing was written; press Start "
                                 "for a new session on the inputs as they are now")
        if not self._keys:
            return
        what = _layout_change(self._layout, _key_layout(obj))
        if what is not None:
            raise SpaceError(f"The shape keys of '{obj.name}' changed since the session "
                             f"started: {what}. Nothing was written; press Start for a new "
                             "session on the keys as they are now")

    def apply(self, z, update=True):
        """Set the object's inputs to latent z and (by default) update the depsgraph; refuses
        (SpaceError) when the shape keys changed since the session started."""
        obj = self.obj
        self.check(obj)
        vals = self.values(z)
        if self._keys:
            keys = obj.data.shape_keys
            if self._key_index is None:
                names = [kb.name for kb in keys.key_blocks]
                self._key_index = np.array([names.index(self.inputs[i]["name"])
                                            for i in self._keys])
                self._key_values = np.empty(len(names), dtype=np.float32)
            keys.key_blocks.foreach_get("value", self._key_values)
            self._key_values[self._key_index] = vals[self._keys]
            keys.key_blocks.foreach_set("value", self._key_values)
            keys.update_tag()
        if self._gn:
            mod = obj.modifiers[self.modifier]
            for i in self._gn:
                d = self.inputs[i]
                if d["comp"] >= 0:
                    mod[d["name"]][d["comp"]] = vals[i]
                else:
                    mod[d["name"]] = vals[i]
            obj.update_tag()
        if update:
            bpy.context.view_layer.update()

    # ---- the evaluated mesh --------------------------------------------------------------

    def _evaluated_mesh(self):
        dg = bpy.context.evaluated_depsgraph_get()
        return self.obj.evaluated_get(dg).data

    def vertex_count(self):
        return len(self._evaluated_mesh().vertices)

    def positions(self):
        """The evaluated mesh's vertex positions (float64, vertices x 3)."""
        me = self._evaluated_mesh()
        x = np.empty(3 * len(me.vertices))
        me.vertices.foreach_get("co", x)
        return x.reshape(-1, 3)

    def read_output(self, out):
        """Fill out (m values) with the evaluated mesh's f output."""
        me = self._evaluated_mesh()
        if self.mode == 'VERTICES':
            if 3 * len(me.vertices) != self.m:
                raise SpaceError(f"The inputs changed the topology of '{self.obj_name}' "
                                 f"({len(me.vertices)} vertices instead of {self.m // 3}); "
                                 "press Reset: a new session uses surface samples instead")
            me.vertices.foreach_get("co", out)
        else:
            out[:] = self._surface_samples(me).ravel()

    def _surface_samples(self, me):
        """SURFACE_SAMPLES points at fixed random area-weighted barycentric positions."""
        me.calc_loop_triangles()
        nt = len(me.loop_triangles)
        if nt == 0:
            return np.zeros((SURFACE_SAMPLES, 3))
        co = np.empty(3 * len(me.vertices))
        me.vertices.foreach_get("co", co)
        tri = np.empty(3 * nt, dtype=np.int32)
        me.loop_triangles.foreach_get("vertices", tri)
        p = co.reshape(-1, 3)[tri.reshape(-1, 3)]             # (nt, 3 corners, 3)
        area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
        cum = np.cumsum(area)
        u = self._rng_u
        idx = np.minimum(np.searchsorted(cum, u[:, 0] * cum[-1]), nt - 1)
        r1 = np.sqrt(u[:, 1])[:, None]
        r2 = u[:, 2][:, None]
        t = p[idx]
        return (1 - r1) * t[:, 0] + r1 * (1 - r2) * t[:, 1] + r1 * r2 * t[:, 2]

    def _probe_topology(self):
        """'SURFACE' if moving any input to its ends changes the vertex count, else
        'VERTICES' (2n + 1 evaluations; the inputs are left at z_initial's values)."""
        counts = set()
        self.apply(self.z_initial)
        counts.add(self.vertex_count())
        if self._gn:                       # shape keys never change the topology
            for i in self._gn:
                for end in (-1.0, 1.0):
                    z = self.z_initial.copy()
                    z[i] = end
                    self.apply(z)
                    counts.add(self.vertex_count())
        self.apply(self.z_initial)
        return 'VERTICES' if len(counts) == 1 else 'SURFACE'

    # ---- f and its Jacobian --------------------------------------------------------------

    def f(self, z, out):
        """libdss's generator: out[j] = f(z[j]) for a batch (k x n -> k x model_m): the mesh
        read back from Blender, or with the compact factor R y(z) (nothing is written)."""
        if self.compact:
            y, _ = fold(np.asarray(z, dtype=np.float64))
            np.matmul(y, self.factor().T, out=out)
            return
        for j in range(z.shape[0]):
            self.apply(z[j])
            self.read_output(out[j])

    def exact_jacobian_possible(self):
        """True when f is linear in the inputs with known coefficients: shape keys only,
        relative, and no enabled modifier after them (a key's vertex group scales its offset
        per vertex, which keeps f linear)."""
        obj = self.obj
        if self._gn or self.mode != 'VERTICES':
            return False
        keys = obj.data.shape_keys
        if not keys.use_relative:
            return False
        if any(m.show_viewport for m in obj.modifiers):
            return False
        groups = obj.vertex_groups
        return all(not keys.key_blocks[self.inputs[i]["name"]].vertex_group
                   or keys.key_blocks[self.inputs[i]["name"]].vertex_group in groups
                   for i in self._keys)

    def _weights(self, obj):
        """{vertex group name: per-vertex weight} for the groups the keys use (0 where a
        vertex is not in the group; read once, vertex by vertex)."""
        kbs = obj.data.shape_keys.key_blocks
        names = {kbs[self.inputs[i]["name"]].vertex_group for i in self._keys} - {""}
        if not names:
            return {}
        index = {obj.vertex_groups[nm].index: nm for nm in names}
        w = {nm: np.zeros(self.m // 3) for nm in names}
        for v in obj.data.vertices:
            for g in v.groups:
                nm = index.get(g.group)
                if nm is not None:
                    w[nm][v.index] = g.weight
        return w

    def _columns(self, start=0, stop=None):
        """Rows start:stop (default all; multiples of 3) of the key matrix K (m x n): column
        i is key i's offset from its reference key (float32 coordinates, subtracted in
        float64: exact), times its vertex group's weight per vertex if it has one (Blender
        mixes value x weight x offset), times the range's half-width."""
        obj = self.obj
        kbs = obj.data.shape_keys.key_blocks
        stop = self.m if stop is None else stop
        if self._vertex_weights is None:
            self._vertex_weights = self._weights(obj)
            self._key_co = {}

        def co(kb):                                 # kept while K is built
            if kb.name not in self._key_co:
                c = np.empty(self.m, dtype=np.float32)
                kb.data.foreach_get("co", c)
                self._key_co[kb.name] = c
            return self._key_co[kb.name][start:stop]
        K = np.zeros((stop - start, self.n))
        for i in self._keys:
            kb = kbs[self.inputs[i]["name"]]
            d = co(kb).astype(np.float64) - co(kb.relative_key)
            if kb.vertex_group:
                d *= np.repeat(self._vertex_weights[kb.vertex_group][start // 3:stop // 3], 3)
            K[:, i] = d * 0.5 * (self.hi[i] - self.lo[i])
        return K

    def factor(self):
        """R (n x n, upper triangular): K = Q R, computed once by a blocked QR over
        CHUNK_ROWS rows of K at a time (R of [R_so_far; next block]), so that K (m x n) is
        never held whole."""
        if self._factor is None:
            R = np.zeros((0, self.n))
            for start in range(0, self.m, CHUNK_ROWS):
                block = self._columns(start, min(self.m, start + CHUNK_ROWS))
                R = np.linalg.qr(np.vstack([R, block]), mode='r')
            if R.shape[0] < self.n:                 # fewer rows than keys: pad with zeros
                R = np.vstack([R, np.zeros((self.n - R.shape[0], self.n))])
            self._factor = R
            self._vertex_weights = self._key_co = None
        return self._factor

    def jacobian(self, z, rows, out):
        """The exact Jacobian for shape keys: K (see _columns; computed once) times the
        fold's slope (+-1) at z_i per column; with the compact factor, R in place of K."""
        if self.compact:
            J = self.factor()
        else:
            if self._jacobian is None:
                self._jacobian = self._columns()
                self._vertex_weights = self._key_co = None
            J = self._jacobian
        if rows is not None:
            J = J[rows]
        np.multiply(J, fold(np.asarray(z))[1], out=out)
