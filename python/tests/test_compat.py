"""libdss 1.0's Python API keeps working in 1.1: the old package name `dss` (a shim over
`libdss`) and the call forms of the properties rank, subspace_dim and stats, each with a
DeprecationWarning; and a script written against 1.0 runs unchanged (compat/api_1_0.py)."""
import importlib
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import libdss
from conftest import Linear

HERE = os.path.dirname(os.path.abspath(__file__))


def test_script_written_for_1_0_runs_unchanged_with_deprecation_warnings():
    env = dict(os.environ, PYTHONPATH=os.path.join(HERE, os.pardir), PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run([sys.executable, "-W", "always::DeprecationWarning",
                        os.path.join(HERE, "compat", "api_1_0.py")],
                       cwd=os.path.join(HERE, "compat"), env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.rstrip().endswith("api 1.0 script: ok"), r.stdout
    for what in ("the Python package `dss` is now `libdss`", "Search.rank() is deprecated",
                 "Search.subspace_dim() is deprecated", "Search.stats() is deprecated"):
        assert what in r.stderr, (what, r.stderr)
    # the warnings point at the script's own lines, not into the package
    assert "api_1_0.py:7: DeprecationWarning" in r.stderr, r.stderr


def _import_dss_again():
    for name in [k for k in sys.modules if k == "dss" or k.startswith("dss.")]:
        del sys.modules[name]
    return importlib.import_module("dss")


def test_import_dss_warns_and_is_libdss_itself():
    with pytest.warns(DeprecationWarning, match=r"`import libdss`"):
        dss = _import_dss_again()
    assert dss is libdss
    assert dss.Search is libdss.Search and dss.DssError is libdss.DssError
    from dss.model import Model  # submodules are libdss's, not second copies
    import dss.search
    assert Model is libdss.Model and dss.search is libdss.search
    assert sys.modules["dss._native"] is libdss._native


def test_rank_subspace_dim_stats_are_properties_and_their_calls_warn():
    lin = Linear()
    s = libdss.Search(lin.model(jacobian=lin.jacobian), seed=1, subspace_dim=2)
    s.start(np.zeros(lin.n))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the property forms do not warn
        rank, l, stats = s.rank, s.subspace_dim, s.stats
        assert rank == lin.n and l == 2 and stats["jacobian_calls"] == 1
        assert rank + 1 == lin.n + 1 and np.empty(l).shape == (2,) and repr(rank) == str(lin.n)
    for name, value in (("rank", rank), ("subspace_dim", l), ("stats", stats)):
        with pytest.warns(DeprecationWarning, match=rf"Search\.{name}\(\) is deprecated") as w:
            called = value()
        assert called == value and type(called) in (int, dict)
        assert w[0].filename == __file__  # attributed to the caller's line
