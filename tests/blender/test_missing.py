"""Blender process 4 (run with DSS_LIBRARY pointing at no file): a missing libdss gives a
report that says how to install it; the add-on itself still enables."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpy

import common
from common import check, op_error, scene

a = common.args()
addon = common.enable_addon(a, install=False)
scene.build()
common.activate("Ico")
msg = op_error(bpy.ops.dss.start)
check("libdss could not be loaded" in msg and "make install" in msg
      and "libdss Python directory" in msg, f"no libdss: {msg!r}")
prefs = bpy.context.preferences.addons[common.ADDON].preferences
prefs.python_dir = a["out"]                 # a directory without the package
msg = op_error(bpy.ops.dss.start)
check("No package `dss`" in msg and "make install" in msg, f"a wrong preference: {msg!r}")
print("result: missing-library test passed")
