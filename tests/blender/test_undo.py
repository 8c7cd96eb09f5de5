"""Blender process: Blender's own undo and redo (Ctrl+Z, Ctrl+Shift+Z) and the session.

The add-on's steps are operators with the UNDO flag, so each pushes a Blender undo step that
holds obj["dss_session"] as saved after it; the add-on's undo_post/redo_post handlers bring the
session in memory to the bytes the undo restored. Accept twice, Ctrl+Z twice (bpy.ops.ed.undo,
which works in background mode), touch the slider: the mesh is the one shown before the two
Accepts, bit for bit (the same point, the same key writes), not the newer one; the add-on's Undo
then agrees (nothing more to undo: the session is back at Start). Ctrl+Z once after two Accepts:
the add-on's Undo still goes back from there, to the state after Start. Redo: the newer state
is loaded from the bytes. Then the object is renamed: the session and its Undo follow it."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpy
import numpy as np

import common
from common import check, op_error, positions, scene

a = common.args()
addon = common.enable_addon(a)
session, ui = addon.session, addon.ui
scene.build()
# background mode starts without an undo system; the first push makes one (in the UI it exists)
bpy.ops.ed.undo_push(message="scene built")
STEPS = (ui.DSS_OT_start, ui.DSS_OT_accept, ui.DSS_OT_another, ui.DSS_OT_undo, ui.DSS_OT_reset)
check(all('UNDO' in c.bl_options for c in STEPS),
      "every step operator has the UNDO flag: in the UI each one pushes a Blender undo step")


def push(op):
    """Run a step operator as a click does: Blender pushes an undo step after an operator with
    the UNDO flag that a person ran (not after one a script calls, hence the explicit push)."""
    rc = op()
    if rc == {'FINISHED'}:
        bpy.ops.ed.undo_push(message=op.idname())
    return rc


def ico():
    return bpy.data.objects["Ico"]      # a memfile undo replaces the ID: look it up again


def live():
    return session.get(ico())


common.activate("Ico")
check(push(bpy.ops.dss.start) == {'FINISHED'}, "Start (an undo step of its own)")
ico().dss_sliders.slider = 0.4
mesh0 = positions(ico()).copy()
saved0 = ico()[session.SESSION_KEY]
c0 = live().search.center().copy()
ico().dss_sliders.slider = 0.6
check(push(bpy.ops.dss.accept) == {'FINISHED'}, "Accept")
ico().dss_sliders.slider = -0.5
check(push(bpy.ops.dss.accept) == {'FINISHED'}, "Accept again")
saved2 = ico()[session.SESSION_KEY]
ico().dss_sliders.slider = 0.4
mesh2 = positions(ico()).copy()
check(ico().dss_sliders.iteration == 2 and not np.array_equal(mesh2, mesh0),
      "iteration 2; the slider at 0.4 shows another mesh than before the Accepts")

print("== Ctrl+Z twice")
check(bpy.ops.ed.undo() == {'FINISHED'} and bpy.ops.ed.undo() == {'FINISHED'},
      "Blender's undo, twice")
check(ico()[session.SESSION_KEY] == saved0 and ico().dss_sliders.iteration == 0,
      "Blender restored the saved session of before the Accepts and iteration 0")
ico().dss_sliders.slider = 0.4
check(not ico().dss_sliders.error and np.array_equal(positions(ico()), mesh0),
      "touching the slider shows the mesh of before the two Accepts, bit for bit")
s = live()
check(s is not None and s.search.save() == saved0 and np.array_equal(s.search.center(), c0)
      and set(ui.LAST_SYNC.values()) == {"undone"},
      "the handler brought the session in memory back to it (libdss's undo, twice)")
msg = op_error(bpy.ops.dss.undo)
check(msg.startswith("Nothing more to undo"),
      f"and the add-on's Undo agrees: the session is back at Start ({msg[:40]}...)")

print("== Ctrl+Shift+Z")
check(bpy.ops.ed.redo() == {'FINISHED'} and bpy.ops.ed.redo() == {'FINISHED'},
      "Blender's redo, twice")
s = live()
check(ico()[session.SESSION_KEY] == saved2 and s is not None and s.search.save() == saved2
      and ico().dss_sliders.iteration == 2 and set(ui.LAST_SYNC.values()) == {"loaded"},
      "redo: the newer session is loaded from the restored bytes")
ico().dss_sliders.slider = 0.4
check(np.array_equal(positions(ico()), mesh2), "and the slider shows the newer mesh again")

print("== Ctrl+Z once, then the add-on's Undo")
p = ico().dss_sliders
check(push(bpy.ops.dss.start) == {'FINISHED'}, "Start again")
start_bytes = ico()[session.SESSION_KEY]
ico().dss_sliders.slider = 0.3
check(push(bpy.ops.dss.accept) == {'FINISHED'}, "Accept")
one = ico()[session.SESSION_KEY]
ico().dss_sliders.slider = 0.2
check(push(bpy.ops.dss.accept) == {'FINISHED'}, "Accept")
check(bpy.ops.ed.undo() == {'FINISHED'} and live().search.save() == one
      and ico().dss_sliders.iteration == 1, "Ctrl+Z: the session after the first Accept")
check(bpy.ops.dss.undo() == {'FINISHED'} and live().search.save() == start_bytes
      and ico().dss_sliders.iteration == 0,
      "the add-on's Undo goes on from there: back at Start")

print("== Ctrl+Z to before Start")
check(push(bpy.ops.dss.start) == {'FINISHED'}, "Start again")
while ico().get(session.SESSION_KEY) is not None:
    bpy.ops.ed.undo()
check(live() is None, "undone to before the first Start: no session in memory")
ico().dss_sliders.slider = 0.1
check("no saved slider session" in ico().dss_sliders.error,
      "the slider says to press Start, no traceback")

print("== renaming the object keeps the session and its Undo")
common.activate("Ico")
check(push(bpy.ops.dss.start) == {'FINISHED'}, "Start")
first = ico()[session.SESSION_KEY]
ico().dss_sliders.slider = 0.5
check(push(bpy.ops.dss.accept) == {'FINISHED'}, "Accept")
s = live()
ico().name = "Face"
face = bpy.data.objects["Face"]
check(session.get(face) is s, "the renamed object keeps its session in memory")
face.dss_sliders.slider = 0.2
check(not face.dss_sliders.error, "its slider works")
check(bpy.ops.dss.undo() == {'FINISHED'} and s.search.save() == first
      and face.dss_sliders.iteration == 0, "and Undo goes back over the Accept made before")
session.drop("Face")
check(session.get(face) is None, "session.drop takes an object's name too (scripts, tests)")
print("result: undo test passed")
