"""A slider session on one object: the libdss model and search over its Space, the object's
displayed inputs, and persistence into the .blend.

The session lives in memory (one per object, in SESSIONS); what is saved with the file is
obj["dss_session"] (the bytes of dss.Search.save: centre, subspace, decomposition, parameters,
RNG) and obj["dss_space"] (the inputs explored, as JSON), written after every step. A session
missing from memory (after opening a file) is resumed from them, bit for bit; the undo history
is not saved (libdss does not save it), so Undo starts empty after a reopen.
"""

import queue
import threading
import time

import numpy as np

from . import loader
from .space import Space

SESSION_KEY = "dss_session"
SPACE_KEY = "dss_space"
FD_BATCH = 4        # points per f call in finite-difference mode: the progress granularity

SESSIONS = {}       # object name -> Session


class Session:
    """dss.Model + dss.Search on a Space; every action re-applies what the slider shows."""

    def __init__(self, dss, space, seed=0, sampler="singular", reach=None):
        self.dss = dss
        self.space = space
        self.exact = space.exact_jacobian_possible()
        self._main = threading.get_ident()
        self._requests = None          # set while a Job runs the search in a worker thread
        kw = {"jacobian": self._jacobian} if self.exact else {}
        self.model = dss.Model(self._f, n=space.n, m=space.m, **kw)
        if not self.exact:
            self.model.max_batch = FD_BATCH
        self.search = dss.Search(self.model, seed=seed, sampler=sampler, prior="box",
                                 prior_scale=1.0, subspace_dim=1,
                                 jacobian="full" if self.exact else "finite_diff")
        if reach is not None:          # a resumed session gets its radius from the saved bytes
            self.search.set(radius=reach)
        self.history = []              # 'commit' / 'resample' per undoable step
        self._z = np.empty(space.n)

    # ---- the model's callbacks: on Blender's main thread only ---------------------------

    def _f(self, z, out):
        if threading.get_ident() == self._main:
            self.space.f(z, out)
        else:                          # a Job's worker thread: the main thread evaluates
            done = threading.Event()
            box = {}
            self._requests.put((z, out, done, box))
            done.wait()
            if "error" in box:
                raise box["error"]

    def _jacobian(self, z, rows, out):
        self.space.jacobian(z, rows, out)   # numpy only: safe on any thread

    def take(self, timeout=0.0):
        """The next f request of a worker thread, or None if none comes within `timeout`."""
        try:
            return self._requests.get(timeout=timeout)
        except queue.Empty:
            return None

    def answer(self, request):
        """Evaluate a request of take() on the main thread and wake its worker."""
        z, out, done, box = request
        try:
            self.space.f(z, out)
        except BaseException as exc:     # handed to the worker, which aborts the C call
            box["error"] = exc
        done.set()

    def serve(self, timeout=0.0):
        """Evaluate one f request of a worker thread (called on the main thread); True if one
        was served."""
        request = self.take(timeout)
        if request is None:
            return False
        self.answer(request)
        return True

    # ---- actions ---------------------------------------------------------------------------

    @property
    def slow(self):
        """True when steps evaluate f many times (finite differences): run them as a Job."""
        return not self.exact

    def start(self, z0=None):
        self.search.start(self.space.z_initial if z0 is None else z0)
        self.history = []

    def run(self, action):
        """'start' (= Reset), 'commit:<t>', 'resample' or 'undo' on the search."""
        if action == "start":
            self.start()
        elif action.startswith("commit:"):
            self.search.commit(float(action[7:]))
            self.history.append("commit")
        elif action == "resample":
            self.search.resample()
            self.history.append("resample")
        elif action == "undo":
            self.search.undo()
            if self.history:
                self.history.pop()
        else:
            raise ValueError(action)

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
        obj[SESSION_KEY] = self.search.save()
        obj[SPACE_KEY] = self.space.to_json()

    def close(self):
        self.search.close()
        self.model.close()


def get(obj):
    """The live session of obj, or None."""
    s = SESSIONS.get(obj.name)
    return s if s is not None and s.space.obj_name == obj.name else None


def create(obj, which, modifier, seed, sampler, reach, python_dir=""):
    """A new session on obj (replacing any other): builds the space, started by the caller."""
    dss = loader.load(python_dir)
    drop(obj)
    space = Space.from_object(obj, which, modifier)
    s = Session(dss, space, seed=seed, sampler=sampler, reach=reach)
    SESSIONS[obj.name] = s
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
    s = Session(dss, space)
    try:
        s.search.load(data)
    except BaseException:
        s.close()
        raise
    drop(obj)
    SESSIONS[obj.name] = s
    return s


def drop(obj_or_name):
    name = getattr(obj_or_name, "name", obj_or_name)
    s = SESSIONS.pop(name, None)
    if s is not None:
        s.close()


def drop_all():
    for name in list(SESSIONS):
        drop(name)


class Job:
    """One search action in a worker thread, with f evaluated on the main thread.

    libdss's steps are synchronous; on a slow model (finite differences through Geometry
    Nodes) a step takes (n + 1) evaluations of the node tree. The worker thread makes the C
    call (ctypes releases the GIL); each f batch it needs is queued and evaluated by the
    main thread in serve() (bpy is not thread-safe), between which Blender keeps handling
    events. The progress callback, asked by libdss before the first batch and after each, reports done/total
    and returns True once cancel() was requested: the step then fails with ECANCELLED and
    leaves the search as it was.
    """

    def __init__(self, session, action):
        self.session = session
        self.action = action
        self.done = self.total = 0
        self.stage = 0                      # the last dss.STAGE_* reported
        self.asked = 0                      # how often libdss asked the progress callback
        self.error = None
        self.cancelled = False
        self._cancel = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._held = None                   # a request taken but answered at the next step()

    def start(self):
        s = self.session
        s._requests = queue.Queue()
        s.search.set_progress(self._progress)
        self._thread.start()

    def _progress(self, stage, done, total):
        self.asked += 1
        self.stage = stage
        # the SVD reports as its own stage (0 of 1, 1 of 1): keep the point counts on show
        if stage != self.session.dss.STAGE_DECOMPOSE:
            self.done, self.total = done, total
        return self._cancel

    def _run(self):
        try:
            self.session.run(self.action)
        except BaseException as exc:
            self.error = exc

    def cancel(self):
        self._cancel = True

    def step(self, timeout=0.01, budget=0.02):
        """Serve f requests for up to `budget` seconds (at least one if one comes within
        `timeout`), so that Blender handles events in between; True while the job runs.

        The worker thread runs Python (libdss's callbacks) only while this method waits for
        its next request: a request that arrives after the budget is held, unanswered, until
        the next call, so the worker sits in done.wait() while Blender's main loop runs.
        Python running on the worker while Blender's C code ran crashed Blender about once in
        10 runs of the modal test (always in an allocation of the worker's callback)."""
        t_end = time.perf_counter() + budget
        request, self._held = self._held or self.session.take(timeout), None
        while request is not None:
            self.session.answer(request)
            request = self.session.take(timeout)
            if request is not None and time.perf_counter() >= t_end:
                self._held = request
                return True
        if self._thread.is_alive():
            return True
        self._thread.join()
        while self.session.serve():       # none can be left, but never strand a waiter
            pass
        s = self.session
        s.search.set_progress(None)
        s._requests = None
        dss = s.dss
        if isinstance(self.error, dss.DssError) and self.error.code == dss.ECANCELLED:
            self.cancelled = True
        return False
