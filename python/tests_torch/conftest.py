"""The libdss.torch adapter's tests (make check-torch, which runs them only when PyTorch is
importable; python/tests stays free of PyTorch)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: see fashion_mnist.py
