"""Jobs from Python (libdss 1.2): the host answers requests; the results are the callback
call's, bit for bit; a cancelled job or an unanswered request changes nothing; wrong answers
are refused with the request's shape; an open job makes the search refuse changes."""
import numpy as np
import pytest

import libdss

M, N = 12, 5


@pytest.fixture
def linear():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(M, N))
    def f(z):
        return z @ A.T
    def jac(z, rows):
        return A if rows is None else A[rows]
    return A, libdss.Model(f, n=N, m=M, jacobian=jac)


def answer_all(job, A):
    kinds = []
    for req in job:
        kinds.append(req.kind)
        if req.kind == "f":
            req.answer(req.input @ A.T)
        elif req.kind == "jacobian":
            req.answer(A[req.rows_or_all()])
        elif req.kind == "score":
            req.answer(-np.sum((req.input - 0.2) ** 2, axis=1))
        else:  # pragma: no cover - the linear model has no VJP route here
            raise AssertionError(req.kind)
    return kinds


def score(x):
    return -np.sum((x - 0.2) ** 2, axis=1)


def test_jobs_give_the_callback_calls_bits(linear):
    A, model = linear
    a = libdss.Search(model, seed=4, jacobian_chunk=5)
    b = libdss.Search(model, seed=4, jacobian_chunk=5)
    line = libdss.LineSearch(samples=21, refine=True)
    z0 = np.linspace(-0.3, 0.3, N)
    a.start(z0)
    with b.start_job(z0) as job:
        assert answer_all(job, A) == ["jacobian"] * 3  # 12 rows in chunks of 5
    assert a.save() == b.save()
    for step in range(6):
        t, s = line.find_optimal(a, score)
        with line.find_optimal_job(b) as job:
            kinds = answer_all(job, A)
        assert set(kinds) == {"f", "score"}
        assert job.result == (t, s)
        a.commit(t)
        with b.commit_job(t) as job:
            answer_all(job, A)
        assert a.save() == b.save()
    a.undo()
    with b.undo_job() as job:
        answer_all(job, A)
    assert a.save() == b.save()


def test_a_cancelled_job_changes_nothing_and_the_search_is_busy_meanwhile(linear):
    A, model = linear
    s = libdss.Search(model, seed=2, jacobian_chunk=4)
    s.start(np.zeros(N))
    before = s.save()
    job = s.commit_job(0.9)
    it = iter(job)
    req = next(it)
    assert req.kind == "jacobian" and req.point.shape == (N,) and not req.point.flags.writeable
    with pytest.raises(libdss.DssError) as e:
        s.commit(0.9)  # the search is busy while the job is open
    assert e.value.code == libdss.EBUSY
    s.center()  # reading is fine
    job.cancel()
    with pytest.raises(libdss.DssError) as e:
        next(it)
    assert e.value.code == libdss.ECANCELLED
    job.close()
    assert s.save() == before
    # leaving the with block early cancels too
    with s.commit_job(0.9) as job:
        next(iter(job))
    assert s.save() == before
    s.commit(0.9)  # and the search is free again


def test_a_wrong_answer_names_the_shape_and_a_failed_one_raises(linear):
    A, model = linear
    s = libdss.Search(model, seed=2)
    s.start(np.zeros(N))
    before = s.save()
    with s.commit_job(0.9) as job:
        it = iter(job)
        req = next(it)
        with pytest.raises(libdss.CallbackResultError, match=r"\(12, 5\)"):
            req.answer(A.T)  # the transpose: same size, wrong shape
        req.fail(3)
        with pytest.raises(libdss.DssError) as e:
            next(it)
        assert e.value.code == libdss.ECALLBACK
    assert s.save() == before


def test_an_unanswered_request_cancels_the_job(linear):
    A, model = linear
    s = libdss.Search(model, seed=2)
    s.start(np.zeros(N))
    before = s.save()
    with s.commit_job(0.9) as job:
        with pytest.raises(libdss.DssError) as e:
            for req in job:
                pass  # never answered
        assert e.value.code == libdss.ECANCELLED
    assert s.save() == before
