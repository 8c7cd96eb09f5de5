"""libdss.LineSearch: the simulated user, a batched 1-D search along a slider (``dss_line``)."""

from __future__ import annotations

import ctypes
import weakref
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from ._types import ProgressFn, ScoreFn
from . import _native as N
from .job import Job, open_job
from .model import Model
from .search import Search, encode_param, decode_param, make_progress

__all__ = ["LineSearch", "LINE_PARAMS", "LINE_PARAM_RANGES"]

GOALS = {"maximize": 0, "minimize": 1}

#: Parameter name -> (enum dss_line_param value, kind).
LINE_PARAMS = {
    "samples": (1, int),
    "batch": (2, int),
    "goal": (3, GOALS),
    "refine": (4, "refine"),
    "grid": (5, int),
}

#: Parameter name -> (lo, hi): integers in [lo, hi], from the library's descriptor table
#: (``dss_line_param_bounds``).
LINE_PARAM_RANGES = {name: N.param_bounds("dss_line_param_bounds", code)
                     for name, (code, _) in LINE_PARAMS.items()}


def _score_callback(g, m):
    """(function pointer, user pointer, keep-alive) for a score: libdss's own synthetic score
    is passed straight to C; a Python ``g(x) -> scores`` or ``g(x, out)`` is wrapped."""
    from .synthetic import Synthetic
    owner = getattr(g, "__self__", None)
    if isinstance(owner, Synthetic) and getattr(g, "__func__", None) is Synthetic.score:
        fn = ctypes.cast(N.lib.dss_synthetic_score, ctypes.c_void_p).value
        return fn, owner._h.get("synthetic problem"), owner
    if not callable(g):
        raise N.invalid("g must be callable", "dss_find_optimal")
    fill = N.accepts(g, 2)

    def cb(user, k, xp, sp):
        x = N.view(xp, (k, m), readonly=True)
        out = N.view(sp, (k,))
        N.store(g(x, out) if fill else g(x), out, "g", fill, ("k",))
    c_cb = N.SCORE_FN(N.guard(cb))
    return ctypes.cast(c_cb, ctypes.c_void_p).value, None, c_cb


def _segment(target: Sequence[Any], model: Optional[Model], fname: str):
    """(model, z_lo, z_hi) from a ``(z_lo, z_hi)`` target with ``model=``, or a
    ``(model, z_lo, z_hi)`` one; the ends as C-contiguous float64 arrays."""
    seg = tuple(target)
    if len(seg) == 3:
        model, seg = seg[0], seg[1:]
    if len(seg) != 2 or not isinstance(model, Model):
        raise N.invalid("target must be a Search, (z_lo, z_hi) with model=, or "
                        "(model, z_lo, z_hi)", fname)
    return (model, N.as_input(seg[0], (model.n,), "z_lo", fname),
            N.as_input(seg[1], (model.n,), "z_hi", fname))


class LineSearch:
    """Finds the best position on a slider by scoring it (``dss_line``): the simulated user
    of tests and benchmarks.

    ``LineSearch(**params)``; parameters (see :meth:`set`): ``samples`` (grid points,
    default 10001), ``batch`` (points per call of f, default 500, also capped by the model's
    max_batch), ``goal`` (``'maximize'``, the default, or ``'minimize'``), ``refine``
    (False/0: grid only; True/1: Brent refinement of the best grid point's bracket to 1e-6 in
    t; 2: the same around each of the grid's 3 best local maxima: with ``samples=33`` it matched
    the 10001-point grid on every benchmark line up to n = 128, with 65 at n = 512),
    ``grid`` (points per axis of :meth:`find_optimal_w`'s gallery, default 5).
    """

    def __init__(self, **params: Any) -> None:
        self._h = N.new_handle("dss_line_create", N.lib.dss_line_destroy)
        self._finalizer = weakref.finalize(self, self._h.close)
        self._progress = None
        if params:
            self.set(**params)

    def set(self, **params: Any) -> None:
        """Set parameters by name (``samples``, ``batch``, ``goal``, ``refine``, ``grid``)."""
        encoded = [encode_param(LINE_PARAMS, name, value, "dss_line_set")
                   for name, value in params.items()]
        h = self._h.get("line search")
        for code, value in encoded:
            N.call("dss_line_set", h, code, value)

    def get(self, name: str) -> Any:
        """Read a parameter by name (``goal`` comes back as ``'maximize'``/``'minimize'``)."""
        code, _ = encode_param(LINE_PARAMS, name, 0, "dss_line_get")
        value = ctypes.c_double()
        N.call("dss_line_get", self._h.get("line search"), code, ctypes.byref(value))
        return decode_param(LINE_PARAMS, name, value.value)

    @property
    def params(self) -> Dict[str, Any]:
        """Every parameter as a dict of name -> value."""
        return {name: self.get(name) for name in LINE_PARAMS}

    def find_optimal(self, target: Union[Search, Sequence[Any]], g: ScoreFn,
                     model: Optional[Model] = None) -> Tuple[float, float]:
        """The best slider position and its score.

        Args:
            target: a started :class:`Search` (its current slider, point(0) to point(1)), or a
                segment ``(z_lo, z_hi)`` with ``model=``, or ``(model, z_lo, z_hi)``; the
                segment is z(t) = z_lo + t (z_hi - z_lo).
            g: the score, ``g(x) -> scores`` or ``g(x, out)``, x of shape (k, m), scores (k,);
                or a Synthetic problem's ``score`` (run natively, without Python).
            model: the Model of a ``(z_lo, z_hi)`` segment.
        Returns:
            ``(t, score)``, floats. The search is not modified: commit ``t`` yourself.
        """
        t = ctypes.c_double()
        score = ctypes.c_double()
        h = self._h.get("line search")
        if isinstance(target, Search):
            fn, user, keep = _score_callback(g, target.m)
            N.call_busy((self._h, target._h), "dss_search_find_optimal", h,
                        target._h.get("search"), fn, user,
                   ctypes.byref(t), ctypes.byref(score))
        else:
            model, lo, hi = _segment(target, model, "dss_find_optimal")
            fn, user, keep = _score_callback(g, model.m)
            N.call_busy((self._h, model._h), "dss_find_optimal", h, model._h.get("model"),
                        N.addr(lo), N.addr(hi),
                   fn, user, ctypes.byref(t), ctypes.byref(score))
        del keep
        return t.value, score.value

    def find_optimal_w(self, search: Search, g: ScoreFn) -> Tuple[np.ndarray, float]:
        """The simulated user of a search's l-dimensional subspace (a gallery,
        ``dss_search_find_optimal_w``, libdss 1.2): the best weights on a grid of ``grid``
        points per axis over [-1, 1]^l, refined axis by axis from the best grid point
        (``refine=1``) or from the grid's 3 best local maxima (``refine=2``).

        Args:
            search: a started :class:`Search` (any ``subspace_dim``).
            g: the score, as for :meth:`find_optimal`.
        Returns:
            ``(w, score)``: w a float64 array of l weights for :meth:`Search.commit_w`, and its
            score. The search is not modified.
        """
        if not isinstance(search, Search):
            raise N.invalid("search must be a Search", "dss_search_find_optimal_w")
        if not hasattr(N.lib, "dss_search_find_optimal_w"):
            raise N.DssError(N.EUNSUPPORTED, function="dss_search_find_optimal_w",
                             detail=f"the loaded libdss {N.version_string()} has no gallery (1.2)")
        h = self._h.get("line search")
        sh = search._h.get("search")
        w = np.empty(max(1, N.lib.dss_search_subspace_dim(sh)), dtype=np.float64)
        score = ctypes.c_double()
        fn, user, keep = _score_callback(g, search.m)
        N.call_busy((self._h, search._h), "dss_search_find_optimal_w", h, sh, fn, user,
                    N.addr(w), ctypes.byref(score))
        del keep
        return w, score.value

    def find_optimal_job(self, target: Union[Search, Sequence[Any]],
                         model: Optional[Model] = None) -> Job:
        """:meth:`find_optimal` as a :class:`~libdss.job.Job` the host drives: it asks for the
        generator's outputs (``"f"`` requests) and their scores (``"score"``); the result
        ``(t, score)`` is the job's :attr:`~libdss.job.Job.result` once it ends."""
        h = self._h.get("line search")
        if not hasattr(N.lib, "dss_find_optimal_job"):
            raise N.DssError(N.EUNSUPPORTED, function="dss_find_optimal_job",
                             detail=f"the loaded libdss {N.version_string()} has no jobs (1.2)")
        if isinstance(target, Search):
            return open_job("dss_search_find_optimal_job", (h, target._h.get("search")),
                            (self, target), target.n, target.m, "dss_search_find_optimal", h,
                            line_result=True)
        model, lo, hi = _segment(target, model, "dss_find_optimal_job")
        return open_job("dss_find_optimal_job", (h, model._h.get("model"), N.addr(lo),
                                                 N.addr(hi)),
                        (self, model), model.n, model.m, "dss_find_optimal", h,
                        line_result=True)

    @property
    def evaluations(self) -> int:
        """Generator points the last successful find_optimal evaluated (grid + refinement)."""
        return N.lib.dss_line_evaluations(self._h.get("line search"))

    def set_progress(self, fn: Optional[ProgressFn]) -> None:
        """Set (or, with None, remove) a progress callback ``fn(stage, done, total)`` asked
        after each grid batch and refinement step; a true result cancels (DssError
        ECANCELLED); an exception raised by ``fn`` cancels and is re-raised."""
        cb = N.PROGRESS_FN() if fn is None else make_progress(fn)
        N.call("dss_line_set_progress", self._h.get("line search"), cb, None)
        self._progress = None if fn is None else cb

    def close(self) -> None:
        """Destroy the line search. Idempotent."""
        self._h.close()

    @property
    def closed(self) -> bool:
        """True after close()."""
        return not self._h.ptr

    def __enter__(self) -> "LineSearch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<libdss.LineSearch closed>"
        p = self.params
        return (f"<libdss.LineSearch samples={p['samples']} batch={p['batch']} goal={p['goal']} "
                f"refine={p['refine']}>")
