"""Deprecated name of :mod:`libdss` (libdss 1.0's Python package was ``dss``).

``import dss`` still works in libdss 1.1, with a DeprecationWarning, and gives the very same
module objects as ``import libdss`` (``dss.Search is libdss.Search``; ``import dss.search``
is ``libdss.search``). The name ``dss`` is also the import name of the OpenDSS bindings
(``dss-python``), so it goes away in libdss 1.2: write ``import libdss`` (or
``import libdss as dss`` to keep the rest of a script unchanged).
"""

import importlib
import sys
import warnings

warnings.warn("the Python package `dss` is now `libdss` (the name `dss` clashes with the "
              "OpenDSS bindings): write `import libdss` (or `import libdss as dss`); "
              "`import dss` stops working in libdss 1.2",
              DeprecationWarning, stacklevel=2)

import libdss  # noqa: E402

# `import dss.search` and `from dss.model import Model` get libdss's modules, not second copies
for _name in ("_native", "_compat", "_version", "errors", "model", "search", "line",
              "synthetic"):
    sys.modules[f"{__name__}.{_name}"] = importlib.import_module(f"libdss.{_name}")
# this module becomes libdss itself: one set of classes, one loaded library
sys.modules[__name__] = libdss
