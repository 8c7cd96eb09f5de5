"""Blender process 2: a new Blender opens the .blend test_session.py saved; the session must
resume bit for bit (saved bytes, centre, mesh) and continue exactly as it did there."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpy
import numpy as np

import common
from common import check, op_error, positions

a = common.args()
addon = common.enable_addon(a, install=False)      # installed by process 1, enabled again
session = addon.session
out = a["out"]
with open(os.path.join(out, "session.json")) as fh:
    rec = json.load(fh)
saved_positions = np.load(os.path.join(out, "positions.npy"))

bpy.ops.wm.open_mainfile(filepath=os.path.join(out, "session.blend"))
ico = common.activate("Ico")
p = ico.dss_sliders
check(session.get(ico) is None, "a new process: no session in memory")
check(ico[session.SESSION_KEY] == bytes.fromhex(rec["bytes"]), "the .blend holds the saved bytes")
check(p.slider == rec["slider"] and p.iteration == rec["iteration"],
      f"slider {p.slider:.3f} and iteration {p.iteration} as saved")
check(np.array_equal(positions(ico), saved_positions), "the mesh as saved, bit for bit")

p.slider = rec["slider"]             # the user touches the slider: the session resumes
s = session.get(ico)
check(s is not None, "moving the slider resumed the session")
check(s.search.save() == bytes.fromhex(rec["bytes"]), "its saved bytes are identical")
check(np.array_equal(s.search.center(), [float.fromhex(v) for v in rec["center"]]),
      "its centre is identical")
check(p.sigma == rec["sigma"], "the panel shows the same singular value")
check(np.array_equal(positions(ico), saved_positions),
      "point(t) re-applied gives the same mesh, bit for bit")

check(bpy.ops.dss.accept() == {'FINISHED'}, "Accept")
check(np.array_equal(s.search.center(), [float.fromhex(v) for v in rec["next_center"]])
      and np.array_equal(s.search.basis()[0], [float.fromhex(v) for v in rec["next_basis"]]),
      "the next centre and direction are those of the first process")
check(np.array_equal(positions(ico), np.load(os.path.join(out, "next_positions.npy"))),
      "and so is the mesh")
check(bpy.ops.dss.undo() == {'FINISHED'}, "Undo of a step made after reopening")
msg = op_error(bpy.ops.dss.undo)
check(msg.startswith("Nothing more to undo"), f"the history before saving is not kept: {msg!r}")
print("result: resume test passed")
