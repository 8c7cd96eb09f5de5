"""The slider studio's model and session logic, without the HTTP layer.

The generator is examples/python/fashion_mnist.py's VAE decoder (imported, not copied), in a
configuration small enough to train in seconds on 2 cores: it is trained once on Debian's
Fashion-MNIST (dataset-fashion-mnist) and cached under build/web/, then loaded.

A session is a libdss ``dss.Search`` on that decoder (full Jacobian from autograd). Between
requests it exists only as the bytes of ``Search.save()`` plus JSON metadata (``Session``):
every request loads those bytes into a fresh ``Search`` (a fraction of a millisecond), acts,
and saves again. A session's mode is its subspace dimension (saved with it): 1 for the
slider, 2 for the gallery (``Studio.grid``: a grid of previews across the plane, decoded in
one decoder call).
"""

import argparse
import base64
import json
import os
import secrets
import sys
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir))
sys.path.insert(0, os.path.join(TREE, "examples", "python"))

def _bindings():
    """libdss's Python package: ``libdss`` (1.1), or ``dss``, its 1.0 name; installed, else
    the source tree's."""
    import importlib
    for path in (None, os.path.join(TREE, "python")):
        if path is not None:
            sys.path.insert(0, path)
        for name in ("libdss", "dss"):
            try:
                return importlib.import_module(name)
            except ImportError:
                pass
    raise ImportError("libdss's Python package (python/) is missing")


dss = _bindings()
import fashion_mnist as fm  # noqa: E402  (the VAE, its training and the PNG writer)
import torch  # noqa: E402  (fashion_mnist exits with a message when it is missing)
from torch import nn  # noqa: E402

# The web model: small enough to train in ~20-30 s on 2 shared cores, deterministic (fixed seed,
# fixed thread count), and a decoder that answers one image in well under a millisecond.
CONFIG = {"h1": 256, "h2": 128, "train_epochs": 3, "train_images": 20000, "batch": 128,
          "seed": 1}
HISTORY_KEPT = 48      # accepted images kept for the history strip
SEARCH_PARAMS = {"jacobian": "full", "prior": "gaussian"}
MODES = {"slider": 1, "gallery": 2}  # the page's modes and their subspace dimension
GRID = 5               # the gallery's default size: GRID x GRID previews
GRIDS = (3, 5, 7, 9)   # the sizes a page may ask for (odd: the middle cell is the centre)


def model_tag(cfg=CONFIG):
    """Names the decoder a saved session belongs to: a row with another tag is foreign."""
    return (f"fashion-mnist-vae-l{fm.LATENT}-{cfg['h1']}x{cfg['h2']}-e{cfg['train_epochs']}"
            f"-n{cfg['train_images']}-s{cfg['seed']}")


def default_weights():
    return os.path.join(TREE, "build", "web", model_tag() + ".pt")


def load_vae(weights=None, data_dir=fm.DATASET_DIR, train_threads=2, log=print):
    """The VAE: loaded from ``weights`` when it holds this configuration, else trained with
    fashion_mnist.load_or_train (and saved there). Returns (vae, seconds trained or None)."""
    cfg = CONFIG
    args = argparse.Namespace(h1=cfg["h1"], h2=cfg["h2"], train_epochs=cfg["train_epochs"],
                              batch=cfg["batch"], seed=cfg["seed"], retrain=False,
                              weights=weights or default_weights())
    images = fm.load_idx_images(fm.dataset_file(data_dir, "train-images-idx3-ubyte"))
    threads = torch.get_num_threads()
    torch.set_num_threads(train_threads)  # the result depends on it: fixed
    try:
        return fm.load_or_train(args, images[:cfg["train_images"]], log)
    finally:
        torch.set_num_threads(threads)


def mlp_jacobian(seq, z):
    """The Jacobian (m, n) of an nn.Sequential of Linear, ReLU and Sigmoid layers at z (n,),
    by the chain rule: one forward pass, then one matrix product per layer.

    fashion_mnist.TorchGenerator.jacobian (functorch's jacfwd, 64 tangents) gives the same
    matrix (tests/web/test_studio.py) but costs ~10x more, and functorch in PyTorch 1.13
    (Debian 12) keeps global state that two threads must not enter at once; a web server runs
    many requests in threads, and this costs no lock."""
    J = None  # d(current activation)/dz, or None for the identity
    x = z
    with torch.no_grad():
        for layer in seq:
            if isinstance(layer, nn.Linear):
                x = layer(x)
                J = layer.weight if J is None else layer.weight @ J
            elif isinstance(layer, nn.ReLU):
                J = J * (x > 0).to(x.dtype)[:, None]
                x = torch.relu(x)
            elif isinstance(layer, nn.Sigmoid):
                x = torch.sigmoid(x)
                J = J * (x * (1 - x))[:, None]
            else:
                raise TypeError(f"mlp_jacobian: unsupported layer {layer!r}")
    return J


class DecodeBatcher:
    """Merges concurrent decoder calls of different requests (threads, different sessions)
    into one forward pass of the decoder.

    The first caller of a round leads it: it waits until every request in flight has queued
    its latents, or ``deadline`` seconds, or ``max_rows`` rows, whichever comes first, then
    decodes all queued rows at once and hands each caller its own; callers that arrive
    meanwhile start the next round. A lone request waits for no one (``inflight`` says how
    many requests are inside the application). Only images are batched: a batch's rows can
    differ from single decodes in the last bit of a double (another BLAS kernel), which the
    rounding to 8-bit pixels hides, while the Jacobian, which a session's next direction
    depends on, stays per session so that sessions replay bit for bit."""

    def __init__(self, fn, deadline=0.002, max_rows=64, inflight=lambda: 0):
        self.fn, self.deadline, self.max_rows, self.inflight = fn, deadline, max_rows, inflight
        self.cv = threading.Condition()
        self.queue = []        # [Z, result, error, done] of the round being gathered
        self.rows = 0
        self.leading = False
        self.batches = self.decoded = 0  # statistics

    def __call__(self, Z):
        item = [Z, None, None, False]
        with self.cv:
            self.queue.append(item)
            self.rows += len(Z)
            lead = not self.leading
            if lead:
                self.leading = True
            self.cv.notify_all()
            if not lead:
                while not item[3]:
                    self.cv.wait()
                if item[2] is not None:
                    raise item[2]
                return item[1]
            end = time.monotonic() + self.deadline
            while self.rows < self.max_rows and len(self.queue) < self.inflight():
                left = end - time.monotonic()
                if left <= 0:
                    break
                self.cv.wait(left)
            batch, self.queue, self.rows, self.leading = self.queue, [], 0, False
        try:
            out = self.fn(np.vstack([it[0] for it in batch]))
            k = 0
            for it in batch:
                it[1] = out[k:k + len(it[0])]
                k += len(it[0])
        except BaseException as e:  # noqa: B902  (every caller gets the error)
            for it in batch:
                it[2] = e
        with self.cv:
            self.batches += 1
            self.decoded += len(batch)
            for it in batch:
                it[3] = True
            self.cv.notify_all()
        if item[2] is not None:
            raise item[2]
        return item[1]


class SessionError(Exception):
    """A stored session that cannot be used; ``code`` is 'unreadable' or 'foreign'."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


class Studio:
    """The decoder as a dss.Model, and the operations on saved sessions."""

    def __init__(self, vae):
        vae.double().eval()
        self.gen = fm.TorchGenerator(vae.decoder)
        self.model = dss.Model(self.gen.f, fm.LATENT, fm.PIXELS, jacobian=self._jacobian)
        self.tag = model_tag()
        self.n = fm.LATENT
        self.batcher = None

    def batch_decoding(self, deadline, inflight, max_rows=64):
        """Decode the images of concurrent requests together (DecodeBatcher)."""
        self.batcher = DecodeBatcher(self._decode, deadline, max_rows, inflight)

    def _jacobian(self, z, rows, out):
        """All rows of df/dz at z by the chain rule through the decoder's layers."""
        J = mlp_jacobian(self.gen.dec, torch.from_numpy(np.array(z)))
        out[...] = (J if rows is None else J[torch.from_numpy(rows.astype(np.int64))]).numpy()

    # ---- images -----------------------------------------------------------------------

    def decode(self, Z):
        """(k, 64) latents -> (k, 28, 28) uint8 images."""
        Z = np.atleast_2d(np.asarray(Z, dtype=np.float64))
        x = self._decode(Z) if self.batcher is None else self.batcher(Z)
        return np.round(255 * np.clip(x, 0, 1)).astype(np.uint8).reshape(-1, fm.SIDE, fm.SIDE)

    def _decode(self, Z):
        with torch.no_grad():
            return self.gen.dec(torch.from_numpy(Z)).numpy()

    @staticmethod
    def png(img, scale=1):
        if scale > 1:
            img = np.kron(img, np.ones((scale, scale), dtype=np.uint8))
        return fm.png_bytes(img, level=6)

    @classmethod
    def data_url(cls, img):
        return "data:image/png;base64," + base64.b64encode(cls.png(img)).decode("ascii")

    # ---- sessions -----------------------------------------------------------------------

    def new(self, seed=None, mode="slider"):
        """A fresh session: (state bytes, meta JSON). Starts at a draw from the prior, in
        ``mode`` ('slider': a 1-D subspace; 'gallery': a 2-D one)."""
        seed = secrets.randbelow(2 ** 31) if seed is None else int(seed)
        z0 = np.random.default_rng(seed).standard_normal(self.n)
        s = dss.Search(self.model, seed=seed, subspace_dim=MODES[mode], **SEARCH_PARAMS)
        s.start(z0)
        meta = {"seed": seed, "history": [], "accepted": 0}
        return s.save(), json.dumps(meta)

    def open(self, row, with_meta=True):
        """A dss.Search (and the metadata dict) from a stored row, or SessionError."""
        if row.model != self.tag:
            raise SessionError("foreign", f"this session was saved for another model "
                               f"({str(row.model)[:80]!r}, this server runs {self.tag!r})")
        s = dss.Search(self.model)
        try:
            s.load(bytes(row.state))
        except (dss.DssError, TypeError) as e:
            s.close()
            raise SessionError("unreadable", "the saved session is damaged and cannot be "
                               f"loaded ({getattr(e, 'message', e)})") from None
        meta = None
        if with_meta:
            try:
                meta = json.loads(row.meta)
                hist = np.asarray(meta["history"], dtype=np.float64).reshape(-1, self.n)
                if not (isinstance(meta["accepted"], int) and isinstance(meta["seed"], int)
                        and np.all(np.isfinite(hist))):
                    raise ValueError("bad metadata")
            except (ValueError, TypeError, KeyError, AttributeError):
                s.close()
                raise SessionError("unreadable", "the saved session's metadata is damaged")
        return s, meta

    @staticmethod
    def accept(s, meta, t):
        s.commit(t)
        meta["history"] = (meta["history"] + [s.center().tolist()])[-HISTORY_KEPT:]
        meta["accepted"] += 1

    @staticmethod
    def accept_w(s, meta, w):
        """The gallery's accept: the centre moves to point_w(w), a new 2-D subspace."""
        s.commit_w(np.asarray(w, dtype=np.float64))
        meta["history"] = (meta["history"] + [s.center().tolist()])[-HISTORY_KEPT:]
        meta["accepted"] += 1

    @staticmethod
    def mode(s):
        """'slider' (l = 1) or 'gallery' (l = 2): the session's own subspace dimension."""
        return "gallery" if s.subspace_dim == 2 else "slider"

    @staticmethod
    def set_mode(s, mode):
        """Convert a session to ``mode``: the same centre and Jacobian, a new subspace of the
        mode's dimension (libdss's resample with the new DSS_SEARCH_SUBSPACE_DIM)."""
        s.set(subspace_dim=MODES[mode])
        s.resample()

    @staticmethod
    def grid_weights(g, cx=0.0, cy=0.0, h=1.0):
        """The (g*g, 2) weights of a g x g gallery over the square [cx - h, cx + h] x
        [cy - h, cy + h], row-major from the top left: w1 grows to the right, w2 upwards. The
        middle cell of an odd g is exactly (cx, cy). Clipped to [-1, 1] (libdss's range for
        point_w), which a square that sticks out by a rounding error would leave."""
        k = (2.0 * np.arange(g) - (g - 1)) / (g - 1)
        w1 = np.clip(cx + h * k, -1.0, 1.0)
        w2 = np.clip(cy - h * k, -1.0, 1.0)
        return np.stack([np.tile(w1, g), np.repeat(w2, g)], axis=1)

    def grid_latents(self, s, weights):
        """point_w of each row of ``weights``: the latents the gallery shows (and commit_w
        would move the centre to)."""
        out = np.empty((len(weights), self.n))
        for i, w in enumerate(weights):
            s.point_w(w, out=out[i])
        return out

    @staticmethod
    def sprite(imgs, g):
        """(g*g, 28, 28) images -> one (28 g, 28 g) image, row-major cells."""
        return imgs.reshape(g, g, fm.SIDE, fm.SIDE).transpose(0, 2, 1, 3).reshape(
            g * fm.SIDE, g * fm.SIDE)

    def grid(self, s, g=GRID, cx=0.0, cy=0.0, h=1.0, extra=None):
        """A gallery of the session ``s`` (mode 'gallery'): its g*g latents decoded in one
        decoder call (with ``extra`` latents appended to the same call) and encoded as one
        PNG sprite. Returns (JSON-able dict, images of ``extra``, timings in ms)."""
        t0 = time.perf_counter()
        W = self.grid_weights(g, cx, cy, h)
        Z = self.grid_latents(s, W)
        t1 = time.perf_counter()
        imgs = self.decode(Z if extra is None else np.vstack([Z, extra]))
        t2 = time.perf_counter()
        png = self.png(self.sprite(imgs[:g * g], g))
        t3 = time.perf_counter()
        out = {"g": g, "center": [cx, cy], "half": h, "weights": W.tolist(), "cell": fm.SIDE,
               "sprite": "data:image/png;base64," + base64.b64encode(png).decode("ascii")}
        times = {"points": 1e3 * (t1 - t0), "decode": 1e3 * (t2 - t1), "png": 1e3 * (t3 - t2)}
        return out, imgs[g * g:], times

    def state(self, s, meta, version, undo_depth):
        """What the page shows, as a JSON-able dict: images as data URLs. In the gallery mode
        it carries the whole square's gallery (``grid``, GRID x GRID) instead of the slider's
        ends, decoded in the same decoder call as the other images."""
        z = s.center()
        mode = self.mode(s)
        hist = np.array(meta["history"]).reshape(-1, self.n)
        out = {"version": version, "model": self.tag, "seed": meta["seed"], "mode": mode,
               "accepted": meta["accepted"], "z": z.tolist()}
        if mode == "gallery":
            grid, imgs, _ = self.grid(s, extra=np.vstack([z, hist]))
            out["grid"] = grid
            out["ends"] = []
            rest = imgs[1:]
        else:
            lo, hi = s.slider_ends()
            imgs = self.decode(np.vstack([z, lo, hi, hist]))
            out["ends"] = [self.data_url(imgs[1]), self.data_url(imgs[2])]
            rest = imgs[3:]
        out["image"] = self.data_url(imgs[0])
        out["history"] = [self.data_url(im) for im in rest]
        out["undo"] = undo_depth
        return out
