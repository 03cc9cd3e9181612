"""The corruptions the course uses: additive noise, masking, salt and pepper, binarization."""

import numpy as np

from keras_ae._validation import check_batch, check_choice, check_float, check_seed


def _rng(seed):
    """`np.random.default_rng(seed)` for `seed` None, an int >= 0 (refused otherwise, in keras-ae's words) or a
    NumPy `Generator` (used as it is)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(check_seed(seed))


def add_noise(x, noise="gaussian", noise_factor=0.5, seed=None):
    """Return a corrupted copy of `x` (values in [0, 1]), as the course does.

    Args:
        x: array of values in [0, 1].
        noise: `"gaussian"` (`x + noise_factor * N(0, 1)`, clipped to [0, 1]),
            `"masking"` (a fraction `noise_factor` set to 0) or
            `"salt_and_pepper"` (a fraction `noise_factor` set to 0 or 1).
        noise_factor: the noise strength.
        seed: an int >= 0 for reproducible noise, `None`, or a NumPy `Generator`.
    """
    check_choice("noise", noise, ("gaussian", "masking", "salt_and_pepper"))
    noise_factor = check_float("noise_factor", noise_factor, 0.0, None if noise == "gaussian" else 1.0)
    x = np.asarray(x, dtype="float32")
    check_batch(x, x.shape[1:], value_range=(0.0, 1.0))
    rng = _rng(seed)
    if noise == "gaussian":
        return np.clip(x + noise_factor * rng.standard_normal(x.shape), 0.0, 1.0).astype("float32")
    hit = rng.random(x.shape) < noise_factor
    if noise == "masking":
        return np.where(hit, 0.0, x).astype("float32")
    return np.where(hit, (rng.random(x.shape) > 0.5).astype("float32"), x).astype("float32")


def binarize(x, method="static", seed=0, threshold=0.5):
    """Binarize images in [0, 1].

    Args:
        x: array of values in [0, 1].
        method: `"threshold"` (`x > threshold`), or `"static"`: one fixed
            Bernoulli draw `x_bin ~ Bernoulli(x)` with `seed`. For dynamic
            binarization (a fresh draw every epoch) use
            `keras_ae.data.DynamicBinarization` or a VAE's
            `dynamic_binarization=True`.
    """
    check_choice("method", method, ("static", "threshold"))
    x = np.asarray(x, dtype="float32")
    check_batch(x, x.shape[1:], value_range=(0.0, 1.0))
    if method == "threshold":
        return (x > threshold).astype("float32")
    return (_rng(seed).random(x.shape) < x).astype("float32")
