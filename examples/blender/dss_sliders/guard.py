"""What keeps a session safe with the artist's own edits (issue 21 items 3-6):

- a stable identity for an object (a uuid in its custom property "dss_id"), so that a session
  follows a renamed object and a copy of the object does not share it;
- the Geometry Nodes layout a session depends on (the modifier, its node group and the group's
  inputs, in order, with their identifiers and types), compared before every write like the
  shape-key layout;
- data the add-on cannot edit (linked from a library, or a system library override), and
  absolute shape keys (blended by Evaluation Time, not by the values the sliders set),
  reported at Start with what to do.
"""

import uuid

ID_KEY = "dss_id"


# ---- identity ------------------------------------------------------------------------------

def uid(obj, create=False):
    """The object's stable id (a uuid string kept in obj["dss_id"]), or None when it has none
    and create is False (drawing and polling may not write ID properties)."""
    v = obj.get(ID_KEY) if obj is not None else None
    if isinstance(v, str) and v:
        return v
    if not create:
        return None
    v = uuid.uuid4().hex
    obj[ID_KEY] = v
    return v


def new_uid(obj):
    """Give obj a fresh id (a copy of an object copies its custom properties, id included)."""
    v = uuid.uuid4().hex
    obj[ID_KEY] = v
    return v


# ---- the Geometry Nodes layout -------------------------------------------------------------

def gn_layout(obj, modifier_name):
    """What the session's socket identifiers depend on: the modifier named modifier_name (its
    type and node group) and the group's inputs (identifier, name, type) in order; None when
    there is no such modifier."""
    mod = obj.modifiers.get(modifier_name) if modifier_name else None
    if mod is None:
        return None
    if mod.type != 'NODES':
        return (mod.type, "", ())
    ng = mod.node_group
    if ng is None:
        return ('NODES', "", ())
    return ('NODES', ng.name,
            tuple((s.identifier, s.name, s.type) for s in ng.inputs))


def _socket_words(sock):
    return f"'{sock[1]}'"


def gn_layout_change(modifier_name, before, now):
    """A sentence naming what changed between two gn_layout()s (None: nothing)."""
    if before == now:
        return None
    if now is None:
        return f"the Geometry Nodes modifier '{modifier_name}' was removed or renamed"
    if now[0] != 'NODES':
        return f"the modifier '{modifier_name}' is no longer a Geometry Nodes modifier"
    if before[1] != now[1]:
        if not now[1]:
            return f"the modifier '{modifier_name}' has no node group any more"
        return (f"the node group of modifier '{modifier_name}' was replaced ('{before[1]}' "
                f"by '{now[1]}')")
    ids0 = [s[0] for s in before[2]]
    ids1 = [s[0] for s in now[2]]
    gone = [s for s in before[2] if s[0] not in ids1]
    new = [s for s in now[2] if s[0] not in ids0]
    retyped = [(g, w) for g in gone for w in new if g[1] == w[1]]
    if len(retyped) == 1 and len(gone) == len(new) == 1:
        (g, w), = retyped
        return f"the input '{w[1]}' changed type from {g[2].lower()} to {w[2].lower()}"
    parts = []
    if gone:
        parts.append("the input" + ("s " if len(gone) > 1 else " ") +
                     ", ".join(_socket_words(s) for s in gone) +
                     (" were" if len(gone) > 1 else " was") + " removed")
    if new:
        parts.append("the input" + ("s " if len(new) > 1 else " ") +
                     ", ".join(_socket_words(s) for s in new) +
                     (" were" if len(new) > 1 else " was") + " added")
    if parts:
        return " and ".join(parts)
    if ids0 != ids1:
        return f"the inputs of node group '{now[1]}' were reordered"
    for s0, s1 in zip(before[2], now[2]):
        if s0[2] != s1[2]:
            return (f"the input '{s1[1]}' changed type from {s0[2].lower()} to "
                    f"{s1[2].lower()}")
        if s0[1] != s1[1]:
            return f"the input '{s0[1]}' was renamed to '{s1[1]}'"
    return f"the inputs of node group '{now[1]}' changed"


# ---- data the add-on cannot edit ------------------------------------------------------------

def _linked(id_data):
    lib = getattr(id_data, "library", None)
    return lib.filepath if lib is not None else None


def _system_override(id_data):
    ov = getattr(id_data, "override_library", None)
    return ov is not None and bool(getattr(ov, "is_system_override", False))


MAKE_LOCAL = ("make it local (Object > Relations > Make Local...) or make a library override "
              "(Object > Library Override > Make), then press Start")


def not_editable(obj, which):
    """A sentence saying why the add-on cannot move obj's inputs of `which` ('SHAPE_KEYS',
    'GEOMETRY_NODES', 'BOTH') and what to make local; None when it can. Key values live in
    the mesh's Key datablock, Geometry Nodes input values on the object's modifier."""
    if obj is None:
        return None
    path = _linked(obj)
    if path is not None:
        return (f"'{obj.name}' is linked from the library '{path}': its shape keys and "
                f"modifier inputs cannot be changed in this file. Select it and {MAKE_LOCAL}")
    if _system_override(obj):
        return (f"'{obj.name}' is a system library override, whose properties are not "
                "editable: make it editable (Outliner: right-click it, Library Override > "
                "Make Editable) or local (Object > Relations > Make Local...), then press "
                "Start")
    if which in ("SHAPE_KEYS", "BOTH") and obj.type == 'MESH':
        me = obj.data
        keys = me.shape_keys
        for what, data in (("mesh", me), ("shape keys", keys)):
            if data is None:
                continue
            path = _linked(data)
            if path is not None:
                return (f"The {what} '{data.name}' of '{obj.name}' is linked from the library "
                        f"'{path}': its shape key values cannot be changed in this file. "
                        "Make the mesh local (Object > Relations > Make Local... > Selected "
                        "Objects and Data) or override it, then press Start")
            if _system_override(data):
                return (f"The {what} '{data.name}' of '{obj.name}' is a system library "
                        "override, whose values are not editable: make it editable or local "
                        "(Object > Relations > Make Local...), then press Start")
    return None


def absolute_keys(obj, which):
    """A sentence when the shape keys are absolute (not relative) and the session would explore
    them: Blender then blends keys by the Evaluation Time, not by the key values the sliders
    set, so f would not change (all singular values zero). None otherwise."""
    if which not in ("SHAPE_KEYS", "BOTH") or obj is None or obj.type != 'MESH':
        return None
    keys = obj.data.shape_keys
    if keys is None or keys.use_relative or len(keys.key_blocks) < 2:
        return None
    return (f"The shape keys of '{obj.name}' are absolute (not relative): Blender blends them "
            "by Evaluation Time, not by the key values the slider sets, so nothing would move. "
            "Tick Relative in Object Data Properties > Shape Keys, then press Start")
