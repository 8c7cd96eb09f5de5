"""libdss.Model: a Python generator (and its derivatives) as a libdss ``dss_model``."""

from __future__ import annotations

import weakref
from typing import Optional

import numpy as np

from ._types import ArrayLike, FloatArray, GenerateFn, JacobianFn, ProductFn
from . import _native as N

__all__ = ["Model"]


def _check_dim(value, what):
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise N.invalid(f"{what} must be a positive integer, got {value!r}", "Model")
    return int(value)


class Model:
    """A generator ``f: R^n -> R^m`` that libdss can drive, with optional derivatives.

    Every callback receives NumPy arrays that are *views* of libdss's buffers (no copies):
    C-contiguous float64, valid only during the call (copy what you want to keep). Inputs are
    read-only. A callback may either return its result (any array of the right size; it is
    copied into libdss's buffer) or, if it accepts one more positional argument, fill the
    writable ``out`` view it is given and return None.

    Args:
        f: ``f(z) -> x`` or ``f(z, out)``. ``z`` has shape (k, n), ``x``/``out`` (k, m).
        n: latent dimension (>= 1).
        m: output dimension (>= 1).
        jacobian: optional ``jacobian(z, rows) -> J`` or ``jacobian(z, rows, out)``. ``z`` has
            shape (n,). ``rows`` is None for all m rows in order, or a read-only array of
            distinct, ascending row indices (dtype uintp). ``J``/``out`` has shape (len, n):
            row i is the gradient of output ``rows[i]``. Enables ``jacobian='full'`` and
            ``'rows'``.
        vjp: optional ``vjp(z, u) -> out`` or ``vjp(z, u, out)``: ``u`` (k, m), ``out``
            (k, n) = u @ J(z). Enables ``jacobian='randomized'``.
        jvp: optional ``jvp(z, v) -> out`` or ``jvp(z, v, out)``: ``v`` (k, n), ``out``
            (k, m), row i = J(z) @ v[i]. Used by ``'randomized'`` (which otherwise takes
            forward differences of f).
        max_batch: optional limit on k for every call of ``f``.
        precision: optional relative precision of ``f``'s arithmetic (its unit roundoff, or its
            noise level), e.g. ``numpy.finfo(numpy.float32).eps`` for a network computed in
            single precision. A :class:`Search` on the model then picks its finite-difference
            step from it (see :attr:`precision`). None: double precision, libdss's default.

    If a callback raises, libdss aborts the call in progress (``DSS_ECALLBACK``), leaves every
    handle as it was, and the bindings re-raise the callback's exception. It carries the
    library's view as ``exc.dss_error`` (a DssError) and, when it has no chain of its own, as
    its ``__cause__``.

    A callback must not call into (or close) the search, line search or model whose call is
    running it; the bindings raise DssError(ESTATE) for such a call. Other handles are fine.

    The model must outlive the searches created on it; the bindings enforce this: a Search
    holds a reference to its model, and closing a model closes its searches first.
    """

    def __init__(self, f: GenerateFn, n: int, m: int, jacobian: Optional[JacobianFn] = None,
                 vjp: Optional[ProductFn] = None, jvp: Optional[ProductFn] = None,
                 max_batch: Optional[int] = None, precision: Optional[float] = None) -> None:
        n = _check_dim(n, "n")
        m = _check_dim(m, "m")
        if not callable(f):
            raise N.invalid("f must be callable", "Model")
        self._n, self._m = n, m
        self._f = f
        self._c_f = N.GENERATE_FN(N.guard(self._make_generate(f, n, m)))
        self._h = N.new_handle("dss_model_create", N.lib.dss_model_destroy,
                               n, m, self._c_f, None)
        self._finalizer = weakref.finalize(self, self._h.close)
        self._owner = None
        self._jacobian = self._vjp = self._jvp = None
        self._c_jacobian = self._c_vjp = self._c_jvp = None
        self._max_batch = None
        self._precision = None
        if precision is not None:
            self.precision = precision
        if jacobian is not None:
            self.set_jacobian(jacobian)
        if vjp is not None:
            self.set_vjp(vjp)
        if jvp is not None:
            self.set_jvp(jvp)
        if max_batch is not None:
            self.max_batch = max_batch

    @classmethod
    def _borrowed(cls, ptr, owner):
        """A Model over a dss_model owned by another object (a Synthetic problem)."""
        self = cls.__new__(cls)
        self._n = N.lib.dss_model_latent_dim(ptr)
        self._m = N.lib.dss_model_output_dim(ptr)
        self._f = None
        self._c_f = None
        self._h = N.Handle(ptr, None)
        owner._h.children.add(self._h)
        self._finalizer = weakref.finalize(self, owner._h.children.discard, self._h)
        self._owner = owner  # keeps the owner (and so the C model) alive
        self._jacobian = self._vjp = self._jvp = None
        self._c_jacobian = self._c_vjp = self._c_jvp = None
        self._max_batch = None
        self._precision = None
        return self

    # ---- callbacks ---------------------------------------------------------------------

    @staticmethod
    def _make_generate(f, n, m):
        fill = N.accepts(f, 2)

        def generate(user, k, zp, xp):
            z = N.view(zp, (k, n), readonly=True)
            x = N.view(xp, (k, m))
            N.store(f(z, x) if fill else f(z), x, "f", fill, ("k", "m"))
        return generate

    def _check_own(self, what):
        if self._owner is not None:
            raise N.invalid(f"cannot set {what} on a model owned by {type(self._owner).__name__}",
                            f"Model.set_{what}")

    def set_jacobian(self, jacobian: Optional[JacobianFn]) -> None:
        """Set (or, with None, remove) the Jacobian callback ``jacobian(z, rows[, out])``."""
        self._check_own("jacobian")
        n = self._n
        if jacobian is None:
            N.call("dss_model_set_jacobian", self._h.get("model"), N.JACOBIAN_FN())
            self._jacobian = self._c_jacobian = None
            return
        fill = N.accepts(jacobian, 3)

        def cb(user, zp, nrows, rowsp, outp):
            z = N.view(zp, (n,), readonly=True)
            rows = None if not rowsp else N.view_size_t(rowsp, nrows)
            out = N.view(outp, (nrows, n))
            N.store(jacobian(z, rows, out) if fill else jacobian(z, rows), out, "jacobian", fill,
                    ("rows", "n"))
        c_cb = N.JACOBIAN_FN(N.guard(cb))
        N.call("dss_model_set_jacobian", self._h.get("model"), c_cb)
        self._jacobian, self._c_jacobian = jacobian, c_cb

    def set_vjp(self, vjp: Optional[ProductFn]) -> None:
        """Set (or, with None, remove) the vector-Jacobian product ``vjp(z, u[, out])``."""
        self._check_own("vjp")
        n, m = self._n, self._m
        if vjp is None:
            N.call("dss_model_set_vjp", self._h.get("model"), N.VJP_FN())
            self._vjp = self._c_vjp = None
            return
        fill = N.accepts(vjp, 3)

        def cb(user, zp, k, up, outp):
            z = N.view(zp, (n,), readonly=True)
            u = N.view(up, (k, m), readonly=True)
            out = N.view(outp, (k, n))
            N.store(vjp(z, u, out) if fill else vjp(z, u), out, "vjp", fill, ("k", "n"))
        c_cb = N.VJP_FN(N.guard(cb))
        N.call("dss_model_set_vjp", self._h.get("model"), c_cb)
        self._vjp, self._c_vjp = vjp, c_cb

    def set_jvp(self, jvp: Optional[ProductFn]) -> None:
        """Set (or, with None, remove) the Jacobian-vector product ``jvp(z, v[, out])``."""
        self._check_own("jvp")
        n, m = self._n, self._m
        if jvp is None:
            N.call("dss_model_set_jvp", self._h.get("model"), N.JVP_FN())
            self._jvp = self._c_jvp = None
            return
        fill = N.accepts(jvp, 3)

        def cb(user, zp, k, vp, outp):
            z = N.view(zp, (n,), readonly=True)
            v = N.view(vp, (k, n), readonly=True)
            out = N.view(outp, (k, m))
            N.store(jvp(z, v, out) if fill else jvp(z, v), out, "jvp", fill, ("k", "m"))
        c_cb = N.JVP_FN(N.guard(cb))
        N.call("dss_model_set_jvp", self._h.get("model"), c_cb)
        self._jvp, self._c_jvp = jvp, c_cb

    # ---- properties ------------------------------------------------------------------------

    @property
    def n(self) -> int:
        """Latent dimension."""
        return self._n

    @property
    def m(self) -> int:
        """Output dimension."""
        return self._m

    @property
    def has_jacobian(self) -> bool:
        """True when a Jacobian callback is set (always True for a synthetic problem's model)."""
        return self._c_jacobian is not None or self._owner is not None

    @property
    def has_vjp(self) -> bool:
        """True when a VJP callback is set."""
        return self._c_vjp is not None

    @property
    def has_jvp(self) -> bool:
        """True when a JVP callback is set."""
        return self._c_jvp is not None

    @property
    def max_batch(self) -> Optional[int]:
        """The most points per call of f (None: unlimited, libdss's default). Settable."""
        return self._max_batch

    @max_batch.setter
    def max_batch(self, k: int) -> None:
        if isinstance(k, bool) or int(k) != k or k < 1:
            raise N.invalid(f"max_batch must be a positive integer, got {k!r}",
                            "dss_model_set_max_batch")
        N.call("dss_model_set_max_batch", self._h.get("model"), int(k))
        self._max_batch = int(k)

    @property
    def precision(self) -> Optional[float]:
        """The relative precision ``f`` is computed with (None: double precision). Settable.

        With libdss 1.2 the bindings declare it to the library (``dss_model_set_precision``):
        finite differences then step by ``sqrt(precision)`` (forward) or ``cbrt(precision)``
        (central), times ``max(1, |c_i|)``, unless a search's ``diff_step`` is set (its
        ``get("diff_step")`` stays 0, "automatic"); the rule applies to every search on the
        model, also those created before. With a libdss 1.1 library, which has no such
        function, a :class:`Search` created on the model sets its ``diff_step`` to that step
        itself (following ``diff_scheme``) until ``diff_step`` is set by hand. For float32
        (precision 1.19e-7) the steps are 3.5e-4 (forward) and 4.9e-3 (central) instead of
        1.5e-8 and 6.1e-6, which would difference mostly rounding noise. With M0, M2, M3 bounds
        of ``|f|`` and of its second and third derivatives along the step, each Jacobian entry
        is then off by at most about ``h M2 / 2 + 2 precision M0 / h = sqrt(precision) (M2/2 +
        2 M0)`` (forward, h the step) or ``h^2 M3 / 6 + precision M0 / h =
        precision^(2/3) (M3/6 + M0)`` (central). None (setting it back) declares double
        precision again.
        """
        return self._precision

    @precision.setter
    def precision(self, value: Optional[float]) -> None:
        if value is not None:
            value = float(value)
            if not 0.0 < value < 1.0:
                raise N.invalid(f"precision must be in (0, 1), got {value!r}", "Model")
        if N.HAS_MODEL_PRECISION:
            eps = float(np.finfo(np.float64).eps)
            N.call("dss_model_set_precision", self._h.get("model"),
                   eps if value is None else max(value, eps))
        self._precision = value

    @property
    def closed(self) -> bool:
        """True after close()."""
        return not self._h.ptr

    # ---- evaluation ------------------------------------------------------------------------

    def generate(self, z: ArrayLike, out: Optional[FloatArray] = None) -> FloatArray:
        """Evaluate f through libdss (``dss_model_generate``: batches of at most max_batch,
        inputs and outputs checked for NaN and infinity).

        Args:
            z: (k, n) latent vectors, or one vector of shape (n,).
            out: optional writable C-contiguous float64 array for the result.
        Returns:
            (k, m) outputs, or (m,) for a single vector.
        """
        z_arr = np.asarray(z, dtype=np.float64)
        single = z_arr.ndim == 1
        k = 1 if single else (z_arr.shape[0] if z_arr.ndim == 2 else -1)
        if k < 1:
            raise N.invalid(f"z must have shape (k, {self._n}) or ({self._n},), got "
                            f"{z_arr.shape}", "dss_model_generate")
        zc = N.as_input(z_arr, (k, self._n), "z", "dss_model_generate")
        x = N.as_output(out, (self._m,) if single else (k, self._m), "generate",
                        "dss_model_generate")
        N.call_busy((self._h,), "dss_model_generate", self._h.get("model"), k, N.addr(zc),
                    N.addr(x))
        return x

    def __call__(self, z: ArrayLike, out: Optional[FloatArray] = None) -> FloatArray:
        """Same as :meth:`generate`."""
        return self.generate(z, out)

    # ---- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Destroy the C model, after closing every search created on it. Idempotent. A model
        owned by a Synthetic problem is destroyed with the problem, not here."""
        if self._owner is None:
            self._h.close()

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        extras = [name for name, on in (("jacobian", self.has_jacobian), ("vjp", self.has_vjp),
                                        ("jvp", self.has_jvp)) if on]
        state = " closed" if self.closed else ""
        return f"<libdss.Model n={self._n} m={self._m} [{', '.join(extras)}]{state}>"
