"""Exceptions raised in callbacks abort the C call cleanly and are re-raised."""
import numpy as np
import pytest

import libdss as dss
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
    stats = s.stats
    state["fail"] = True
    with pytest.raises(Boom) as ei:
        s.commit(0.9)  # off centre: needs the Jacobian
    check_reraised(ei, "dss_search_commit")
    assert s.save() == saved
    np.testing.assert_array_equal(s.center(), center)
    np.testing.assert_array_equal(s.basis(), basis)
    assert s.stats["decompositions"] == stats["decompositions"]
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


def test_threads_route_exceptions_to_their_own_calls(linear):
    import threading
    barrier = threading.Barrier(2)
    results = {}

    def worker(name, fail):
        def jacobian(z, rows):
            if fail:
                raise Boom(name)
            return linear.A
        model = dss.Model(linear.f, 8, 40, jacobian=jacobian)
        s = dss.Search(model, seed=1)
        barrier.wait()
        try:
            for _ in range(20):
                s.start(np.zeros(8))
            results[name] = "ok"
        except Boom as e:
            results[name] = f"boom:{e}"

    threads = [threading.Thread(target=worker, args=("a", True)),
               threading.Thread(target=worker, args=("b", False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"a": "boom:a", "b": "ok"}


def test_nested_library_call_in_a_callback(linear):
    def raising(z):
        raise Boom("inner")
    inner = dss.Model(raising, 8, 40)

    def f(z):
        return inner.generate(z)  # raises Boom through a nested libdss call
    with pytest.raises(Boom, match="inner") as ei:
        dss.Model(f, 8, 40).generate(np.zeros(8))
    assert ei.value.dss_error.function == "dss_model_generate"


def test_callback_must_not_reenter_its_handle(linear):
    holder = {}

    def jacobian(z, rows):
        action = holder.get("action")
        if action == "read":
            holder["search"].center()
        elif action == "close-model":
            holder["model"].close()
        elif action == "close-search":
            holder["search"].close()
        return linear.A

    model = dss.Model(linear.f, 8, 40, jacobian=jacobian)
    s = dss.Search(model, seed=1)
    holder.update(search=s, model=model)
    s.start(np.zeros(8))
    center = s.center()
    for action in ("read", "close-model", "close-search"):
        holder["action"] = action
        with pytest.raises(dss.DssError) as ei:
            s.commit(0.9)
        assert ei.value.code == dss.ESTATE  # raised in the callback, re-raised here
        assert ei.value.dss_error.code == dss.ECALLBACK
        assert not s.closed and not model.closed
        np.testing.assert_array_equal(s.center(), center)
    holder["action"] = None
    s.commit(0.9)

    # a line search's score may not use the search it is scanning, but may use other handles
    line = dss.LineSearch(samples=5)
    other = dss.Search(model, seed=2)
    other.start(np.zeros(8))

    def g_reads_other(x):
        other.center()
        return x.sum(axis=1)
    line.find_optimal(s, g_reads_other)

    def g_reads_scanned(x):
        s.center()
        return x.sum(axis=1)
    with pytest.raises(dss.DssError) as ei:
        line.find_optimal(s, g_reads_scanned)
    assert ei.value.code == dss.ESTATE
