"""Determinism with a seed, save/load, undo."""
import numpy as np
import pytest

import libdss as dss
from conftest import Linear


def run(model, seed, steps=12, **params):
    s = dss.Search(model, seed=seed, **params)
    s.start(np.zeros(model.n))
    trace = []
    for i in range(steps):
        t = (0.5 + 0.37 * np.sin(i)) % 1.0
        s.commit(t) if i % 3 else s.resample()
        trace.append((s.center().copy(), s.basis().copy(), tuple(s.basis_indices())))
    return trace


def same(a, b):
    return all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) and x[2] == y[2]
               for x, y in zip(a, b))


@pytest.mark.parametrize("sampler", ["singular", "random"])
def test_same_seed_same_session(linear, sampler):
    model = linear.model(jacobian=linear.jacobian)
    a = run(model, 42, sampler=sampler)
    b = run(model, 42, sampler=sampler)
    c = run(model, 43, sampler=sampler)
    assert same(a, b)
    assert not same(a, c)


def test_seed_restarts_the_stream(linear):
    s = dss.Search(linear.model(jacobian=linear.jacobian), seed=5)
    s.start(np.zeros(8))
    first = [s.basis_indices()[0]]
    for _ in range(5):
        s.resample()
        first.append(s.basis_indices()[0])
    s.start(np.zeros(8))  # start reseeds from the seed
    again = [s.basis_indices()[0]]
    for _ in range(5):
        s.resample()
        again.append(s.basis_indices()[0])
    assert first == again
    # without replacement: 6 draws among 8 directions are distinct
    assert len(set(first)) == 6


def test_save_load_round_trip(linear):
    model = linear.model(jacobian=linear.jacobian)
    s = dss.Search(model, seed=8, radius=0.4, sampler="singular")
    s.start(np.full(8, 0.1))
    s.commit(0.8)
    s.resample()
    blob = s.save()
    assert isinstance(blob, bytes) and len(blob) > 0

    r = dss.Search(model)
    r.load(blob)
    assert r.save() == blob
    np.testing.assert_array_equal(r.center(), s.center())
    np.testing.assert_array_equal(r.basis(), s.basis())
    np.testing.assert_array_equal(r.singular_values(), s.singular_values())
    assert r.get("radius") == 0.4 and r.get("seed") == 8
    # the same calls then give bit-identical results
    for t in (0.9, 0.52, 0.1, 0.7):
        s.commit(t)
        r.commit(t)
        np.testing.assert_array_equal(r.center(), s.center())
        np.testing.assert_array_equal(r.basis(), s.basis())


def test_load_rejects_bad_strings(linear):
    model = linear.model(jacobian=linear.jacobian)
    s = dss.Search(model, seed=1)
    s.start(np.zeros(8))
    blob = bytearray(s.save())
    r = dss.Search(model)
    for bad in (b"", b"garbage", bytes(blob[:-1]),
                bytes(blob[:20]) + bytes([blob[20] ^ 1]) + bytes(blob[21:])):
        with pytest.raises(dss.DssError) as ei:
            r.load(bad)
        assert ei.value.code in (dss.EFORMAT, dss.EINVAL)
        assert not r.started
    other = Linear(m=40, n=6, seed=2)
    with pytest.raises(dss.DssError) as ei:
        dss.Search(other.model(jacobian=other.jacobian)).load(bytes(blob))
    assert ei.value.code == dss.EFORMAT


def snapshot(s):
    """What a host sees of a session. (save() bytes are not compared: they include the cache
    of lazily computed singular vectors, which may hold more after later steps.)"""
    return (s.center().tobytes(), s.basis().tobytes(), tuple(s.basis_indices()),
            s.singular_values().tobytes())


def test_undo(linear):
    model = linear.model(jacobian=linear.jacobian)
    s = dss.Search(model, seed=3)
    s.start(np.zeros(8))
    with pytest.raises(dss.DssError) as ei:
        s.undo()
    assert ei.value.code == dss.ESTATE
    states = [snapshot(s)]
    for t in (0.9, 0.2, 0.5, 0.75):
        s.commit(t)
        states.append(snapshot(s))
    s.resample()
    states.append(snapshot(s))
    for expected in reversed(states[:-1]):
        s.undo()
        assert snapshot(s) == expected
    with pytest.raises(dss.DssError):
        s.undo()
    # replaying the same calls after undo gives bit-identical states
    for t, expected in zip((0.9, 0.2, 0.5, 0.75), states[1:]):
        s.commit(t)
        assert snapshot(s) == expected
    s.resample()
    assert snapshot(s) == states[-1]


def test_history_limit(linear):
    s = dss.Search(linear.model(jacobian=linear.jacobian), seed=3, history=2)
    s.start(np.zeros(8))
    for t in (0.9, 0.2, 0.8):
        s.commit(t)
    s.undo()
    s.undo()
    with pytest.raises(dss.DssError) as ei:
        s.undo()
    assert ei.value.code == dss.ESTATE


def test_undo_after_load_is_empty(linear):
    model = linear.model(jacobian=linear.jacobian)
    s = dss.Search(model, seed=3)
    s.start(np.zeros(8))
    s.commit(0.9)
    r = dss.Search(model)
    r.load(s.save())
    with pytest.raises(dss.DssError) as ei:
        r.undo()
    assert ei.value.code == dss.ESTATE


def test_keep_shown_shows_each_direction_of_a_linear_model_once():
    """DSS_SEARCH_KEEP_SHOWN (libdss 1.2): the Jacobian of a linear model never changes, so the
    first n commits that recompute it show the n directions once each."""
    A = np.random.default_rng(5).normal(size=(9, 5))
    model = dss.Model(lambda z: z @ A.T, n=5, m=9,
                      jacobian=lambda z, rows: A if rows is None else A[rows])
    s = dss.Search(model, keep_shown=True, seed=3)
    assert s.get("keep_shown") is True or s.get("keep_shown") == 1
    s.start(np.zeros(5))
    shown = []
    for _ in range(5):
        shown.append(int(s.basis_indices()[0]))
        s.commit(0.95)
    assert sorted(shown) == [0, 1, 2, 3, 4]
