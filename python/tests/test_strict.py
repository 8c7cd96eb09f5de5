"""Strict callback results: every result is checked for its exact shape, a real floating dtype
and finiteness before libdss sees it, and the error names the callback with the expected and
received shapes. Inputs handed to callbacks are read-only views. The two silent failures of
issue 19 (a transposed Jacobian of the same size, a generator returning (m, k)) must fail."""
import typing

import numpy as np
import pytest

import libdss
from conftest import Linear


@pytest.fixture
def lin():
    return Linear(m=40, n=8, seed=3)


def expect(exc_info, callback, expected, received, reason):
    e = exc_info.value
    assert isinstance(e, libdss.CallbackResultError)
    assert (e.callback, e.expected, e.received, e.reason) == (callback, expected, received,
                                                              reason)
    assert f"callback {callback} " in str(e)
    return e


def test_transposed_jacobian_of_the_same_size_fails(lin):
    # (n, m) instead of (m, n): the same 320 numbers, which 1.0 silently reinterpreted
    model = lin.model(jacobian=lambda z, rows: lin.A.T if rows is None else lin.A[rows])
    s = libdss.Search(model, jacobian="full")
    with pytest.raises(libdss.CallbackResultError) as ei:
        s.start(np.zeros(lin.n))
    e = expect(ei, "jacobian", (40, 8), (8, 40), "shape")
    assert "returned shape (8, 40); expected (rows=40, n=8)" in str(e)
    assert e.code == libdss.ECALLBACK and not s.started  # the search is unchanged


def test_generator_returning_m_by_k_fails(lin):
    model = libdss.Model(lambda z: (z @ lin.A.T).T.copy(), lin.n, lin.m,
                         jacobian=lin.jacobian)
    s = libdss.Search(model, seed=1)
    s.start(np.zeros(lin.n))
    line = libdss.LineSearch(samples=11)
    with pytest.raises(libdss.CallbackResultError) as ei:
        line.find_optimal(s, lambda x: -x.sum(axis=1))
    expect(ei, "f", (11, 40), (40, 11), "shape")


@pytest.mark.parametrize("which,bad,expected,received", [
    ("vjp", lambda A, z, u: (u @ A).T, (5, 8), (8, 5)),
    ("jvp", lambda A, z, v: (v @ A.T).T, (5, 40), (40, 5)),
    ("vjp", lambda A, z, u: (u @ A)[:, :, None], (5, 8), (5, 8, 1)),
    ("jvp", lambda A, z, v: (v @ A.T).ravel(), (5, 40), (200,)),
])
def test_vjp_and_jvp_shapes(lin, which, bad, expected, received):
    cbs = {"vjp": lin.vjp, "jvp": lin.jvp}
    cbs[which] = lambda z, a: bad(lin.A, z, a)
    s = libdss.Search(lin.model(**cbs), jacobian="randomized", rank=3, oversample=2)
    with pytest.raises(libdss.CallbackResultError) as ei:
        s.start(np.zeros(lin.n))
    expect(ei, which, expected, received, "shape")
    assert not s.started


def test_score_shape_dtype_and_finiteness(lin):
    s = libdss.Search(lin.model(jacobian=lin.jacobian), seed=1)
    s.start(np.zeros(lin.n))
    line = libdss.LineSearch(samples=11)
    for g, expected, received, reason in (
            (lambda x: x.sum(axis=1, keepdims=True), (11,), (11, 1), "shape"),
            (lambda x: x.sum(axis=1).astype(np.complex128), (11,), (11,), "dtype"),
            (lambda x: np.arange(len(x)), (11,), (11,), "dtype"),
            (lambda x: [1.0] * (len(x) - 1), (11,), (10,), "shape"),
            (lambda x: None, (11,), None, "none")):
        with pytest.raises(libdss.CallbackResultError) as ei:
            line.find_optimal(s, g)
        expect(ei, "g", expected, received, reason)
    bad = np.zeros(11)
    bad[4] = np.nan
    with pytest.raises(libdss.CallbackResultError) as ei:
        line.find_optimal(s, lambda x: bad)
    e = expect(ei, "g", (11,), (11,), "nonfinite")
    assert "at index (4,)" in str(e) and e.code == libdss.ENONFINITE


def test_fill_form_is_checked_for_finiteness(lin):
    def f(z, out):
        out[...] = z @ lin.A.T
        out[-1, 2] = np.inf
    with pytest.raises(libdss.CallbackResultError) as ei:
        libdss.Model(f, lin.n, lin.m).generate(np.zeros((3, lin.n)))
    e = expect(ei, "f", (3, 40), (3, 40), "nonfinite")
    assert "at index (2, 2)" in str(e)


def test_float32_results_are_accepted_and_converted(lin):
    A32 = lin.A.astype(np.float32)
    model = libdss.Model(lambda z: z.astype(np.float32) @ A32.T, lin.n, lin.m)
    z = np.random.default_rng(1).normal(size=(4, lin.n))
    x = model.generate(z)
    assert x.dtype == np.float64
    # float32 rounding: |error| <= 2 * n * eps32 * sum |A_ij z_j| (accumulation bound)
    bound = 2 * lin.n * np.finfo(np.float32).eps * (np.abs(z) @ np.abs(lin.A.T))
    assert np.all(np.abs(x - z @ lin.A.T) <= bound + 1e-30)


def test_inputs_handed_to_callbacks_are_read_only(lin):
    seen = {}

    def record(name, *arrays):
        seen[name] = [a.flags.writeable for a in arrays if a is not None]

    def f(z):
        record("f", z)
        return z @ lin.A.T

    def jac(z, rows):
        record("jacobian", z, rows)
        return lin.jacobian(z, rows)

    def vjp(z, u):
        record("vjp", z, u)
        return u @ lin.A

    def jvp(z, v):
        record("jvp", z, v)
        return v @ lin.A.T

    def g(x):
        record("g", x)
        return -x.sum(axis=1)
    model = libdss.Model(f, lin.n, lin.m, jacobian=jac, vjp=vjp, jvp=jvp)
    s = libdss.Search(model, jacobian="rows", jacobian_rows=10)
    s.start(np.zeros(lin.n))
    s.set(jacobian="randomized", rank=3)
    s.start(np.zeros(lin.n))
    libdss.LineSearch(samples=5).find_optimal(s, g)
    assert set(seen) == {"f", "jacobian", "vjp", "jvp", "g"}, seen
    assert all(flags == [False] * len(flags) and flags for flags in seen.values()), seen

    def writes(z):
        z[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        libdss.Model(writes, lin.n, lin.m).generate(np.zeros(lin.n))


def test_public_api_has_type_hints():
    import os
    assert os.path.isfile(os.path.join(os.path.dirname(libdss.__file__), "py.typed"))
    for cls in (libdss.Model, libdss.Search, libdss.LineSearch, libdss.Synthetic):
        for name, fn in vars(cls).items():
            if name.startswith("_") and name != "__init__":
                continue
            fn = fn.fget if isinstance(fn, property) else fn
            if not callable(fn):
                continue
            hints = typing.get_type_hints(fn)  # resolves every annotation
            assert "return" in hints, f"{cls.__name__}.{name} has no return annotation"
