"""A slider session on one object: the libdss model and search over its Space, the object's
displayed inputs, and persistence into the .blend.

The session lives in memory (one per object, in SESSIONS); what is saved with the file is
obj["dss_session"] (the bytes of dss.Search.save: centre, subspace, decomposition, parameters,
RNG) and obj["dss_space"] (the inputs explored, as JSON), written after every step. A session
missing from memory (after opening a file) is resumed from them, bit for bit; the undo history
is not saved (libdss does not save it), so Undo starts empty after a reopen.

Sessions are keyed by the object's stable id (guard.uid, a uuid in obj["dss_id"]), not its
name: a renamed object keeps its session and Undo; a copy of the object (which copies the id)
gets an id of its own. Blender's own undo and redo restore obj["dss_session"]: sync_after_undo()
(called by the add-on's undo_post/redo_post handlers) brings the session in memory back to the
saved state, by libdss's undo when the restored bytes are an earlier step of this session (Undo
then still goes back from there), by loading the bytes otherwise.
"""

import hashlib
import threading
import time

import bpy
import numpy as np

from . import guard, loader
from .space import Space, SpaceError

SESSION_KEY = "dss_session"
SPACE_KEY = "dss_space"
#: Blender stores key values, socket values and coordinates in float32: the generator's relative
#: precision, declared to libdss so that finite differences step by sqrt(FLT_EPSILON) = 3.5e-4
#: instead of double precision's 1.5e-8 (which differences rounding noise)
FLT_EPSILON = float(np.finfo(np.float32).eps)

SESSIONS = {}       # object id (guard.uid) -> Session

#: The panel's "Directions" choices -> libdss search parameters. "singular" is the paper's
#: method (libdss's default); "once" adds DSS_SEARCH_KEEP_SHOWN (when the Jacobian has not
#: changed, as with shape keys, each direction is shown once before any is shown again);
#: "order" shows the right singular vectors in singular-value order, each once, cycling;
#: "random" is the paper's baseline; "recommended" (the panel's default) is "order" when the
#: Jacobian is exact (shape keys: a linear rig, where singular-value order is the greedy
#: optimum) and "singular" otherwise. docs/blender.md, "Directions on a face rig".
DIRECTIONS = {
    "singular": {"sampler": "singular"},
    "once": {"sampler": "singular", "keep_shown": True},
    "order": {"sampler": "top", "keep_shown": True},
    "random": {"sampler": "random"},
}


class OffMainThread(RuntimeError):
    """Add-on code was entered on a thread other than Blender's main thread."""


def on_main_thread():
    if threading.current_thread() is not threading.main_thread():
        raise OffMainThread("the DSS add-on ran on a thread other than Blender's main thread")


class Session:
    """dss.Model + dss.Search on a Space; every action re-applies what the slider shows.

    Every call that may evaluate f runs as a libdss job (a Runner) answered on Blender's main
    thread: the model's callbacks only declare what the add-on can answer (f, and the exact
    Jacobian for plain shape keys); a job never calls them."""

    def __init__(self, dss, space, seed=0, sampler="singular", reach=None):
        self.dss = dss
        self.space = space
        self.exact = space.exact_jacobian_possible()
        self.callback_calls = 0        # calls of the model's callbacks: jobs make none
        if not self.exact:
            space.use_compact(False)
        if sampler == "recommended":
            sampler = "order" if self.exact else "singular"
        kw = {"jacobian": self._jacobian} if self.exact else {}
        self.model = dss.Model(self._f, n=space.n, m=space.model_m, precision=FLT_EPSILON,
                               **kw)
        self.search = dss.Search(self.model, seed=seed, prior="box",
                                 prior_scale=1.0, subspace_dim=1,
                                 jacobian="full" if self.exact else "finite_diff",
                                 **DIRECTIONS.get(sampler, {"sampler": sampler}))
        if reach is not None:          # a resumed session gets its radius from the saved bytes
            self.search.set(radius=reach)
        self.history = []              # 'commit' / 'resample' per undoable step
        self.saves = []                # digest(save()) after each state: saves[-1] is the
        #                                current one, saves[i] len(saves) - 1 - i Undos back
        self.saved = None              # the bytes of the current state (what store() writes)
        self.uid = None                # the object's id (guard.uid)
        self._z = np.empty(space.n)

    # ---- the model's callbacks: declarations only (jobs answer requests instead) ---------

    def _f(self, z, out):
        on_main_thread()
        self.callback_calls += 1
        self.space.f(z, out)

    def _jacobian(self, z, rows, out):
        on_main_thread()
        self.callback_calls += 1
        self.space.jacobian(z, rows, out)

    # ---- actions ---------------------------------------------------------------------------

    @property
    def slow(self):
        """True when steps evaluate f many times (finite differences): a step invoked from the
        UI then runs modal, a few evaluations per timer tick."""
        return not self.exact

    def open_job(self, action):
        """A libdss job for 'start' (= Reset), 'commit:<t>', 'resample' or 'undo' (SpaceError
        first when the object's shape keys changed since the session started)."""
        on_main_thread()
        self.space.check()
        if not hasattr(self.search, "commit_job"):
            raise self.dss.DssError(self.dss.EUNSUPPORTED, function="dss_search_commit_job",
                                    detail="this add-on needs libdss 1.2 (jobs)")
        if action == "start":
            return self.search.start_job(self.space.z_initial)
        if action.startswith("commit:"):
            return self.search.commit_job(float(action[7:]))
        if action == "resample":
            return self.search.resample_job()
        if action == "undo":
            return self.search.undo_job()
        raise ValueError(action)

    def finished(self, action):
        """Book-keeping after a job of `action` ended successfully."""
        if action == "start":
            self.history = []
            self.saved = self.search.save()
            self.saves = [digest(self.saved)]
        elif action.startswith(("commit:", "resample")):
            self.history.append("commit" if action.startswith("commit:") else "resample")
            self.saved = self.search.save()
            self.saves.append(digest(self.saved))
            depth = int(self.search.get("history"))        # libdss keeps this many steps
            del self.history[:max(0, len(self.history) - depth)]
            del self.saves[:max(0, len(self.saves) - depth - 1)]
        elif action == "undo" and self.history:
            self.history.pop()
            self.saves.pop()
            self.saved = self.search.save()

    def run(self, action):
        """Run an action to its end, synchronously (scripts, EXEC operators): the same job,
        answered without a time budget."""
        runner = Runner(self, action)
        try:
            while runner.step(budget=None):
                pass
        finally:
            runner.close()
        if runner.error is not None:
            raise runner.error
        return runner

    def show(self, slider):
        """Apply point(t) for the panel's slider value s in [-1, 1] (t = (s + 1) / 2)."""
        self.search.point((slider + 1.0) * 0.5, out=self._z)
        self.space.apply(self._z)

    def sigma(self):
        """The singular value of the current direction (-1 for a random direction)."""
        idx = self.search.basis_indices()[0]
        return float(self.search.singular_values()[idx]) if idx >= 0 else -1.0

    # ---- persistence -------------------------------------------------------------------

    def store(self, obj):
        obj[SESSION_KEY] = self.saved if self.saved is not None else self.search.save()
        obj[SPACE_KEY] = self.space.to_json()

    def follow(self):
        """The session's object (found by its id when it was renamed; the space follows the
        new name), or None when it is gone."""
        obj = bpy.data.objects.get(self.space.obj_name)
        if obj is not None and guard.uid(obj) == self.uid:
            return obj
        for o in bpy.data.objects:
            if guard.uid(o) == self.uid:
                self.space.obj_name = o.name
                return o
        return None

    def close(self):
        self.search.close()
        self.model.close()


def digest(data):
    """What the session keeps of each earlier state's saved bytes (O(n^2) bytes each; the
    history keeps up to 64): enough to recognise them after Blender's undo."""
    return hashlib.sha256(bytes(data)).digest()


def get(obj):
    """The live session of obj, or None. Follows a renamed object; a copy of the session's
    object (same id, another object) has none."""
    key = guard.uid(obj)
    s = SESSIONS.get(key) if key else None
    if s is None:
        return None
    if s.space.obj_name != obj.name:
        other = bpy.data.objects.get(s.space.obj_name)
        if other is not None and other.as_pointer() != obj.as_pointer() \
                and guard.uid(other) == key:
            return None             # obj is a copy (Shift+D copies the custom properties)
        s.space.obj_name = obj.name  # renamed: the session follows
    return s


def _own_uid(obj):
    """obj's id, made unique: a copy of a session's object gets an id of its own."""
    key = guard.uid(obj, create=True)
    s = SESSIONS.get(key)
    if s is not None and s.space.obj_name != obj.name:
        other = bpy.data.objects.get(s.space.obj_name)
        if other is not None and other.as_pointer() != obj.as_pointer() \
                and guard.uid(other) == key:
            key = guard.new_uid(obj)
    return key


def editable(obj, which):
    """SpaceError when the add-on could not move obj's inputs (linked data, a system override,
    absolute shape keys): the report says what to do."""
    what = guard.not_editable(obj, which) or guard.absolute_keys(obj, which)
    if what is not None:
        raise SpaceError(what)


def create(obj, which, modifier, seed, sampler, reach, python_dir=""):
    """A new session on obj (replacing any other): builds the space, started by the caller."""
    dss = loader.load(python_dir)
    editable(obj, which)
    key = _own_uid(obj)
    drop(obj)
    space = Space.from_object(obj, which, modifier)
    s = Session(dss, space, seed=seed, sampler=sampler, reach=reach)
    s.uid = key
    SESSIONS[key] = s
    return s


def resume(obj, python_dir=""):
    """The session saved in obj, loaded bit for bit (SpaceError or DssError otherwise)."""
    dss = loader.load(python_dir)
    if SESSION_KEY not in obj or SPACE_KEY not in obj:
        raise LookupError(f"'{obj.name}' has no saved slider session: press Start")
    data = obj[SESSION_KEY]
    if not isinstance(data, bytes):
        raise dss.DssError(dss.EFORMAT, function="dss_search_load",
                           detail="the saved session property does not hold bytes")
    space = Space.from_json(obj, obj[SPACE_KEY])
    editable(obj, space.which)
    s = Session(dss, space)
    try:
        s.search.load(data)
    except BaseException:
        s.close()
        raise
    key = _own_uid(obj)
    drop(obj)
    s.uid = key
    s.saved = bytes(data)
    s.saves = [digest(s.saved)]
    SESSIONS[key] = s
    return s


def drop(obj_or_key):
    """Forget the session in memory of an object (given as the object, its id, or its name)."""
    if isinstance(obj_or_key, str):
        key = obj_or_key
        if key not in SESSIONS:                 # an object's name
            obj = bpy.data.objects.get(key)
            key = guard.uid(obj) if obj is not None else None
    else:
        key = guard.uid(obj_or_key)
    s = SESSIONS.pop(key, None) if key else None
    if s is not None:
        s.close()


def sync_after_undo(busy=()):
    """After Blender's undo or redo: bring every session in memory to the state its object's
    obj["dss_session"] now holds. The bytes of an earlier step of the session: libdss's undo
    back to it (the add-on's Undo then goes on from there); other bytes: the session is loaded
    from them (Undo starts empty); no bytes (undone to before Start) or no object: the session
    is dropped. Sessions whose id is in `busy` (a step running) are dropped. The undo restored
    the inputs, so nothing is written unless libdss had to evaluate f again (then the slider's
    point is shown). Returns {id: 'kept' | 'undone' | 'loaded' | 'dropped'}."""
    out = {}
    for key, s in list(SESSIONS.items()):
        obj = s.follow()
        data = obj.get(SESSION_KEY) if obj is not None else None
        if key in busy or not isinstance(data, bytes):
            drop(key)
            out[key] = "dropped"
            continue
        d = digest(data)
        if s.saves and d == s.saves[-1]:
            out[key] = "kept"
            continue
        if d in s.saves[:-1]:
            back = len(s.saves) - 1 - max(i for i, b in enumerate(s.saves[:-1]) if b == d)
            try:
                evaluated = 0
                for _ in range(back):
                    evaluated += s.run("undo").evaluated
                if s.saves[-1] == d:
                    if evaluated:
                        s.show(obj.dss_sliders.slider)
                    out[key] = "undone"
                    continue
            except Exception:  # noqa: BLE001 - loaded from the bytes below instead
                pass
        try:
            resume(obj)
            out[key] = "loaded"
        except Exception:  # noqa: BLE001 - the next action resumes or reports
            drop(key)
            out[key] = "dropped"
    return out


def drop_all():
    for key in list(SESSIONS):
        drop(key)


class Runner:
    """One search action as a libdss job, driven from Blender's main thread in ticks.

    step(budget) answers the job's requests for about `budget` seconds and returns; an f
    request of k points is evaluated point by point (each one sets the inputs, updates the
    depsgraph and reads the mesh), across as many ticks as needed, and answered when all k are
    done; a Jacobian request (exact shape keys) is answered at once. cancel() ends the job
    with the session exactly as it was (libdss's promise for a cancelled job). No thread is
    involved: Blender's event loop runs between steps.
    """

    def __init__(self, session, action):
        self.session = session
        self.action = action
        self.error = None
        self.cancelled = False
        self.evaluated = 0                  # f points evaluated so far
        self.requests = 0                   # requests answered so far
        self._job = session.open_job(action)
        self._it = iter(self._job)
        self._req = None                    # the request being answered
        self._out = None                    # its answer, filled point by point
        self._next_point = 0
        self.running = True

    def progress(self):
        """(done, total) points of libdss's last progress report, plus the points evaluated
        for the pending f request."""
        if self._job is None or self._job._ptr is None:
            return 0, 0
        stage, done, total = self._job.progress()
        return min(total, done + self._next_point), total

    def step(self, budget=0.02):
        """Answer requests for up to `budget` seconds (None: to the end), at least one point;
        True while the job runs."""
        on_main_thread()
        if not self.running:
            return False
        self.session.follow()               # the object may have been renamed between ticks
        t_end = None if budget is None else time.perf_counter() + budget
        try:
            while True:
                if self._req is None:
                    self._req = next(self._it, None)
                    if self._req is None:         # done
                        self._end()
                        return False
                    self._out = np.empty(self._req.shape)
                    self._next_point = 0
                self._work()
                if t_end is not None and time.perf_counter() >= t_end:
                    return True
        except Exception as exc:  # noqa: BLE001 - a failed call: reported by the caller
            self.error = exc
            self._end()
            return False

    def _work(self):
        """One unit of work on the pending request: one point of an f request, or the whole
        of a Jacobian request; answers it when complete."""
        req, space = self._req, self.session.space
        if req.kind == "f":
            j = self._next_point
            space.f(req.input[j:j + 1], self._out[j:j + 1])
            self._next_point += 1
            self.evaluated += 1
            if self._next_point < req.k:
                return
        elif req.kind == "jacobian":
            space.jacobian(req.point, req.rows, self._out)
        else:
            req.fail()
            raise RuntimeError(f"libdss asked for a '{req.kind}' request, which the add-on "
                               "does not declare")
        req.answer(self._out)
        self.requests += 1
        self._req = self._out = None
        self._next_point = 0

    def _end(self):
        self.running = False
        dss = self.session.dss
        if isinstance(self.error, dss.DssError) and self.error.code == dss.ECANCELLED:
            self.cancelled, self.error = True, None
        elif self.error is None:
            self.session.finished(self.action)
        self.close()

    def cancel(self):
        """Stop now: the job is cancelled and closed, the session unchanged."""
        on_main_thread()
        if self.running:
            self.running = False
            self.cancelled = True
            self.close()

    def close(self):
        if self._job is not None:
            self._req = None
            self._it = None
            self._job.close()               # an unfinished job is cancelled: session unchanged
            self._job = None
