"""Loss helpers shared by every model, one per concern, in `keras.ops` only.

Every helper computes in float32 whatever the inputs' dtype, so models train
under the `mixed_float16` and `mixed_bfloat16` policies without overflow in
the loss. The batch reduction follows Keras's default (`"sum_over_batch_size"`:
the weighted sum divided by the batch size), so a `sample_weight` of zeros
gives a loss of zero, as for a compiled Keras loss.
"""

import math

import keras
from keras import ops

RECONSTRUCTION_LOSSES = ("mse", "bce")
# The VAEs also take a Gaussian decoder with a learned scale (`gaussian_nll`).
VAE_RECONSTRUCTION_LOSSES = RECONSTRUCTION_LOSSES + ("gaussian",)
# The learned log standard deviation is bounded below, smoothly, at log(1e-3): a decoder that
# matches its training images exactly would otherwise drive the scale to 0 and the loss to -inf.
MIN_LOG_SCALE = -6.907755


def per_sample_reconstruction_loss(kind, y_true, y_pred, reduce="mean"):
    """Per-sample reconstruction loss over all non-batch axes, in float32.

    Args:
        kind: `"mse"` (squared error) or `"bce"` (binary cross-entropy).
        y_true, y_pred: tensors of the same shape, batch first.
        reduce: `"mean"` over values (the Keras convention) or `"sum"`.

    Returns:
        A float32 tensor of shape `(batch,)`.
    """
    y_true = ops.cast(ops.reshape(y_true, (ops.shape(y_true)[0], -1)), "float32")
    y_pred = ops.cast(ops.reshape(y_pred, (ops.shape(y_pred)[0], -1)), "float32")
    if kind == "mse":
        values = ops.square(y_true - y_pred)
    else:
        # Written out rather than ops.binary_crossentropy: PyTorch's version raises on a NaN
        # prediction, and a diverged model should give a NaN loss (which keras_ae.training stops at), not a crash.
        p = ops.clip(y_pred, 1e-7, 1.0 - 1e-7)
        values = -(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p))
    return ops.sum(values, axis=-1) if reduce == "sum" else ops.mean(values, axis=-1)


def gaussian_nll(y_true, y_pred, log_scale):
    """Per-sample `-log N(y_true; y_pred, sigma^2 I)` in nats, summed over values, in float32.

    `sigma = exp(log_scale)`, one scale shared by every value (the "sigma-VAE"
    decoder of Rybkin, Daniilidis & Levine 2021), bounded below by
    `exp(MIN_LOG_SCALE)` through a softplus so its gradient never vanishes.
    """
    y_true = ops.cast(ops.reshape(y_true, (ops.shape(y_true)[0], -1)), "float32")
    y_pred = ops.cast(ops.reshape(y_pred, (ops.shape(y_pred)[0], -1)), "float32")
    log_scale = bounded_log_scale(log_scale)
    d = ops.cast(ops.shape(y_true)[-1], "float32")
    sq = ops.sum(ops.square(y_true - y_pred), axis=-1)
    return 0.5 * sq * ops.exp(-2.0 * log_scale) + d * (log_scale + 0.5 * math.log(2.0 * math.pi))


def bounded_log_scale(log_scale):
    """The log standard deviation `gaussian_nll` uses for the raw variable `log_scale` (float32)."""
    log_scale = ops.cast(log_scale, "float32")
    return MIN_LOG_SCALE + ops.softplus(log_scale - MIN_LOG_SCALE)


def gaussian_kl(z_mean, z_log_var):
    """Closed-form `KL(N(mean, exp(log_var)) || N(0, I))` per sample, summed over latents."""
    z_mean, z_log_var = ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32")
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def batch_mean(values, sample_weight=None):
    """Keras's default reduction of per-sample values: `sum(w * values) / batch_size`."""
    values = ops.cast(values, "float32")
    if sample_weight is not None:
        weight = ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
        values = values * weight
    return ops.mean(values)


def total_penalty(losses):
    """The sum of the losses layers added with `add_loss`, in float32, or `None`.

    A plain Python sum: under JAX these are traced arrays in a list, which
    `ops.sum` would try to turn into a NumPy array.
    """
    total = None
    for loss in losses:
        loss = ops.sum(ops.cast(loss, "float32"))
        total = loss if total is None else total + loss
    return total


def replicas_in_sync():
    """Replicas of the current `tf.distribute` strategy on TensorFlow; 1 on other backends.

    Keras sums the replicas' gradients under `tf.distribute`, so a loss is
    divided by this number, as Keras's own losses do. JAX and PyTorch
    distribution (`keras.distribution`) average over the global batch already.
    """
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf  # loaded already: it is the backend

    return tf.distribute.get_strategy().num_replicas_in_sync
