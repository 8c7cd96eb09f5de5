"""A linear model with a known SVD: singular values, directions, slider geometry, modes."""
import numpy as np
import pytest

import libdss as dss
from conftest import Linear


def assert_rows_match_v(basis, idx, V, atol=1e-10):
    """Each basis row is +/- the right-singular vector its index names."""
    for row, i in zip(basis, idx):
        v = V[:, i]
        assert min(np.abs(row - v).max(), np.abs(row + v).max()) < atol


def test_full_mode_singular_values_match_numpy(linear):
    s = dss.Search(linear.model(jacobian=linear.jacobian), jacobian="full", seed=3)
    s.start(np.zeros(8))
    expected = np.linalg.svd(linear.A, compute_uv=False)
    assert s.rank == 8
    np.testing.assert_allclose(s.singular_values(), expected, rtol=1e-12)
    np.testing.assert_allclose(s.singular_values(), linear.s, rtol=1e-12)
    assert_rows_match_v(s.basis(), s.basis_indices(), linear.V)


def test_slider_geometry(linear):
    s = dss.Search(linear.model(jacobian=linear.jacobian), seed=1, radius=0.75)
    c = np.linspace(-1, 1, 8)
    s.start(c)
    b = s.basis()[0]
    assert s.basis().shape == (1, 8)
    np.testing.assert_allclose(np.linalg.norm(b), 1.0, rtol=1e-12)
    for t in (0.0, 0.3, 0.5, 1.0):
        np.testing.assert_allclose(s.point(t), c + (2 * t - 1) * 0.75 * b, atol=1e-14)
    lo, hi = s.slider_ends()
    np.testing.assert_array_equal(lo, s.point(0.0))
    np.testing.assert_array_equal(hi, s.point(1.0))
    np.testing.assert_allclose(s.point_w([0.2]), c + 0.75 * 0.2 * b, atol=1e-14)
    out = np.empty(8)
    assert s.point(0.25, out=out) is out
    s.commit(0.9)
    np.testing.assert_allclose(s.center(), c + 0.8 * 0.75 * b, atol=1e-14)


def test_top_sampler_walks_down_the_spectrum(linear):
    s = dss.Search(linear.model(jacobian=linear.jacobian), sampler="top")
    s.start(np.zeros(8))
    seen = [s.basis_indices()[0]]
    for _ in range(7):
        s.resample()
        seen.append(s.basis_indices()[0])
    assert seen == list(range(8))
    assert_rows_match_v(s.basis(), s.basis_indices(), linear.V)


def test_subspace_dim_and_commit_w(linear):
    s = dss.Search(linear.model(jacobian=linear.jacobian), subspace_dim=3, seed=9)
    s.start(np.zeros(8))
    B = s.basis()
    assert B.shape == (3, 8) and s.subspace_dim == 3
    np.testing.assert_allclose(B @ B.T, np.eye(3), atol=1e-12)
    assert len(set(s.basis_indices())) == 3
    w = np.array([0.5, -0.25, 1.0])
    r = s.get("radius")
    np.testing.assert_allclose(s.point_w(w), r * (B.T @ w), atol=1e-14)
    s.commit_w(w)
    np.testing.assert_allclose(s.center(), r * (B.T @ w), atol=1e-14)


def test_random_sampler_indices(linear):
    s = dss.Search(linear.model(jacobian=linear.jacobian), sampler="random", seed=2)
    s.start(np.zeros(8))
    assert list(s.basis_indices()) == [-1]
    assert np.linalg.norm(s.basis()[0]) == pytest.approx(1.0)


def test_finite_difference_mode(linear):
    model = linear.model()  # no derivative callbacks: AUTO uses finite differences
    for scheme in ("forward", "central"):
        s = dss.Search(model, jacobian="finite_diff", diff_scheme=scheme, seed=4)
        s.start(np.full(8, 0.3))
        np.testing.assert_allclose(s.singular_values(), linear.s, rtol=1e-6)
        assert_rows_match_v(s.basis(), s.basis_indices(), linear.V, atol=1e-5)
        points = s.stat("points")
        assert points == (9 if scheme == "forward" else 16)
        assert s.stat("f_calls") == 1  # issued as one batched call
    auto = dss.Search(model)
    auto.start(np.zeros(8))
    assert auto.stat("points") == 9 and auto.stat("jacobian_calls") == 0


def test_rows_mode(linear):
    s = dss.Search(linear.model(jacobian=linear.jacobian), jacobian="rows", jacobian_rows=5)
    s.start(np.zeros(8))
    assert s.rank == 5
    assert s.stat("jacobian_rows") == 5


def test_randomized_mode_vjp_jvp():
    # rank-4 Jacobian: the randomized range finder recovers it exactly
    lin = Linear(m=300, n=24, s=np.r_[[9.0, 6.0, 4.0, 2.0], np.zeros(20)], seed=11)
    model = lin.model(vjp=lin.vjp, jvp=lin.jvp)
    s = dss.Search(model, jacobian="randomized", rank=6, oversample=4, seed=1)
    s.start(np.zeros(24))
    assert s.rank == 6
    np.testing.assert_allclose(s.singular_values()[:4], [9.0, 6.0, 4.0, 2.0], rtol=1e-9)
    assert np.all(s.singular_values()[4:] < 1e-8)
    assert s.stat("vjp_calls") > 0 and s.stat("jvp_calls") > 0
    assert lin.calls["jacobian"] == 0 and lin.calls["f"] == 0
    # (power_iterations + 1) * (rank + oversample) products each way, whatever m is
    assert s.stat("vjp_products") == 2 * (6 + 4)
    assert s.stat("jvp_products") == 2 * (6 + 4)
    idx = s.basis_indices()[0]
    assert idx < 4  # null-space directions have ~zero probability
    assert_rows_match_v(s.basis(), [idx], lin.V, atol=1e-8)
    # AUTO picks RANDOMIZED when only a VJP is given; without a JVP, f is differenced
    model2 = lin.model(vjp=lin.vjp)
    s2 = dss.Search(model2, rank=4, seed=1)
    s2.start(np.zeros(24))
    assert s2.get("jacobian") == "auto" and s2.rank == 4
    np.testing.assert_allclose(s2.singular_values(), [9.0, 6.0, 4.0, 2.0], rtol=1e-5)
    assert s2.stat("jvp_calls") == 0 and s2.stat("points") > 0


def test_randomized_matches_full_on_a_dense_spectrum():
    lin = Linear(m=60, n=12, s=np.geomspace(10, 0.1, 12), seed=3)
    full = dss.Search(lin.model(jacobian=lin.jacobian), jacobian="full")
    full.start(np.zeros(12))
    rnd = dss.Search(lin.model(vjp=lin.vjp, jvp=lin.jvp), jacobian="randomized", rank=12,
                     oversample=0, power_iterations=2)
    rnd.start(np.zeros(12))
    np.testing.assert_allclose(rnd.singular_values(), full.singular_values(), rtol=1e-8)


def test_nonlinear_model_jacobian_moves_with_center():
    # f(z) = [sin(z), z^2]: J = [diag(cos z); diag(2 z)], singular values sqrt(cos^2 + 4 z^2)
    n = 5

    def f(z):
        return np.hstack([np.sin(z), z ** 2])

    def jac(z, rows):
        J = np.vstack([np.diag(np.cos(z)), np.diag(2 * z)])
        return J if rows is None else J[rows]

    s = dss.Search(dss.Model(f, n, 2 * n, jacobian=jac), seed=5, radius=0.3)
    z0 = np.linspace(0.1, 0.9, n)
    s.start(z0)
    np.testing.assert_allclose(s.singular_values(),
                               np.sort(np.sqrt(np.cos(z0) ** 2 + 4 * z0 ** 2))[::-1], rtol=1e-12)
    s.commit(1.0)  # far from the middle: the Jacobian is recomputed at the new centre
    c = s.center()
    np.testing.assert_allclose(s.singular_values(),
                               np.sort(np.sqrt(np.cos(c) ** 2 + 4 * c ** 2))[::-1], rtol=1e-12)
    assert s.stat("decompositions") == 2
    s.commit(0.5)  # the middle: the SVD is kept
    assert s.stat("decompositions") == 2


def test_jacobian_route_names_what_auto_resolved_to(linear):
    s = dss.Search(linear.model(jacobian=linear.jacobian), seed=3)
    assert s.jacobian_route is None
    s.start(np.zeros(8))
    assert s.jacobian_route == "full"
    r = dss.Search(linear.model(vjp=linear.vjp), seed=3)
    r.start(np.zeros(8))
    assert r.jacobian_route == "randomized"
    d = dss.Search(linear.model(), seed=3)
    d.start(np.zeros(8))
    assert d.jacobian_route == "finite_diff"


def test_estimated_bytes_bounds_the_peak(linear):
    s = dss.Search(linear.model(jacobian=linear.jacobian), seed=3, history=8)
    est = s.estimated_bytes
    s.start(np.zeros(8))
    for t in (0.9, 0.1, 0.5, 0.8):
        s.commit(t)
    while True:
        try:
            s.undo()
        except dss.DssError:
            break
    assert 0 < s.stat("peak_bytes") <= est <= 2 * s.stat("peak_bytes")


def test_dss_error_carries_the_handles_message(linear):
    s = dss.Search(linear.model(jacobian=linear.jacobian), seed=3)
    with pytest.raises(dss.DssError) as ei:
        s.set(rank=0)
    assert ei.value.code == dss.EINVAL
    assert "dss_search_set" in ei.value.errmsg and "DSS_SEARCH_RANK" in ei.value.errmsg
    assert "[1, 2^53]" in str(ei.value)
    with pytest.raises(dss.DssError) as ei:
        s.commit(0.5)
    assert ei.value.code == dss.ESTATE and "not started" in ei.value.errmsg
