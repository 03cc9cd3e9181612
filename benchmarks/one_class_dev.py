"""Choosing the one-class MNIST method on training images only (never the test set).

    KERAS_BACKEND=jax KERAS_AE_MNIST=/path/to/mnist.npz python -m benchmarks.one_class_dev \
        --methods ae,dae,vae --ensembles ae+vae,aemaha+vae --out one_class_dev.json

For each digit, the digit's training images are split 80/20: a model trains on
the 80%, and the AUROC is measured on the held-out 20% against 9,000 training
images of the other digits (the test protocol's proportions). `--split test`
runs the Ruff et al. protocol itself (all of the digit's training images, the
10k test set) and is for the one final measurement only.
"""

import argparse
import copy
import json
import time

import keras
import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.special import logsumexp
from sklearn.metrics import roc_auc_score

import keras_ae
from keras_ae.anomaly import ReconstructionDetector, RestorationDetector
from keras_ae.datasets import load_mnist

try:
    from keras_ae.data.pipelines import shift_images
except ImportError:  # before keras_ae.data existed
    from keras_ae.datasets import _shifted as shift_images


def split(data, digit, mode, rng):
    (xtr, ytr), (xte, yte) = data
    if mode == "test":
        return xtr[ytr == digit], xte, (yte != digit).astype(int)
    normal = xtr[ytr == digit][rng.permutation(int(np.sum(ytr == digit)))]
    n_val = len(normal) // 5
    others = xtr[ytr != digit]
    others = others[rng.choice(len(others), 9000, replace=False)]
    x_eval = np.concatenate([normal[:n_val], others])
    return normal[n_val:], x_eval, np.r_[np.zeros(n_val, int), np.ones(len(others), int)]


def dense(hidden=(256, 64), latent=16, **kw):
    return keras_ae.UndercompleteAutoencoder(hidden_units=hidden, latent_dim=latent, reconstruction_loss="bce", **kw)


def train(model, x, epochs, batch_size=128, lr=1e-3):
    model.compile(optimizer=keras.optimizers.Adam(lr))
    model.fit(x, x, epochs=epochs, batch_size=batch_size, verbose=0)
    return model


def mahalanobis(z_train, z):
    mu = z_train.mean(0)
    cov = np.cov(z_train, rowvar=False) + 1e-6 * np.eye(z_train.shape[1])
    inv = np.linalg.inv(cov)
    d = z - mu
    return np.einsum("ij,jk,ik->i", d, inv, d)


def normalised(train_score, score):
    return score / np.median(train_score)


def smoothed_error(model, x, sigma):
    """Mean squared reconstruction error after a Gaussian of `sigma` px on the error map."""
    error = (model.reconstruct(x) - x).reshape(-1, 28, 28)
    return np.mean(gaussian_filter(error, sigma=(0, sigma, sigma)).reshape(len(x), -1) ** 2, axis=1)


def ensemble(scores, combo):
    """The sum of the '+'-joined score names in `combo`, each optionally weighted as 'W*NAME'."""
    total = 0
    for part in filter(None, combo.split("+")):
        weight, _, key = part.rpartition("*")
        total = total + (float(weight) if weight else 1.0) * scores[key]
    return total


# ---- the methods: each family trains its model(s) and returns {score name: scores on x_eval} -------------------
METHODS = {}  # family name -> function(name, x_normal, x_eval, epochs)


def method(*names):
    def register(fn):
        for name in names:
            METHODS[name] = fn
        return fn

    return register


def method_scores(name, x_normal, x_eval, epochs):
    """{score name: per-sample score on x_eval (higher = more anomalous)} for one method family.

    `restore*` names pick their variant by the parts of the name (see `restoration_scores`).
    """
    family = "restore" if name.startswith("restore") else name
    if family not in METHODS:
        raise ValueError(f"Unknown method {name!r}. Known: {sorted(METHODS)} (and restore_* variants)")
    return METHODS[family](name, x_normal, x_eval, epochs)


def reconstruction_scores(model, x_normal, x_eval, **detector_kw):
    """The detector's score on x_eval divided by its median on x_normal."""
    detector = ReconstructionDetector(model, **detector_kw).fit(x_normal)
    return normalised(detector.decision_scores_, detector.decision_function(x_eval))


@method("ae_big")
def ae_big(name, x_normal, x_eval, epochs):
    return {name: reconstruction_scores(train(dense(hidden=(512, 256, 128), latent=32), x_normal, epochs),
                                        x_normal, x_eval)}


@method("ae")
def ae(name, x_normal, x_eval, epochs):
    m = train(dense(), x_normal, epochs)
    out = {"ae": reconstruction_scores(m, x_normal, x_eval)}
    for sigma in (1.0,):  # the error map smoothed before squaring, as for the restorer below
        out[f"ae_smooth{sigma:g}"] = normalised(smoothed_error(m, x_normal, sigma), smoothed_error(m, x_eval, sigma))
    z_tr, z = m.encode(x_normal), m.encode(x_eval)
    out["aemaha"] = out["ae"] + normalised(mahalanobis(z_tr, z_tr), mahalanobis(z_tr, z))
    return out


@method("dae")
def dae(name, x_normal, x_eval, epochs):
    m = train(keras_ae.DenoisingAutoencoder(hidden_units=(256, 64), latent_dim=16, noise_factor=0.3,
                                            reconstruction_loss="bce", seed=0), x_normal, epochs)
    return {"dae": reconstruction_scores(m, x_normal, x_eval)}


@method("vae")
def vae(name, x_normal, x_eval, epochs):
    m = keras_ae.VAE(hidden_units=(256, 64), latent_dim=16, seed=0)
    m.compile(optimizer=keras.optimizers.Adam(1e-3))
    m.fit(x_normal, epochs=epochs, batch_size=128, verbose=0)
    return {"vae": reconstruction_scores(m, x_normal[:2000], x_eval, scoring="neg_elbo", num_samples=10),
            "vae_rec": reconstruction_scores(m, x_normal, x_eval, scoring="mse")}


@method("conv")
def conv(name, x_normal, x_eval, epochs):
    m = keras_ae.ConvolutionalAutoencoder(input_shape=(28, 28, 1), latent_dim=32)
    xs, xe = x_normal.reshape(-1, 28, 28, 1), x_eval.reshape(-1, 28, 28, 1)
    return {"conv": reconstruction_scores(train(m, xs, epochs), xs, xe)}


@method("knn")
def knn(name, x_normal, x_eval, epochs):
    # No autoencoder: the cosine distance to the k nearest normal images, on the pixels blurred by a
    # Gaussian of sigma px first (a baseline to measure the autoencoders' scores against).
    from benchmarks.quality import knn_cosine_distance

    out = {f"knn_s{sigma:g}_k{k}": knn_cosine_distance(x_normal, x_eval, k=k, sigma=sigma)
           for sigma in (0.0, 0.5, 1.0, 1.5) for k in (1, 3, 5)}
    d2 = (x_eval ** 2).sum(1)[:, None] - 2 * x_eval @ x_normal.T + (x_normal ** 2).sum(1)[None]
    out["knn_euclid_k1"] = np.sqrt(np.maximum(d2.min(axis=1), 0))
    return out


@method("detector_knn")
def detector_knn(name, x_normal, x_eval, epochs):
    # The RestorationDetector joined to the nearest-neighbour baseline (cosine, k = 3, pixels blurred by
    # 1 px): each score's ratio to its median on the last tenth of x_normal (for the distance, against the
    # rest; the detector's score is already calibrated on its own held-out images, so this is a constant),
    # multiplied, the distance's raised to a power.
    # "code": the nearest neighbours among the restorer's codes of the upright images instead of pixels.
    from benchmarks.quality import knn_cosine_distance

    det = RestorationDetector().fit(x_normal)
    ref, cal = x_normal[:len(x_normal) * 9 // 10], x_normal[len(x_normal) * 9 // 10:]
    rest = det.decision_function(x_eval) / np.median(det.decision_function(cal))
    pix = knn_cosine_distance(x_normal, x_eval) / np.median(knn_cosine_distance(ref, cal))
    code = (knn_cosine_distance(det.model_.encode(x_normal), det.model_.encode(x_eval), sigma=0)
            / np.median(knn_cosine_distance(det.model_.encode(ref), det.model_.encode(cal), sigma=0)))
    out = {"detector": rest, "knn": pix, "knn_code": code}
    # The same trained restorer scored other ways (`error`, `smoothing`), each calibrated as `fit` would
    # calibrate it: per-rotation medians on the detector's own held-out normal images.
    calibration = det._calibration_split(det._images(x_normal))[0]
    for error in RestorationDetector.ERRORS:
        for sigma in (0.0, 1.0, 2.0):
            variant = copy.copy(det).set_params(error=error, smoothing=sigma)
            ratio = (variant._rotation_errors(det._images(x_eval))
                     / np.median(variant._rotation_errors(calibration), axis=1, keepdims=True))
            out[f"detector_{error}{sigma:g}"] = ratio.mean(0)
            out[f"detector_{error}{sigma:g}_k0"] = ratio[0]
    for w in (0.5, 1.0, 2.0):
        out[f"detector*knn^{w:g}"] = np.log(rest) + w * np.log(pix)
        out[f"detector*knn_code^{w:g}"] = np.log(rest) + w * np.log(code)
    return out


# ---- attribute restoration (ARNet, Fei et al. 2020), the variants RestorationDetector was chosen from ---------------
# The input is a transformed copy (by default the rotations by 0, 90, 180, 270 degrees), the target the upright
# image; the score is the restoration error averaged over the transforms. The name's parts choose the variant:
# "big"/"huge": wider layers; "conv": a convolutional restorer; "d8": the 8 rotations and flips; "shift":
# translations too ("norot": instead); "augN": N randomly moved copies of each image; "rotL": a head on the code
# also says which transform was applied, its cross-entropy weighted L.

def restore_transforms(name):
    """The list of image transforms (functions of an `(n, 28, 28)` array) of the variant `name`."""
    transforms = [lambda a, k=k: np.rot90(a, k, axes=(1, 2)) for k in range(4)]
    if "shift" in name:
        # Translations as restored attributes too (GEOM's transformations include shifts of +-8 px; MNIST
        # digits sit in a 20x20 box, so 3 px keeps them whole). "norot": shifts only, a 3x3 grid; otherwise
        # each rotation with no shift and four 3 px shifts.
        grid = [(dy, dx) for dy in (-3, 0, 3) for dx in (-3, 0, 3)]
        cross = [(0, 0), (3, 0), (-3, 0), (0, 3), (0, -3)]
        rotations = [0] if "norot" in name else range(4)
        transforms = [lambda a, k=k, d=d: np.roll(np.rot90(a, k, axes=(1, 2)), d, axis=(1, 2))
                      for k in rotations for d in (grid if "norot" in name else cross)]
    if "d8" in name:
        transforms += [lambda a, k=k: np.rot90(a[:, :, ::-1], k, axes=(1, 2)) for k in range(4)]
    return transforms


def restore_model(name):
    """`(model, input shape)` of the variant `name`."""
    if "conv" in name:
        return keras_ae.ConvolutionalAutoencoder(input_shape=(28, 28, 1), latent_dim=32), (-1, 28, 28, 1)
    hidden = (1024, 512, 256) if "huge" in name else (512, 256, 128) if "big" in name else (256, 64)
    return dense(hidden=hidden, latent=64 if "huge" in name else 32 if "big" in name else 16), (-1, 784)


def upright_images(name, x_normal, fit_epochs):
    """`(upright training images, epochs)`: with "augN", N copies each moved by a random -1..1 px each way
    (input and target alike), for the same number of steps in all."""
    img = x_normal.reshape(-1, 28, 28)
    if "aug" not in name:
        return img, fit_epochs
    copies = int(name.split("aug")[1].split("_")[0])
    rng = np.random.default_rng(len(img))
    upright = np.concatenate([shift_images(np, img[..., None], rng.integers(0, 3, (len(img), 2)), 1,
                                           (28, 28, 1))[..., 0] for _ in range(copies)])
    return upright, max(1, round(fit_epochs / copies))


def train_with_transform_head(name, m, shape, transforms, upright, x_in, x_out, fit_epochs):
    """"rotL": train the restorer with a head that says which transform was applied (rotation prediction, as in
    GEOM), its softmax cross-entropy weighted L; returns `surprise(x)`, the `(transforms, n)` -log p(the
    transform applied | transformed image)."""
    weight = float(name.split("rot")[1].split("_")[0])
    z_in = keras.Input(x_in.shape[1:])
    code = m.encoder(z_in)
    joint = keras.Model(z_in, [m.decoder(code), keras.layers.Dense(len(transforms))(code)])
    joint.compile(optimizer=keras.optimizers.Adam(1e-3), loss=[
        "binary_crossentropy", keras.losses.SparseCategoricalCrossentropy(from_logits=True)],
        loss_weights=[1.0, weight])
    labels = np.repeat(np.arange(len(transforms)), len(upright))
    joint.fit(x_in, (x_out, labels), epochs=fit_epochs, batch_size=128, verbose=0, shuffle=True)

    def surprise(x):
        im = x.reshape(-1, 28, 28)

        def one(i, t):  # from the logits, in float64: a softmax of near 1 loses the digits
            logits = np.asarray(joint.predict(t(im).reshape(shape), batch_size=1024, verbose=0)[1], "float64")
            return logsumexp(logits, axis=1) - logits[:, i]

        return np.stack([one(i, t) for i, t in enumerate(transforms)])

    return surprise


def restore_errors(m, shape, transforms):
    """`per_transform(x, sigma=0, pixel_weights=None)`: the `(transforms, n)` mean squared restoration errors,
    the error map smoothed first if `sigma` (RestorationDetector's `smoothing`), each pixel weighted by
    `pixel_weights` `(transforms, 784)`; and `pixel_means(x, sigma)`, the `(transforms, 784)` mean of each pixel."""
    def squared_maps(x, sigma=0.0):
        im = x.reshape(-1, 28, 28)
        for t in transforms:
            error = m.reconstruct(t(im).reshape(shape)).reshape(-1, 28, 28) - im
            if sigma:
                error = gaussian_filter(error, sigma=(0, sigma, sigma))
            yield error.reshape(len(x), -1) ** 2

    def per_transform(x, sigma=0.0, pixel_weights=None):
        return np.stack([np.mean(sq if pixel_weights is None else sq * pixel_weights[i], axis=1)
                         for i, sq in enumerate(squared_maps(x, sigma))])

    def pixel_means(x, sigma):
        return np.stack([sq.mean(axis=0) for sq in squared_maps(x, sigma)])

    return per_transform, pixel_means


@method("restore")
def restoration_scores(name, x_normal, x_eval, epochs):
    m, shape = restore_model(name)
    transforms = restore_transforms(name)
    upright, fit_epochs = upright_images(name, x_normal, max(1, epochs * 2 // len(transforms)))
    x_in = np.concatenate([t(upright).reshape(shape) for t in transforms])
    x_out = np.concatenate([upright.reshape(shape)] * len(transforms))
    cls = None
    if "rot" in name and "norot" not in name:
        surprise = train_with_transform_head(name, m, shape, transforms, upright, x_in, x_out, fit_epochs)
    else:
        m.compile(optimizer=keras.optimizers.Adam(1e-3))
        m.fit(x_in, x_out, epochs=fit_epochs, batch_size=128, verbose=0, shuffle=True)
        surprise = None
    out = {}
    if surprise is not None:
        s_tr, s_ev = surprise(x_normal[:2000]).mean(0), surprise(x_eval).mean(0)
        out[name + "_cls"] = s_ev
        cls = normalised(s_tr + 1e-3, s_ev + 1e-3)  # a floor of 1e-3 nats: the median can be 0
        cls_tr = normalised(s_tr + 1e-3, s_tr + 1e-3)
    per_transform, pixel_means = restore_errors(m, shape, transforms)
    e_tr, e = per_transform(x_normal[:2000]), per_transform(x_eval)
    out[name] = normalised(e_tr.mean(0), e.mean(0))
    # Each rotation's error divided by its median on normal images first: a rotation the normal
    # class is ambiguous under (a 0 turned by 90 degrees) then weighs no more than the others.
    med = np.median(e_tr, axis=1, keepdims=True)
    out[name + "_norm"] = (e / med).mean(0)
    out[name + "_k0"] = normalised(e_tr[0], e[0])
    for sigma in (0.7, 1.0, 1.5):
        e_tr, e = per_transform(x_normal[:2000], sigma), per_transform(x_eval, sigma)
        out[f"{name}_smooth{sigma:g}"] = (e / np.median(e_tr, axis=1, keepdims=True)).mean(0)
    if cls is not None:
        # Normal images are near-certain of their transform, so the surprise's median is tiny and
        # its ratio heavy-tailed: the two scores are joined as logs (a weighted product of ratios).
        for w in (0.1, 0.25, 0.5, 1.0):
            out[f"{name}_smooth1*{w:g}cls"] = np.log(out[f"{name}_smooth1"]) + w * np.log(cls)
        # Each log score divided by its spread (interquartile range) on normal images: a digit
        # whose rotations are ambiguous (0, 1) has a wide spread of surprise and weighs it less.
        e_tr, e = per_transform(x_normal[:2000], 1.0), per_transform(x_eval, 1.0)
        med = np.median(e_tr, axis=1, keepdims=True)
        r_tr, r_ev = np.log((e_tr / med).mean(0)), np.log((e / med).mean(0))
        c_tr, c_ev = np.log(cls_tr), np.log(cls)
        iqr = lambda a: np.subtract(*np.percentile(a, [75, 25]))  # noqa: E731
        for w in (0.25, 0.5, 1.0):
            out[f"{name}_smooth1~{w:g}cls"] = r_ev / iqr(r_tr) + w * c_ev / iqr(c_tr)
    # Each pixel's squared error divided by its mean on normal images (plus a floor, a fraction of
    # the mean over pixels): an error where normal images are restored well counts more.
    pix = pixel_means(x_normal[:2000], 1.0)
    for floor in (0.1, 0.3, 1.0):
        weights = 1.0 / (pix + floor * pix.mean(axis=1, keepdims=True))
        e_tr, e = per_transform(x_normal[:2000], 1.0, weights), per_transform(x_eval, 1.0, weights)
        out[f"{name}_pix{floor:g}"] = (e / np.median(e_tr, axis=1, keepdims=True)).mean(0)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", default="ae,dae,vae")
    p.add_argument("--digits", default="0,1,2,3,4,5,6,7,8,9")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seeds", type=int, default=1,
                   help="train each method this many times (seeds digit + 100 * i); NAME_xN averages the scores")
    p.add_argument("--split", choices=("validate", "test"), default="validate")
    p.add_argument("--ensembles", default="",
                   help="'+'-joined score names, comma-separated, each optionally weighted: ae+0.5*vae,ae+maha")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    data = load_mnist()
    results = {}
    for digit in map(int, args.digits.split(",")):
        rng = np.random.default_rng(digit)
        x_normal, x_eval, is_anomaly = split(data, digit, args.split, rng)
        scores = {}
        for name in args.methods.split(","):
            t = time.time()
            for seed in range(args.seeds):
                keras.utils.set_random_seed(digit + 100 * seed)
                for key, value in method_scores(name, x_normal, x_eval, args.epochs).items():
                    if seed == 0:
                        scores[key] = value
                    if args.seeds > 1:  # every score averaged over the seeds' models
                        scores[f"{key}_x{args.seeds}"] = scores.get(f"{key}_x{args.seeds}", 0) + value / args.seeds
            print(f"digit {digit} {name}: {time.time() - t:.0f} s", flush=True)
        for combo in filter(None, args.ensembles.split(",")):
            scores[combo] = ensemble(scores, combo)
        results[digit] = {k: float(roc_auc_score(is_anomaly, v)) for k, v in scores.items()}
        print(digit, {k: round(v, 4) for k, v in results[digit].items()}, flush=True)
    names = list(results[next(iter(results))])
    mean = {k: float(np.mean([results[d][k] for d in results])) for k in names}
    print("mean", {k: round(v, 4) for k, v in mean.items()})
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"split": args.split, "epochs": args.epochs, "per_digit": results, "mean": mean}, f, indent=1)


if __name__ == "__main__":
    main()
