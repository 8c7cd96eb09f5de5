"""A host script written against libdss 1.0's Python API (package `dss`, python/README.md of
1.0), kept unchanged: test_compat.py runs it against this tree's package. Do not modernise it:
it is the promise that 1.0 code keeps working in 1.x (with DeprecationWarnings)."""
import sys

import numpy as np
import dss
from dss.search import Search

print("libdss", dss.version(), dss.__version__)

# 1.0's README, "A first session"
rng = np.random.default_rng(0)
A = rng.normal(size=(50, 8))


def f(z):                       # z: (k, n) -> x: (k, m)
    return z @ A.T


def jacobian(z, rows):          # z: (n,); rows: None (all m rows) or an index array
    return A if rows is None else A[rows]


model = dss.Model(f, n=8, m=50, jacobian=jacobian)
search = dss.Search(model, seed=1)               # parameters by name, see below
search.start(np.zeros(8))

target = A @ np.ones(8)
line = dss.LineSearch(samples=101, refine=True, goal="minimize")
for _ in range(20):
    # the simulated user: the slider position whose output is closest to the target
    t, distance = line.find_optimal(search, lambda x: np.linalg.norm(x - target, axis=1))
    search.commit(t)
print(distance, search.center())

# 1.0's methods: rank(), subspace_dim(), stats(), stat(name)
assert search.rank() == 8, search.rank()
assert search.subspace_dim() == 1
stats = search.stats()
assert isinstance(stats, dict) and stats["jacobian_calls"] == search.stat("jacobian_calls") > 0
assert np.allclose(search.singular_values(), np.linalg.svd(A, compute_uv=False))
assert isinstance(search, Search)

# the fill form of callbacks, a randomized session, l = 2, save/load, undo
def f_fill(z, out):
    np.matmul(z, A.T, out=out)


def vjp(z, u, out):
    np.matmul(u, A, out=out)


def jvp(z, v, out):
    np.matmul(v, A.T, out=out)


m2 = dss.Model(f_fill, 8, 50, vjp=vjp, jvp=jvp)
s2 = dss.Search(m2, seed=3, jacobian="randomized", rank=4, subspace_dim=2)
s2.start(np.zeros(8))
assert s2.rank() == 4 and s2.subspace_dim() == 2
s2.commit_w(np.array([0.9, -0.3]))
blob = s2.save()
s2.undo()
s2.load(blob)
print("randomized:", s2.singular_values())

# the synthetic problem and errors
p = dss.Synthetic(8, 64, 2.0, 1)
s3 = dss.Search(p.model, seed=1, prior="box", prior_scale=dss.SYNTHETIC_BOX)
s3.start(p.initial_point())
t, score = dss.LineSearch(samples=101).find_optimal(s3, p.score)
s3.commit(t)
try:
    s3.point(2.0)
except dss.DssError as e:
    assert e.code == dss.EINVAL
else:
    sys.exit("point(2.0) did not raise")
print("api 1.0 script: ok")
