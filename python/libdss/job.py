"""Host-driven calls (libdss 1.2's jobs, ``dss_job``): the library asks, the host answers.

Every call that may call the host (:meth:`Search.start`, :meth:`~Search.commit`,
:meth:`~Search.commit_w`, :meth:`~Search.resample`, :meth:`~Search.undo` and the line
searches) can run as a :class:`Job` instead: iterate it to get its requests, answer each one
with the values it needs, and the call finishes when the iteration ends. Nothing is called
back, so the host decides where and when the generator runs (Blender's main thread, a batch
shared by many users)::

    with search.commit_job(t) as job:
        for req in job:
            if req.kind == "f":
                req.answer(decode(req.input))             # (k, n) -> (k, m)
            elif req.kind == "jacobian":
                req.answer(jacobian(req.point)[req.rows_or_all()])
            ...

The results are bit for bit those of the callback call. A failed call raises
:class:`~libdss.DssError` at the end of the iteration (the session unchanged); leaving the
``with`` block early, or :meth:`Job.cancel`, cancels the call and leaves the session exactly
as it was. While a job is open, calls that would change its search (or line search) raise
``DssError(EBUSY)``; reading it is fine.
"""

import ctypes
from typing import Any, Iterator, Optional, Tuple

import numpy as np

from . import _native as N
from .errors import CallbackResultError, DssError

REQUEST_F = 1
REQUEST_JACOBIAN = 2
REQUEST_VJP = 3
REQUEST_JVP = 4
REQUEST_SCORE = 5

KINDS = {REQUEST_F: "f", REQUEST_JACOBIAN: "jacobian", REQUEST_VJP: "vjp",
         REQUEST_JVP: "jvp", REQUEST_SCORE: "score"}


class Request:
    """One pending request of a :class:`Job`.

    Attributes:
        kind: ``"f"``, ``"jacobian"``, ``"vjp"``, ``"jvp"`` or ``"score"``.
        k: the number of points, rows or products asked for.
        input: a read-only array: the points (k, n) for ``f``, U (k, m) for ``vjp``, V (k, n)
            for ``jvp``, the outputs (k, m) for ``score``; None for ``jacobian``.
        point: the latent point (n,) of a ``jacobian``, ``vjp`` or ``jvp`` request, else None.
        rows: a ``jacobian`` request's row indices (k,), or None for all m rows in order.
        shape: the shape the answer must have.
    """

    def __init__(self, job: "Job", kind: int):
        p = job._ptr
        self._job = job
        self.kind = KINDS[kind]
        self.k = int(N.lib.dss_job_count(p))
        n, m = job._n, job._m
        count = ctypes.c_size_t()
        addr = N.lib.dss_job_input(p, ctypes.byref(count))
        in_shape = {REQUEST_F: (self.k, n), REQUEST_VJP: (self.k, m), REQUEST_JVP: (self.k, n),
                    REQUEST_SCORE: (self.k, m)}.get(kind)
        self.input = N.view(addr, in_shape, readonly=True) if addr else None
        pt = N.lib.dss_job_point(p)
        self.point = N.view(pt, (n,), readonly=True) if pt else None
        nrows = ctypes.c_size_t()
        rows = N.lib.dss_job_rows(p, ctypes.byref(nrows))
        self.rows = N.view_size_t(rows, nrows.value) if rows else None
        self.shape = {REQUEST_F: (self.k, m), REQUEST_JACOBIAN: (self.k, n),
                      REQUEST_VJP: (self.k, n), REQUEST_JVP: (self.k, m),
                      REQUEST_SCORE: (self.k,)}[kind]
        self._out = N.lib.dss_job_output(p, ctypes.byref(count))
        self._settled = False

    def rows_or_all(self) -> Any:
        """The rows as an index: ``rows``, or ``slice(None)`` for all of them."""
        return slice(None) if self.rows is None else self.rows

    def answer(self, values: Any) -> None:
        """Answer with ``values`` of exactly :attr:`shape` (real, finite): copied into the
        job's buffer. A wrong shape or dtype raises CallbackResultError and leaves the request
        pending (answer again, fail or cancel)."""
        arr = np.asarray(values)
        if arr.shape != self.shape:
            raise CallbackResultError(self.kind, self.shape, arr.shape, "shape",
                                      f"the job's {self.kind} request needs shape {self.shape}; "
                                      f"received {arr.shape}")
        if arr.dtype.kind not in "fiu":
            raise CallbackResultError(self.kind, self.shape, arr.shape, "dtype",
                                      f"the job's {self.kind} request needs real numbers; "
                                      f"received dtype {arr.dtype}")
        out = N.view(self._out, self.shape)
        out[...] = arr
        N.lib.dss_job_answer(self._job._ptr, int(np.prod(self.shape)))
        self._settled = True

    def fail(self, code: int = 1) -> None:
        """The host could not answer: the call fails with DssError(ECALLBACK)."""
        N.lib.dss_job_fail(self._job._ptr, int(code) or 1)
        self._settled = True


class Job:
    """A call run by the host, request by request (see the module's documentation). Iterate
    it; use it as a context manager (or call :meth:`close`) so that it is always closed."""

    def __init__(self, ptr: int, keep: Tuple[Any, ...], n: int, m: int, errfn: str,
                 errhandle: int, line_result: bool = False):
        self._ptr = ptr
        self._keep = keep          # the Python objects the job uses, kept alive
        self._n, self._m = n, m
        self._errfn, self._errhandle = errfn, errhandle
        self._line_result = line_result
        self.status: Optional[int] = None
        self.result: Optional[Tuple[float, float]] = None

    def __iter__(self) -> Iterator[Request]:
        while True:
            if not self._ptr:
                raise DssError(N.ESTATE, detail="the job was closed")
            kind = N.lib.dss_job_next(self._ptr)
            if kind > 0:
                req = Request(self, kind)
                yield req
                if not req._settled:
                    self.cancel()
                    raise DssError(N.ECANCELLED, function=self._errfn,
                                   detail="a request was left unanswered: the job was cancelled")
                continue
            self.status = kind
            if kind == 0 and self._line_result:
                t, s = ctypes.c_double(), ctypes.c_double()
                N.lib.dss_job_line_result(self._ptr, ctypes.byref(t), ctypes.byref(s))
                self.result = (t.value, s.value)
            if kind < 0:
                raise DssError(kind, function=self._errfn,
                               errmsg=N.handle_errmsg(self._errfn, (self._errhandle,)))
            return

    def cancel(self) -> None:
        """Stop at the pending request: the call ends with ECANCELLED, its handle unchanged."""
        if self._ptr:
            N.lib.dss_job_cancel(self._ptr)

    def progress(self) -> Tuple[int, int, int]:
        """The last (stage, done, total) the job reported (libdss.STAGE_*)."""
        st, d, t = ctypes.c_int(), ctypes.c_size_t(), ctypes.c_size_t()
        N.lib.dss_job_progress(self._ptr, ctypes.byref(st), ctypes.byref(d), ctypes.byref(t))
        return st.value, d.value, t.value

    def close(self) -> None:
        """Destroy the job; an unfinished one is cancelled first (the handle unchanged)."""
        if self._ptr:
            N.lib.dss_job_destroy(self._ptr)
            self._ptr = None
            self._keep = ()

    def __enter__(self) -> "Job":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


def open_job(fname: str, args: Tuple[Any, ...], keep: Tuple[Any, ...], n: int, m: int,
             errfn: str, errhandle: int, line_result: bool = False) -> Job:
    """Open a job through the C function ``fname(*args, &job)``."""
    out = ctypes.c_void_p()
    N.call(fname, *args, ctypes.byref(out))
    return Job(out.value, keep, n, m, errfn, errhandle, line_result)
