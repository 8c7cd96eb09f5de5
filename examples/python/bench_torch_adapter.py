#!/usr/bin/env python3
"""How much the libdss.torch adapter costs against hand-written callbacks, on the Fashion-MNIST
VAE's decoder (examples/python/fashion_mnist.py: latent 64 -> 784 pixels, MLP 64-256-512-784).

Both variants run the same float64 decoder. "hand" is the glue fashion_mnist.py carried before
the adapter existed (kept here, verbatim, as the baseline); "adapter" is
libdss.torch.model_from_module(vae.decoder, 64). One iteration is what a session does per
slider: a Jacobian update at a new centre by the route under test (search.start) and the
simulated user's line search on the new slider (1001 grid points + refinement, batches of
500 decoder points). Iterations alternate between the variants at the same centres, and the
figures are medians with the ratio adapter / hand measured in the same run. A float32 copy of
the decoder through the adapter is timed too (finite differences with its declared step).

    /usr/bin/python3 examples/python/bench_torch_adapter.py [--iterations 20] [--threads 1]

It trains the VAE first (about a minute) unless fashion_mnist.py saved its weights before.
"""

import argparse
import os
import sys
import time

# one BLAS thread (set before NumPy and libdss load OpenBLAS): CPU time is then the work done
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fashion_mnist as fm  # noqa: E402 - sets OMP_WAIT_POLICY before torch, finds libdss

import libdss  # noqa: E402
import torch  # noqa: E402
from libdss.torch import model_from_module  # noqa: E402


# ---- the baseline: fashion_mnist.py's hand-written glue before libdss.torch ------------------

def autodiff_backend():
    """(name, vjp, jvp, vmap, jacfwd) from torch.func (PyTorch >= 2.0) or functorch (1.13, as
    in Debian 12), or None: then batched torch.autograd calls are used."""
    try:
        from torch.func import vjp, jvp, vmap, jacfwd
        return "torch.func", vjp, jvp, vmap, jacfwd
    except ImportError:
        pass
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from functorch import vjp, jvp, vmap, jacfwd
        return "functorch", vjp, jvp, vmap, jacfwd
    except ImportError:
        return None


class TorchGenerator:
    """The decoder (in float64) with the four callbacks a dss.Model takes. The NumPy arrays
    libdss passes are views of its buffers; inputs are copied into tensors (they are small),
    results are written into libdss's output views."""

    def __init__(self, decoder):
        self.dec = decoder.double().eval()
        for p in self.dec.parameters():
            p.requires_grad_(False)
        self.backend = autodiff_backend()
        self.backend_name = self.backend[0] if self.backend else "torch.autograd (batched)"

    @staticmethod
    def _t(a):
        return torch.from_numpy(np.array(a, dtype=np.float64))

    def f(self, z, out):
        """x = f(z) for k latent vectors: (k, 64) -> (k, 784)."""
        with torch.no_grad():
            out[...] = self.dec(self._t(z)).numpy()

    def jacobian(self, z, rows, out):
        """All 784 rows (or the rows asked for) of df/dz at z, forward mode (64 tangents)."""
        zt = self._t(z)
        if self.backend:
            J = self.backend[4](self.dec)(zt)
        else:
            J = self._jvp_batched(zt, torch.eye(len(zt), dtype=torch.float64)).T
        out[...] = (J if rows is None else J[torch.from_numpy(rows.astype(np.int64))]).numpy()

    def vjp(self, z, u, out):
        """out = u @ J(z): k vector-Jacobian products in one vectorized reverse pass."""
        zt, ut = self._t(z), self._t(u)
        if self.backend:
            _, vjp, _, vmap, _ = self.backend
            _, pullback = vjp(self.dec, zt)
            out[...] = vmap(pullback)(ut)[0].numpy()
        else:
            Z = zt.expand(len(ut), -1).clone().requires_grad_()
            with torch.enable_grad():
                y = self.dec(Z)
            out[...] = torch.autograd.grad(y, Z, ut)[0].numpy()

    def jvp(self, z, v, out):
        """out[i] = J(z) v[i]: k Jacobian-vector products in one vectorized forward pass."""
        zt, vt = self._t(z), self._t(v)
        if self.backend:
            _, _, jvp, vmap, _ = self.backend
            out[...] = vmap(lambda t: jvp(self.dec, (zt,), (t,))[1])(vt).numpy()
        else:
            out[...] = self._jvp_batched(zt, vt).numpy()

    def _jvp_batched(self, zt, vt):
        import torch.autograd.forward_ad as fwad
        with fwad.dual_level():
            Z = fwad.make_dual(zt.expand(len(vt), -1).contiguous(), vt)
            return fwad.unpack_dual(self.dec(Z)).tangent


# ---- the benchmark -----------------------------------------------------------------------------

ROUTES = [  # label, Search parameters
    ("full (Jacobian callback)", {"jacobian": "full"}),
    ("randomized (VJP/JVP)", {"jacobian": "randomized", "rank": 32}),
    ("finite differences (f)", {"jacobian": "finite_diff"}),
]


# CPU time of this process: on a machine shared with other work, wall time mostly measures
# the neighbours; with one torch thread and one BLAS thread, CPU time is the work done
CLOCK = time.process_time


def one_iteration(model, params, z, target):
    """start (Jacobian update + SVD) at z, then the simulated user's line search."""
    s = libdss.Search(model, seed=1, **params)
    line = libdss.LineSearch(samples=1001, batch=500, goal="minimize", refine=True)
    t0 = CLOCK()
    s.start(z)
    t1 = CLOCK()
    line.find_optimal(s, lambda x: np.linalg.norm(x - target, axis=1))
    t2 = CLOCK()
    return t1 - t0, t2 - t1, s.singular_values()[:3]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier)")
    p.add_argument("--wall", action="store_true", help="wall time instead of CPU time")
    args = p.parse_args()
    if args.wall:
        global CLOCK
        CLOCK = time.perf_counter
    torch.set_num_threads(2)  # training, if the weights are not cached yet
    fargs = fm.parse_args([])
    train_images = fm.load_idx_images(fm.dataset_file(fargs.data, "train-images-idx3-ubyte"))
    vae, _ = fm.load_or_train(fargs, train_images, lambda msg: print(msg, flush=True))
    torch.set_num_threads(args.threads)
    vae.double().eval()
    for q in vae.parameters():
        q.requires_grad_(False)
    gen = TorchGenerator(vae.decoder)
    hand = {
        "full (Jacobian callback)": libdss.Model(gen.f, fm.LATENT, fm.PIXELS,
                                                 jacobian=gen.jacobian),
        "randomized (VJP/JVP)": libdss.Model(gen.f, fm.LATENT, fm.PIXELS, vjp=gen.vjp,
                                             jvp=gen.jvp),
        "finite differences (f)": libdss.Model(gen.f, fm.LATENT, fm.PIXELS),
    }
    adapter = model_from_module(vae.decoder, fm.LATENT)
    dec32 = fm.VAE(fm.LATENT, fargs.h1, fargs.h2).decoder
    dec32.load_state_dict({k: v.float() for k, v in vae.decoder.state_dict().items()})
    adapter32 = model_from_module(dec32.eval(), fm.LATENT)
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((args.iterations, fm.LATENT))
    target = fm.load_idx_images(fm.dataset_file(fargs.data, "t10k-images-idx3-ubyte"))[0]
    target = target.reshape(-1).astype(np.float64) / 255.0
    print(f"libdss {libdss.version()}, PyTorch {torch.__version__} ({adapter.backend}), "
          f"{torch.get_num_threads()} thread(s), {args.iterations} iterations per route")
    print(f"{'route':<26}{'variant':<13}{'update ms':>10}{'line ms':>9}{'iteration ms':>14}"
          f"{'ratio':>7}")
    dev = {label: [] for label, _ in ROUTES}
    for label, params in ROUTES:
        times = {"hand": [], "adapter": [], "adapter f32": []}
        for i, z in enumerate(Z):
            variants = [("hand", hand[label]), ("adapter", adapter)]
            if i % 2:  # alternate the order: neither variant always runs first
                variants.reverse()
            variants.append(("adapter f32", adapter32))
            sv = {}
            for name, model in variants:
                u, ls, sv[name] = one_iteration(model, params, z, target)
                times[name].append((u, ls))
            # the same decoder, the same spectrum (float64)
            assert np.allclose(sv["hand"], sv["adapter"], rtol=1e-8), sv
            dev[label].append(np.abs(sv["adapter f32"] / sv["adapter"] - 1).max())
        med = {k: np.median(np.array(v), axis=0) for k, v in times.items()}
        base = med["hand"].sum()
        for name in times:
            u, ls = med[name]
            ratio = "" if name == "hand" else f"{(u + ls) / base:.2f}"
            note = (f"   top-3 singular values within {np.median(dev[label]):.1e} (median) of "
                    "float64's" if name == "adapter f32" else "")
            print(f"{label if name == 'hand' else '':<26}{name:<13}{1e3 * u:>10.2f}"
                  f"{1e3 * ls:>9.2f}{1e3 * (u + ls):>14.2f}{ratio:>7}{note}")
    print("update = search.start (Jacobian by the route + SVD); line = find_optimal "
          "(1001 points + refinement); medians of "
          f"{'wall' if args.wall else 'CPU'} time; ratio = adapter / hand, same run")


if __name__ == "__main__":
    main()
