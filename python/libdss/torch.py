"""libdss.torch: a PyTorch decoder as a libdss model, in one call.

::

    import libdss
    from libdss.torch import model_from_module

    model = model_from_module(vae.decoder, latent_dim=64)    # any nn.Module: latent -> tensor
    search = libdss.Search(model, jacobian="full")            # or "randomized", "finite_diff"
    search.start(z0)
    images = model.unflatten(model.generate(search.point(0.7)))   # back to the module's shape

:func:`model_from_module` wraps any ``torch.nn.Module`` that maps a batch of latent vectors
``(k, n)`` to a batch of tensors ``(k, *shape)`` (images, meshes, audio: flattened to m values)
into a :class:`TorchModel`, a :class:`libdss.Model` with all four callbacks:

* ``f``: the module under ``torch.no_grad()``, on the module's device, in batches that fit the
  memory budget; results are written straight into libdss's buffer.
* ``jacobian``: forward mode (``jvp`` vmapped over the n unit tangents) when it needs fewer
  passes than reverse mode, else ``vjp`` vmapped over the requested rows (``jacobian='rows'``).
* ``vjp`` and ``jvp``: ``torch.func`` (or functorch on PyTorch 1.13, Debian 12's) vmapped over
  the k vectors, chunked to the budget: libdss's randomized SVD (``jacobian='randomized'``)
  runs matrix-free with about 2(rank + oversample) products per update, in a few batched calls.

The module is not modified: it runs in its own dtype and on its own device (CUDA when the
module is there); inputs are converted from libdss's float64 and outputs back. The model
declares the module's precision (``torch.finfo(dtype).eps``), from which a :class:`libdss.Search`
picks its finite-difference step (``Model.precision``): a float32 network is differenced with a
step of 3.5e-4 (forward) instead of double precision's 1.5e-8. Put the module in ``eval()`` mode
yourself if it has dropout or batch normalisation: the adapter does not change its mode.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Optional, Tuple

import numpy as np
import torch

from .model import Model
from ._types import FloatArray

__all__ = ["TorchModel", "model_from_module", "autodiff_backend"]

#: Default memory budget, in bytes, for the blocks one callback materialises at once.
DEFAULT_MEMORY_BUDGET = 256 * 2 ** 20


def autodiff_backend() -> Tuple[str, Callable, Callable, Callable]:
    """``(name, vmap, jvp, vjp)`` from ``torch.func`` (PyTorch >= 2.0) or ``functorch`` (1.13)."""
    try:
        from torch.func import vmap, jvp, vjp
        return "torch.func", vmap, jvp, vjp
    except ImportError:
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from functorch import vmap, jvp, vjp
        return "functorch", vmap, jvp, vjp
    except ImportError:
        raise ImportError("libdss.torch needs torch.func (PyTorch >= 2.0) or functorch "
                          "(PyTorch 1.13)") from None


def _module_dtype_device(module, dtype, device):
    params = [p for p in list(module.parameters()) + list(module.buffers())
              if p.is_floating_point()]
    if dtype is None:
        dtype = params[0].dtype if params else torch.get_default_dtype()
    if device is None:
        device = params[0].device if params else torch.device("cpu")
    return dtype, torch.device(device)


class TorchModel(Model):
    """A :class:`libdss.Model` over a ``torch.nn.Module`` (made by :func:`model_from_module`).

    Besides the Model's API: :attr:`module`, :attr:`device`, :attr:`dtype`,
    :attr:`output_shape`, :attr:`chunk` (how many vectors one batched pass handles),
    :attr:`backend`, :meth:`unflatten`, and the callbacks themselves, callable directly:
    :meth:`f`, :meth:`jacobian`, :meth:`vjp`, :meth:`jvp`.
    """

    def __init__(self, module: "torch.nn.Module", latent_dim: int, *,
                 output_shape: Optional[Tuple[int, ...]] = None,
                 device: Optional[Any] = None, dtype: Optional["torch.dtype"] = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 max_batch: Optional[int] = None) -> None:
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
        n = int(latent_dim)
        if n < 1:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
        self._module = module
        self._dtype, self._device = _module_dtype_device(module, dtype, device)
        if not self._dtype.is_floating_point or self._dtype.is_complex:
            raise TypeError(f"the module's dtype {self._dtype} is not a real floating type")
        self._backend_name, self._vmap, self._jvp_fn, self._vjp_fn = autodiff_backend()
        if output_shape is None:  # one probe pass at the origin
            with torch.no_grad():
                y = module(torch.zeros(1, n, dtype=self._dtype, device=self._device))
            if y.shape[0] != 1:
                raise ValueError(f"the module maps a batch of 1 latent vector to shape "
                                 f"{tuple(y.shape)}: its first axis must be the batch")
            output_shape = tuple(y.shape[1:])
        self._output_shape = tuple(int(s) for s in output_shape)
        m = int(np.prod(self._output_shape, dtype=np.int64))
        itemsize = torch.finfo(self._dtype).bits // 8
        # vectors per batched pass: each holds an output-sized block, its float64 copy, and
        # about as much again in tangents/activations; at least 1
        self._chunk = max(1, int(memory_budget // max(1, m * (3 * itemsize + 8))))
        self._memory_budget = int(memory_budget)
        self._native64 = self._device.type == "cpu" and self._dtype == torch.float64
        super().__init__(self._f, n, m, jacobian=self._jacobian_cb, vjp=self._vjp_cb,
                         jvp=self._jvp_cb, max_batch=max_batch,
                         precision=float(torch.finfo(self._dtype).eps))

    # ---- helpers -------------------------------------------------------------------------

    def _tensor(self, a: np.ndarray) -> "torch.Tensor":
        # np.array copies (libdss's views are read-only and valid only during the call)
        t = torch.from_numpy(np.array(a, dtype=np.float64))
        return t if self._native64 else t.to(self._device, self._dtype)

    def _flat(self, z1: "torch.Tensor") -> "torch.Tensor":
        """The module on one latent vector (n,), flattened to (m,)."""
        return self._module(z1.unsqueeze(0)).reshape(-1)

    @staticmethod
    def _put(out: np.ndarray, rows: slice, value: "torch.Tensor") -> None:
        torch.from_numpy(out[rows]).copy_(value.reshape(out[rows].shape))

    # ---- the callbacks ---------------------------------------------------------------------

    def _f(self, z: np.ndarray, out: np.ndarray) -> None:
        k = z.shape[0]
        if k <= self._chunk:  # one pass: the common case, kept short (it runs per slider move)
            with torch.no_grad():
                y = self._module(self._tensor(z))
            # the batch axis, and the size (by reshape): a cheaper check than the whole shape
            if y.ndim == 0 or y.shape[0] != k or y.numel() != out.size:
                self._bad_output(y, k)
            if self._native64:
                out[...] = y.numpy().reshape(out.shape)
            else:
                torch.from_numpy(out).copy_(y.reshape(out.shape))
            return
        with torch.no_grad():
            for a in range(0, k, self._chunk):
                b = min(k, a + self._chunk)
                y = self._module(self._tensor(z[a:b]))
                if y.shape[0] != b - a or y.shape[1:] != self._output_shape:
                    self._bad_output(y, b - a)
                self._put(out, slice(a, b), y)

    def _bad_output(self, y: "torch.Tensor", k: int) -> None:
        raise ValueError(f"the module returned shape {tuple(y.shape)} for a batch of {k}; "
                         f"expected {(k,) + self._output_shape}")

    def _jvp_block(self, zt: "torch.Tensor", vt: "torch.Tensor") -> "torch.Tensor":
        jvp = self._jvp_fn
        return self._vmap(lambda t: jvp(self._flat, (zt,), (t,))[1])(vt)

    def _vjp_block(self, zt: "torch.Tensor", ut: "torch.Tensor") -> "torch.Tensor":
        _, pullback = self._vjp_fn(self._flat, zt)
        return self._vmap(pullback)(ut)[0]

    def _jacobian_cb(self, z: np.ndarray, rows: Optional[np.ndarray], out: np.ndarray) -> None:
        n, m = self.n, self.m
        zt = self._tensor(z)
        nrows = m if rows is None else len(rows)
        if nrows < n and rows is not None:  # reverse mode: one pass per requested row
            idx = torch.as_tensor(rows.astype(np.int64), device=self._device)
            for a in range(0, nrows, self._chunk):
                b = min(nrows, a + self._chunk)
                ut = torch.zeros(b - a, m, dtype=self._dtype, device=self._device)
                ut[torch.arange(b - a, device=self._device), idx[a:b]] = 1
                self._put(out, slice(a, b), self._vjp_block(zt, ut).detach())
            return
        # forward mode: one pass per latent direction, J^T in blocks of columns
        eye = torch.eye(n, dtype=self._dtype, device=self._device)
        idx = None if rows is None else torch.as_tensor(rows.astype(np.int64),
                                                        device=self._device)
        outT = out.T  # (n, nrows) view of the C-contiguous (nrows, n) buffer
        for a in range(0, n, self._chunk):
            b = min(n, a + self._chunk)
            cols = self._jvp_block(zt, eye[a:b]).detach()  # (b - a, m): rows of J^T
            if idx is not None:
                cols = cols[:, idx]
            torch.from_numpy(outT[a:b]).copy_(cols)  # a strided view: from_numpy keeps it

    def _vjp_cb(self, z: np.ndarray, u: np.ndarray, out: np.ndarray) -> None:
        zt = self._tensor(z)
        k = u.shape[0]
        for a in range(0, k, self._chunk):
            b = min(k, a + self._chunk)
            self._put(out, slice(a, b), self._vjp_block(zt, self._tensor(u[a:b])).detach())

    def _jvp_cb(self, z: np.ndarray, v: np.ndarray, out: np.ndarray) -> None:
        zt = self._tensor(z)
        k = v.shape[0]
        for a in range(0, k, self._chunk):
            b = min(k, a + self._chunk)
            self._put(out, slice(a, b), self._jvp_block(zt, self._tensor(v[a:b])).detach())

    # ---- the callbacks, callable directly (to check them, or to use them elsewhere) ----------

    def f(self, z: np.ndarray, out: Optional[FloatArray] = None) -> FloatArray:
        """The module on latent vectors ``z`` (k, n), flattened: (k, m) float64, computed here
        (not through libdss). ``out``: an optional (k, m) float64 array to fill."""
        z = np.atleast_2d(np.asarray(z, dtype=np.float64))
        out = np.empty((z.shape[0], self.m)) if out is None else out
        self._f(z, out)
        return out

    def jacobian(self, z: np.ndarray, rows: Optional[np.ndarray] = None,
                 out: Optional[FloatArray] = None) -> FloatArray:
        """The Jacobian at ``z`` (n,): all m rows (rows None) or the given row indices, as a
        (len(rows) or m, n) float64 array: what the Jacobian callback gives libdss."""
        z = np.asarray(z, dtype=np.float64)
        if rows is not None:
            rows = np.asarray(rows, dtype=np.uintp)
        nrows = self.m if rows is None else len(rows)
        out = np.empty((nrows, self.n)) if out is None else out
        self._jacobian_cb(z, rows, out)
        return out

    def vjp(self, z: np.ndarray, u: np.ndarray, out: Optional[FloatArray] = None) -> FloatArray:
        """``u @ J(z)`` for the rows of ``u`` (k, m): (k, n), as the VJP callback gives it."""
        u = np.atleast_2d(np.asarray(u, dtype=np.float64))
        out = np.empty((u.shape[0], self.n)) if out is None else out
        self._vjp_cb(np.asarray(z, dtype=np.float64), u, out)
        return out

    def jvp(self, z: np.ndarray, v: np.ndarray, out: Optional[FloatArray] = None) -> FloatArray:
        """``J(z) @ v[i]`` for the rows of ``v`` (k, n): (k, m), as the JVP callback gives it."""
        v = np.atleast_2d(np.asarray(v, dtype=np.float64))
        out = np.empty((v.shape[0], self.m)) if out is None else out
        self._jvp_cb(np.asarray(z, dtype=np.float64), v, out)
        return out

    # ---- properties ------------------------------------------------------------------------

    @property
    def module(self) -> "torch.nn.Module":
        """The wrapped module (not modified by the adapter)."""
        return self._module

    @property
    def device(self) -> "torch.device":
        """Where the module runs (its parameters' device, or the ``device=`` given)."""
        return self._device

    @property
    def dtype(self) -> "torch.dtype":
        """The module's floating dtype; :attr:`precision` is its machine epsilon."""
        return self._dtype

    @property
    def output_shape(self) -> Tuple[int, ...]:
        """The shape of one output, without the batch axis (m is its product)."""
        return self._output_shape

    @property
    def chunk(self) -> int:
        """Vectors per batched pass (latents for f, tangents or cotangents for derivatives),
        from the memory budget: ``budget // (m * (3 * itemsize + 8))``, at least 1."""
        return self._chunk

    @property
    def backend(self) -> str:
        """``"torch.func"`` or ``"functorch"``."""
        return self._backend_name

    def unflatten(self, x: FloatArray) -> FloatArray:
        """Outputs ``(k, m)`` (or ``(m,)``) back to the module's shape ``(k, *output_shape)``."""
        x = np.asarray(x)
        lead = x.shape[:-1]
        return x.reshape(lead + self._output_shape)

    def __repr__(self) -> str:
        return (f"<libdss.torch.TorchModel n={self.n} m={self.m} shape={self._output_shape} "
                f"{self._dtype} on {self._device}, chunk {self._chunk}>")


def model_from_module(module: "torch.nn.Module", latent_dim: int, *,
                      output_shape: Optional[Tuple[int, ...]] = None,
                      device: Optional[Any] = None, dtype: Optional["torch.dtype"] = None,
                      memory_budget: int = DEFAULT_MEMORY_BUDGET,
                      max_batch: Optional[int] = None) -> TorchModel:
    """A :class:`libdss.Model` over ``module``: latent ``(k, latent_dim)`` -> ``(k, *shape)``.

    Args:
        module: any ``torch.nn.Module`` whose first input axis and first output axis are the
            batch. It is used as it is (its dtype, device and train/eval mode).
        latent_dim: n, the latent dimension.
        output_shape: the shape of one output without the batch axis; by default found by one
            forward pass at the origin.
        device: where to run it; by default the device of the module's parameters.
        dtype: the dtype of the module's inputs; by default its parameters' dtype. The model's
            ``precision`` is ``torch.finfo(dtype).eps``.
        memory_budget: bytes one callback may materialise at once (default 256 MiB): batches
            of f and the vmapped tangents/cotangents are chunked to it (see
            :attr:`TorchModel.chunk`).
        max_batch: optional cap on the points libdss passes to f per call.
    Returns:
        a :class:`TorchModel` with f, Jacobian, VJP and JVP set: every Jacobian route of
        :class:`libdss.Search` works on it (``'full'``, ``'rows'``, ``'randomized'``,
        ``'finite_diff'``).
    """
    return TorchModel(module, latent_dim, output_shape=output_shape, device=device,
                      dtype=dtype, memory_budget=memory_budget, max_batch=max_batch)
