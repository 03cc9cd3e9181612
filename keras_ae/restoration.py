"""Denoising and inpainting colour photos with a trained autoencoder, against classical filters.

Three corruptions, each seeded, for RGB (or gray) images `(n, height, width, channels)` in [0, 1]:

- `gaussian_noise(x, sigma)`: `x + sigma * N(0, 1)` per value, clipped to [0, 1];
- `salt_and_pepper(x, amount)`: a fraction `amount` of the pixels set to black or white (half each,
  all channels of the pixel alike);
- `mask_square(x, size)`: a `size` x `size` square at a random position of each image set to `fill`;
  it also returns the boolean mask of the hole, `(n, height, width)`.

`restore(model, x_corrupted, mask=None)` is the model's answer: its reconstruction (`model.reconstruct`:
a plain autoencoder's output, a VAE's decoded posterior mean, no sampling). With a mask it inpaints: the
known pixels are kept exactly, the hole is filled with the reconstruction, and the result is re-encoded,
`iterations` times in all (a projection onto the images that agree with the known pixels).

The classical baselines: `median_filter(x)`, a 3x3 median per channel (scipy.ndimage), for the two
noises; `harmonic_fill(x, mask)` for the hole: the solution of Laplace's equation inside the hole with
the known pixels as its boundary (each hole pixel the mean of its four neighbours), found by Jacobi
iterations from the mean of the known pixels: the smoothest fill the border allows.

`psnr(x, y, mask=None)` is the peak signal-to-noise ratio per image in dB for values in [0, 1],
`10 log10(1 / MSE)`, over the whole image or over the pixels of `mask` only.

Example:

```python
from keras_ae import restoration, zoo

model = zoo.load("resnet_vae.celeba64_z128")
noisy = restoration.gaussian_noise(x_test, 0.1, seed=0)
print(restoration.psnr(x_test, noisy).mean(), restoration.psnr(x_test, restoration.restore(model, noisy)).mean())
holed, hole = restoration.mask_square(x_test, 16, seed=0)
filled = restoration.restore(model, holed, mask=hole, iterations=5)
```
"""

import numpy as np

from keras_ae._validation import check_float, check_positive_int, check_seed, check_value_range, to_numpy

STARTS = ("mean", "harmonic", "given")  # what fills the hole before `restore`'s first reconstruction
_MAX_DB = 120.0  # PSNR of identical images (an MSE of 1e-12): finite, so means over images stay finite


def check_images(x, name="x"):
    """`x` as a float32 NumPy array `(n, height, width, channels)` with finite values in [0, 1], else a `ValueError`."""
    arr = to_numpy(x, name)
    try:
        arr = np.asarray(arr)
    except Exception as e:  # e.g. ragged nested lists
        raise ValueError(f"`{name}` must be an array of images. Received: {type(x).__name__} ({e})") from None
    if arr.dtype.name == "bfloat16":
        arr = arr.astype("float32")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"`{name}` must hold real numbers (float images in [0, 1]). Received: dtype={arr.dtype}")
    if arr.ndim != 4 or 0 in arr.shape:
        raise ValueError(f"`{name}` must be a non-empty batch of images of shape (n, height, width, channels). "
                         f"Received: shape={arr.shape}")
    arr = arr.astype("float32", copy=False)
    check_value_range(arr, name, (0.0, 1.0))
    return arr


def _check_mask(mask, images, name="mask"):
    """`mask` as a bool array `(n, height, width)` matching `images` (a trailing axis of 1 is allowed)."""
    arr = np.asarray(to_numpy(mask, name))
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.shape != images.shape[:3]:
        raise ValueError(f"`{name}` must have one value per pixel, shape {images.shape[:3]} (n, height, width). "
                         f"Received: shape={arr.shape}")
    if arr.dtype != np.bool_:
        if not np.issubdtype(arr.dtype, np.number) or not np.isin(arr, (0, 1)).all():
            raise ValueError(f"`{name}` must be boolean (True in the hole). Received: dtype={arr.dtype}")
        arr = arr.astype(bool)
    return arr


# ## Corruptions

def gaussian_noise(x, sigma, seed=0):
    """`x` plus Gaussian noise of standard deviation `sigma` on every value, clipped to [0, 1] (float32)."""
    x = check_images(x)
    sigma = check_float("sigma", sigma, low=0.0)
    noise = np.random.default_rng(check_seed(seed)).standard_normal(x.shape, dtype="float32")
    return np.clip(x + sigma * noise, 0.0, 1.0)


def salt_and_pepper(x, amount, seed=0):
    """`x` with a fraction `amount` of its pixels (each drawn alone) set to 0 or 1 (half each), all channels alike."""
    x = check_images(x)
    amount = check_float("amount", amount, low=0.0, high=1.0)
    rng = np.random.default_rng(check_seed(seed))
    hit = rng.random(x.shape[:3]) < amount
    white = rng.random(x.shape[:3]) < 0.5
    out = x.copy()
    out[hit & white] = 1.0
    out[hit & ~white] = 0.0
    return out


def mask_square(x, size, seed=0, fill=0.0):
    """Set a `size` x `size` square at a random position of each image to `fill`.

    Returns:
        `(corrupted, mask)`: the float32 images and a bool array `(n, height, width)`, True in the square.
        The square lies wholly inside the image; its top-left corner is uniform over the places it fits.
    """
    x = check_images(x)
    size = check_positive_int("size", size)
    fill = check_float("fill", fill, low=0.0, high=1.0)
    n, h, w, _ = x.shape
    if size > min(h, w):
        raise ValueError(f"`size` must fit in the images ({h}x{w}). Received: size={size}")
    rng = np.random.default_rng(check_seed(seed))
    top, left = rng.integers(0, h - size + 1, n), rng.integers(0, w - size + 1, n)
    rows, cols = np.arange(h), np.arange(w)
    inside_r = (rows[None] >= top[:, None]) & (rows[None] < top[:, None] + size)
    inside_c = (cols[None] >= left[:, None]) & (cols[None] < left[:, None] + size)
    mask = inside_r[:, :, None] & inside_c[:, None, :]
    out = x.copy()
    out[mask] = fill
    return out, mask


# ## Measuring

def psnr(x, y, mask=None):
    """PSNR in dB of `y` against the original `x`, one value per image (values in [0, 1]).

    With `mask` (bool `(n, height, width)`), the mean squared error is taken over the masked pixels only.
    Identical images give 120 dB (the error is floored at 1e-12), so averages stay finite.
    """
    x, y = check_images(x, "x"), check_images(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"`x` and `y` must have the same shape. Received: {x.shape} and {y.shape}")
    err = np.square(x.astype("float64") - y)
    if mask is None:
        mse = err.reshape(len(x), -1).mean(axis=1)
    else:
        mask = _check_mask(mask, x)
        counts = mask.reshape(len(x), -1).sum(axis=1) * x.shape[-1]
        if (counts == 0).any():
            raise ValueError(f"`mask` is empty for {int((counts == 0).sum())} image(s); PSNR inside it is undefined")
        mse = (err * mask[..., None]).reshape(len(x), -1).sum(axis=1) / counts
    return np.minimum(10.0 * np.log10(1.0 / np.maximum(mse, 1e-12)), _MAX_DB)


# ## The classical baselines

def median_filter(x, size=3):
    """A `size` x `size` median filter on each channel of each image (scipy.ndimage; borders mirrored)."""
    from scipy import ndimage

    x = check_images(x)
    size = check_positive_int("size", size)
    return ndimage.median_filter(x, size=(1, size, size, 1), mode="reflect")


def _mean_fill(x, mask):
    """`x` with each image's hole set to the mean colour of its known pixels."""
    hole = mask[..., None]
    mean_known = np.where(hole, 0.0, x).sum(axis=(1, 2)) / np.maximum((~mask).sum(axis=(1, 2)), 1)[:, None]
    return np.where(hole, mean_known[:, None, None, :], x).astype("float32")


def harmonic_fill(x, mask, iterations=None, tol=1e-5):
    """Fill the hole `mask` of each image smoothly from its border: Laplace's equation, Jacobi iterations.

    Each hole pixel becomes the mean of its four neighbours (at the image's edge the pixel itself stands
    in for the missing one) until the largest change is below `tol` or after `iterations` sweeps (default:
    4 x the hole's largest side, squared, which `tol` cuts short). It starts from each image's mean known
    colour. The known pixels are kept exactly.
    """
    x = check_images(x)
    mask = _check_mask(mask, x)
    n, h, w, _ = x.shape
    hole = mask[..., None]
    out = _mean_fill(x, mask)
    if not mask.any():
        return out
    # Sweep only a window around each image's hole (its bounding box and one pixel more), gathered into one array.
    any_row, any_col = mask.any(axis=2), mask.any(axis=1)
    top, left = any_row.argmax(axis=1), any_col.argmax(axis=1)
    wh = min(int((h - any_row[:, ::-1].argmax(axis=1) - top).max()) + 2, h)
    ww = min(int((w - any_col[:, ::-1].argmax(axis=1) - left).max()) + 2, w)
    top, left = np.clip(top - 1, 0, h - wh), np.clip(left - 1, 0, w - ww)
    idx = np.arange(n)[:, None, None]
    rr, cc = (top[:, None] + np.arange(wh))[:, :, None], (left[:, None] + np.arange(ww))[:, None, :]
    part, part_hole = out[idx, rr, cc], hole[idx, rr, cc]
    if iterations is None:
        iterations = 4 * max(wh, ww) ** 2
    iterations = check_positive_int("iterations", iterations)
    for _ in range(iterations):
        p = np.pad(part, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
        mean = 0.25 * (p[:, :-2, 1:-1] + p[:, 2:, 1:-1] + p[:, 1:-1, :-2] + p[:, 1:-1, 2:])
        new = np.where(part_hole, mean, part)
        change = float(np.abs(new - part).max())
        part = new
        if change < tol:
            break
    out[idx, rr, cc] = part
    return out


def classical(x_corrupted, mask=None):
    """The classical answer: `harmonic_fill` for a hole (`mask` given), else the 3x3 `median_filter`."""
    return median_filter(x_corrupted) if mask is None else harmonic_fill(x_corrupted, mask)


# ## The model

def restore(model, x_corrupted, mask=None, iterations=5, start="mean", batch_size=256):
    """The model's restoration of `x_corrupted`: its reconstruction, or with `mask` an inpainting.

    Args:
        model: a keras-ae model with `reconstruct` (a plain autoencoder gives its output, a VAE its
            decoded posterior mean).
        x_corrupted: float images `(n, height, width, channels)` in [0, 1], of the model's input shape.
        mask: optional bool `(n, height, width)`, True where the pixels are unknown (`mask_square`).
        iterations: with `mask`, how many times the image (known pixels kept, the hole filled with
            the last reconstruction) is reconstructed. Ignored without `mask`.
        start: with `mask`, what fills the hole before the first reconstruction: `"mean"`, each
            image's mean known colour (the model alone); `"harmonic"`, the classical `harmonic_fill`
            (the model refines it); `"given"`, the hole's values in `x_corrupted` as they are.
        batch_size: images per forward pass.

    Returns:
        float32 images of the same shape. With `mask`, the known pixels are exactly those of `x_corrupted`.
    """
    x = check_images(x_corrupted, "x_corrupted")
    if not hasattr(model, "reconstruct"):
        raise ValueError(f"`model` must be a keras-ae model with `reconstruct`. Received: {type(model).__name__}")
    if mask is None:
        return np.clip(model.reconstruct(x, batch_size=batch_size), 0.0, 1.0).astype("float32")
    mask = _check_mask(mask, x)
    iterations = check_positive_int("iterations", iterations)
    if start not in STARTS:
        raise ValueError(f"`start` must be one of {list(STARTS)}. Received: start={start!r}")
    hole = mask[..., None]
    current = {"given": lambda: x, "mean": lambda: _mean_fill(x, mask),
               "harmonic": lambda: harmonic_fill(x, mask)}[start]()
    for _ in range(iterations):
        recon = np.clip(model.reconstruct(current, batch_size=batch_size), 0.0, 1.0)
        current = np.where(hole, recon, x).astype("float32")
    return current


# ## All three, measured

# Per data set, the zoo's convolutional entries in order of preference: the plain autoencoder, then the VAE.
ZOO_ENTRIES = {"celeba": ("resnet.celeba64_z128", "resnet_vae.celeba64_z128"),
               "cifar10": ("resnet.cifar10_z64", "resnet_vae.cifar10_z128")}
SETTINGS = {"sigma": 0.1, "amount": 0.1, "iterations": 5, "seed": 0}  # issue 38's settings; the square: side / 4
CORRUPTIONS = ("gaussian", "salt_and_pepper", "square")


def corrupt(x, kind, sigma=0.1, amount=0.1, size=None, seed=0):
    """`(corrupted, mask)` for one of `CORRUPTIONS` (`mask` is None for the noises; `size` defaults to side / 4)."""
    if kind == "gaussian":
        return gaussian_noise(x, sigma, seed=seed), None
    if kind == "salt_and_pepper":
        return salt_and_pepper(x, amount, seed=seed), None
    if kind == "square":
        x = check_images(x)
        return mask_square(x, size or max(1, min(x.shape[1:3]) // 4), seed=seed)
    raise ValueError(f"`kind` must be one of {list(CORRUPTIONS)}. Received: kind={kind!r}")


def compare(model, x, sigma=0.1, amount=0.1, size=None, iterations=5, seed=0, batch_size=256, keep=0):
    """PSNR (dB, mean over the images) of the corrupted input, the classical filter and the model, per corruption.

    Returns:
        `(psnr, shown)`. `psnr[kind]` holds `corrupted`, `classical`, `model` and, for the square,
        `model_from_harmonic` (`restore(..., start="harmonic")`), each over the whole image, and the
        same inside the hole as `*_hole`. `shown[kind]` holds the first `keep` images of each
        (`corrupted`, `classical`, `model`) for a figure.
    """
    x = check_images(x)
    psnr_out, shown = {}, {}
    for kind in CORRUPTIONS:
        bad, mask = corrupt(x, kind, sigma=sigma, amount=amount, size=size, seed=seed)
        answers = {"corrupted": bad, "classical": classical(bad, mask),
                   "model": restore(model, bad, mask=mask, iterations=iterations, batch_size=batch_size)}
        if mask is not None:
            answers["model_from_harmonic"] = restore(model, bad, mask=mask, iterations=iterations, start="harmonic",
                                                     batch_size=batch_size)
        row = {k: round(float(psnr(x, v).mean()), 4) for k, v in answers.items()}
        if mask is not None:
            row.update({f"{k}_hole": round(float(psnr(x, v, mask).mean()), 4) for k, v in answers.items()})
        psnr_out[kind] = row
        shown[kind] = {k: v[:keep] for k, v in answers.items()}
    return psnr_out, shown
