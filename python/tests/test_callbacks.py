"""Exceptions raised in callbacks abort the C call cleanly and are re-raised."""
import numpy as np
import pytest

import dss
from conftest import Linear


class Boom(Exception):
    pass


def check_reraised(excinfo, function):
    exc = excinfo.value
    assert isinstance(exc.dss_error, dss.DssError)
    assert exc.dss_error.code == dss.ECALLBACK
    assert exc.dss_error.function == function
    assert exc.__cause__ is exc.dss_error  # chained
    # the traceback reaches into the callback that raised
    assert any(entry.name in ("bad", "jacobian", "vjp", "jvp", "f", "g")
               for entry in excinfo.traceback)


def test_generate_exception(linear):
    def bad(z):
        raise Boom("in f")
    model = dss.Model(bad, 8, 40)
    with pytest.raises(Boom, match="in f") as ei:
        model.generate(np.zeros((3, 8)))
    check_reraised(ei, "dss_model_generate")


def test_jacobian_exception_leaves_session_unchanged(linear):
    state = {"fail": False}

    def jacobian(z, rows):
        if state["fail"]:
            raise Boom("in jacobian")
        return linear.A

    s = dss.Search(dss.Model(linear.f, 8, 40, jacobian=jacobian), seed=2)
    s.start(np.zeros(8))
    saved, center, basis = s.save(), s.center(), s.basis()
    stats = s.stats()
    state["fail"] = True
    with pytest.raises(Boom) as ei:
        s.commit(0.9)  # off centre: needs the Jacobian
    check_reraised(ei, "dss_search_commit")
    assert s.save() == saved
    np.testing.assert_array_equal(s.center(), center)
    np.testing.assert_array_equal(s.basis(), basis)
    assert s.stats()["decompositions"] == stats["decompositions"]
    s.commit(0.5)  # the centre keeps the SVD: no callback, succeeds
    state["fail"] = False
    s.commit(0.9)


def test_vjp_and_jvp_exceptions():
    lin = Linear(m=50, n=10, s=np.linspace(5, 1, 10), seed=4)

    def vjp(z, u):
        raise Boom("in vjp")

    s = dss.Search(lin.model(vjp=vjp, jvp=lin.jvp), jacobian="randomized", rank=3)
    with pytest.raises(Boom, match="vjp") as ei:
        s.start(np.zeros(10))
    check_reraised(ei, "dss_search_start")
    assert not s.started

    def jvp(z, v):
        raise Boom("in jvp")

    s = dss.Search(lin.model(vjp=lin.vjp, jvp=jvp), jacobian="randomized", rank=3)
    with pytest.raises(Boom, match="jvp"):
        s.start(np.zeros(10))


def test_score_exception(linear):
    s = dss.Search(linear.model(jacobian=linear.jacobian))
    s.start(np.zeros(8))
    line = dss.LineSearch(samples=11)

    def g(x):
        raise Boom("in g")
    with pytest.raises(Boom) as ei:
        line.find_optimal(s, g)
    check_reraised(ei, "dss_search_find_optimal")


def test_exception_with_its_own_chain_is_kept(linear):
    def bad(z):
        try:
            {}["missing"]
        except KeyError as e:
            raise Boom("wrapped") from e
    with pytest.raises(Boom) as ei:
        dss.Model(bad, 8, 40).generate(np.zeros(8))
    assert isinstance(ei.value.__cause__, KeyError)
    assert ei.value.dss_error.code == dss.ECALLBACK


def test_keyboard_interrupt_propagates(linear):
    def bad(z):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        dss.Model(bad, 8, 40).generate(np.zeros(8))


def test_next_call_after_failure_is_clean(linear):
    calls = {"n": 0}

    def flaky(z):
        calls["n"] += 1
        if calls["n"] == 1:
            raise Boom("first")
        return z @ linear.A.T
    model = dss.Model(flaky, 8, 40)
    with pytest.raises(Boom):
        model.generate(np.zeros(8))
    np.testing.assert_array_equal(model.generate(np.zeros(8)), np.zeros(40))


def test_nonfinite_callback_output(linear):
    model = dss.Model(lambda z: np.full((len(z), 40), np.nan), 8, 40)
    with pytest.raises(dss.DssError) as ei:
        model.generate(np.zeros(8))
    assert ei.value.code == dss.ENONFINITE
    s = dss.Search(linear.model(jacobian=lambda z, rows: np.full((40, 8), np.inf)))
    with pytest.raises(dss.DssError) as ei:
        s.start(np.zeros(8))
    assert ei.value.code == dss.ENONFINITE


def test_progress_cancel_and_exception():
    lin = Linear(m=50, n=10, s=np.linspace(5, 1, 10), seed=4)
    s = dss.Search(lin.model(vjp=lin.vjp, jvp=lin.jvp), jacobian="randomized", rank=3)
    seen = []
    s.set_progress(lambda stage, done, total: seen.append((stage, done, total)))
    s.start(np.zeros(10))
    assert seen and all(stage == dss.STAGE_RANDOMIZED for stage, _, _ in seen)
    center = s.center()
    s.set_progress(lambda stage, done, total: True)  # cancel at once
    with pytest.raises(dss.DssError) as ei:
        s.commit(1.0)
    assert ei.value.code == dss.ECANCELLED
    np.testing.assert_array_equal(s.center(), center)

    def bad(stage, done, total):
        raise Boom("in progress")
    s.set_progress(bad)
    with pytest.raises(Boom):
        s.commit(1.0)
    s.set_progress(None)
    s.commit(1.0)

    line = dss.LineSearch(samples=1001, batch=100)
    stages = []
    line.set_progress(lambda stage, done, total: stages.append(stage) or done >= 500)
    with pytest.raises(dss.DssError) as ei:
        line.find_optimal(s, lambda x: -np.sum(x ** 2, axis=1))
    assert ei.value.code == dss.ECANCELLED
    assert set(stages) == {dss.STAGE_LINE_GRID}
