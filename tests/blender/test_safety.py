"""Blender process: the artist's other edits during a live session (issue 21 items 3-6).

- Geometry Nodes: the node group's inputs added, removed, reordered, renamed or retyped, the
  modifier renamed, removed or replaced, or its node group swapped: a slider move, Accept and
  Another direction refuse with a report naming the change, write no socket value and leave the
  session unchanged; Reset recovers wherever Start can.
- Linked data: a linked object, and a library override whose mesh is still linked: Start
  reports what to make local; made local, Start works and the slider moves the mesh. A local
  object with a linked node group needs nothing: Start works and the slider moves the mesh.
- A muted key is never written (start, slider, Accept, Another direction, Undo, Reset).
- A copy of the object (which copies its custom properties, the add-on's id included) does not
  share the original's session.
- A step in progress when the object is deleted, the add-on disabled, or File > New: no
  traceback, and the object name is not stuck (Start works on a new object of that name).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpy
import numpy as np

import common
from common import check, op_error, positions, scene

a = common.args()
addon = common.enable_addon(a)
session, ui, guard = addon.session, addon.ui, addon.guard
scene.build()


def fresh_blob():
    """A new Blob (Geometry Nodes, 15 scalars) with a started session, the slider moved."""
    old = bpy.data.objects.get("Blob")
    if old is not None:
        session.drop(old)
        bpy.data.objects.remove(old)
    for ng in list(bpy.data.node_groups):
        if ng.name.startswith("BlobNodes") and ng.users == 0:
            bpy.data.node_groups.remove(ng)
    blob = scene.add_gn_object("Blob", False, (3.0, 0.0, 0.0))
    common.activate("Blob")
    blob.dss_sliders.space = 'GEOMETRY_NODES'
    assert bpy.ops.dss.start() == {'FINISHED'}
    blob.dss_sliders.slider = 0.3
    assert not blob.dss_sliders.error, blob.dss_sliders.error
    return blob


def socket_values(obj):
    """Every Geometry Nodes input value on every modifier of obj (what a write would change)."""
    out = {}
    for mod in obj.modifiers:
        for k in mod.keys():
            v = mod[k]
            out[(mod.name, k)] = tuple(v) if hasattr(v, "__len__") else v
    return out


def retype(ng, name):
    i = ng.inputs.find(name)
    ng.inputs.remove(ng.inputs[name])
    ng.inputs.new("NodeSocketVector", name)
    ng.inputs.move(len(ng.inputs) - 1, i)


def replace_modifier(o):
    ng = o.modifiers["Shape"].node_group.copy()
    o.modifiers.remove(o.modifiers["Shape"])
    o.modifiers.new("Shape", 'NODES').node_group = ng


GN_EDITS = [
    ("an input added", lambda o: o.modifiers["Shape"].node_group.inputs.new(
        "NodeSocketFloat", "Extra"), "'Extra' was added", True),
    ("an input removed", lambda o: o.modifiers["Shape"].node_group.inputs.remove(
        o.modifiers["Shape"].node_group.inputs["Bulge"]), "'Bulge' was removed", True),
    ("inputs reordered", lambda o: o.modifiers["Shape"].node_group.inputs.move(4, 2),
     "reordered", True),
    ("an input renamed", lambda o: setattr(o.modifiers["Shape"].node_group.inputs["Bulge"],
                                           "name", "Swell"),
     "the input 'Bulge' was renamed to 'Swell'", True),
    ("an input retyped", lambda o: retype(o.modifiers["Shape"].node_group, "Stretch"),
     "'Stretch' changed type from value to vector", True),
    ("the modifier renamed", lambda o: setattr(o.modifiers["Shape"], "name", "Form"),
     "'Shape' was removed or renamed", True),
    ("the modifier removed", lambda o: o.modifiers.remove(o.modifiers["Shape"]),
     "'Shape' was removed or renamed", False),
    ("the modifier replaced", replace_modifier, "node group of modifier 'Shape' was replaced",
     True),
    ("the node group swapped", lambda o: setattr(o.modifiers["Shape"], "node_group",
                                                 bpy.data.node_groups["CutNodes"]),
     "was replaced ('BlobNodes' by 'CutNodes')", True),
]

for what, edit, words, startable in GN_EDITS:
    print(f"== Geometry Nodes: {what}")
    blob = fresh_blob()
    s = session.get(blob)
    saved = s.search.save()
    edit(blob)
    before = socket_values(blob)
    blob.dss_sliders.slider = 0.8
    err = blob.dss_sliders.error
    check(words in err and "Nothing was written" in err and "Geometry Nodes inputs" in err,
          f"a slider move refuses: {err!r}")
    check(socket_values(blob) == before, "and wrote no socket value")
    check(words in op_error(bpy.ops.dss.accept), "Accept refuses with the same report")
    check(words in op_error(bpy.ops.dss.another), "so does Another direction")
    check(socket_values(blob) == before and s.search.save() == saved
          and blob.dss_sliders.iteration == 0, "no socket written, the session unchanged")
    if startable:
        check(bpy.ops.dss.reset() == {'FINISHED'} and session.get(blob) is not s
              and not blob.dss_sliders.error,
              "Reset recovers as Start does: a new session on the inputs as they are now")
        blob.dss_sliders.slider = -0.4
        check(not blob.dss_sliders.error, "whose slider works")
    else:
        m1, m2 = op_error(bpy.ops.dss.start), op_error(bpy.ops.dss.reset)
        check(m1 == m2 and "no Geometry Nodes modifier" in m1,
              f"where Start cannot, Reset reports the same: {m1!r}")

print("== Reset recovers where Start can: a damaged saved session")
blob = fresh_blob()
for what, prop, bad in (("session bytes", session.SESSION_KEY, b"not a session"),
                        ("space JSON", session.SPACE_KEY, "{damaged")):
    blob[prop] = bad
    session.drop(blob)                     # as after reopening the file
    err = op_error(bpy.ops.dss.accept)
    check(err, f"with damaged {what}, Accept reports: {err[:60]!r}...")
    check(bpy.ops.dss.reset() == {'FINISHED'} and session.get(blob) is not None
          and isinstance(blob[session.SESSION_KEY], bytes) and not blob.dss_sliders.error,
          "Reset makes a new session on the current inputs (with a warning)")
    blob.dss_sliders.slider = 0.2
    check(not blob.dss_sliders.error, "whose slider works")

print("== linked data")
lib_path = os.path.join(os.path.abspath(a["out"]), "rig-library.blend")
rig = scene.add_icosphere(name="Rig", location=(6.0, 0.0, 0.0))
bpy.data.libraries.write(lib_path, {rig}, fake_user=True)
bpy.data.objects.remove(rig)
with bpy.data.libraries.load(lib_path, link=True) as (src, dst):
    dst.objects = ["Rig"]
linked = dst.objects[0]
bpy.context.scene.collection.objects.link(linked)
bpy.context.view_layer.objects.active = linked
check(linked.library is not None and linked.data.shape_keys.library is not None,
      "an object linked from a library, with its mesh and shape keys")
msg = op_error(bpy.ops.dss.start)
check("is linked from the library" in msg and "Make Local" in msg
      and "Library Override" in msg, f"Start says what to make local: {msg!r}")
ov = linked.override_create(remap_local_usages=True)
bpy.context.view_layer.objects.active = ov
check(ov.library is None and ov.override_library is not None and ov.data.library is not None,
      "a library override of it, whose mesh is still linked")
msg = op_error(bpy.ops.dss.start)
check("The mesh" in msg and "is linked from the library" in msg and "Make Local" in msg,
      f"Start says the mesh must be made local: {msg!r}")
ov.data = ov.data.make_local()
if ov.data.shape_keys.library is not None:
    ov.data.shape_keys.make_local()
x0 = positions(ov).copy()
check(bpy.ops.dss.start() == {'FINISHED'}, "with its mesh made local, Start works")
ov.dss_sliders.slider = 0.9
check(not ov.dss_sliders.error and np.abs(positions(ov) - x0).max() > 1e-3,
      "and the slider moves the mesh")

print("== a linked node group is fine (the values live on the local object's modifier)")
blob = fresh_blob()
group_lib = os.path.join(os.path.abspath(a["out"]), "nodes-library.blend")
bpy.data.libraries.write(group_lib, {blob.modifiers["Shape"].node_group}, fake_user=True)
with bpy.data.libraries.load(group_lib, link=True) as (src, dst):
    dst.node_groups = ["BlobNodes"]
blob.modifiers["Shape"].node_group = dst.node_groups[0]
check(blob.modifiers["Shape"].node_group.library is not None and blob.library is None,
      "a local object whose Geometry Nodes group is linked from a library")
x0 = positions(blob).copy()
check(bpy.ops.dss.start() == {'FINISHED'}, "Start works")
blob.dss_sliders.slider = 0.9
check(not blob.dss_sliders.error and np.abs(positions(blob) - x0).max() > 1e-3,
      "and the slider moves the mesh")

print("== a muted key is never written")
ico = common.activate("Ico")
kb = ico.data.shape_keys.key_blocks["Key05"]
kb.value, kb.mute = 0.37, True
muted = kb.value
for space in ("SHAPE_KEYS", "BOTH"):
    ico.dss_sliders.space = space
    check(bpy.ops.dss.start() == {'FINISHED'}
          and "Key05" not in [d["name"] for d in session.get(ico).space.inputs],
          f"Start ({space}): the muted key is not explored")
    for t in (0.9, -0.7):
        ico.dss_sliders.slider = t
        check(bpy.ops.dss.accept() == {'FINISHED'}, "Accept")
    for op in (bpy.ops.dss.another, bpy.ops.dss.undo, bpy.ops.dss.reset):
        check(op() == {'FINISHED'}, op.idname())
    ico.dss_sliders.slider = 1.0
    kb = ico.data.shape_keys.key_blocks["Key05"]
    check(kb.value == muted and kb.mute, f"the muted key still holds {muted}")
kb.mute = False
ico.dss_sliders.space = 'SHAPE_KEYS'

print("== a copy of the object")
check(bpy.ops.dss.start() == {'FINISHED'}, "Start on Ico")
s = session.get(ico)
copy = ico.copy()
copy.data = ico.data.copy()
bpy.context.scene.collection.objects.link(copy)
check(guard.uid(copy) == guard.uid(ico) and session.get(copy) is None and session.get(ico) is s,
      "the copy has the original's id property, not its session")
common.activate(copy.name)
check(bpy.ops.dss.start() == {'FINISHED'} and guard.uid(copy) != guard.uid(ico)
      and session.get(copy) is not s and session.get(ico) is s,
      "Start on the copy gives it an id and a session of its own; the original keeps its own")

print("== a step in progress when the object is deleted")
blob = fresh_blob()
s = session.get(blob)
runner = session.Runner(s, "commit:0.65")      # what a click on Accept starts
ui.JOBS[s.uid] = runner
check(runner.step(budget=0.0) and runner.evaluated == 1,
      "a slow step is running (1 point evaluated)")
bpy.data.objects.remove(blob)
check(not runner.step(budget=0.0) and "no longer exists" in ui.message(runner.error),
      f"the next tick ends it with a report: {ui.message(runner.error)!r}")
blob = scene.add_gn_object("Blob", False, (3.0, 0.0, 0.0))
blob.dss_sliders.space = 'GEOMETRY_NODES'
common.activate("Blob")
check(bpy.ops.dss.start.poll() and bpy.ops.dss.start() == {'FINISHED'},
      "a new object of the same name is not stuck: Start works")
ui.JOBS.clear()

print("== the add-on disabled during a step")
s = session.get(blob)
runner = session.Runner(s, "commit:0.65")
ui.JOBS[s.uid] = runner
runner.step(budget=0.0)
saved = s.search.save()
check(bpy.ops.preferences.addon_disable(module=common.ADDON) == {'FINISHED'},
      "the add-on disabled")
check(runner.cancelled and not runner.running and not ui.JOBS and not session.SESSIONS,
      "the step was cancelled, no job or session left")
addon = common.enable_addon(a, install=False)
session, ui = addon.session, addon.ui
check(bpy.ops.dss.accept() == {'FINISHED'} and bpy.data.objects["Blob"][session.SESSION_KEY]
      != saved, "enabled again, the saved session resumes and Accept works")

print("== File > New during a step")
blob = bpy.data.objects["Blob"]
s = session.get(blob)
runner = session.Runner(s, "commit:0.65")
ui.JOBS[s.uid] = runner
runner.step(budget=0.0)
check(bpy.ops.wm.read_homefile(use_empty=True) == {'FINISHED'}, "File > New")
check(runner.cancelled and not ui.JOBS and not session.SESSIONS,
      "the step was cancelled (load_post), no job or session left")
if a.get("python-dir"):
    bpy.context.preferences.addons[common.ADDON].preferences.python_dir = a["python-dir"]
blob = scene.add_gn_object("Blob", False, (0.0, 0.0, 0.0))
blob.dss_sliders.space = 'GEOMETRY_NODES'
bpy.context.view_layer.objects.active = blob
check(bpy.ops.dss.start() == {'FINISHED'}, "Start works on a new 'Blob' in the new file")
print("result: safety test passed")
