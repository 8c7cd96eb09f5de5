"""The studio's model code: the chain-rule Jacobian it gives libdss is the decoder's Jacobian
(compared with autograd's, from fashion_mnist.TorchGenerator), and a session saved, loaded and
continued is the session continued without saving (what serving from SQLite relies on)."""

import numpy as np
import pytest
import torch

import harness


@pytest.fixture(scope="module")
def studio():
    return harness.studio()


def test_chain_rule_jacobian_is_autograds(studio):
    _, st = studio
    rng = np.random.default_rng(3)
    for _ in range(3):
        z = rng.standard_normal(st.n)
        ours = np.empty((784, st.n))
        st._jacobian(z, None, ours)
        ref = np.empty((784, st.n))
        st.gen.jacobian(z, None, ref)
        # float64 throughout: the two differ by rounding only
        assert np.max(np.abs(ours - ref)) <= 1e-12 * max(1.0, np.max(np.abs(ref)))
        rows = np.array([0, 5, 400, 783], dtype=np.uintp)
        some = np.empty((4, st.n))
        st._jacobian(z, rows, some)
        assert np.array_equal(some, ours[rows.astype(np.int64)])


def test_saved_bytes_continue_the_same_session(studio):
    studio_mod, st = studio
    dss = studio_mod.dss
    state, _ = st.new(seed=11)
    live = dss.Search(st.model)
    live.load(state)
    stored = state
    for t in (0.9, 0.2, 0.5, 0.77):
        again = dss.Search(st.model)
        again.load(stored)
        again.commit(t)
        stored = again.save()
        live.commit(t)
        assert np.array_equal(again.center(), live.center())
        assert stored == live.save()


def test_decode_gives_images(studio):
    _, st = studio
    imgs = st.decode(np.zeros((2, st.n)))
    assert imgs.shape == (2, 28, 28) and imgs.dtype == np.uint8
    png = st.png(imgs[0], scale=3)
    from PIL import Image
    import io
    back = np.asarray(Image.open(io.BytesIO(png)))
    assert back.shape == (84, 84) and np.array_equal(back[::3, ::3], imgs[0])
    assert torch.get_num_threads() == 1


def test_training_is_reproducible(tmp_path):
    """The same seed trains the same weights (a tiny configuration of the same code path that
    trains the studio's model: fashion_mnist.load_or_train)."""
    import argparse
    import studio as studio_mod
    fm = studio_mod.fm
    images = fm.load_idx_images(fm.dataset_file(fm.DATASET_DIR, "train-images-idx3-ubyte"))[:512]
    weights = []
    for name in ("a.pt", "b.pt"):
        args = argparse.Namespace(h1=32, h2=16, train_epochs=1, batch=64, seed=5, retrain=True,
                                  weights=str(tmp_path / name))
        vae, seconds = fm.load_or_train(args, images, log=lambda m: None)
        assert seconds is not None
        weights.append(vae.state_dict())
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    args.seed = 6
    other, _ = fm.load_or_train(args, images, log=lambda m: None)
    assert not torch.equal(other.state_dict()["mu.weight"], weights[0]["mu.weight"])


def test_batcher_merges_concurrent_decodes(studio):
    """Decodes from 8 threads at once run as fewer forward passes, and each thread gets its
    own images (equal to a single decode's after the rounding to pixels)."""
    import threading
    studio_mod, st = studio
    b = studio_mod.DecodeBatcher(st._decode, deadline=0.2, inflight=lambda: 8)
    rng = np.random.default_rng(5)
    Zs = [rng.standard_normal((1 + i % 3, st.n)) for i in range(8)]
    out, errors = {}, []
    barrier = threading.Barrier(8)

    def worker(i):
        try:
            barrier.wait(10)
            out[i] = b(Zs[i])
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(out) == 8, errors
    assert b.decoded == 8 and b.batches < 8, (b.batches, b.decoded)
    for i, Z in enumerate(Zs):
        single = st._decode(Z)
        assert out[i].shape == single.shape
        assert np.max(np.abs(out[i] - single)) <= 1e-12
        img = lambda x: np.round(255 * np.clip(x, 0, 1)).astype(np.uint8)  # noqa: E731
        assert np.array_equal(img(out[i]), img(single))


def test_batcher_lone_request_waits_for_no_one_and_errors_reach_every_caller(studio):
    import time
    studio_mod, st = studio
    b = studio_mod.DecodeBatcher(st._decode, deadline=1.0, inflight=lambda: 1)
    t0 = time.monotonic()
    b(np.zeros((1, st.n)))
    assert time.monotonic() - t0 < 0.5

    def broken(Z):
        raise ValueError("decoder failed")
    b = studio_mod.DecodeBatcher(broken, deadline=0.01, inflight=lambda: 1)
    with pytest.raises(ValueError, match="decoder failed"):
        b(np.zeros((1, st.n)))
    b.fn = st._decode  # usable after an error
    assert b(np.zeros((2, st.n))).shape == (2, 784)
