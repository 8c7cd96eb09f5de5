"""Blender with a window (under Xvfb, --enable-event-simulate): the modal path of a slow step.
Accept is invoked as a click does (INVOKE_DEFAULT in the 3D view); the step runs as a Job
while Blender's event loop turns; Esc is sent as a real window event and must cancel the step
with the session unchanged; a second Accept runs to its end.
The verdict goes to OUT/modal.result (timers cannot set Blender's exit code)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpy

import common
from common import scene

a = common.args()
bpy.context.preferences.filepaths.temporary_directory = a["out"]   # quit.blend goes there
addon = common.enable_addon(a)
session, ui = addon.session, addon.ui
scene.build()
# a slow model: the Geometry Nodes object on a dense sphere (about 8 000 vertices)
for name in ("Ico", "Blob", "Cut", "Plain"):
    bpy.data.objects.remove(bpy.data.objects[name])
slow = scene.add_gn_object("Slow", False, (0.0, 0.0, 0.0), segments=128, rings=64)
bpy.context.view_layer.objects.active = slow
slow.dss_sliders.space = 'GEOMETRY_NODES'
assert bpy.ops.dss.start() == {'FINISHED'}
s = session.get(slow)
RESULT = os.path.join(a["out"], "modal.result")
lines = []
state = {"phase": "invoke", "ticks": 0}


draws = {"idle": 0, "working": 0}
_draw = ui.DSS_PT_panel.draw


def counting_draw(self, context):
    """The panel's draw, counted: a draw error would print a traceback (run.sh fails then)."""
    _draw(self, context)
    draws["working" if ui.JOBS else "idle"] += 1


ui.DSS_PT_panel.draw = counting_draw


def show_panel():
    """The panel as a popup (Blender 3.4 cannot switch the sidebar's tab from Python)."""
    win, area, region = view3d()
    with bpy.context.temp_override(window=win, area=area, region=region):
        bpy.ops.wm.call_panel(name="DSS_PT_panel", keep_open=True)


def ok(cond, what):
    lines.append(("ok: " if cond else "FAILED: ") + what)


def view3d():
    win = bpy.context.window_manager.windows[0]
    area = next(ar for ar in win.screen.areas if ar.type == 'VIEW_3D')
    region = next(r for r in area.regions if r.type == 'WINDOW')
    return win, area, region


def click_accept():
    win, area, region = view3d()
    slow.dss_sliders.slider = 0.7
    with bpy.context.temp_override(window=win, area=area, region=region):
        return bpy.ops.dss.accept('INVOKE_DEFAULT')


def finish():
    with open(RESULT, "w") as fh:
        fh.write("\n".join(lines) + "\n")
        fh.write("PASS\n" if all(x.startswith("ok") for x in lines) else "FAIL\n")
    bpy.ops.wm.quit_blender()


def driver():
    state["ticks"] += 1
    if state["ticks"] > 3000:                      # 60 s: give up
        lines.append("FAILED: timed out in phase " + state["phase"])
        finish()
        return None
    ph = state["phase"]
    if ph == "invoke":
        state["before"] = s.search.save()
        show_panel()
        rc = click_accept()
        ok(rc == {'RUNNING_MODAL'}, f"Accept on a slow model runs modal ({rc})")
        state["job"] = ui.JOBS.get("Slow")
        ok(state["job"] is not None, "a job runs")
        show_panel()
        # Esc at once, as a window event: queued before the modal operator's first timer tick
        # serves any f batch, so the cancel is honoured at libdss's first progress report
        # whatever the machine's speed: libdss asks it before the first batch
        win = view3d()[0]
        win.event_simulate(type='ESC', value='PRESS')
        win.event_simulate(type='ESC', value='RELEASE')
        state["phase"] = "wait-cancel"
    elif ph == "wait-cancel":
        if "Slow" not in ui.JOBS:
            job = state["job"]
            # libdss asks before the first batch (the worker may get there before the Esc) and after
            # each: the Esc is honoured at the next report, before a second batch is evaluated
            ok(job.cancelled and job.asked <= 2 and job.done <= session.FD_BATCH,
               f"Esc cancelled the step at the first progress report after it "
               f"({job.done} of {job.total} points done)")
            ok(s.search.save() == state["before"], "the session is unchanged")
            ok(slow.dss_sliders.iteration == 0, "the iteration is unchanged")
            rc = click_accept()
            ok(rc == {'RUNNING_MODAL'}, "a second Accept runs modal")
            state["phase"] = "wait-done"
    elif ph == "wait-done":
        if "Slow" not in ui.JOBS:
            ok(slow.dss_sliders.iteration == 1 and s.search.save() != state["before"],
               "run to its end it accepted (iteration 1, a new centre)")
            ok(slow[session.SESSION_KEY] == s.search.save(), "and saved the session")
            ok(draws["working"] > 0 and draws["idle"] > 0,
               f"the panel drew without error, idle ({draws['idle']}x) and during a step "
               f"({draws['working']}x)")
            finish()
            return None
    return 0.02


bpy.app.timers.register(driver, first_interval=0.5)
