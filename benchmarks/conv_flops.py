"""Training FLOPs of a Keras model counted from its layers, and the backend's convolution peak.

`benchmarks.conv_worker` divides a conv model's FLOP rate (samples/s × training FLOPs per sample) by
`conv_peak`, timed in the same process right before the model's timing.
"""

import math
import time

import keras
import numpy as np
from keras import ops

# The convolution `conv_peak` times by default: a 3x3 "same" convolution, NHWC, 64 images of
# 32x32x128 to 128 channels: 2 * 64 * 32 * 32 * 9 * 128 * 128 = 19.3 GFLOP per call.
PEAK_SHAPE = dict(batch=64, size=32, channels=128, kernel=3)


def _hw(shape):
    """(H, W) of a channels-last or channels-first 4-D shape, per Keras's image data format."""
    if keras.config.image_data_format() == "channels_first":
        return shape[2], shape[3]
    return shape[1], shape[2]


def layer_forward_flops(layer):
    """Forward FLOPs per sample of one layer: the multiply-adds of its kernel, 2 FLOPs each.

    - `Conv2D`: `2 * H_out * W_out * k_h * k_w * C_in * C_out / groups` (output pixels times the
      kernel's weights).
    - `Conv2DTranspose`: `2 * H_in * W_in * k_h * k_w * C_in * C_out` (each input pixel scatters one
      `k_h x k_w x C_out` patch per input channel).
    - `Dense`: `2 * in * out` per row (times the rows, for inputs of rank > 2).
    - Anything else (biases, normalization, activations, adds, padding, reshapes) counts 0: element-wise
      work is a few FLOPs per value, against hundreds per value for the kernels above.
    """
    if isinstance(layer, keras.layers.Conv2DTranspose):  # before Conv2D: it subclasses the base conv
        h, w = _hw(layer.input.shape)
        kh, kw = layer.kernel_size
        return 2 * h * w * kh * kw * layer.kernel.shape[-1] * layer.filters
    if isinstance(layer, keras.layers.Conv2D):
        h, w = _hw(layer.output.shape)
        kh, kw = layer.kernel_size
        c_in_per_group = layer.kernel.shape[2]  # (k_h, k_w, C_in / groups, C_out)
        return 2 * h * w * kh * kw * c_in_per_group * layer.filters
    if isinstance(layer, keras.layers.Dense):
        rows = math.prod(layer.input.shape[1:-1])
        return 2 * rows * layer.kernel.shape[0] * layer.kernel.shape[1]
    return 0


def forward_flops(model):
    """Forward FLOPs per sample of every layer of `model`, nested models included (each layer once)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += forward_flops(layer)
        else:
            total += layer_forward_flops(layer)
    return total


def train_flops_per_sample(model):
    """Training FLOPs per sample of an autoencoder: 3 × the forward FLOPs of its encoder and decoder.

    The counting rule: the forward pass is `forward_flops` of the encoder plus the decoder, each
    layer once (a VAE decodes one z per image); the backward pass computes, for each kernel, the
    gradient with respect to its input and with respect to its weights, each about the forward
    multiply-adds again; so a training step is about 3 × forward. The first layer's input gradient,
    which no one needs, is counted too, and the optimizer's update (a few FLOPs per weight per step,
    not per sample) is not.
    """
    return 3 * (forward_flops(model.encoder) + forward_flops(model.decoder))


def _sync(y):
    """Wait for `y` to be computed (JAX dispatches asynchronously; TensorFlow and PyTorch on CPU do not)."""
    if hasattr(y, "block_until_ready"):
        y.block_until_ready()
    return y


def conv_peak(dtype="float32", batch=None, size=None, channels=None, kernel=None, repeats=5):
    """Best rate in GFLOP/s of one large "same" convolution through `keras.ops.conv` on this backend.

    Channels-last images `(batch, size, size, channels)` convolved with a `(kernel, kernel, channels,
    channels)` kernel in `dtype` (the model's compute dtype: "float32", or "bfloat16" under
    mixed_bfloat16): `2 * batch * size^2 * kernel^2 * channels^2` FLOPs per call. One untimed call
    first, then the fastest of `repeats` calls. The defaults are `PEAK_SHAPE`.
    """
    shape = dict(PEAK_SHAPE)
    shape.update({k: v for k, v in dict(batch=batch, size=size, channels=channels, kernel=kernel).items()
                  if v is not None})
    n, s, c, k = shape["batch"], shape["size"], shape["channels"], shape["kernel"]
    rng = np.random.default_rng(0)
    x = ops.cast(ops.convert_to_tensor(rng.random((n, s, s, c), dtype="float32")), dtype)
    w = ops.cast(ops.convert_to_tensor(rng.standard_normal((k, k, c, c), dtype="float32") * 0.05), dtype)

    def run():
        return _sync(ops.conv(x, w, strides=1, padding="same", data_format="channels_last"))

    run()
    best = float("inf")
    for _ in range(max(1, repeats)):
        t = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t)
    flops = 2 * n * s * s * k * k * c * c
    return {"gflops": flops / best / 1e9, "dtype": str(dtype), "shape": shape, "repeats": repeats}
