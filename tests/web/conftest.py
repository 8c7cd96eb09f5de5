"""Before anything imports NumPy or PyTorch: one BLAS thread, as in the servers, so that this
process's replays compute exactly what they computed (tests/web/test_load.py). And the
throwaway PostgreSQL cluster shared by the tests that need one (tests/web/pg.py)."""

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def postgres():
    import pg
    why = pg.missing()
    if why is not None:  # make check-web checks this first; here it is an error, not a skip
        raise RuntimeError(f"no PostgreSQL for the tests: missing {why}")
    cluster = pg.Cluster()
    yield cluster
    cluster.stop()
