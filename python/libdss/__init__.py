"""libdss: Python bindings for libdss, differential subspace search.

libdss helps a person find, in the latent space of a generative model ``f: R^n -> R^m``, a
variant they like: at the current centre it takes the Jacobian of ``f``, its singular values
and right-singular vectors, and proposes slider directions by importance sampling over them
(Chiu, Koyama, Lai, Igarashi and Yue, SIGGRAPH 2020). These bindings wrap the C library
(``libdss.so.1``) with ctypes; there is nothing to compile. ::

    import numpy as np, libdss

    A = np.random.default_rng(0).normal(size=(50, 8))
    model = libdss.Model(lambda z: z @ A.T, n=8, m=50,
                         jacobian=lambda z, rows: A if rows is None else A[rows])
    search = libdss.Search(model, seed=1)
    search.start(np.zeros(8))
    line = libdss.LineSearch(samples=101, refine=True)
    target = np.ones(50)
    for _ in range(10):
        t, score = line.find_optimal(search, lambda x: -np.linalg.norm(x - target, axis=1))
        search.commit(t)

Classes: :class:`Model`, :class:`Search`, :class:`LineSearch`, :class:`Synthetic`, and
:class:`Job` for calls the host drives request by request (``search.commit_job(t)``, libdss
1.2; :mod:`libdss.job`);
errors: :class:`DssError`, :class:`CallbackResultError`. A PyTorch decoder becomes a
:class:`Model` in one call with :func:`libdss.torch.model_from_module`. Arrays are C-contiguous
float64 NumPy arrays; callbacks get read-only views of libdss's buffers without copies.

The package was called ``dss`` in libdss 1.0; ``import dss`` still works in 1.1 with a
DeprecationWarning. The Python API follows semantic versioning from 1.1 on (NEWS.md).

The shared library is found, in order: ``$DSS_LIBRARY`` (the file or its directory), the
build tree next to this package (``<tree>/build/libdss.so.1``), the prefix this package is
installed in (``<prefix>/lib``, ``<prefix>/lib/<multiarch>``, ``<prefix>/lib64`` for the
first ancestor directory of the package that has one), ``<sys.prefix>/lib``, the ``libdir``
of pkg-config's ``dss``, the system loader, and ``ctypes.util.find_library("dss")``.
:data:`library_path` tells which one was loaded.
"""

try:
    import numpy  # noqa: F401
except ImportError as _e:  # say what to do, not only what is missing
    raise ImportError(
        "libdss needs NumPy. On Debian: apt-get install python3-numpy, and run "
        "/usr/bin/python3 (or a venv made with `/usr/bin/python3 -m venv "
        "--system-site-packages`); elsewhere: pip install numpy") from _e

from . import _native
from .errors import CallbackResultError, DssError
from .model import Model
from .search import Search, SEARCH_PARAMS, SEARCH_PARAM_RANGES, STATS
from .line import LineSearch, LINE_PARAMS, LINE_PARAM_RANGES
from .synthetic import Synthetic, BOX as SYNTHETIC_BOX
from .job import Job, Request, REQUEST_F, REQUEST_JACOBIAN, REQUEST_VJP, REQUEST_JVP, REQUEST_SCORE

__all__ = [
    "DssError", "CallbackResultError", "Model", "Search", "LineSearch", "Synthetic", "SYNTHETIC_BOX",
    "SEARCH_PARAMS", "LINE_PARAMS", "SEARCH_PARAM_RANGES", "LINE_PARAM_RANGES", "STATS", "library_path", "version", "version_number",
    "strerror",
    "OK", "EINVAL", "ENOMEM", "ECALLBACK", "ENONFINITE", "ELAPACK", "ESTATE", "EFORMAT",
    "ECANCELLED", "EUNSUPPORTED", "EBUSY",
    "STAGE_JACOBIAN", "STAGE_FINITE_DIFF", "STAGE_RANDOMIZED", "STAGE_LINE_GRID",
    "STAGE_LINE_REFINE", "STAGE_DECOMPOSE",
    "Job", "Request", "REQUEST_F", "REQUEST_JACOBIAN", "REQUEST_VJP", "REQUEST_JVP",
    "REQUEST_SCORE",
]

#: Version of these bindings: libdss's, from include/dss/dss.h (they work with any libdss 1.x).
from ._version import __version__

#: Path (or loader name) of the libdss shared library in use.
library_path = _native.library_path

# Status codes (DSS_OK, DSS_E*).
OK = _native.OK
EINVAL = _native.EINVAL
ENOMEM = _native.ENOMEM
ECALLBACK = _native.ECALLBACK
ENONFINITE = _native.ENONFINITE
ELAPACK = _native.ELAPACK
ESTATE = _native.ESTATE
EFORMAT = _native.EFORMAT
ECANCELLED = _native.ECANCELLED
EUNSUPPORTED = _native.EUNSUPPORTED
EBUSY = _native.EBUSY

# Progress stages (DSS_STAGE_*), the first argument of a progress callback.
STAGE_JACOBIAN = 1
STAGE_FINITE_DIFF = 2
STAGE_RANDOMIZED = 3
STAGE_LINE_GRID = 4
STAGE_LINE_REFINE = 5
STAGE_DECOMPOSE = 6


def version() -> str:
    """The loaded libdss's version string, e.g. ``"1.0.0"``."""
    return _native.version_string()


def version_number() -> int:
    """The loaded libdss's DSS_VERSION_NUMBER (major * 10000 + minor * 100 + patch)."""
    return int(_native.lib.dss_version_number())


def strerror(code: int) -> str:
    """``dss_strerror(code)``: the library's sentence for a status code."""
    return _native.strerror(code)
