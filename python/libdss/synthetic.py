"""libdss.Synthetic: the authors' synthetic test problem (``dss_synthetic``)."""

from __future__ import annotations

import weakref
from typing import Optional

import numpy as np

from ._types import ArrayLike, FloatArray
from . import _native as N
from .model import Model

__all__ = ["Synthetic"]

#: Half-width R of the synthetic problem's latent box [-R, R]^n (DSS_SYNTHETIC_BOX).
BOX = 2.5

JACOBIAN_VARIANTS = {"true": 0, "authors": 1}


class Synthetic:
    """The synthetic benchmark of Chiu et al. (SIGGRAPH 2020), computed by libdss.

    ``f_d(z) = sqrt((z - s)^T A_d (z - s))`` for d = 1..m and the Rastrigin-like score
    ``g(x) = -sum_d a_d - sum_d (x_d^2 - a_d cos(2 pi x_d))``, ``a_d = gamma alpha_d^2``,
    maximal (0) at z = s. The latent box is [-2.5, 2.5]^n (``libdss.SYNTHETIC_BOX``).

    Args:
        n: latent dimension (>= 1).
        m: output dimension (>= 1).
        gamma: >= 0 (2 in the paper; 0 gives a smooth problem).
        seed: any non-negative integer below 2^64; the same seed gives the same problem on
            every platform.
        jacobian: ``'true'`` (the true derivative, default) or ``'authors'`` (the reference
            code's ``(A_d + A_d^T)(z - s)``).

    The problem owns its model (:attr:`model`); closing the problem closes the searches on
    that model first.
    """

    def __init__(self, n: int, m: int, gamma: float = 2.0, seed: int = 0,
                 jacobian: str = "true") -> None:
        for what, v in (("n", n), ("m", m)):
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise N.invalid(f"{what} must be a positive integer, got {v!r}", "Synthetic")
        if isinstance(seed, bool) or int(seed) != seed or not 0 <= seed < 2 ** 64:
            raise N.invalid(f"seed must be an integer in [0, 2^64), got {seed!r}", "Synthetic")
        self._n, self._m = int(n), int(m)
        self._gamma, self._seed = float(gamma), int(seed)
        self._h = N.new_handle("dss_synthetic_create", N.lib.dss_synthetic_destroy,
                               self._n, self._m, self._gamma, self._seed)
        self._finalizer = weakref.finalize(self, self._h.close)
        self._model_ref = None
        if jacobian != "true":
            self.set_jacobian(jacobian)

    def set_jacobian(self, variant: str) -> None:
        """Choose the Jacobian variant: ``'true'`` or ``'authors'``."""
        if isinstance(variant, str):
            if variant not in JACOBIAN_VARIANTS:
                raise N.invalid(f"variant must be 'true' or 'authors', got {variant!r}",
                                "dss_synthetic_set_jacobian")
            variant = JACOBIAN_VARIANTS[variant]
        N.call("dss_synthetic_set_jacobian", self._h.get("synthetic problem"), int(variant))

    def score(self, x: ArrayLike, out: Optional[FloatArray] = None) -> FloatArray:
        """The score g (higher is better) of outputs ``x``: (k, m) -> (k,), or (m,) -> float.

        Passing this bound method as ``g`` to :meth:`LineSearch.find_optimal` runs it inside
        libdss without calling back into Python."""
        x_arr = np.asarray(x, dtype=np.float64)
        single = x_arr.ndim == 1
        k = 1 if single else (x_arr.shape[0] if x_arr.ndim == 2 else 0)
        if k < 1:
            raise N.invalid(f"x must have shape (k, {self._m}) or ({self._m},), got "
                            f"{x_arr.shape}", "dss_synthetic_score")
        xc = N.as_input(x_arr, (k, self._m), "x", "dss_synthetic_score")
        s = N.as_output(out, (k,), "score", "dss_synthetic_score")
        N.call("dss_synthetic_score", self._h.get("synthetic problem"), k, N.addr(xc),
               N.addr(s))
        return float(s[0]) if single and out is None else s

    def initial_point(self) -> FloatArray:
        """The authors' initial point (n values; the same on every call)."""
        z = np.empty(self._n)
        N.call("dss_synthetic_initial_point", self._h.get("synthetic problem"), N.addr(z))
        return z

    def optimum(self) -> FloatArray:
        """The optimum: the shift s (n values), where the score is 0."""
        z = np.empty(self._n)
        N.call("dss_synthetic_optimum", self._h.get("synthetic problem"), N.addr(z))
        return z

    @property
    def model(self) -> Model:
        """The problem's generator: a :class:`Model` with f and the analytic Jacobian, owned
        by the problem (which it keeps alive)."""
        model = self._model_ref() if self._model_ref is not None else None
        if model is None:
            model = Model._borrowed(N.lib.dss_synthetic_model(self._h.get("synthetic problem")),
                                    self)
            self._model_ref = weakref.ref(model)
        return model

    @property
    def n(self) -> int:
        """Latent dimension."""
        return self._n

    @property
    def m(self) -> int:
        """Output dimension."""
        return self._m

    @property
    def gamma(self) -> float:
        """The score's gamma."""
        return self._gamma

    @property
    def seed(self) -> int:
        """The problem's seed."""
        return self._seed

    def close(self) -> None:
        """Destroy the problem and its model, after closing the searches on that model."""
        self._h.close()

    @property
    def closed(self) -> bool:
        """True after close()."""
        return not self._h.ptr

    def __enter__(self) -> "Synthetic":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return (f"<libdss.Synthetic n={self._n} m={self._m} gamma={self._gamma} "
                f"seed={self._seed}{state}>")
