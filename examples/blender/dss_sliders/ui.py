"""Preferences, the per-object properties, the operators and the sidebar panel."""

import bpy
from bpy.app.handlers import persistent
from bpy.props import (EnumProperty, FloatProperty, IntProperty, PointerProperty,
                       StringProperty)

from . import guard, loader, session
from .space import SpaceError

ADDON = __package__
JOBS = {}          # object id (guard.uid) -> running session.Runner (modal steps on slow
#                    models only)
TICK = 0.02        # the modal operator's timer interval, s
BUDGET = 0.02      # the time a tick spends answering libdss's requests, s (at least one point)
_quiet = [False]   # set while an operator resets the slider (it applies the result itself)


def prefs():
    addon = bpy.context.preferences.addons.get(ADDON)
    return addon.preferences if addon else None


def python_dir():
    p = prefs()
    return p.python_dir if p else ""


def message(exc):
    """The text of a report for any failure: a libdss error carries the library's message."""
    dss = loader._dss
    if dss is not None:
        if isinstance(exc, dss.DssError):
            return f"libdss: {exc}"
        inner = getattr(exc, "dss_error", None)      # an exception raised inside f
        if inner is not None:
            return f"{exc} (libdss: {inner})"
    if isinstance(exc, (SpaceError, loader.MissingLibrary, LookupError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


# ---- properties ------------------------------------------------------------------------------

class DSS_Preferences(bpy.types.AddonPreferences):
    bl_idname = ADDON
    python_dir: StringProperty(
        name="libdss Python directory", subtype='DIR_PATH', default="",
        description="Directory holding libdss's Python package `dss` (<libdss tree>/python "
                    "after `make`); empty when libdss is installed with `make install`")

    def draw(self, context):
        self.layout.prop(self, "python_dir")
        self.layout.label(text="Empty: use the `dss` package installed by `sudo make install`.")


def _slider_changed(self, context):
    if _quiet[0]:
        return
    obj = self.id_data
    if guard.uid(obj) in JOBS:
        return
    try:
        s = session.get(obj) or session.resume(obj, python_dir())
        s.show(self.slider)
        self.error = ""
    except Exception as exc:  # noqa: BLE001 - shown in the panel and as a report
        self.error = message(exc)
        _report_later(self.error)


def _report_later(text):
    """A property's update callback cannot report: an operator does it from a timer."""
    def run():
        try:
            bpy.ops.dss.report('INVOKE_DEFAULT', text=text)
        except RuntimeError:
            pass          # the report was made; bpy.ops raises for ERROR reports
    if not bpy.app.background:
        bpy.app.timers.register(run, first_interval=0.0)


class DSS_ObjectProps(bpy.types.PropertyGroup):
    space: EnumProperty(
        name="Explore", default='SHAPE_KEYS',
        items=[('SHAPE_KEYS', "Shape keys", "The object's shape key values"),
               ('GEOMETRY_NODES', "Geometry Nodes", "Float and vector inputs of a Geometry "
                "Nodes modifier"),
               ('BOTH', "Both", "Shape keys and Geometry Nodes inputs")])
    modifier: StringProperty(name="Modifier", default="",
                             description="Geometry Nodes modifier (empty: the first one)")
    seed: IntProperty(name="Seed", default=0, min=0)
    sampler: EnumProperty(
        name="Directions", default='recommended',
        items=[('recommended', "Recommended", "Shape keys (a linear rig): In order; otherwise "
                "Important (docs/blender.md, Directions on a face rig)"),
               ('singular', "Important", "Drawn by importance over the Jacobian's singular "
                "values (differential subspace search, the paper's method)"),
               ('once', "Important, each once", "Drawn by importance, and while the Jacobian "
                "does not change (shape keys) each direction is shown once before any is "
                "shown again (libdss's DSS_SEARCH_KEEP_SHOWN)"),
               ('order', "In order", "The Jacobian's singular directions in order of their "
                "singular values, each once, then again from the first"),
               ('random', "Random", "Uniformly random directions (a baseline)")])
    reach: FloatProperty(
        name="Reach", default=1.5, min=0.01, max=10.0,
        description="How far the slider's ends go from the centre, in units of half an "
                    "input's range (libdss's radius)")
    slider: FloatProperty(name="Slider", default=0.0, min=-1.0, max=1.0, update=_slider_changed,
                          description="Move along the current direction; Accept to keep")
    iteration: IntProperty(name="Iteration", default=0)
    sigma: FloatProperty(name="Singular value", default=0.0)
    error: StringProperty(name="Last error", default="")


# ---- operators ---------------------------------------------------------------------------

class StepOperator:
    """Runs one search action on the active object's session as a libdss job answered on
    Blender's main thread: on a slow model (finite differences), when invoked from the UI, as a
    modal operator whose timer answers the job a few evaluations per tick (progress, Cancel,
    Esc); otherwise to its end at once."""

    bl_options = {'REGISTER'}

    @classmethod
    def poll(cls, context):
        obj = context.active_object
        return obj is not None and guard.uid(obj) not in JOBS

    def session(self, obj):
        return session.get(obj) or session.resume(obj, python_dir())

    def action(self, obj, s):
        raise NotImplementedError

    def execute(self, context):
        return self._run(context, modal=False)

    def invoke(self, context, event):
        return self._run(context, modal=context.window is not None)

    def _run(self, context, modal):
        obj = context.active_object
        s = None
        try:
            s = self.session(obj)
            act = self.action(obj, s)
            if modal and s.slow:
                return self._start_job(context, obj, s, act)
            s.run(act)
        except Exception as exc:  # noqa: BLE001 - every failure is a report
            return self._failed(obj, s, exc)
        self._finish(obj, s, act)
        return {'FINISHED'}

    def _failed(self, obj, s, exc):
        text = message(exc)
        obj.dss_sliders.error = text
        if s is not None and s.search.started:
            try:                    # f may have moved the inputs: show the session again
                s.show(obj.dss_sliders.slider)
            except Exception:       # noqa: BLE001 - the first error is the one reported
                pass
        self.report({'ERROR'}, text)
        return {'CANCELLED'}

    def _finish(self, obj, s, act):
        p = obj.dss_sliders
        if act == "start":
            p.iteration = 0
        elif act.startswith("commit:"):
            p.iteration += 1
        elif act == "undo" and self._undid == "commit":
            p.iteration = max(0, p.iteration - 1)
        s.store(obj)
        p.sigma = s.sigma()
        p.error = ""
        _quiet[0] = True
        try:
            p.slider = 0.0
        finally:
            _quiet[0] = False
        s.show(0.0)

    # ---- the modal path ----------------------------------------------------------------

    def _start_job(self, context, obj, s, act):
        runner = session.Runner(s, act)
        JOBS[s.uid] = runner
        self._runner, self._obj_name, self._act = runner, obj.name, act
        wm = context.window_manager
        self._timer = wm.event_timer_add(TICK, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, 1000)
        return {'RUNNING_MODAL'}

    def modal(self, context, event):
        session.on_main_thread()
        runner = self._runner
        if event.type == 'ESC':     # a popup may take the press; the release still counts
            runner.cancel()
        elif event.type == 'TIMER':
            runner.step(budget=BUDGET)
        elif runner.running:
            return {'PASS_THROUGH'}
        wm = context.window_manager
        done, total = runner.progress()
        if total:
            wm.progress_update(int(1000 * done / total))
        for area in context.screen.areas if context.screen else ():
            if area.type == 'VIEW_3D':
                area.tag_redraw()
        if runner.running:
            return {'RUNNING_MODAL'}
        return self._job_ended(context)

    def _stop_timer(self, context):
        try:
            wm = context.window_manager
            wm.event_timer_remove(self._timer)
            wm.progress_end()
        except (ReferenceError, RuntimeError, AttributeError):
            pass                    # the window went with a file load
        s = self._runner.session
        if JOBS.get(s.uid) is self._runner:
            JOBS.pop(s.uid)

    def cancel(self, context):
        """Blender ends the modal operator (a file load, File > New, closing the window):
        the job is cancelled, the session unchanged, and the object is free again."""
        self._runner.cancel()
        self._stop_timer(context)

    def _job_ended(self, context):
        runner = self._runner
        self._stop_timer(context)
        s = runner.session
        obj = s.follow() if session.SESSIONS.get(s.uid) is s else None
        if obj is None:
            self.report({'WARNING'}, f"The object '{self._obj_name}' or its session is gone "
                        "(deleted, or a file was loaded, or Blender's undo went back): the "
                        "step was abandoned")
            return {'CANCELLED'}
        if runner.cancelled:
            self._cancelled(obj, runner.session)
            self.report({'WARNING'}, "Cancelled: the session is unchanged")
            return {'CANCELLED'}
        if runner.error is not None:
            return self._failed(obj, runner.session, runner.error)
        self._finish(obj, runner.session, self._act)
        return {'FINISHED'}

    def _cancelled(self, obj, s):
        """After a cancelled job: the session is as before it; show it again. A cancelled
        Start of a new session leaves no session in memory (the one saved in the object, if
        any, resumes on the next action)."""
        if s.search.started:
            s.show(obj.dss_sliders.slider)
        elif session.SESSIONS.get(s.uid) is s:
            session.drop(s.uid)

class DSS_OT_start(StepOperator, bpy.types.Operator):
    """Start a slider session on the active object's current inputs"""
    bl_idname = "dss.start"
    bl_label = "Start"
    bl_options = {'REGISTER', 'UNDO'}

    def session(self, obj):
        p = obj.dss_sliders
        return session.create(obj, p.space, p.modifier, p.seed, p.sampler, p.reach,
                              python_dir())

    def action(self, obj, s):
        return "start"


class DSS_OT_accept(StepOperator, bpy.types.Operator):
    """Keep the slider's shape: it becomes the new centre, and a new direction is drawn"""
    bl_idname = "dss.accept"
    bl_label = "Accept"
    bl_options = {'REGISTER', 'UNDO'}

    def action(self, obj, s):
        return f"commit:{(obj.dss_sliders.slider + 1.0) * 0.5!r}"


class DSS_OT_another(StepOperator, bpy.types.Operator):
    """Draw another direction through the same centre"""
    bl_idname = "dss.another"
    bl_label = "Another direction"
    bl_options = {'REGISTER', 'UNDO'}

    def action(self, obj, s):
        return "resample"


class DSS_OT_undo(StepOperator, bpy.types.Operator):
    """Go back to the centre and direction before the last Accept or Another direction"""
    bl_idname = "dss.undo"
    bl_label = "Undo"
    bl_options = {'REGISTER', 'UNDO'}

    def action(self, obj, s):
        if not s.history:
            raise LookupError(
                "Nothing more to undo: Undo goes back over the Accepts and Another directions "
                "made since Start, Reset or opening the file, and keeps the last "
                f"{int(s.search.get('history'))} of them")
        self._undid = s.history[-1]
        return "undo"


class DSS_OT_reset(StepOperator, bpy.types.Operator):
    """Start the session again from the inputs it started with (clears Undo)"""
    bl_idname = "dss.reset"
    bl_label = "Reset"
    bl_options = {'REGISTER', 'UNDO'}

    def session(self, obj):
        """The session to reset; where it cannot be (a damaged or unloadable saved session,
        inputs changed since it started), a new session on the current inputs, as Start
        makes it (reported as a warning when the step ends)."""
        self._note = None
        try:
            s = session.get(obj) or session.resume(obj, python_dir())
            s.space.check()
            return s
        except loader.MissingLibrary:
            raise
        except Exception as exc:  # noqa: BLE001 - Reset recovers wherever Start can
            self._note = message(exc).split("; press ")[0]
            p = obj.dss_sliders
            return session.create(obj, p.space, p.modifier, p.seed, p.sampler, p.reach,
                                  python_dir())

    def action(self, obj, s):
        return "start"

    def _finish(self, obj, s, act):
        super()._finish(obj, s, act)
        if self._note:
            self.report({'WARNING'}, "Reset started a new session on the inputs as they are "
                        f"now, since the old one could not be reset. {self._note}")


class DSS_OT_resume(bpy.types.Operator):
    """Resume the session saved in the object"""
    bl_idname = "dss.resume"
    bl_label = "Resume"

    def execute(self, context):
        obj = context.active_object
        try:
            s = session.resume(obj, python_dir())
            s.show(obj.dss_sliders.slider)
            obj.dss_sliders.sigma = s.sigma()
        except Exception as exc:  # noqa: BLE001
            obj.dss_sliders.error = message(exc)
            self.report({'ERROR'}, obj.dss_sliders.error)
            return {'CANCELLED'}
        obj.dss_sliders.error = ""
        return {'FINISHED'}


class DSS_OT_cancel(bpy.types.Operator):
    """Stop the running step now; the session stays as it was"""
    bl_idname = "dss.cancel"
    bl_label = "Cancel"

    def execute(self, context):
        job = JOBS.get(guard.uid(context.active_object))
        if job is None:
            self.report({'WARNING'}, "Nothing is running")
            return {'CANCELLED'}
        job.cancel()
        return {'FINISHED'}


class DSS_OT_report(bpy.types.Operator):
    """Show an error of a slider move as a report"""
    bl_idname = "dss.report"
    bl_label = "Report"
    bl_options = {'INTERNAL'}
    text: StringProperty()

    def execute(self, context):
        self.report({'ERROR'}, self.text)
        return {'FINISHED'}

    def invoke(self, context, event):
        return self.execute(context)


# ---- the panel -----------------------------------------------------------------------------

class DSS_PT_panel(bpy.types.Panel):
    bl_label = "Subspace search"
    bl_space_type = 'VIEW_3D'
    bl_region_type = 'UI'
    bl_category = "DSS"

    @classmethod
    def poll(cls, context):
        return context.active_object is not None and context.active_object.type == 'MESH'

    def draw(self, context):
        obj = context.active_object
        p = obj.dss_sliders
        layout = self.layout
        col = layout.column()
        col.prop(p, "space")
        if p.space != 'SHAPE_KEYS':
            col.prop_search(p, "modifier", obj, "modifiers")
        row = col.row()
        row.prop(p, "sampler", text="")
        row.prop(p, "seed")
        col.prop(p, "reach")
        col.operator("dss.start")
        job = JOBS.get(guard.uid(obj))
        live = session.get(obj)
        if job is not None:
            box = layout.box()
            done, total = job.progress()
            box.label(text=f"Working: {done} of {total or '?'} (Esc cancels)")
            box.operator("dss.cancel")
        elif live is not None or session.SESSION_KEY in obj:
            box = layout.box()
            if live is None:
                box.operator("dss.resume", text="Resume saved session")
            box.prop(p, "slider", slider=True)
            row = box.row(align=True)
            row.operator("dss.accept")
            row.operator("dss.another")
            row = box.row(align=True)
            row.operator("dss.undo")
            row.operator("dss.reset")
            sigma = "random" if p.sigma < 0 else f"{p.sigma:.4g}"
            box.label(text=f"Iteration {p.iteration}   singular value {sigma}")
            if live is not None:
                sp = live.space
                jac = "exact (shape keys)" if live.exact else "finite differences"
                box.label(text=f"n = {sp.n} inputs, m = {sp.m}, Jacobian {jac}")
                if sp.mode == 'SURFACE':
                    box.label(text="Topology changes: f = surface samples", icon='INFO')
        if p.error:
            layout.label(text=p.error, icon='ERROR')


CLASSES = (DSS_Preferences, DSS_ObjectProps, DSS_OT_start, DSS_OT_accept, DSS_OT_another,
           DSS_OT_undo, DSS_OT_reset, DSS_OT_resume, DSS_OT_cancel, DSS_OT_report,
           DSS_PT_panel)


# ---- Blender's undo, redo and file loads ---------------------------------------------------

LAST_SYNC = {}     # what the last undo/redo did to each session (session.sync_after_undo)


@persistent
def _after_undo(*_args):
    """Blender's undo or redo restored the objects' saved sessions: a step still running is
    cancelled (session unchanged), then every session in memory follows its saved bytes."""
    LAST_SYNC.clear()
    try:
        for runner in list(JOBS.values()):
            runner.cancel()
        LAST_SYNC.update(session.sync_after_undo())
    except Exception as exc:  # noqa: BLE001 - a handler must not raise: forget, resume later
        LAST_SYNC["error"] = message(exc)
        session.drop_all()


@persistent
def _after_load(*_args):
    """A file was opened (or File > New): the sessions in memory belong to the old file.
    Steps still running are cancelled; a session saved in the new file resumes on use."""
    try:
        for runner in list(JOBS.values()):
            runner.cancel()
    finally:
        JOBS.clear()
        session.drop_all()


HANDLERS = ((bpy.app.handlers.undo_post, _after_undo), (bpy.app.handlers.redo_post, _after_undo),
            (bpy.app.handlers.load_post, _after_load))


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Object.dss_sliders = PointerProperty(type=DSS_ObjectProps)
    for handlers, fn in HANDLERS:
        for h in [h for h in handlers if getattr(h, "__name__", "") == fn.__name__
                  and getattr(h, "__module__", "") == fn.__module__]:
            handlers.remove(h)                 # a reloaded add-on's old handler
        handlers.append(fn)


def unregister():
    for handlers, fn in HANDLERS:
        for h in [h for h in handlers if getattr(h, "__name__", "") == fn.__name__
                  and getattr(h, "__module__", "") == fn.__module__]:
            handlers.remove(h)
    for runner in list(JOBS.values()):    # a step still running: cancelled, session unchanged
        runner.cancel()
    JOBS.clear()
    del bpy.types.Object.dss_sliders
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
