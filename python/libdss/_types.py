"""Type aliases of the public API (the package ships ``py.typed``)."""

from typing import Any, Callable, Optional, Union

import numpy as np

try:  # NumPy >= 1.21
    import numpy.typing as npt
    _FloatArray = npt.NDArray[np.float64]
    _UintpArray = npt.NDArray[np.uintp]
    _ArrayLike = npt.ArrayLike
except (ImportError, AttributeError):  # older NumPy: the same names, less precise
    _FloatArray = _UintpArray = np.ndarray
    _ArrayLike = Any

__all__ = ["FloatArray", "ArrayLike", "GenerateFn", "JacobianFn", "ProductFn", "ScoreFn",
           "ProgressFn"]

#: A float64 NumPy array (what the bindings return and hand to callbacks).
FloatArray = _FloatArray
#: Anything NumPy converts to an array (inputs; callback results must be real floating arrays).
ArrayLike = _ArrayLike
#: ``f(z) -> x`` or ``f(z, out) -> None``: z (k, n) read-only, x / out (k, m).
GenerateFn = Union[Callable[[FloatArray], ArrayLike],
                   Callable[[FloatArray, FloatArray], Optional[ArrayLike]]]
#: ``jacobian(z, rows) -> J`` or ``jacobian(z, rows, out)``: z (n,), rows None or uintp
#: indices, J / out (rows, n).
JacobianFn = Union[Callable[[FloatArray, Optional[_UintpArray]], ArrayLike],
                   Callable[[FloatArray, Optional[_UintpArray], FloatArray],
                            Optional[ArrayLike]]]
#: ``vjp(z, u) -> u @ J`` (k, n), or ``jvp(z, v) -> v @ J.T`` (k, m); or with ``out``.
ProductFn = Union[Callable[[FloatArray, FloatArray], ArrayLike],
                  Callable[[FloatArray, FloatArray, FloatArray], Optional[ArrayLike]]]
#: ``g(x) -> scores`` (k,) or ``g(x, out)``: x (k, m) read-only.
ScoreFn = Union[Callable[[FloatArray], ArrayLike],
                Callable[[FloatArray, FloatArray], Optional[ArrayLike]]]
#: ``fn(stage, done, total)``; a true result cancels.
ProgressFn = Callable[[int, int, int], Any]
