"""libdss.Search: a differential-subspace-search session (``dss_search``)."""

from __future__ import annotations

import ctypes
import weakref
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np

from ._types import ArrayLike, FloatArray, ProgressFn
from . import _native as N
from .job import Job, open_job
from .model import Model
from ._compat import CallableDict, CallableInt
from .errors import DssError


__all__ = ["Search", "SEARCH_PARAMS", "SEARCH_PARAM_RANGES", "STATS"]

JACOBIAN_MODES = {"auto": 0, "full": 1, "rows": 2, "finite_diff": 3, "randomized": 4}
SAMPLERS = {"singular": 0, "random": 1, "top": 2}
PRIORS = {"gaussian": 0, "box": 1}
DIFF_SCHEMES = {"forward": 0, "central": 1}
RADIUS_POLICIES = {"fixed": 0, "zoom": 1, "adaptive": 2}  # libdss 1.1

#: Parameter name -> (enum dss_search_param value, kind). A kind is int, float, bool, or a
#: dict of the accepted names of an enumeration.
SEARCH_PARAMS = {
    "subspace_dim": (1, int),
    "radius": (2, float),
    "center_tolerance": (3, float),
    "seed": (4, int),
    "jacobian": (5, JACOBIAN_MODES),
    "jacobian_rows": (6, int),
    "rank": (7, int),
    "sampler": (8, SAMPLERS),
    "prior": (9, PRIORS),
    "prior_scale": (10, float),
    "history": (11, int),
    "diff_scheme": (12, DIFF_SCHEMES),
    "diff_step": (13, float),
    "oversample": (14, int),
    "power_iterations": (15, int),
    "jacobian_chunk": (16, int),
    # the slider-range policy (libdss 1.1; docs/algorithm.md section 10)
    "radius_policy": (17, RADIUS_POLICIES),
    "radius_grow": (18, float),
    "radius_shrink": (19, float),
    "radius_min": (20, float),
    "radius_max": (21, float),
    "stall_commits": (22, int),
    "keep_shown": (23, bool),  # libdss 1.2
}

def _ranges():
    """The bounds of every parameter the loaded libdss knows (a newer one's are left out)."""
    out = {}
    for name, (code, _) in SEARCH_PARAMS.items():
        try:
            out[name] = N.param_bounds("dss_search_param_bounds", code)
        except DssError:  # a parameter of a newer libdss than the one loaded
            pass
    return out


#: Parameter name -> (lo, hi), read from the library's descriptor table
#: (``dss_search_param_bounds``): integers in [lo, hi]; ``radius``, ``prior_scale``,
#: ``radius_grow`` and ``radius_min`` exclude lo, ``diff_step`` excludes hi, ``radius_shrink``
#: excludes both; ``subspace_dim`` is also at most the model's n.
SEARCH_PARAM_RANGES = _ranges()

#: Statistic name -> enum dss_search_stat_key value.
STATS = {
    "points": 1, "f_calls": 2, "jacobian_calls": 3, "jacobian_rows": 4, "vjp_calls": 5,
    "vjp_products": 6, "jvp_calls": 7, "jvp_products": 8, "decompositions": 9,
    "undo_recomputes": 10, "seconds_library": 11, "seconds_callbacks": 12, "bytes_held": 13,
    "peak_bytes": 14,
}

_NO_INDEX = np.iinfo(np.uintp).max

# 1.0's method calls s.rank(), s.subspace_dim() still work (with a DeprecationWarning)
_RankValue = CallableInt.named("Search", "rank")
_SubspaceDimValue = CallableInt.named("Search", "subspace_dim")


def encode_param(table, name, value, function):
    """(code, C double) for a named parameter, checking what C cannot see."""
    try:
        code, kind = table[name]
    except KeyError:
        raise N.invalid(f"unknown parameter {name!r}; known: {', '.join(sorted(table))}",
                        function) from None
    if isinstance(kind, dict):
        if isinstance(value, str):
            key = value.strip().lower().replace("-", "_")
            if key not in kind:
                raise N.invalid(f"{name} must be one of {', '.join(kind)}, got {value!r}",
                                function)
            return code, float(kind[key])
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise N.invalid(f"{name} must be one of {', '.join(kind)} (or its integer value), "
                            f"got {value!r}", function)
        return code, float(value)
    if kind is bool:
        if isinstance(value, (bool, np.bool_, int, np.integer)) and value in (0, 1):
            return code, float(bool(value))
        raise N.invalid(f"{name} must be True or False, got {value!r}", function)
    if kind == "refine":  # False/True, or 0, 1, 2 (DSS_LINE_REFINE)
        if isinstance(value, (bool, np.bool_, int, np.integer)) and value in (0, 1, 2):
            return code, float(int(value))
        raise N.invalid(f"{name} must be False, True or 2, got {value!r}", function)
    if kind is int:
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            value = int(value)
            if abs(value) > 2 ** 53:  # would not survive the conversion to double exactly
                raise N.invalid(f"{name}={value} is out of range", function)
            return code, float(value)
    if isinstance(value, (str, bytes)):
        raise N.invalid(f"{name} must be a number, got {value!r}", function)
    try:
        return code, float(value)
    except (TypeError, ValueError):
        raise N.invalid(f"{name} must be a number, got {value!r}", function) from None


def decode_param(table, name, value):
    """The Python value of a parameter read back from C."""
    kind = table[name][1]
    if isinstance(kind, dict):
        for key, v in kind.items():
            if v == value:
                return key
        return int(value)
    if kind is int:
        return int(value)
    if kind is bool:
        return bool(value)
    if kind == "refine":
        return 2 if value == 2 else bool(value)
    return float(value)


def make_progress(fn):
    """A C progress callback over ``fn(stage, done, total)``: a true result cancels."""
    def cb(user, stage, done, total):
        if fn(stage, done, total):
            raise _Cancel()
    guarded = N.guard(cb)

    def wrapper(user, stage, done, total):
        rc = guarded(user, stage, done, total)
        if rc != 0 and isinstance(getattr(N._tls, "pending", None), _Cancel):
            N._tls.pending = None  # a plain cancellation, not an error of the callback
        return rc
    return N.PROGRESS_FN(wrapper)


class _Cancel(Exception):
    pass


class Search:
    """A subspace-search session on a model: centre, Jacobian SVD and slider (``dss_search``).

    ``Search(model, **params)`` creates the session and sets its parameters (see :meth:`set`);
    nothing is computed until :meth:`start`. Typical loop::

        s = libdss.Search(model, seed=42, jacobian="full")
        s.start(z0)
        while ...:
            z = s.point(t)        # on every slider move: show model(z)
            s.commit(t)           # on release: the centre moves, a new direction is drawn
            s.resample()          # "show me another direction"
            s.undo()              # back one step

    The session keeps a reference to its model. Methods raise :class:`libdss.DssError` on failure
    and then leave the session exactly as it was.
    """

    def __init__(self, model: Model, **params: Any) -> None:
        if not isinstance(model, Model):
            raise N.invalid("model must be a libdss.Model", "Search")
        self._model = model
        self._h = N.new_handle("dss_search_create", N.lib.dss_search_destroy,
                               model._h.get("model"))
        self._parent = model._h
        model._h.children.add(self._h)
        self._finalizer = weakref.finalize(self, _close, self._h, model._h)
        self._n, self._m = model.n, model.m
        self._progress = None
        # libdss 1.1 (no dss_model_set_precision): the finite-difference step follows the
        # model's declared precision until set by hand; 1.2 applies the precision itself
        self._auto_step = (not N.HAS_MODEL_PRECISION and model.precision is not None
                           and "diff_step" not in params)
        if params:
            self.set(**params)
        elif self._auto_step:
            self._apply_precision_step()

    def _apply_precision_step(self):
        eps = self._model.precision
        scheme = self.get("diff_scheme")
        step = eps ** 0.5 if scheme == "forward" else eps ** (1.0 / 3.0)
        N.call("dss_search_set", self._h.get("search"), SEARCH_PARAMS["diff_step"][0], step)

    # ---- parameters --------------------------------------------------------------------

    def set(self, **params: Any) -> None:
        """Set parameters by name; they apply from the next call that uses them.

        Names: ``subspace_dim`` (l), ``radius``, ``center_tolerance``, ``seed``, ``jacobian``
        (``'auto'``, ``'full'``, ``'rows'``, ``'finite_diff'``, ``'randomized'``),
        ``jacobian_rows``, ``rank``, ``sampler`` (``'singular'``, ``'random'``, ``'top'``),
        ``prior`` (``'gaussian'``, ``'box'``), ``prior_scale``, ``history``, ``diff_scheme``
        (``'forward'``, ``'central'``), ``diff_step``, ``oversample``, ``power_iterations``,
        ``jacobian_chunk``; the slider-range policy (libdss 1.1): ``radius_policy``
        (``'fixed'``, ``'zoom'``, ``'adaptive'``), ``radius_grow``, ``radius_shrink``,
        ``radius_min``, ``radius_max``, ``stall_commits``. Enumerations also accept their
        integer values. Unknown names are rejected before anything is set; an out-of-range
        value raises DssError(EINVAL) and leaves that parameter (and those after it) unchanged.
        On a model that declares its :attr:`~libdss.Model.precision`, the step follows it (and
        ``diff_scheme``) until you set ``diff_step`` yourself (libdss 1.2 does this in the
        library, where ``diff_step`` reads 0; with 1.1 the bindings set ``diff_step``).
        """
        encoded = [encode_param(SEARCH_PARAMS, name, value, "dss_search_set")
                   for name, value in params.items()]
        h = self._h.get("search")
        for code, value in encoded:
            N.call("dss_search_set", h, code, value)
        if "diff_step" in params:
            self._auto_step = False
        elif self._auto_step:
            self._apply_precision_step()

    def get(self, name: str) -> Any:
        """Read a parameter by name (enumerations come back as their names; the radius is the
        base one in force, the prior's default until set: see :attr:`slider_radius`)."""
        code, _ = encode_param(SEARCH_PARAMS, name, 0, "dss_search_get")
        value = ctypes.c_double()
        N.call("dss_search_get", self._h.get("search"), code, ctypes.byref(value))
        return decode_param(SEARCH_PARAMS, name, value.value)

    @property
    def params(self) -> Dict[str, Any]:
        """Every parameter as a dict of name -> value."""
        return {name: self.get(name) for name in SEARCH_PARAMS}

    # ---- the session -------------------------------------------------------------------

    def start(self, z0: ArrayLike) -> None:
        """(Re)start at ``z0`` (n values): reseed, Jacobian and SVD at z0, first subspace."""
        z = N.as_input(z0, (self._n,), "z0", "dss_search_start")
        N.call_busy((self._h,), "dss_search_start", self._h.get("search"), N.addr(z))

    def point(self, t: float, out: Optional[FloatArray] = None) -> FloatArray:
        """The latent point at slider position ``t`` in [0, 1]: c + (2t - 1) radius b."""
        z = N.as_output(out, (self._n,), "point", "dss_search_point")
        N.call("dss_search_point", self._h.get("search"), float(t), N.addr(z))
        return z

    def point_w(self, w: ArrayLike, out: Optional[FloatArray] = None) -> FloatArray:
        """The latent point at subspace coordinates ``w`` (l values in [-1, 1]):
        c + radius B^T w."""
        l = self.subspace_dim
        wc = N.as_input(w, (l,), "w", "dss_search_point_w")
        z = N.as_output(out, (self._n,), "point_w", "dss_search_point_w")
        N.call("dss_search_point_w", self._h.get("search"), N.addr(wc), N.addr(z))
        return z

    def slider_ends(self) -> Tuple[FloatArray, FloatArray]:
        """The slider's ends ``(point(0), point(1))``."""
        lo = np.empty(self._n)
        hi = np.empty(self._n)
        N.call("dss_search_slider_ends", self._h.get("search"), N.addr(lo), N.addr(hi))
        return lo, hi

    def commit(self, t: float) -> None:
        """The user released the slider at ``t``: move the centre to point(t), recompute the
        Jacobian unless ``|t - 0.5| <= center_tolerance``, draw a new subspace."""
        N.call_busy((self._h,), "dss_search_commit", self._h.get("search"), float(t))

    def commit_w(self, w: ArrayLike) -> None:
        """As :meth:`commit` for subspace coordinates ``w`` (l values in [-1, 1])."""
        l = self.subspace_dim
        wc = N.as_input(w, (l,), "w", "dss_search_commit_w")
        N.call_busy((self._h,), "dss_search_commit_w", self._h.get("search"), N.addr(wc))

    def resample(self) -> None:
        """Draw a new subspace with the same centre and Jacobian ("not this direction")."""
        N.call_busy((self._h,), "dss_search_resample", self._h.get("search"))

    def undo(self) -> None:
        """Go back to the state before the last commit or resample (DssError(ESTATE) when
        there is nothing to undo)."""
        N.call_busy((self._h,), "dss_search_undo", self._h.get("search"))

    # ---- the same calls, driven by the host (libdss 1.2 jobs; see libdss.job) ----------

    def _job(self, fname: str, *args: Any) -> Job:
        if not hasattr(N.lib, fname):
            raise DssError(N.EUNSUPPORTED, function=fname,
                           detail=f"the loaded libdss {N.version_string()} has no jobs (1.2)")
        h = self._h.get("search")
        return open_job(fname, (h,) + args, (self, self._model), self._n, self._model.m,
                        fname.replace("_job", ""), h)

    def start_job(self, z0: ArrayLike) -> Job:
        """:meth:`start` as a :class:`~libdss.job.Job` the host drives."""
        z = N.as_input(z0, (self._n,), "z0", "dss_search_start_job")
        return self._job("dss_search_start_job", N.addr(z))

    def commit_job(self, t: float) -> Job:
        """:meth:`commit` as a :class:`~libdss.job.Job` the host drives."""
        return self._job("dss_search_commit_job", float(t))

    def commit_w_job(self, w: ArrayLike) -> Job:
        """:meth:`commit_w` as a :class:`~libdss.job.Job` the host drives."""
        wc = N.as_input(w, (self.subspace_dim,), "w", "dss_search_commit_w_job")
        return self._job("dss_search_commit_w_job", N.addr(wc))

    def resample_job(self) -> Job:
        """:meth:`resample` as a :class:`~libdss.job.Job` the host drives."""
        return self._job("dss_search_resample_job")

    def undo_job(self) -> Job:
        """:meth:`undo` as a :class:`~libdss.job.Job` the host drives."""
        return self._job("dss_search_undo_job")

    # ---- reading the session -----------------------------------------------------------

    def center(self, out: Optional[FloatArray] = None) -> FloatArray:
        """The centre (n values)."""
        z = N.as_output(out, (self._n,), "center", "dss_search_center")
        N.call("dss_search_center", self._h.get("search"), N.addr(z))
        return z

    @property
    def subspace_dim(self) -> int:
        """l, the number of rows of the current basis (0 before start). An int; calling it,
        as in libdss 1.0 (``s.subspace_dim()``), still works with a DeprecationWarning."""
        return _SubspaceDimValue(N.lib.dss_search_subspace_dim(self._h.get("search")))

    def basis(self, out: Optional[FloatArray] = None) -> FloatArray:
        """The current basis: an (l, n) array with orthonormal rows."""
        l = self._started_l("dss_search_basis")
        b = N.as_output(out, (l, self._n), "basis", "dss_search_basis")
        N.call("dss_search_basis", self._h.get("search"), N.addr(b))
        return b

    def basis_indices(self) -> "np.ndarray":
        """For each basis row, the index of its singular value (0 = largest), as an int64
        array; -1 for rows drawn by the 'random' sampler."""
        l = self._started_l("dss_search_basis_indices")
        idx = np.empty(l, dtype=np.uintp)
        N.call("dss_search_basis_indices", self._h.get("search"), N.addr(idx))
        out = idx.astype(np.int64)
        out[idx == _NO_INDEX] = -1
        return out

    @property
    def estimated_bytes(self) -> int:
        """An upper bound of the bytes the session will hold with its current parameters
        (``dss_search_estimate_bytes``): read it before ``start`` to decide whether it fits."""
        out = ctypes.c_size_t()
        N.call("dss_search_estimate_bytes", self._h.get("search"), ctypes.byref(out))
        return out.value

    @property
    def jacobian_route(self) -> Optional[str]:
        """The Jacobian route the current decomposition was computed with (``"full"``,
        ``"rows"``, ``"finite_diff"`` or ``"randomized"``: what ``"auto"`` resolved to), or
        ``None`` before start."""
        route = N.lib.dss_search_jacobian_route(self._h.get("search"))
        if route == N.ESTATE:
            return None
        if route < 0:
            raise N.DssError(route, function="dss_search_jacobian_route")
        return next(name for name, v in JACOBIAN_MODES.items() if v == route)

    @property
    def slider_radius(self) -> float:
        """The slider's half-length in force: ``radius`` times the scale the radius policy
        has reached (equal to ``radius`` under the default policy, ``'fixed'``)."""
        value = ctypes.c_double()
        N.call("dss_search_slider_radius", self._h.get("search"), ctypes.byref(value))
        return value.value

    @property
    def rank(self) -> int:
        """The number of singular values held (0 before start). An int; calling it, as in
        libdss 1.0 (``s.rank()``), still works with a DeprecationWarning."""
        return _RankValue(N.lib.dss_search_rank(self._h.get("search")))

    def singular_values(self) -> FloatArray:
        """The singular values held, in descending order (an array of ``rank`` values)."""
        h = self._h.get("search")
        r = N.lib.dss_search_rank(h)
        s = np.empty(max(r, 1))
        N.call("dss_search_singular_values", h, N.addr(s), r)
        return s[:r]

    def _started_l(self, function):
        l = N.lib.dss_search_subspace_dim(self._h.get("search"))
        if l == 0:
            raise N.DssError(N.ESTATE, function=function, detail="the search is not started")
        return l

    @property
    def started(self) -> bool:
        """True once start() (or load()) has succeeded."""
        return self.subspace_dim > 0

    @property
    def model(self) -> Model:
        """The Model this session runs on."""
        return self._model

    @property
    def n(self) -> int:
        """Latent dimension."""
        return self._n

    @property
    def m(self) -> int:
        """Output dimension."""
        return self._m

    # ---- persistence, progress, statistics ---------------------------------------------

    def save(self) -> bytes:
        """The session as a versioned, self-checking byte string (not the undo history)."""
        h = self._h.get("search")
        size = ctypes.c_size_t()
        N.call("dss_search_save", h, None, 0, ctypes.byref(size))
        buf = ctypes.create_string_buffer(max(size.value, 1))
        N.call("dss_search_save", h, ctypes.addressof(buf), size.value, ctypes.byref(size))
        return buf.raw[:size.value]

    def load(self, data: bytes) -> None:
        """Restore a session saved by :meth:`save` (on a model of the same n and m); clears
        the undo history. DssError(EFORMAT) for a malformed or foreign string."""
        data = bytes(data)
        buf = ctypes.create_string_buffer(data, max(len(data), 1))
        N.call("dss_search_load", self._h.get("search"), ctypes.addressof(buf), len(data))

    def set_progress(self, fn: Optional[ProgressFn]) -> None:
        """Set (or, with None, remove) a progress callback ``fn(stage, done, total)`` asked
        during long work (stage is one of libdss.STAGE_*). Returning a true value cancels: the
        call then raises DssError(ECANCELLED) and changes nothing. An exception raised by
        ``fn`` also cancels and is re-raised."""
        cb = N.PROGRESS_FN() if fn is None else make_progress(fn)
        N.call("dss_search_set_progress", self._h.get("search"), cb, None)
        self._progress = None if fn is None else cb

    def stat(self, name: str) -> Union[int, float]:
        """A cumulative statistic by name: ``points``, ``f_calls``, ``jacobian_calls``,
        ``jacobian_rows``, ``vjp_calls``, ``vjp_products``, ``jvp_calls``, ``jvp_products``,
        ``decompositions``, ``undo_recomputes``, ``seconds_library`` (time in libdss,
        callbacks excluded), ``seconds_callbacks`` (time in the host's callbacks),
        ``bytes_held``, ``peak_bytes``. Seconds are floats, the others ints."""
        try:
            key = STATS[name]
        except KeyError:
            raise N.invalid(f"unknown statistic {name!r}; known: {', '.join(STATS)}",
                            "dss_search_stat") from None
        value = ctypes.c_double()
        N.call("dss_search_stat", self._h.get("search"), key, ctypes.byref(value))
        return value.value if name.startswith("seconds") else int(value.value)

    @property
    def stats(self) -> Dict[str, Union[int, float]]:
        """Every statistic as a dict of name -> value. Calling it, as in libdss 1.0
        (``s.stats()``), still works with a DeprecationWarning."""
        return CallableDict((name, self.stat(name)) for name in STATS)

    # ---- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        """Destroy the session. Idempotent; later calls raise DssError(ESTATE)."""
        _close(self._h, self._parent)

    @property
    def closed(self) -> bool:
        """True after close() (or after its model was closed)."""
        return not self._h.ptr

    def __enter__(self) -> "Search":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<libdss.Search closed>"
        return (f"<libdss.Search n={self._n} m={self._m} l={self.subspace_dim} "
                f"rank={self.rank}>")


def _close(handle, parent):
    handle.close()
    parent.children.discard(handle)
