"""The line search (find_optimal) against a brute force, and the synthetic problem."""
import numpy as np
import pytest

import libdss as dss
from conftest import Linear


def brute_force(model, lo, hi, g, samples, minimize=False):
    t = np.arange(samples) / (samples - 1)
    z = lo[None, :] + t[:, None] * (hi - lo)[None, :]
    scores = g(model.generate(z))
    i = int(np.argmin(scores) if minimize else np.argmax(scores))  # ties: lowest index
    return t[i], scores[i]


def wiggly_score(target):
    return lambda x: -np.sum((x - target) ** 2, axis=1) + 3 * np.cos(x[:, 0] * 5)


@pytest.mark.parametrize("samples,batch", [(2, 500), (101, 7), (1001, 500)])
def test_grid_matches_brute_force(samples, batch):
    lin = Linear(seed=6)
    model = lin.model(jacobian=lin.jacobian)
    s = dss.Search(model, seed=2, radius=2.0)
    s.start(np.full(8, 0.2))
    g = wiggly_score(lin.f(np.ones((1, 8)))[0])
    line = dss.LineSearch(samples=samples, batch=batch)
    lo, hi = s.slider_ends()
    t_ref, score_ref = brute_force(model, lo, hi, g, samples)
    t, score = line.find_optimal(s, g)
    assert t == pytest.approx(t_ref, abs=1e-15)
    assert score == pytest.approx(score_ref, rel=1e-12)
    assert line.evaluations == samples
    # the same through an explicit segment, both spellings
    assert line.find_optimal((lo, hi), g, model=model) == pytest.approx((t, score))
    assert line.find_optimal((model, lo, hi), g) == pytest.approx((t, score))


def test_minimize_and_refine():
    lin = Linear(seed=7)
    model = lin.model(jacobian=lin.jacobian)
    target = lin.f(np.full((1, 8), 0.3))[0]

    def dist(x):
        return np.linalg.norm(x - target, axis=1)
    s = dss.Search(model, seed=4, radius=1.5)
    s.start(np.zeros(8))
    lo, hi = s.slider_ends()
    grid = dss.LineSearch(samples=21, goal="minimize")
    assert grid.get("goal") == "minimize"
    t_ref, d_ref = brute_force(model, lo, hi, dist, 21, minimize=True)
    t, d = grid.find_optimal(s, dist)
    assert (t, d) == pytest.approx((t_ref, d_ref))

    fine = dss.LineSearch(samples=20001, goal="minimize")
    t_fine, d_fine = fine.find_optimal(s, dist)
    refined = dss.LineSearch(samples=21, goal="minimize", refine=True)
    assert refined.get("refine") is True
    assert dss.LineSearch(refine=2).get("refine") == 2
    t_ref2, d_ref2 = refined.find_optimal(s, dist)
    assert d_ref2 <= d + 1e-15  # never worse than the grid
    assert d_ref2 <= d_fine + 1e-9  # as good as a 20001-point grid
    assert abs(t_ref2 - t_fine) < 1e-4
    assert refined.evaluations < 200

    # maximizing -dist finds the same point
    t_max, s_max = dss.LineSearch(samples=21).find_optimal(s, lambda x: -dist(x))
    assert (t_max, -s_max) == pytest.approx((t, d))


def test_score_fill_form_and_bad_scores():
    lin = Linear(seed=8)
    model = lin.model(jacobian=lin.jacobian)
    s = dss.Search(model, seed=1)
    s.start(np.zeros(8))

    def g(x, out):
        np.sum(x, axis=1, out=out)
    line = dss.LineSearch(samples=11)
    t, score = line.find_optimal(s, g)
    lo, hi = s.slider_ends()
    assert (t, score) == pytest.approx(brute_force(model, lo, hi, lambda x: x.sum(axis=1), 11))
    with pytest.raises(dss.DssError) as ei:
        line.find_optimal(s, lambda x: np.full(len(x), np.nan))
    assert ei.value.code == dss.ENONFINITE
    with pytest.raises(dss.DssError) as ei:
        line.find_optimal((np.zeros(8), np.full(8, np.inf)), g, model=model)
    assert ei.value.code == dss.ENONFINITE
    with pytest.raises(dss.DssError):
        line.find_optimal((np.zeros(8),), g, model=model)
    with pytest.raises(dss.DssError):
        line.find_optimal(dss.Search(model), g)  # not started
    for bad in ({"samples": 1}, {"batch": 0}, {"goal": "up"}, {"refine": 3}):
        with pytest.raises(dss.DssError):
            dss.LineSearch(**bad)


def test_synthetic_problem():
    p = dss.Synthetic(16, 256, gamma=2.0, seed=5)
    q = dss.Synthetic(16, 256, gamma=2.0, seed=5)
    assert (p.n, p.m, p.gamma, p.seed) == (16, 256, 2.0, 5)
    z0, zs = p.initial_point(), p.optimum()
    np.testing.assert_array_equal(z0, q.initial_point())
    np.testing.assert_array_equal(zs, q.optimum())
    assert np.all(np.abs(z0) <= dss.SYNTHETIC_BOX) and np.all(np.abs(zs) <= 1.25)
    x_star = p.model.generate(zs)
    np.testing.assert_allclose(x_star, 0.0, atol=1e-12)
    assert p.score(x_star) == pytest.approx(0.0, abs=1e-9)
    assert p.score(p.model.generate(z0)) < -1.0
    X = p.model.generate(np.vstack([z0, zs]))
    np.testing.assert_allclose(p.score(X), [p.score(X[0]), p.score(X[1])])
    assert p.model.has_jacobian

    # the analytic Jacobian agrees with finite differences of f
    full = dss.Search(p.model, jacobian="full")
    fd = dss.Search(p.model, jacobian="finite_diff", diff_scheme="central")
    full.start(z0)
    fd.start(z0)
    np.testing.assert_allclose(fd.singular_values(), full.singular_values(), rtol=1e-5)

    # native score and a Python wrapper of it give the same line-search answer
    line = dss.LineSearch(samples=501)
    native = line.find_optimal(full, p.score)
    wrapped = line.find_optimal(full, lambda x: p.score(x))
    assert native == wrapped


def run_synthetic(sampler, seed, iterations=40):
    p = dss.Synthetic(32, 512, gamma=2.0, seed=11)
    s = dss.Search(p.model, seed=seed, sampler=sampler, prior="box",
                   prior_scale=dss.SYNTHETIC_BOX)
    s.start(p.initial_point())
    line = dss.LineSearch(samples=201, refine=True)
    start = p.score(p.model.generate(s.center()))
    for _ in range(iterations):
        t, score = line.find_optimal(s, p.score)
        s.commit(t)
    return start, score, np.linalg.norm(s.center() - p.optimum())


def test_dss_improves_and_beats_random_on_the_smooth_problem():
    p = dss.Synthetic(32, 512, gamma=0.0, seed=3)
    results = {}
    for sampler in ("singular", "random"):
        s = dss.Search(p.model, seed=1, sampler=sampler, prior="box",
                       prior_scale=dss.SYNTHETIC_BOX)
        s.start(p.initial_point())
        line = dss.LineSearch(samples=201, refine=True)
        for _ in range(30):
            t, score = line.find_optimal(s, p.score)
            s.commit(t)
        results[sampler] = score
    start = p.score(p.model.generate(p.initial_point()))
    assert results["singular"] > start and results["random"] > start
    assert results["singular"] > results["random"]


def test_synthetic_session_is_deterministic():
    a = run_synthetic("singular", 7, iterations=15)
    b = run_synthetic("singular", 7, iterations=15)
    assert a == b
    assert a[1] > a[0]  # the score improved


def test_synthetic_errors():
    for args in ((0, 4), (4, 0)):
        with pytest.raises(dss.DssError):
            dss.Synthetic(*args)
    with pytest.raises(dss.DssError):
        dss.Synthetic(4, 4, gamma=-1.0)
    with pytest.raises(dss.DssError):
        dss.Synthetic(4, 4, seed=-1)
    p = dss.Synthetic(4, 4, seed=2 ** 64 - 1, jacobian="authors")
    with pytest.raises(dss.DssError):
        p.set_jacobian("wrong")
    with pytest.raises(dss.DssError):
        p.model.set_jacobian(lambda z, rows: None)  # owned by the problem
    s = dss.Search(p.model)
    p.close()
    assert s.closed and p.model is not None


def _gallery_brute_force(s, model, g, grid, minimize=False):
    """Every weight of the grid, mapped by Search.point_w and scored: (w, score), ties to the
    lowest row-major index."""
    l = s.subspace_dim
    axis = -1.0 + 2.0 * np.arange(grid) / (grid - 1)
    ws = np.array(np.meshgrid(*([axis] * l), indexing="ij")).reshape(l, -1).T  # row-major
    scores = g(model.generate(np.array([s.point_w(w) for w in ws])))
    i = int(np.argmin(scores) if minimize else np.argmax(scores))
    return ws[i], scores[i]


@pytest.mark.parametrize("l,grid,minimize", [(2, 5, False), (2, 4, True), (3, 3, False)])
def test_gallery_matches_brute_force(l, grid, minimize):
    lin = Linear(seed=6)
    model = lin.model(jacobian=lin.jacobian)
    s = dss.Search(model, seed=2, radius=2.0, subspace_dim=l)
    s.start(np.full(8, 0.2))
    g = wiggly_score(lin.f(np.ones((1, 8)))[0])
    line = dss.LineSearch(grid=grid, batch=7, goal="minimize" if minimize else "maximize")
    assert line.get("grid") == grid
    w_ref, score_ref = _gallery_brute_force(s, model, g, grid, minimize)
    w, score = line.find_optimal_w(s, g)
    assert w.shape == (l,)
    assert w == pytest.approx(w_ref, abs=1e-15)
    assert score == pytest.approx(score_ref, rel=1e-12)
    assert line.evaluations == grid ** l
    # refinement: never worse, the result commits
    line.set(refine=True)
    w2, score2 = line.find_optimal_w(s, g)
    assert (score2 <= score) if minimize else (score2 >= score)
    assert line.evaluations > grid ** l
    s.commit_w(w2)


def test_gallery_errors():
    lin = Linear(seed=6)
    model = lin.model(jacobian=lin.jacobian)
    s = dss.Search(model, subspace_dim=2)
    line = dss.LineSearch()
    assert line.get("grid") == 5
    with pytest.raises(dss.DssError) as e:
        line.find_optimal_w(s, lambda x: x[:, 0])  # not started
    assert e.value.code == dss.ESTATE
    s.start(np.zeros(8))
    with pytest.raises(dss.DssError):
        line.set(grid=1)

    def bad(x):
        raise ValueError("no")
    with pytest.raises(ValueError):
        line.find_optimal_w(s, bad)
    with pytest.raises(dss.DssError) as e:
        line.find_optimal_w(s, lambda x: np.full(len(x), np.nan))
    assert e.value.code == dss.ENONFINITE
