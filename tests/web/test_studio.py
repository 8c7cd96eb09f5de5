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
    import dss
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
