#!/usr/bin/env python3
"""Differential subspace search in the latent space of a real generative model (PyTorch).

A small variational autoencoder (latent dimension 64, 28 x 28 images) is trained on Debian's
Fashion-MNIST images (package dataset-fashion-mnist, no downloads), or loaded from the weights it
saved before. Its decoder is the generator f: R^64 -> R^784 of a libdss session, and a simulated
user wants a target garment from the test set: at every iteration it picks the slider position
whose image is closest to the target (libdss's line search, minimizing the L2 distance), and the
session commits it. Three ways of proposing sliders are compared from the same start:

  DSS full        the decoder's full Jacobian (forward mode, vmapped) -> libdss's SVD
  DSS randomized  matrix-free: libdss's randomized SVD through VJP and JVP callbacks
  random          uniformly random directions (the baseline)

The decoder becomes a libdss model in one call, libdss.torch.model_from_module(vae.decoder, 64),
which provides the batched decoder, its Jacobian, VJPs and JVPs (torch.func or functorch).
It prints the distance per iteration, the time per iteration split into model time (the
callbacks: decoder, Jacobian, VJP and JVP in PyTorch) and libdss time (from the session's
statistics), and writes a PNG strip of the images along each path.

    /usr/bin/python3 examples/python/fashion_mnist.py                # or: make fashion-mnist
    /usr/bin/python3 examples/python/fashion_mnist.py --smoke        # tiny model, < 1 minute

Needs Debian's python3-torch, python3-numpy and dataset-fashion-mnist (all for /usr/bin/python3).
"""

import argparse
import gzip
import os
import struct
import sys
import time
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir))
IN_TREE = os.path.exists(os.path.join(TREE, "include", "dss", "dss.h"))

try:
    import libdss
except ImportError:  # running from the source tree: use its bindings
    sys.path.insert(0, os.path.join(TREE, "python"))
    import libdss

# OpenMP threads that spin while waiting make PyTorch many times slower as soon as another
# process competes for the 2 cores (measured: 15x); passive waiting costs nothing when idle.
# It must be set before torch (and its OpenMP runtime) is loaded.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import torch
    from torch import nn
except ImportError:
    sys.exit("fashion_mnist.py: PyTorch is missing: sudo apt-get install -y python3-torch "
             "(and run this with /usr/bin/python3)")
from libdss.torch import model_from_module  # noqa: E402 - after torch's OpenMP setting

DATASET_DIR = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]
TARGET_CLASSES = [0, 1, 3, 7, 9, 2, 4, 5, 6, 8]  # the order targets are taken in
LATENT = 64
SIDE = 28
PIXELS = SIDE * SIDE


# ---- data ------------------------------------------------------------------------------------

def load_idx_images(path):
    """Images of an IDX file (gzipped or not) as a uint8 array (count, 28, 28)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:
        data = fh.read()
    magic, count, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != 0x803:
        raise ValueError(f"{path}: not an IDX image file")
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, rows, cols)


def load_idx_labels(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:
        data = fh.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic != 0x801:
        raise ValueError(f"{path}: not an IDX label file")
    return np.frombuffer(data, dtype=np.uint8, offset=8)


def dataset_file(data_dir, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            return path
    sys.exit(f"fashion_mnist.py: {os.path.join(data_dir, stem)}.gz not found: "
             "sudo apt-get install -y dataset-fashion-mnist (or pass --data DIR)")


# ---- the model -------------------------------------------------------------------------------

class VAE(nn.Module):
    """A multilayer-perceptron VAE: 784 -> h1 -> h2 -> (mu, log sigma^2) in R^latent, and back."""

    def __init__(self, latent=LATENT, h1=512, h2=256):
        super().__init__()
        self.config = {"latent": latent, "h1": h1, "h2": h2}
        self.encoder = nn.Sequential(nn.Linear(PIXELS, h1), nn.ReLU(), nn.Linear(h1, h2),
                                     nn.ReLU())
        self.mu = nn.Linear(h2, latent)
        self.logvar = nn.Linear(h2, latent)
        # the decoder ends with a sigmoid: pixels in [0, 1]
        self.decoder = nn.Sequential(nn.Linear(latent, h2), nn.ReLU(), nn.Linear(h2, h1),
                                     nn.ReLU(), nn.Linear(h1, PIXELS), nn.Sigmoid())

    def encode(self, x):
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(z), mu, logvar


def vae_loss(x, recon, mu, logvar):
    bce = nn.functional.binary_cross_entropy(recon, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (bce + kl) / x.shape[0]


def train(vae, images, epochs, batch, seed, log):
    """Adam on the ELBO; returns the seconds spent."""
    gen = torch.Generator().manual_seed(seed)
    data = torch.from_numpy(images.reshape(len(images), PIXELS).astype(np.float32) / 255.0)
    opt = torch.optim.Adam(vae.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    vae.train()
    for epoch in range(epochs):
        order = torch.randperm(len(data), generator=gen)
        total = 0.0
        for i in range(0, len(data), batch):
            x = data[order[i:i + batch]]
            recon, mu, logvar = vae(x)
            loss = vae_loss(x, recon, mu, logvar)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(x)
        log(f"  epoch {epoch + 1}/{epochs}: loss {total / len(data):.1f} per image "
            f"({time.perf_counter() - t0:.0f} s)")
    vae.eval()
    return time.perf_counter() - t0


def default_weights_path(config, epochs, seed):
    tag = f"vae-l{config['latent']}-{config['h1']}x{config['h2']}-e{epochs}-s{seed}.pt"
    if IN_TREE:
        return os.path.join(TREE, "build", "fashion-mnist", tag)
    return os.path.join(os.path.expanduser("~"), ".cache", "libdss", "fashion-mnist-" + tag)


def load_or_train(args, train_images, log):
    """The VAE: loaded from args.weights when it holds the same configuration, else trained
    (and saved there). Returns (vae, seconds of training or None when loaded)."""
    torch.manual_seed(args.seed)  # the initial weights too: the same seed trains the same VAE
    vae = VAE(LATENT, args.h1, args.h2)
    meta = {"config": vae.config, "epochs": args.train_epochs, "seed": args.seed,
            "train_images": len(train_images)}
    path = args.weights
    if os.path.exists(path) and not args.retrain:
        saved = torch.load(path)
        if saved.get("meta") == meta:
            vae.load_state_dict(saved["state"])
            vae.eval()
            log(f"VAE: loaded {path} (trained in {saved['train_seconds']:.0f} s earlier)")
            return vae, None
        log(f"VAE: {path} holds another configuration; training again")
    torch.manual_seed(args.seed)
    log(f"VAE: training latent {LATENT}, hidden {args.h1}/{args.h2}, {args.train_epochs} "
        f"epochs on {len(train_images)} images, {torch.get_num_threads()} threads")
    seconds = train(vae, train_images, args.train_epochs, args.batch, args.seed, log)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.save({"meta": meta, "state": vae.state_dict(), "train_seconds": seconds}, path)
    log(f"VAE: trained in {seconds:.1f} s, weights saved to {path}")
    return vae, seconds


# ---- the decoder's callbacks for examples/web ---------------------------------------------------

class TorchGenerator:
    """The decoder in float64 with its callbacks, in the form examples/web/studio.py and
    tests/web use (``f(z, out)``, ``jacobian(z, rows, out)``, ``vjp``, ``jvp``, ``dec``): now a
    thin layer over libdss.torch. New code: ``model_from_module(decoder, LATENT)`` directly."""

    def __init__(self, decoder):
        self.dec = decoder.double().eval()
        for p in self.dec.parameters():
            p.requires_grad_(False)
        self.model = model_from_module(self.dec, LATENT)
        self.backend_name = f"{self.model.backend} (libdss.torch)"

    def f(self, z, out):
        self.model.f(z, out)

    def jacobian(self, z, rows, out):
        self.model.jacobian(z, rows, out)

    def vjp(self, z, u, out):
        self.model.vjp(z, u, out)

    def jvp(self, z, v, out):
        self.model.jvp(z, v, out)


# ---- a session ---------------------------------------------------------------------------------

METHODS = [
    # label, jacobian mode, sampler
    ("DSS full", "full", "singular"),
    ("DSS randomized", "randomized", "singular"),
    ("random", "full", "random"),
    ("DSS full adaptive", "full", "singular"),
]
# libdss 1.1's options per method (docs/algorithm.md section 10): the paper's method unless named.
POLICY = {"DSS full adaptive": {"radius_policy": "adaptive", "stall_commits": 4}}


def run_session(model, mode, sampler, z0, target, args, seed, policy=None):
    """One simulated user's session; returns distances (iterations + 1), centres, timings."""
    search = libdss.Search(model, seed=seed, jacobian=mode, sampler=sampler, rank=args.rank,
                        prior="gaussian", **(policy or {}))
    line = libdss.LineSearch(samples=args.samples, batch=500, goal="minimize", refine=True)

    def distance(x):
        return np.linalg.norm(x - target, axis=1)

    search.start(z0)
    dist = [float(distance(model.generate(z0[None, :]))[0])]
    centres = [z0.copy()]
    model_s, library_s, user_s, updated = [], [], [], []
    points = []
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        t, d = line.find_optimal(search, distance)
        user_s.append(time.perf_counter() - t0)
        points.append(line.evaluations)
        cb0, lib0 = search.stat("seconds_callbacks"), search.stat("seconds_library")
        dec0 = search.stat("decompositions")
        search.commit(t)
        model_s.append(search.stat("seconds_callbacks") - cb0)
        library_s.append(search.stat("seconds_library") - lib0)
        updated.append(search.stat("decompositions") > dec0)  # off-centre: new Jacobian
        dist.append(d)
        centres.append(search.center())
    return {
        "distance": dist,
        "centres": centres,
        "model_s": model_s,          # per commit: time in the callbacks
        "library_s": library_s,      # per commit: time in libdss itself
        "user_s": user_s,            # per iteration: the simulated user's line search
        "updated": updated,          # per commit: was the Jacobian recomputed?
        "points": points,            # per iteration: decoder points of the line search
        "stats": search.stats,
    }


# ---- PNG without PIL -----------------------------------------------------------------------------

def write_png(path, gray):
    """Write a 2-D uint8 array as an 8-bit greyscale PNG (PIL when present, else zlib)."""
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    try:
        from PIL import Image
        Image.fromarray(gray, mode="L").save(path)
        return
    except ImportError:
        pass
    with open(path, "wb") as fh:
        fh.write(png_bytes(gray))


def png_bytes(gray, level=9):
    """A 2-D uint8 array as the bytes of an 8-bit greyscale PNG (zlib only; also used by
    examples/web to send images)."""
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    height, width = gray.shape

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + gray[y].tobytes() for y in range(height))  # filter 0 per row
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, level))
            + chunk(b"IEND", b""))


def read_png_gray(path):
    """Decode a PNG written by write_png (8-bit greyscale): for the smoke test."""
    try:
        from PIL import Image
        return np.asarray(Image.open(path))
    except ImportError:
        pass
    with open(path, "rb") as fh:
        data = fh.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, "bad CRC"
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 0)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, width + 1)
    assert np.all(rows[:, 0] == 0), "unexpected PNG filter"
    return rows[:, 1:]


def strip_image(rows, scale=2, gap=2):
    """Tile rows of 784-pixel images (values in [0,1]) into one uint8 image."""
    ncols = max(len(r) for r in rows)
    cell = SIDE * scale + gap
    img = np.full((len(rows) * cell + gap, ncols * cell + gap), 96, dtype=np.uint8)
    for i, row in enumerate(rows):
        for j, x in enumerate(row):
            tile = np.clip(np.asarray(x).reshape(SIDE, SIDE), 0, 1)
            tile = np.kron(tile, np.ones((scale, scale)))
            y0, x0 = gap + i * cell, gap + j * cell
            img[y0:y0 + SIDE * scale, x0:x0 + SIDE * scale] = np.round(255 * tile)
    return img


# ---- main ----------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iterations", type=int, default=None,
                   help="slider iterations (25; 5 with --smoke)")
    p.add_argument("--train-epochs", type=int, default=None,
                   help="training epochs (10; 2 with --smoke)")
    p.add_argument("--weights", default=None,
                   help="VAE weights cache: loaded when present with the same configuration, "
                        "else written after training (default: build/fashion-mnist/ in the "
                        "source tree, else ~/.cache/libdss/; with --smoke: in --out)")
    p.add_argument("--retrain", action="store_true", help="train even when weights exist")
    p.add_argument("--smoke", action="store_true",
                   help="tiny model, few iterations, self-checks: the test `make check` runs")
    p.add_argument("--out", default=None,
                   help="output directory for the PNG strip (build/fashion-mnist or .)")
    p.add_argument("--targets", type=int, default=None,
                   help="number of target garments (test images of distinct classes), 5")
    p.add_argument("--samples", type=int, default=None,
                   help="line-search grid points per slider (1001, refined)")
    p.add_argument("--rank", type=int, default=32, help="RANDOMIZED: singular pairs kept (32)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    p.add_argument("--seed", type=int, default=1, help="seed of training and sessions (1)")
    p.add_argument("--data", default=DATASET_DIR, help=f"Fashion-MNIST directory ({DATASET_DIR})")
    p.add_argument("--methods", default=None,
                   help="comma-separated method labels to run (default: all of "
                        + ", ".join(repr(m[0]) for m in METHODS) + ")")
    args = p.parse_args(argv)
    known = [m[0] for m in METHODS]
    args.methods = known if args.methods is None else [m.strip() for m in args.methods.split(",")]
    if any(m not in known for m in args.methods):
        p.error(f"--methods: known methods are {', '.join(known)}")
    if args.smoke:
        args.h1, args.h2, args.batch, args.train_images = 128, 64, 128, 6000
        args.train_epochs = 2 if args.train_epochs is None else args.train_epochs
        args.targets = 1 if args.targets is None else args.targets
        args.samples = 201 if args.samples is None else args.samples
        args.iterations = 5 if args.iterations is None else args.iterations
    else:
        args.h1, args.h2, args.batch, args.train_images = 512, 256, 128, None
        args.train_epochs = 10 if args.train_epochs is None else args.train_epochs
        args.targets = 5 if args.targets is None else args.targets
        args.samples = 1001 if args.samples is None else args.samples
        args.iterations = 25 if args.iterations is None else args.iterations
    if args.out is None:
        name = "fashion-mnist-smoke" if args.smoke else "fashion-mnist"
        args.out = os.path.join(TREE, "build", name) if IN_TREE else "."
    if args.weights is None:
        if args.smoke:  # the smoke test trains every time (seconds) and reloads what it saved
            args.weights = os.path.join(args.out, "vae-smoke.pt")
            args.retrain = True
        else:
            args.weights = default_weights_path({"latent": LATENT, "h1": args.h1, "h2": args.h2},
                                                args.train_epochs, args.seed)
    if not 1 <= args.targets <= 2 * len(TARGET_CLASSES):
        p.error(f"--targets must be in 1..{2 * len(TARGET_CLASSES)}")
    if args.iterations < 1:
        p.error("--iterations must be >= 1")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)

    def log(msg):
        print(msg, flush=True)

    log(f"libdss {libdss.version()} ({libdss.library_path}), PyTorch {torch.__version__}, "
        f"{torch.get_num_threads()} threads{', smoke test' if args.smoke else ''}")
    train_images = load_idx_images(dataset_file(args.data, "train-images-idx3-ubyte"))
    test_images = load_idx_images(dataset_file(args.data, "t10k-images-idx3-ubyte"))
    test_labels = load_idx_labels(dataset_file(args.data, "t10k-labels-idx1-ubyte"))
    if args.train_images:
        train_images = train_images[:args.train_images]

    vae, train_seconds = load_or_train(args, train_images, log)
    if args.smoke:  # the weights must load back to the same decoder
        again = VAE(LATENT, args.h1, args.h2)
        again.load_state_dict(torch.load(args.weights)["state"])
        probe = torch.randn(3, LATENT)
        with torch.no_grad():
            assert torch.equal(again.decoder(probe), vae.decoder(probe)), "weights round trip"

    vae.double()  # the session runs in float64, like libdss
    for p in vae.parameters():
        p.requires_grad_(False)
    vae.eval()
    # the decoder as a libdss model: f, Jacobian, VJP and JVP in one call
    model = model_from_module(vae.decoder, LATENT)
    log(f"autodiff: {model.backend} (libdss.torch), {model.dtype}, chunk {model.chunk}")
    full_model = rand_model = model
    models = {"full": full_model, "randomized": rand_model}

    targets = []
    for k in range(args.targets):  # one garment per class, then a second one of each
        c = TARGET_CLASSES[k % len(TARGET_CLASSES)]
        idx = int(np.flatnonzero(test_labels == c)[k // len(TARGET_CLASSES)])
        targets.append((idx, c, test_images[idx].reshape(PIXELS).astype(np.float64) / 255.0))
    global METHODS
    METHODS = [m for m in METHODS if m[0] in args.methods]

    results = {label: [] for label, _, _ in METHODS}
    floors = []
    rng = np.random.default_rng(args.seed)
    for ti, (idx, c, target) in enumerate(targets):
        z0 = rng.standard_normal(LATENT)
        with torch.no_grad():
            mu, _ = vae.encode(torch.from_numpy(target[None, :]))
        floors.append(float(np.linalg.norm(full_model.generate(mu.numpy()) - target)))
        log(f"target {ti + 1}/{len(targets)}: test image {idx} ({CLASSES[c]}); start at a "
            f"N(0, I) draw; the VAE's own reconstruction is at distance {floors[-1]:.2f}")
        for label, mode, sampler in METHODS:
            results[label].append(run_session(models[mode], mode, sampler, z0, target, args,
                                              seed=args.seed + ti,
                                              policy=POLICY.get(label)))

    # ---- distances per iteration (mean over the targets) ----
    log("")
    log(f"L2 distance to the target image (pixels in [0,1], 784 of them), mean over "
        f"{len(targets)} target(s); line search: {args.samples} grid points + refinement")
    log(f"{'iteration':>9}" + "".join(f"{label:>16}" for label, _, _ in METHODS))
    mean = {label: np.mean([r["distance"] for r in runs], axis=0)
            for label, runs in results.items()}
    for i in range(args.iterations + 1):
        log(f"{i:>9}" + "".join(f"{mean[label][i]:>16.3f}" for label, _, _ in METHODS))
    log(f"{'VAE floor':>9}{np.mean(floors):>16.3f}   (distance of the target's own "
        "reconstruction, for scale)")
    compare_policies(log, results, args)

    # ---- time per iteration ----
    log("")
    log("time per iteration (mean over iterations and targets, the start excluded), and per")
    log("Jacobian update (commits left near the slider's middle keep the SVD and cost nothing):")
    log(f"{'':>16}{'model (callbacks)':>26}{'libdss':>24}{'user sim.':>12}")
    log(f"{'':>16}{'per iter.':>13}{'per update':>13}{'per iter.':>12}{'per update':>12}"
        f"{'per iter.':>12}   updates  work per update")
    for label, mode, sampler in METHODS:
        runs = results[label]
        st = runs[0]["stats"]
        if mode == "full":
            work = f"{st['jacobian_rows'] // max(st['jacobian_calls'], 1)} Jacobian rows"
        else:
            per = max(st["decompositions"], 1)
            work = f"{st['vjp_products'] // per} VJPs + {st['jvp_products'] // per} JVPs"
        ms = {key: 1e3 * np.concatenate([r[key] for r in runs])
              for key in ("model_s", "library_s", "user_s")}
        upd = np.concatenate([r["updated"] for r in runs])
        nupd = max(int(upd.sum()), 1)
        log(f"{label:>16}{ms['model_s'].mean():>10.2f} ms{ms['model_s'][upd].sum() / nupd:>10.2f} ms"
            f"{ms['library_s'].mean():>9.2f} ms{ms['library_s'][upd].sum() / nupd:>9.2f} ms"
            f"{ms['user_s'].mean():>9.1f} ms{int(upd.sum()):>7}/{len(upd):<4} {work}"
            + ("   (directions ignore the SVD)" if sampler == "random" else ""))
    log("model = decoder/Jacobian/VJP/JVP callbacks in PyTorch (seconds_callbacks); libdss = "
        "the library's own work (seconds_library); user sim. = the simulated user's line search")
    if train_seconds is not None:
        log(f"training: {train_seconds:.1f} s")

    # ---- the PNG strip: start, every iteration, then the target, one row per method ----
    rows = []
    for label, _, _ in METHODS:
        centres = np.array(results[label][0]["centres"])
        rows.append(list(full_model.generate(centres)) + [targets[0][2]])
    png = os.path.join(args.out, "fashion_mnist_path.png")
    write_png(png, strip_image(rows))
    log(f"wrote {png}: rows {', '.join(l for l, _, _ in METHODS)}; columns: the start, "
        f"iterations 1..{args.iterations}, then the target")

    if args.smoke:
        smoke_checks(args, results, png, len(rows), models, vae, targets)
    return 0


def compare_policies(log, results, args):
    """The adaptive slider with the stall escape (DSS+) against the paper's method (both with
    the full Jacobian) on this VAE: at every iteration, the mean distance and the targets where
    each is ahead; the paired difference with a 95 % t interval at a few iterations; and the
    decoder points per iteration (the simulated user's line search) and Jacobian updates. One
    VAE and a few targets decide nothing either way: bench/generators.py evaluates both on
    several generators (docs/algorithm.md section 10, "Across generators")."""
    if "DSS full" not in results or "DSS full adaptive" not in results:
        return
    a = np.array([r["distance"] for r in results["DSS full"]])
    b = np.array([r["distance"] for r in results["DSS full adaptive"]])
    log("")
    log("adaptive slider + stall escape (k = 4) against the paper's method (full Jacobian), "
        "per iteration:")
    log(f"{'iteration':>9}{'paper':>10}{'adaptive':>10}{'ahead':>12}{'level':>7}{'behind':>8}")
    tie = 1e-9
    behind_iters = 0
    for i in range(args.iterations + 1):
        ahead = int(np.sum(b[:, i] < a[:, i] - tie))
        behind = int(np.sum(b[:, i] > a[:, i] + tie))
        behind_iters += bool(b[:, i].mean() > a[:, i].mean() + tie)
        log(f"{i:>9}{a[:, i].mean():>10.4f}{b[:, i].mean():>10.4f}{ahead:>12}"
            f"{a.shape[0] - ahead - behind:>7}{behind:>8}")
    pts = {k: np.mean([np.mean(r["points"]) for r in results[k]]) for k in ("DSS full", "DSS full adaptive")}
    upd = {k: np.mean([np.sum(r["updated"]) for r in results[k]]) for k in ("DSS full", "DSS full adaptive")}
    log(f"adaptive's mean distance is behind the paper's at {behind_iters} of "
        f"{args.iterations + 1} iterations")
    # t quantiles 0.975 for 1..30 degrees of freedom, then the normal's (within 0.09 beyond)
    tq = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
          2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
          2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
    for i in sorted({i for i in (10, 25, 50, args.iterations) if i <= args.iterations}):
        d = b[:, i] - a[:, i]
        if len(d) < 2:
            log(f"  iteration {i}: difference adaptive - paper {d.mean():+.3f} (one target)")
            continue
        q = tq[len(d) - 2] if len(d) - 1 <= len(tq) else 1.96
        hw = q * d.std(ddof=1) / np.sqrt(len(d))
        log(f"  iteration {i}: difference adaptive - paper {d.mean():+.3f}, 95 % t interval "
            f"[{d.mean() - hw:+.3f}, {d.mean() + hw:+.3f}] over {len(d)} targets")
    log(f"decoder points per iteration (line search): paper {pts['DSS full']:.1f}, adaptive "
        f"{pts['DSS full adaptive']:.1f}; Jacobian updates per session: paper "
        f"{upd['DSS full']:.1f}, adaptive {upd['DSS full adaptive']:.1f}")
    log("(one VAE, one set of targets; across generators: docs/algorithm.md section 10)")


def smoke_checks(args, results, png, nrows, models, vae, targets):
    """What `make check` verifies: the callbacks are right, the sessions ran and improved, the
    PNG is sound."""
    # the autograd Jacobian agrees with libdss's finite differences of the decoder, and the
    # randomized SVD (VJP/JVP) finds the same leading singular values
    z = np.random.default_rng(7).standard_normal(LATENT)
    sv = {}
    for mode, model in (("full", models["full"]), ("finite_diff", models["full"]),
                        ("randomized", models["randomized"])):
        s = libdss.Search(model, jacobian=mode, diff_scheme="central", rank=args.rank,
                       power_iterations=2)
        s.start(z)
        sv[mode] = s.singular_values()[:5]
        if mode == "randomized":
            k, p, q = s.get("rank"), s.get("oversample"), s.get("power_iterations")
    assert np.allclose(sv["finite_diff"], sv["full"], rtol=1e-4), sv
    # and the adapter's leading singular values are those of plain autograd's Jacobian
    J = torch.autograd.functional.jacobian(lambda t: vae.decoder(t[None])[0],
                                           torch.from_numpy(z)).numpy()
    s_all = np.linalg.svd(J, compute_uv=False)
    s_true = s_all[:5]
    assert np.allclose(sv["full"], s_true, rtol=1e-10), (sv["full"], s_true)
    # The randomized values against a bound derived from this decoder's own spectrum (the
    # weights, and so the spectrum, differ with the machine that trained them; a fixed rtol
    # did not follow): Halko, Martinsson and Tropp (2011), eq. (10.10) with section 10.4's power
    # scheme, gives ||(I - QQ^T) J|| <= E = (C s_{k+1}^(2q+1))^(1/(2q+1)), C = 1 + 9
    # sqrt((k + p) min(m, n)), k kept pairs, p oversampling, q = 2 power iterations (for Gaussian
    # sketches with probability 1 - 6 p^-p; libdss's Rademacher sketches behave alike). Ritz
    # values never exceed the true ones, and s_j^2 - r_j^2 <= E^2.
    m_out, n_in = J.shape
    if k + p < min(m_out, n_in):
        C = 1 + 9 * np.sqrt((k + p) * min(m_out, n_in))
        E = (C * s_all[k] ** (2 * q + 1)) ** (1 / (2 * q + 1))
    else:
        E = 0.0  # the sketch spans everything: exact up to rounding
    r = sv["randomized"]
    slack = 1e-10 * s_true[0]
    assert np.all(r <= s_true + slack), (r, s_true)
    assert np.all(s_true**2 - r**2 <= E**2 + 2 * s_true * slack), (r, s_true, E)
    for label in ("DSS full", "DSS randomized", "DSS full adaptive"):
        for r in results.get(label, []):
            d = r["distance"]
            assert all(b <= a + 1e-9 for a, b in zip(d, d[1:])), f"{label}: distance went up"
            assert d[-1] < d[0], f"{label}: no progress"
            assert min(r["model_s"]) >= 0 and min(r["library_s"]) >= 0
    st = results["DSS randomized"][0]["stats"]
    assert st["vjp_products"] > 0 and st["jvp_products"] > 0 and st["jacobian_calls"] == 0
    assert results["DSS full"][0]["stats"]["jacobian_calls"] > 0
    img = read_png_gray(png)
    cell = SIDE * 2 + 2
    assert img.shape == (nrows * cell + 2, (args.iterations + 2) * cell + 2), img.shape
    print("smoke: ok", flush=True)


if __name__ == "__main__":
    sys.exit(main())
