"""libdss.torch.model_from_module against independent oracles: the module itself for f, and
torch.autograd.functional.jacobian (plain autograd, not the adapter's torch.func/functorch
path) for the Jacobian, VJP and JVP; chunking to the memory budget; the declared precision of
a float32 module and the finite-difference step it selects."""
import numpy as np
import pytest
import torch

import libdss
from libdss.torch import TorchModel, model_from_module

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
EPS64 = np.finfo(np.float64).eps


class ConvDecoder(torch.nn.Module):
    """latent (k, 5) -> images (k, 2, 6, 6): Linear, reshape, transposed convolution."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(5, 3 * 3 * 3)
        self.up = torch.nn.ConvTranspose2d(3, 2, kernel_size=2, stride=2)

    def forward(self, z):
        h = torch.tanh(self.fc(z)).reshape(-1, 3, 3, 3)
        return torch.sigmoid(self.up(h))


def decoder(dtype, device="cpu", seed=0):
    torch.manual_seed(seed)
    return ConvDecoder().to(device=device, dtype=dtype).eval()


def oracle_jacobian(module, z, dtype, device="cpu"):
    zt = torch.tensor(z, dtype=dtype, device=device)
    J = torch.autograd.functional.jacobian(lambda t: module(t[None]).reshape(-1), zt)
    return J.cpu().double().numpy()


def tol64(J):
    # float64 results of two differentiation orders: a few hundred roundings of O(|J|) terms
    return 1e3 * EPS64 * max(1.0, np.abs(J).max())


@pytest.mark.parametrize("device", DEVICES)
def test_f_jacobian_vjp_jvp_against_autograd(device):
    net = decoder(torch.float64, device)
    model = model_from_module(net, 5)
    assert isinstance(model, libdss.Model) and isinstance(model, TorchModel)
    assert (model.n, model.m, model.output_shape) == (5, 72, (2, 6, 6))
    assert model.dtype == torch.float64 and model.device.type == device
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(7, 5))
    with torch.no_grad():
        want = net(torch.tensor(Z, device=device)).cpu().numpy().reshape(7, 72)
    np.testing.assert_allclose(model.generate(Z), want, rtol=0, atol=64 * EPS64)
    np.testing.assert_allclose(model.f(Z), want, rtol=0, atol=64 * EPS64)  # not through libdss
    J1 = oracle_jacobian(net, Z[1], torch.float64, device)
    np.testing.assert_allclose(model.jacobian(Z[1]), J1, rtol=0, atol=tol64(J1))
    np.testing.assert_allclose(model.unflatten(model.generate(Z)), want.reshape(7, 2, 6, 6),
                               rtol=0, atol=64 * EPS64)
    z = Z[0]
    J = oracle_jacobian(net, z, torch.float64, device)
    out = np.empty((72, 5))
    model.jacobian(z, None, out)  # the callback libdss calls (forward mode)
    np.testing.assert_allclose(out, J, rtol=0, atol=tol64(J))
    rows = np.array([3, 17, 40], dtype=np.uintp)  # fewer rows than n: reverse mode
    out = np.empty((3, 5))
    model.jacobian(z, rows, out)
    np.testing.assert_allclose(out, J[rows.astype(int)], rtol=0, atol=tol64(J))
    rows = np.arange(0, 72, 9, dtype=np.uintp)  # 8 rows >= n: forward mode, then selected
    out = np.empty((8, 5))
    model.jacobian(z, rows, out)
    np.testing.assert_allclose(out, J[rows.astype(int)], rtol=0, atol=tol64(J))
    U, V = rng.normal(size=(4, 72)), rng.normal(size=(6, 5))
    out_u, out_v = np.empty((4, 5)), np.empty((6, 72))
    model.vjp(z, U, out_u)
    model.jvp(z, V, out_v)
    np.testing.assert_allclose(out_u, U @ J, rtol=0, atol=tol64(J) * np.abs(U).sum(1).max())
    np.testing.assert_allclose(out_v, V @ J.T, rtol=0, atol=tol64(J) * np.abs(V).sum(1).max())


def test_every_route_gives_the_oracle_spectrum():
    net = decoder(torch.float64)
    model = model_from_module(net, 5)
    z = np.random.default_rng(2).normal(size=5)
    s_true = np.linalg.svd(oracle_jacobian(net, z, torch.float64), compute_uv=False)
    for route, tol in (("full", 1e-10), ("randomized", 1e-8),
                       # central differences, step cbrt(eps64) = 6e-6: error ~ eps^(2/3) = 4e-11
                       # per entry times the derivatives' scale (< 10 here)
                       ("finite_diff", 1e-8)):
        s = libdss.Search(model, jacobian=route, rank=5, power_iterations=2,
                          diff_scheme="central")
        s.start(z)
        np.testing.assert_allclose(s.singular_values()[:5], s_true, rtol=tol, atol=0,
                                   err_msg=route)
    st = libdss.Search(model, jacobian="randomized", rank=5)
    st.start(z)
    assert st.stat("vjp_products") > 0 and st.stat("jvp_products") > 0
    assert st.stat("jacobian_calls") == 0


def test_chunks_follow_the_memory_budget():
    net = decoder(torch.float64)
    calls = []
    net.register_forward_hook(lambda mod, inp, out: calls.append(inp[0].shape[0]))
    big = model_from_module(net, 5)
    # 72 outputs x (3 x 8 + 8) bytes = 2304 bytes per vector: a budget of 3 vectors
    small = model_from_module(net, 5, memory_budget=3 * 72 * 32)
    assert small.chunk == 3 and big.chunk > 1000
    Z = np.random.default_rng(3).normal(size=(10, 5))
    calls.clear()
    x_small = small.generate(Z)
    assert calls == [3, 3, 3, 1]
    calls.clear()
    x_big = big.generate(Z)
    assert calls == [10]
    np.testing.assert_allclose(x_small, x_big, rtol=0, atol=64 * EPS64)
    z = Z[0]
    for cb, shape_in, shape_out in (("vjp", (8, 72), (8, 5)), ("jvp", (8, 5), (8, 72))):
        A = np.random.default_rng(4).normal(size=shape_in)
        a, b = np.empty(shape_out), np.empty(shape_out)
        getattr(small, cb)(z, A, a)
        getattr(big, cb)(z, A, b)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e3 * EPS64 * np.abs(b).max())
    a, b = np.empty((72, 5)), np.empty((72, 5))
    small.jacobian(z, None, a)
    big.jacobian(z, None, b)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e3 * EPS64 * np.abs(b).max())


def test_the_module_is_left_as_it_was():
    net = decoder(torch.float32)
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    model = model_from_module(net, 5)
    s = libdss.Search(model, jacobian="full")
    s.start(np.zeros(5))
    assert net.training and all(p.dtype == torch.float32 for p in net.parameters())
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(p.grad is None for p in net.parameters())


def test_float32_module_declares_its_precision_and_fd_uses_it():
    net = decoder(torch.float32, seed=5)
    model = model_from_module(net, 5)
    eps32 = float(torch.finfo(torch.float32).eps)
    assert model.precision == eps32
    z = np.random.default_rng(6).normal(size=5)
    s_true = np.linalg.svd(oracle_jacobian(net.double(), z, torch.float64), compute_uv=False)
    net.float()

    def fd_values(scheme, **kw):
        s = libdss.Search(model, jacobian="finite_diff", diff_scheme=scheme, **kw)
        s.start(z)
        return s.get("diff_step"), s.singular_values()[:5]

    # forward: step sqrt(eps32) = 3.5e-4, error per entry <= sqrt(eps32) (M2/2 + 2 M0) with
    # M0 <= 1 (sigmoid) and M2 = O(1) for these weights: a few 1e-4; 1e-2 relative to the
    # largest singular value leaves a margin of more than 10
    # (libdss 1.2 takes the step from the model's declared precision itself: diff_step reads
    # 0, "automatic"; with a 1.1 library the bindings set diff_step to the step)
    auto = 0.0 if libdss._native.HAS_MODEL_PRECISION else None
    step, s_fwd = fd_values("forward")
    assert step == (auto if auto is not None else pytest.approx(eps32 ** 0.5))
    assert np.abs(s_fwd - s_true).max() <= 1e-2 * s_true[0], (s_fwd, s_true)
    # central: step cbrt(eps32) = 4.9e-3, error <= eps32^(2/3) (M3/6 + M0): a few 1e-5
    step, s_cen = fd_values("central")
    assert step == (auto if auto is not None else pytest.approx(eps32 ** (1 / 3)))
    assert np.abs(s_cen - s_true).max() <= 1e-3 * s_true[0], (s_cen, s_true)
    # the same float32 module differenced with double precision's default step (what a model
    # without the declaration gets): rounding noise dominates, the spectrum is far off
    _, s_bad = fd_values("forward", diff_step=float(np.finfo(np.float64).eps) ** 0.5)
    assert np.abs(s_bad - s_true).max() > 0.1 * s_true[0], (s_bad, s_true)
    # a hand-set step wins over the declaration
    s = libdss.Search(model, diff_step=1e-3)
    s.set(diff_scheme="central")
    assert s.get("diff_step") == 1e-3


def test_results_of_the_wrong_shape_from_the_module_are_named():
    class Bad(torch.nn.Module):
        def forward(self, z):
            return torch.zeros(3, 4, dtype=torch.float64) if z.shape[0] != 1 else \
                torch.zeros(1, 4, dtype=torch.float64)
    model = model_from_module(Bad(), 2)
    with pytest.raises(ValueError, match=r"returned shape \(3, 4\) for a batch of 2"):
        model.generate(np.zeros((2, 2)))
