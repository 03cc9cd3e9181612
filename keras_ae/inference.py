"""Inference in batches: the work behind every model's `encode`, `decode`, `reconstruct`, `reconstruction_error`.

Each function takes the model first. `x` may be an array (NumPy, a list, a
pandas DataFrame, `tf.Tensor`, a JAX array, a torch tensor) or a batched data
set (`tf.data.Dataset`, `keras.utils.PyDataset`, ...). An array is checked and
converted to float32 one batch at a time, so memory is bounded by the batch,
not by `len(x)`; outputs are float32 NumPy arrays.

On JAX the forward pass is one jitted call per model, and the next batch is
dispatched before the previous output is copied to the host (see
`forward_batches`). On TensorFlow and PyTorch it is Keras's `predict_on_batch`.

Example:

```python
from keras_ae import inference

codes = inference.encode(model, x_test, batch_size=1024)  # == model.encode(x_test, 1024)
```
"""

import math
import weakref

import numpy as np

from keras_ae._quiet import import_keras
from keras_ae._validation import check_batch, check_choice, check_positive_int, check_value_range, is_dataset, \
    to_numpy

import_keras()
import keras  # noqa: E402

ERROR_METRICS = ("mse", "sse", "bce")

__all__ = ["ERROR_METRICS", "apply", "decode", "encode", "forward_batches", "per_sample_error", "reconstruct",
           "reconstruction_error", "to_float32"]


# ---- the verbs ------------------------------------------------------------------

def encode(model, x, batch_size=256):
    """`model.encoder` over `x` in batches: its output, or a tuple of outputs (a VAE's `(z_mean, z_log_var)`).

    `model.encode` is this for a deterministic model; a VAE's `encode` keeps the means.
    """
    return apply(model, model.encoder, x, batch_size)


def decode(model, z, batch_size=256):
    """`model.decoder` over codes `z` of shape `(n,) + model.code_shape`, in batches."""
    return apply(model, model.decoder, z, batch_size, name="z",
                 check=lambda v, name: check_batch(v, model.code_shape, name=name))


def reconstruct(model, x, batch_size=256):
    """`model(x)` at inference (no corruption or sampling), in batches."""
    return apply(model, model, x, batch_size)


def reconstruction_error(model, x, metric="mse", batch_size=256):
    """Per-sample error between `x` and `model`'s reconstruction, batch by batch: shape `(n,)`.

    `metric` is `"mse"`, `"sse"` or `"bce"` (see `per_sample_error`). No whole
    reconstruction of `x` is kept, only each batch's.
    """
    check_choice("metric", metric, ERROR_METRICS)
    check_positive_int("batch_size", batch_size)
    batches, values = (dataset_batches(model, x), None) if is_dataset(x) else input_batches(model, x, batch_size)
    errors = [per_sample_error(xb, recon, metric) for _, xb, recon in forward_batches(model, batches, values)]
    if not errors:
        raise ValueError("`x` is an empty data set; expected at least one batch")
    return np.concatenate(errors)


def per_sample_error(x, recon, metric="mse"):
    """Per-sample error between two NumPy batches of the same shape.

    `"mse"`: mean squared error per value; `"sse"`: squared error summed over
    values; `"bce"`: binary cross-entropy summed over values (`recon` clipped
    to `[1e-7, 1 - 1e-7]`).
    """
    # float32, like the model's output: float64 copies of a large batch cost more than the
    # forward pass (a 0.63x ratio against `predict` at batch 4096 on JAX).
    x = np.asarray(x, "float32").reshape(len(x), -1)
    recon = np.asarray(recon, "float32").reshape(len(recon), -1)
    if metric in ("mse", "sse"):
        diff = x - recon
        sse = np.einsum("ij,ij->i", diff, diff)
        return sse / x.shape[1] if metric == "mse" else sse
    p = np.clip(recon, 1e-7, 1 - 1e-7)
    return -(np.einsum("ij,ij->i", x, np.log(p)) + np.einsum("ij,ij->i", 1 - x, np.log(1 - p)))


def apply(model, part, x, batch_size, name="x", check=None):
    """Run `part` (`model`, or one of its sub-models) over `x` in batches.

    Args:
        model: the keras-ae model; its `check_inputs` checks each batch
            unless `check` is given.
        part: the Keras model to run: `model`, `model.encoder` or `model.decoder`.
        x: an array, or a batched data set whose batches are `x` or
            `(x, y[, sample_weight])`; each batch is checked like an array.
        batch_size: samples per forward pass (for arrays).
        name: the argument's name in error messages.
        check: `check(batch, name)` returns the checked float32 batch.

    Returns:
        A float32 NumPy array, or a tuple of them for a part with several
        outputs, written batch by batch into one preallocated array.
    """
    check_positive_int("batch_size", batch_size)
    if is_dataset(x):
        return _apply_dataset(model, part, x, name, check)
    outs = None
    batches, values = input_batches(model, x, batch_size, name, check)
    for start, _, got in forward_batches(part, batches, values):
        parts = got if isinstance(got, tuple) else (got,)
        if outs is None:
            n = len(to_numpy(x, name))
            outs = tuple(np.empty((n,) + p.shape[1:], "float32") for p in parts)
        for o, p in zip(outs, parts):
            o[start:start + len(p)] = p
    return outs if isinstance(got, tuple) else outs[0]


# ---- batches in -----------------------------------------------------------------

def checked_batches(model, x, batch_size, name="x", check=None):
    """Yield `(start, batch)`: `x` checked and converted to float32 one batch at a time.

    No copy of the whole of `x` is made (a uint8 array stays uint8 until its
    batch is used), so memory is bounded by the batch.
    """
    check = check or model.check_inputs
    arr = to_numpy(x, name)
    if not isinstance(arr, np.ndarray):
        try:
            arr = np.asarray(arr)
        except Exception:
            arr = x  # let the check say what is wrong
    if not isinstance(arr, np.ndarray) or arr.ndim < 2 or len(arr) <= batch_size:
        yield 0, check(arr, name)
        return
    for start in range(0, len(arr), batch_size):
        stop = min(start + batch_size, len(arr))
        yield start, check(arr[start:stop], _batch_name(name, start, stop))


def input_batches(model, x, batch_size, name="x", check=None):
    """`(batches, values)` for `forward_batches`: the checked batches of the array `x`.

    On JAX, for batches of 65,536 values or more, the inputs' values (finite,
    in `model.input_range`) are checked from the minimum and maximum the jitted
    call computes beside its output, not by NumPy.
    """
    # Two NumPy passes over every batch cost 6-9% of `encode` at batch 1024-4096 on JAX; on small
    # batches they cost less than copying the extremes back.
    rows = min(batch_size, len(x)) if hasattr(x, "__len__") else batch_size
    if check is None and keras.backend.backend() == "jax" and rows * math.prod(model.input_shape) >= 65536:
        def shape_only(v, n):
            return check_batch(v, model.input_shape, name=n, check_values=False)

        return checked_batches(model, x, batch_size, name, shape_only), (name, model.input_range)
    return checked_batches(model, x, batch_size, name, check), None


def dataset_batches(model, x, name="x", check=None):
    """Yield `(i, batch)` for a batched data set, each batch checked like an array.

    A batch may be `x` or `(x, y[, sample_weight])`; only `x` is used.
    """
    check = check or model.check_inputs
    for i, batch in enumerate(x):
        if isinstance(batch, (tuple, list)):
            batch = batch[0]
        yield i, check(batch, f"{name} (batch {i})")
        if hasattr(x, "__len__") and not hasattr(x, "take") and i + 1 >= len(x):
            break  # a PyDataset indexes past its end


def _apply_dataset(model, part, x, name="x", check=None):
    outs = [got for _, _, got in forward_batches(part, dataset_batches(model, x, name, check))]
    if not outs:
        raise ValueError(f"`{name}` is an empty data set; expected at least one batch")
    if isinstance(outs[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*outs))
    return np.concatenate(outs)


def _batch_name(name, start, stop):
    """How errors name the rows `start:stop` of the argument `name`."""
    return name if start == 0 else f"{name} (rows {start}-{stop - 1})"


# ---- the forward pass -----------------------------------------------------------

def to_float32(outputs):
    """NumPy outputs (or a tuple of them) as float32, whatever the compute dtype."""
    if isinstance(outputs, (list, tuple)):
        return tuple(np.asarray(o, "float32") for o in outputs)
    return np.asarray(outputs, "float32")


def forward_batches(model, batches, values=None):
    """Yield `(start, batch, output)` for `(start, batch)` pairs: `model(batch)` at inference, float32 NumPy.

    On JAX the next batch is dispatched before the previous output is copied to
    the host, so the copy and the NumPy work on it overlap the computation.
    `values=(name, value_range)` (JAX only) checks each batch's values, which
    were not checked yet, from the extremes the jitted call returns.
    """
    if keras.backend.backend() != "jax":
        for start, xb in batches:
            yield start, xb, to_float32(_predict_on_batch(model, xb))
        return
    if not model.built or not all(layer.built for layer in model._flatten_layers()):
        first = next(iter(batches), None)  # built by one ordinary call, then as below
        if first is None:
            return
        if values is not None:
            check_value_range(first[1], _batch_name(values[0], first[0], first[0] + len(first[1])), values[1])
        yield first[0], first[1], to_float32(_predict_on_batch(model, first[1]))
    fn = _jax_forward(model, extremes=values is not None)
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def finish(start, xb, out):
        if values is not None:
            out, bounds = out
            check_value_range(xb, _batch_name(values[0], start, start + len(xb)), values[1], np.asarray(bounds))
        return start, xb, to_float32(out)

    pending = None
    for start, xb in batches:
        out = fn(trainable, non_trainable, np.asarray(xb))
        if pending is not None:
            yield finish(*pending)
        pending = (start, xb, out)
    if pending is not None:
        yield finish(*pending)


# model -> its jitted inference call on JAX (see `_jax_forward`); weak, so models are not kept alive.
_JAX_FORWARD = weakref.WeakKeyDictionary()


def _jax_forward(model, extremes=False):
    """`f(trainable, non_trainable, x)`: `model(x)` at inference, jitted once per model (JAX only).

    Keras's `predict_on_batch` on JAX gathers every variable's value before the
    call and assigns each one back after it, and waits for the result: a fixed
    cost per batch. This call reads the values once per verb and returns at once.
    With `extremes`, it returns `(output, [min(x), max(x)])`, both NaN if any
    value is not finite (XLA's min and max skip NaN): one small array, as each
    copy back to the host has a fixed cost.
    """
    # With `predict_on_batch`, `encode` ran 0.7-0.9x as fast as `predict`; benchmarks/RESULTS.md,
    # "Inference and scoring throughput", has today's ratios.
    fns = _JAX_FORWARD.get(model)
    if fns is None:
        fns = _JAX_FORWARD[model] = {}
    if extremes not in fns:
        import jax
        import jax.numpy as jnp

        ref = weakref.ref(model)  # the cache's value must not keep its key alive
        if extremes:
            def forward(tv, ntv, x):
                finite = jnp.all(jnp.isfinite(x))
                bounds = jnp.where(finite, jnp.stack([jnp.min(x), jnp.max(x)]), jnp.nan)
                return ref().stateless_call(tv, ntv, x, training=False)[0], bounds

            fns[extremes] = jax.jit(forward)
        else:
            fns[extremes] = jax.jit(lambda tv, ntv, x: ref().stateless_call(tv, ntv, x, training=False)[0])
    return fns[extremes]


class _RetracingFilter:
    """Drops TensorFlow's "N out of the last N calls ... triggered tf.function retracing" note.

    TensorFlow counts traces by the Python code of the function, and every Keras
    model's predict step shares that code: the verbs run several models
    (encoder, decoder, the whole model), each tracing its own step once or twice,
    which TensorFlow reports as excessive retracing of one function.
    """

    @staticmethod
    def filter(record):
        return "triggered tf.function retracing" not in record.getMessage()


def _predict_on_batch(model, xb):
    if keras.backend.backend() != "tensorflow":
        return model.predict_on_batch(xb)
    import logging

    logger = logging.getLogger("tensorflow")
    logger.addFilter(_RetracingFilter)
    try:
        return model.predict_on_batch(xb)
    finally:
        logger.removeFilter(_RetracingFilter)
