"""Shared fixtures for the dss binding tests.

The package is imported from the source tree (python/ on sys.path) and finds the library in
the build tree or through DSS_LIBRARY, which `make check-python` sets to the build's copy.
"""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import libdss as dss  # noqa: E402


def known_svd(m, n, s, seed):
    """A = U diag(s) V^T with random orthonormal U (m x n) and V (n x n)."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.normal(size=(m, n)))
    V, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return U @ np.diag(s) @ V.T, U, np.asarray(s, dtype=float), V


class Linear:
    """x = A z + b, with its Jacobian, VJP and JVP, and call counters."""

    def __init__(self, m=40, n=8, s=None, seed=0):
        s = np.array([10.0, 7.0, 5.0, 3.0, 2.0, 1.0, 0.5, 0.25])[:n] if s is None else s
        self.A, self.U, self.s, self.V = known_svd(m, n, s, seed)
        self.b = np.random.default_rng(seed + 1).normal(size=m)
        self.n, self.m = n, m
        self.calls = {"f": 0, "jacobian": 0, "vjp": 0, "jvp": 0}

    def f(self, z):
        self.calls["f"] += 1
        return z @ self.A.T + self.b

    def jacobian(self, z, rows):
        self.calls["jacobian"] += 1
        return self.A if rows is None else self.A[rows]

    def vjp(self, z, u):
        self.calls["vjp"] += 1
        return u @ self.A

    def jvp(self, z, v):
        self.calls["jvp"] += 1
        return v @ self.A.T

    def model(self, **kw):
        return dss.Model(self.f, self.n, self.m, **kw)


@pytest.fixture
def linear():
    return Linear()
