"""Latent-space tools: batched encoding and interpolation (the course's morphing)."""

import numpy as np

from keras_ae._validation import check_choice, check_positive_int


def _check_model(model, needs=("encode", "decode")):
    missing = [m for m in needs if not callable(getattr(model, m, None))]
    if missing:
        raise ValueError(
            f"Expected a keras-ae model with {', '.join(needs)}. "
            f"Received: {type(model).__name__} without {', '.join(missing)}"
        )


def encode_dataset(model, x, batch_size=1024):
    """Encode a whole data set in batches; returns `(n, latent_dim)` flat codes."""
    _check_model(model, ("encode",))
    check_positive_int("batch_size", batch_size)
    codes = model.encode(x, batch_size=batch_size)
    return codes.reshape(len(codes), -1)


def slerp(a, b, alpha):
    """Spherical interpolation between code batches `a` and `b` (falls back to linear when parallel)."""
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    na, nb = np.linalg.norm(a, axis=-1, keepdims=True), np.linalg.norm(b, axis=-1, keepdims=True)
    cos = np.clip(np.sum(a * b, axis=-1, keepdims=True) / np.maximum(na * nb, 1e-12), -1, 1)
    omega = np.arccos(cos)
    so = np.sin(omega)
    safe = so > 1e-6
    lin = (1 - alpha) * a + alpha * b
    with np.errstate(invalid="ignore", divide="ignore"):
        sph = (np.sin((1 - alpha) * omega) * a + np.sin(alpha * omega) * b) / np.where(safe, so, 1)
    return np.where(safe, sph, lin)


def interpolate(model, a, b, steps=8, method="linear"):
    """Decode points on the path between the codes of two inputs.

    `z = z_A (1 - alpha) + z_B alpha` for `alpha` from 0 to 1 (the course's
    morphing); `method="slerp"` follows the great circle instead, which suits
    a VAE's Gaussian prior.

    Args:
        model: a keras-ae model.
        a, b: one input each (a single sample, or a batch of one).
        steps: number of points, including both ends (>= 2).
        method: `"linear"` or `"slerp"`.

    Returns:
        `(images, alphas)`: `steps` decoded images and their `alpha` values.
    """
    _check_model(model)
    check_choice("method", method, ("linear", "slerp"))
    steps = check_positive_int("steps", steps)
    if steps < 2:
        raise ValueError(f"`steps` must be at least 2 (both ends). Received: steps={steps}")
    a = np.asarray(a)[None] if np.asarray(a).shape == tuple(model.sample_shape) else np.asarray(a)
    b = np.asarray(b)[None] if np.asarray(b).shape == tuple(model.sample_shape) else np.asarray(b)
    za = model.encode(a[:1]).reshape(1, -1)
    zb = model.encode(b[:1]).reshape(1, -1)
    alphas = np.linspace(0.0, 1.0, steps)[:, None]
    if method == "linear":
        z = (1 - alphas) * za + alphas * zb
    else:
        z = slerp(np.repeat(za, steps, 0), np.repeat(zb, steps, 0), alphas)
    z = z.reshape((steps,) + tuple(model.code_shape)).astype("float32")
    return model.decode(z, batch_size=steps), alphas.ravel()
