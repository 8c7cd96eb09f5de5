"""The package against the C header: every constant, the version, and ``refine`` 0/1/2.

The header's values come from a C program compiled against include/dss/dss.h
(scripts/abi-lists.sh constants), not from reading the header as text, so an expression such
as ``DSS_SAMPLER_TOP = 2 + 1`` is seen as 3.
"""
import os
import re
import shutil
import subprocess

import pytest

import libdss as dss
from libdss import line as dss_line, search as dss_search, synthetic as dss_synthetic

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir)


@pytest.fixture(scope="module")
def header_constants():
    if not (shutil.which(os.environ.get("CC", "cc")) and shutil.which("sh")):
        pytest.skip("no C compiler to print the header's constants")
    out = subprocess.run(["sh", "scripts/abi-lists.sh", "constants"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    values = {}
    for line in out.splitlines():
        name, value = line.split()
        values[name] = float(value)
    assert len(values) > 50, out
    return values


def python_constants():
    """Every constant the package defines, under its C name."""
    out = {}
    for name in ("OK", "EINVAL", "ENOMEM", "ECALLBACK", "ENONFINITE", "ELAPACK", "ESTATE",
                 "EFORMAT", "ECANCELLED", "EUNSUPPORTED", "EBUSY"):
        out["DSS_" + name] = getattr(dss, name)
    for name in dir(dss):
        if name.startswith("STAGE_") or name.startswith("REQUEST_"):
            out["DSS_" + name] = getattr(dss, name)
    for key, (code, _) in dss.SEARCH_PARAMS.items():
        out["DSS_SEARCH_" + key.upper()] = code
    for key, (code, _) in dss.LINE_PARAMS.items():
        out["DSS_LINE_" + key.upper()] = code
    for key, code in dss.STATS.items():
        out["DSS_STAT_" + key.upper()] = code
    tables = {"DSS_JACOBIAN_": dss_search.JACOBIAN_MODES, "DSS_SAMPLER_": dss_search.SAMPLERS,
              "DSS_PRIOR_": dss_search.PRIORS, "DSS_DIFF_": dss_search.DIFF_SCHEMES,
              "DSS_RADIUS_": dss_search.RADIUS_POLICIES,
              "DSS_": dss_line.GOALS,
              "DSS_SYNTHETIC_JACOBIAN_": dss_synthetic.JACOBIAN_VARIANTS}
    for prefix, table in tables.items():
        for key, code in table.items():
            out[prefix + key.upper()] = code
    out["DSS_SYNTHETIC_BOX"] = dss.SYNTHETIC_BOX
    return out


def test_every_header_constant_has_the_same_value_in_the_package(header_constants):
    py = python_constants()
    missing = sorted(set(header_constants) - set(py))
    extra = sorted(set(py) - set(header_constants))
    wrong = {n: (py[n], v) for n, v in header_constants.items() if n in py and py[n] != v}
    assert not missing, f"constants of dss.h the package lacks: {missing}"
    assert not extra, f"package constants dss.h does not have: {extra}"
    assert not wrong, f"(package, header) values that differ: {wrong}"


def test_status_names_match_the_codes(header_constants):
    for code, name in dss._native.STATUS_NAMES.items():
        assert header_constants[name] == code


def test_version_is_the_headers():
    text = open(os.path.join(ROOT, "include", "dss", "dss.h")).read()
    parts = [re.search(r"^#define DSS_VERSION_%s (\d+)" % p, text, re.M).group(1)
             for p in ("MAJOR", "MINOR", "PATCH")]
    assert dss.__version__ == ".".join(parts)
    assert dss.version() == dss.__version__  # the library this build made


@pytest.mark.parametrize("given, c_value, read_back", [
    (0, 0.0, False), (1, 1.0, True), (2, 2.0, 2), (False, 0.0, False), (True, 1.0, True)])
def test_refine_accepts_0_1_2_and_the_c_side_gets_that_value(given, c_value, read_back):
    line = dss.LineSearch(refine=given)
    value = dss_line.ctypes.c_double()
    dss._native.call("dss_line_get", line._h.get("line"), dss_line.LINE_PARAMS["refine"][0],
                     dss_line.ctypes.byref(value))
    assert value.value == c_value
    assert line.get("refine") == read_back and type(line.get("refine")) is type(read_back)


@pytest.mark.parametrize("bad", [3, -1, 1.5, "2", None])
def test_refine_rejects_other_values(bad):
    with pytest.raises(dss.DssError) as e:
        dss.LineSearch(refine=bad)
    assert e.value.code == dss.EINVAL
