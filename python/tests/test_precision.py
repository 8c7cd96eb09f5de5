"""Model(precision=...): a Search picks its finite-difference step from the declared precision
(sqrt for forward, cbrt for central differences) until diff_step is set by hand; and that step
is what makes a single-precision generator's finite-difference Jacobian usable."""
import numpy as np
import pytest

import libdss
from libdss import _native as N

EPS32 = float(np.finfo(np.float32).eps)
EPS64 = float(np.finfo(np.float64).eps)


def _c_precision(model):
    return N.lib.dss_model_precision(model._h.get("model"))


@pytest.mark.skipif(not N.HAS_MODEL_PRECISION, reason="libdss 1.1: no dss_model_set_precision")
def test_precision_goes_to_the_library():
    """libdss 1.2: the model declares its precision to the C library (dss_model_set_precision),
    which picks the step; the search's diff_step stays 0 ("automatic") unless set by hand."""
    A = np.random.default_rng(0).normal(size=(30, 6))
    model = libdss.Model(lambda z: z @ A.T, 6, 30, precision=EPS32)
    assert model.precision == EPS32 and _c_precision(model) == EPS32
    s = libdss.Search(model, diff_scheme="central")
    assert s.get("diff_step") == 0.0
    plain = libdss.Model(lambda z: z @ A.T, 6, 30)
    assert plain.precision is None and _c_precision(plain) == EPS64
    model.precision = None  # back to double precision, in the library too
    assert _c_precision(model) == EPS64
    for bad in (0.0, 1.0, -1e-7, float("nan")):
        with pytest.raises(libdss.DssError):
            libdss.Model(lambda z: z @ A.T, 6, 30, precision=bad)


def test_step_rule_and_override_without_the_c_function(monkeypatch):
    """The path kept for libdss 1.1 libraries (no dss_model_set_precision): the bindings set
    a Search's diff_step themselves, sqrt for forward and cbrt for central differences, until
    it is set by hand. Simulated here by hiding the function from the bindings."""
    monkeypatch.setattr(N, "HAS_MODEL_PRECISION", False)
    A = np.random.default_rng(0).normal(size=(30, 6))
    model = libdss.Model(lambda z: z @ A.T, 6, 30, precision=EPS32)
    assert model.precision == EPS32
    if hasattr(N.lib, "dss_model_precision"):
        assert _c_precision(model) == EPS64  # the library was not told
    s = libdss.Search(model)
    assert s.get("diff_step") == pytest.approx(EPS32 ** 0.5, rel=1e-12)
    s.set(diff_scheme="central")
    assert s.get("diff_step") == pytest.approx(EPS32 ** (1 / 3), rel=1e-12)
    s.set(diff_step=1e-3)  # by hand: kept from now on
    s.set(diff_scheme="forward")
    assert s.get("diff_step") == 1e-3
    assert libdss.Search(model, diff_scheme="central", diff_step=2e-3).get("diff_step") == 2e-3
    plain = libdss.Search(libdss.Model(lambda z: z @ A.T, 6, 30))
    assert plain.get("diff_step") == 0.0  # libdss's own default (sqrt/cbrt of eps64)
    for bad in (0.0, 1.0, -1e-7, float("nan")):
        with pytest.raises(libdss.DssError):
            libdss.Model(lambda z: z @ A.T, 6, 30, precision=bad)


@pytest.mark.parametrize("c_function", [True, False], ids=["libdss-1.2", "1.1-path"])
def test_float32_generator_needs_its_step(c_function, monkeypatch):
    if c_function and not N.HAS_MODEL_PRECISION:
        pytest.skip("libdss 1.1: no dss_model_set_precision")
    if not c_function:
        monkeypatch.setattr(N, "HAS_MODEL_PRECISION", False)
    rng = np.random.default_rng(1)
    W = rng.normal(size=(200, 10)).astype(np.float32)
    z = np.full(10, 0.2)

    def f(Z):
        return np.tanh(Z.astype(np.float32) @ W.T)
    J = (1 - np.tanh(W.astype(np.float64) @ z) ** 2)[:, None] * W
    exact = np.linalg.svd(J, compute_uv=False)

    def fd(model, **kw):
        s = libdss.Search(model, jacobian="finite_diff", **kw)
        s.start(z)
        return s.singular_values()
    declared = libdss.Model(f, 10, 200, precision=EPS32)
    # forward, h = sqrt(eps32) = 3.5e-4 (steps scale with max(1, |c_i|) = 1): per entry
    # |E_ij| <= h/2 |tanh''| W_ij^2 + 2 eps32 |tanh| / h <= 1.3e-4 W_ij^2 + 6.9e-4, and a
    # singular value moves by at most ||E||_2 <= ||E||_F, about 0.05 for these 2000 N(0, 1)
    # weights; s_max is about 14, so 1e-2 s_max (0.14) is that bound with a margin
    # (measured: 4e-3)
    assert np.abs(fd(declared) - exact).max() <= 1e-2 * exact[0]
    # undeclared, the float64 step (1.5e-8) is below float32's resolution: noise, not slope
    undeclared = libdss.Model(f, 10, 200)
    assert np.abs(fd(undeclared) - exact).max() > 0.1 * exact[0]
