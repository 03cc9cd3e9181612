"""One timed training of a convolutional variant under one setting; `benchmarks.jax_conv` pairs JAX against TensorFlow.

    KERAS_BACKEND=jax XLA_FLAGS=... python -m benchmarks.jax_conv_worker OUT.json SPEC.json

SPEC (JSON): `variant` (a registered convolutional variant, built as the speed benchmark builds it:
`benchmarks.speed_worker.build`, 28x28x1), `batch_size`, `warmup_steps`, `timed_steps`, `seed`, and the
setting's in-process parts: `precision` (`jax_default_matmul_precision`), `data_format` ("channels_first":
the model's layers cloned into NCHW layers, trained as `speed_worker.twin`; "channels_last_twin": the same
functional twin in NHWC, its control), `patch` (`PATCHES`: one JAX op replaced by a faster formulation of the
same function, to find which op is slow). XLA flags come through the environment (`XLA_FLAGS`).

The model trains with Adam for one epoch of `warmup_steps + timed_steps` batches of uniform noise drawn from
`seed` (the same images on both sides); the time runs from the end of step `warmup_steps` to the end of the
last step, read in the trainer's end-of-step callback after the step's logs are on the host
(`benchmarks.step_clock`). Writes a JSON object.
"""

import json
import os
import sys

import numpy as np

from benchmarks.conv_worker import busy_cpus
from benchmarks.step_clock import StepClock
from keras_ae._io import write_json_atomic


def conv_transpose_vjp(stock):
    """Keras's JAX `conv_transpose` (`stock`), with its kernel gradient taken through the strided convolution
    it is the transpose of: `<g, T_k x> = <S_k g, x>`, so d/dk is the kernel gradient of `S_k` (a strided
    convolution without input dilation), which XLA:CPU runs far faster than the input-dilated convolution
    JAX's own rule gives. Same values and gradients."""
    import jax
    import jax.numpy as jnp
    from keras.src.backend.jax.core import convert_to_tensor

    def patched(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None,
                dilation_rate=1):
        def f(x, k):
            return stock(x, k, strides, padding, output_padding, data_format, dilation_rate)

        @jax.custom_vjp
        def op(x, k):
            return f(x, k)

        def fwd(x, k):
            return f(x, k), (x, k)

        def bwd(res, g):
            x, k = res
            (dx,) = jax.vjp(lambda xx: f(xx, k), x)[1](g)  # S_k g: a strided convolution of g
            dk = jax.grad(lambda kk: jnp.vdot(jax.vjp(lambda xx: f(xx, kk), x)[1](g)[0], x))(k)
            return dx, dk

        op.defvjp(fwd, bwd)
        return op(convert_to_tensor(inputs), convert_to_tensor(kernel))  # a Keras Variable is no JAX type

    return patched


def maxpool_reshape(stock):
    """Keras's JAX `max_pool` (`stock`) for 2x2 windows of stride 2 on even NHWC maps as a reshape and a max
    (its gradient a mask), not `reduce_window` (its gradient XLA's select-and-scatter); others unchanged.
    Same values; the gradients differ only where a window holds equal maxima (split, not given to one)."""

    def patched(inputs, pool_size, strides=None, padding="valid", data_format=None):
        two = pool_size in (2, (2, 2)) and (strides is None or strides in (2, (2, 2)))
        _, h, w, c = inputs.shape if inputs.ndim == 4 else (None,) * 4
        if two and data_format in (None, "channels_last") and h and w and h % 2 == 0 and w % 2 == 0:
            return inputs.reshape((-1, h // 2, 2, w // 2, 2, c)).max(axis=(2, 4))
        return stock(inputs, pool_size, strides, padding, data_format)

    return patched


# name -> (the function of Keras's JAX backend it replaces, the maker of the replacement from the original)
PATCHES = {"conv_transpose_vjp": ("conv_transpose", conv_transpose_vjp),
           "maxpool_reshape": ("max_pool", maxpool_reshape)}


def install(name):
    """Replace one function of Keras's JAX backend for this process (the layers call it through the module)."""
    from keras.src.backend.jax import nn

    attr, make = PATCHES[name]
    setattr(nn, attr, make(getattr(nn, attr)))


def channels_first_clone(sample_shape):
    """A `clone(part)` for `speed_worker.twin`: the part's layers in channels_first, images as (C, H, W)."""
    import keras

    def layer_fn(layer):
        config = layer.get_config()
        if "data_format" in config:
            config["data_format"] = "channels_first"
        if isinstance(layer, keras.layers.Reshape) and len(config["target_shape"]) == 3:
            h, w, c = config["target_shape"]
            config["target_shape"] = (c, h, w)
        return type(layer).from_config(config)

    def clone(part):
        shape = tuple(part.inputs[0].shape[1:])
        if shape == tuple(sample_shape):  # the encoder: it takes the images
            shape = (shape[2], shape[0], shape[1])
        return keras.models.clone_model(part, input_tensors=keras.Input(shape), clone_function=layer_fn)

    return clone


def run(spec):
    import keras

    if spec.get("precision"):
        import jax

        jax.config.update("jax_default_matmul_precision", spec["precision"])
    if spec.get("patch"):
        install(spec["patch"])
    from benchmarks.speed_worker import build, twin

    keras.utils.set_random_seed(spec["seed"])
    model = build(spec["variant"])
    batch, steps = spec["batch_size"], spec["warmup_steps"] + spec["timed_steps"]
    shape = tuple(model.sample_shape)
    x = np.random.default_rng(spec["seed"]).random((steps * batch,) + shape, dtype="float32")
    loss = None
    layout = spec.get("data_format")
    if layout == "channels_first":
        model, loss = twin(model, clone=channels_first_clone(shape), sample_shape=(shape[2], shape[0], shape[1]))
        x = np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)))
    elif layout == "channels_last_twin":
        model, loss = twin(model)
    elif layout:
        raise ValueError(f"data_format must be channels_first or channels_last_twin. Received: {layout!r}")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    clock = StepClock(spec["warmup_steps"], steps)

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            clock.step_end(lambda: [float(v) for v in (logs or {}).values()])

    model.fit(x, x, batch_size=batch, epochs=1, shuffle=False, verbose=0, callbacks=[Clock()])
    return {"samples_per_s": clock.rate(batch), "backend": keras.backend.backend(), "keras": keras.__version__,
            "xla_flags": os.environ.get("XLA_FLAGS", "")}


def main(out, spec_path):
    busy = busy_cpus()  # before this process adds its own work
    with open(spec_path) as f:
        spec = json.load(f)
    result = {**run(spec), "busy_cpus": busy, "seed": spec["seed"], "batch_size": spec["batch_size"]}
    write_json_atomic(out, result)
    print(f"jax-conv {spec['variant']} {result['backend']}: {result['samples_per_s']:.1f} samples/s",
          file=sys.stderr, flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
