"""Before anything imports NumPy or PyTorch: one BLAS thread, as in the servers, so that this
process's replays compute exactly what they computed (tests/web/test_load.py)."""

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
