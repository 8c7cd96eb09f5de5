"""Loading, version, errors, construction and parameter handling."""
import math

import numpy as np
import pytest

import libdss as dss


def test_version_and_library():
    assert dss.version() == "1.0.0" or dss.version().startswith("1.")
    assert dss.version_number() // 10000 == 1
    assert "libdss.so.1" in str(dss.library_path)


def test_strerror_and_error_attributes():
    assert dss.strerror(dss.EINVAL).startswith("Invalid argument")
    assert dss.strerror(12345)  # generic message for unknown codes
    err = dss.DssError(dss.ESTATE, function="dss_search_point")
    assert err.code == dss.ESTATE
    assert err.message == dss.strerror(dss.ESTATE)
    assert err.name == "DSS_ESTATE"
    assert "dss_search_point" in str(err) and "DSS_ESTATE" in str(err)
    assert isinstance(err, Exception)


@pytest.mark.parametrize("n,m", [(0, 3), (3, 0), (-1, 3), (2.5, 3), (True, 3)])
def test_model_bad_sizes(n, m):
    with pytest.raises(dss.DssError) as ei:
        dss.Model(lambda z: z, n, m)
    assert ei.value.code == dss.EINVAL


def test_model_f_not_callable():
    with pytest.raises(dss.DssError) as ei:
        dss.Model(42, 2, 2)
    assert ei.value.code == dss.EINVAL


def test_model_overflowing_size_rejected_by_c():
    with pytest.raises(dss.DssError) as ei:
        dss.Model(lambda z: z, 2 ** 62, 2 ** 62)
    assert ei.value.code == dss.EINVAL
    assert ei.value.function == "dss_model_create"


def test_model_generate_and_properties(linear):
    model = linear.model(max_batch=3)
    assert (model.n, model.m, model.max_batch) == (8, 40, 3)
    z = np.random.default_rng(5).normal(size=(7, 8))
    x = model.generate(z)
    np.testing.assert_allclose(x, z @ linear.A.T + linear.b, rtol=0, atol=1e-12)
    assert linear.calls["f"] == 3  # 7 points in batches of at most 3
    x1 = model(z[0])
    assert x1.shape == (40,)
    out = np.empty((7, 40))
    assert model.generate(z, out=out) is out
    with pytest.raises(dss.DssError):
        model.generate(np.zeros((2, 7)))
    with pytest.raises(dss.DssError):
        model.max_batch = 0
    with pytest.raises(dss.DssError) as ei:
        model.generate(np.full(8, np.nan))
    assert ei.value.code == dss.ENONFINITE


def test_fill_form_callbacks_write_in_place(linear):
    seen = {}

    def f(z, out):
        seen["z_writeable"] = z.flags.writeable
        seen["out_contiguous"] = out.flags.c_contiguous and out.dtype == np.float64
        np.matmul(z, linear.A.T, out=out)
        out += linear.b

    model = dss.Model(f, 8, 40)
    z = np.ones((2, 8))
    np.testing.assert_allclose(model.generate(z), z @ linear.A.T + linear.b, atol=1e-12)
    assert seen == {"z_writeable": False, "out_contiguous": True}


def test_f_wrong_result_shape_raises(linear):
    model = dss.Model(lambda z: np.zeros((len(z), 3)), 8, 40)
    with pytest.raises(ValueError, match="shape"):
        model.generate(np.zeros(8))
    model2 = dss.Model(lambda z: None, 8, 40)
    with pytest.raises(TypeError, match="None"):
        model2.generate(np.zeros(8))


def test_search_parameters(linear):
    s = dss.Search(linear.model(), seed=7, jacobian="finite_diff", sampler="top",
                   subspace_dim=2, center_tolerance=0.1, history=5)
    assert s.get("seed") == 7
    assert s.get("jacobian") == "finite_diff"
    assert s.get("sampler") == "top"
    assert s.get("subspace_dim") == 2
    assert s.get("center_tolerance") == 0.1
    assert s.get("history") == 5
    n = 8  # default radius: 0.2 E|z1 - z2| for z ~ N(0, I_n)
    expected = 0.2 * 2 * math.exp(math.lgamma((n + 1) / 2) - math.lgamma(n / 2))
    assert s.get("radius") == pytest.approx(expected, rel=1e-12)
    s.set(jacobian=1, radius=0.5, diff_scheme="central")
    assert s.get("jacobian") == "full" and s.get("radius") == 0.5
    assert s.params["diff_scheme"] == "central"


@pytest.mark.parametrize("params", [
    {"nonsense": 1}, {"jacobian": "sideways"}, {"sampler": 3.5}, {"seed": 2 ** 60},
    {"seed": -1}, {"seed": 1.5}, {"radius": -1.0}, {"radius": "wide"}, {"subspace_dim": 9},
    {"center_tolerance": 0.7}, {"rank": 0},
])
def test_search_bad_parameters(linear, params):
    s = dss.Search(linear.model())
    before = s.params
    with pytest.raises(dss.DssError) as ei:
        s.set(**params)
    assert ei.value.code == dss.EINVAL
    assert s.params == before


def test_search_calls_before_start(linear):
    s = dss.Search(linear.model())
    assert not s.started and s.rank == 0
    for call in (lambda: s.point(0.5), s.slider_ends, lambda: s.commit(0.5), s.resample,
                 s.center, s.basis, s.undo, s.save, s.basis_indices):
        with pytest.raises(dss.DssError) as ei:
            call()
        assert ei.value.code == dss.ESTATE


def test_search_argument_errors(linear):
    s = dss.Search(linear.model(jacobian=linear.jacobian))
    with pytest.raises(dss.DssError) as ei:
        s.start(np.zeros(7))
    assert ei.value.code == dss.EINVAL
    with pytest.raises(dss.DssError) as ei:
        s.start(np.array([np.inf] + [0.0] * 7))
    assert ei.value.code == dss.ENONFINITE
    s.start(np.zeros(8))
    for t in (-0.1, 1.5, float("nan")):
        with pytest.raises(dss.DssError) as ei:
            s.point(t)
        assert ei.value.code == dss.EINVAL
    with pytest.raises(dss.DssError):
        s.point(0.5, out=np.empty(8, dtype=np.float32))
    with pytest.raises(dss.DssError):
        s.point_w([2.0])


def test_unsupported_modes(linear):
    model = linear.model()  # f only
    for mode in ("full", "rows", "randomized"):
        s = dss.Search(model, jacobian=mode)
        with pytest.raises(dss.DssError) as ei:
            s.start(np.zeros(8))
        assert ei.value.code == dss.EUNSUPPORTED


def test_lifetimes(linear):
    model = linear.model(jacobian=linear.jacobian)
    s = dss.Search(model)
    s.start(np.zeros(8))
    model.close()
    assert s.closed and model.closed
    with pytest.raises(dss.DssError) as ei:
        s.center()
    assert ei.value.code == dss.ESTATE
    s.close()  # idempotent
    model.close()

    with dss.LineSearch() as line:
        assert not line.closed
    assert line.closed

    # a search keeps its model alive; collecting everything in any order is safe
    import gc
    s2 = dss.Search(dss.Model(linear.f, 8, 40, jacobian=linear.jacobian))
    s2.start(np.zeros(8))
    cycle = [s2]
    cycle.append(cycle)
    del s2, cycle
    gc.collect()

    syn = dss.Synthetic(4, 8, 2.0, 1)
    s3 = dss.Search(syn.model)
    del syn  # the search's model keeps the problem alive
    gc.collect()
    s3.start(np.zeros(4))
    assert s3.rank == 4


def test_parameter_ranges_come_from_the_library():
    assert dss.SEARCH_PARAM_RANGES["rank"] == (1, 2 ** 53)
    assert dss.SEARCH_PARAM_RANGES["history"] == (0, 65536)
    assert dss.SEARCH_PARAM_RANGES["center_tolerance"] == (0, 0.5)
    assert dss.SEARCH_PARAM_RANGES["jacobian"] == (0, 4)
    assert set(dss.SEARCH_PARAM_RANGES) == set(dss.SEARCH_PARAMS)
    assert dss.LINE_PARAM_RANGES["samples"] == (2, 2 ** 53)
    assert dss.LINE_PARAM_RANGES["refine"] == (0, 2)
