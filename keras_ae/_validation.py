"""Input checks shared by every public entry point.

Errors follow the Keras style: say what was expected and what was received.
"""

import math

import numpy as np

FLOAT32_MAX = float(np.finfo("float32").max)


def check_positive_int(name, value, allow_none=False):
    """Return `value` if it is a positive int, else raise `ValueError`."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r}"
        )
    return int(value)


def check_seed(seed, name="seed"):
    """Return `seed` as an int >= 0, or `None`; else raise `ValueError`."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`{name}` must be None or an integer >= 0. Received: {name}={seed!r}")
    return int(seed)


def stream_seed(seed, stream):
    """A seed for the `stream`-th random stream of a model seeded with `seed` (None stays None).

    Not `seed + stream`: Keras's PyTorch backend seeds draw n of a `SeedGenerator(s)`
    with `s + n`, so generators seeded `s` and `s + 1` would repeat each other's noise
    one step apart. These seeds are far apart (a hash of both numbers, 31 bits).
    """
    if seed is None:
        return None
    return int(np.random.SeedSequence([seed, stream]).generate_state(1)[0] >> 1)


def check_units(name, units):
    """Return `units` as a tuple of positive ints (an empty tuple is allowed)."""
    if isinstance(units, (int, np.integer)) and not isinstance(units, bool):
        units = (units,)
    try:
        units = tuple(units)
    except TypeError:
        raise ValueError(
            f"`{name}` must be a sequence of positive integers. "
            f"Received: {name}={units!r}"
        ) from None
    for u in units:
        if isinstance(u, bool) or not isinstance(u, (int, np.integer)) or u < 1:
            raise ValueError(
                f"`{name}` must be a sequence of positive integers. "
                f"Received: {name}={units!r}"
            )
    return tuple(int(u) for u in units)


def check_float(name, value, low=None, high=None, low_inclusive=True,
                high_inclusive=True):
    """Return `value` as a float within the given bounds, else raise."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a number. Received: {name}={value!r}") from None
    bad = not math.isfinite(value)
    if low is not None:
        bad |= value < low if low_inclusive else value <= low
    if high is not None:
        bad |= value > high if high_inclusive else value >= high
    if bad:
        lo = "" if low is None else ("[" if low_inclusive else "(") + f"{low}"
        hi = "" if high is None else f"{high}" + ("]" if high_inclusive else ")")
        rng = f"in {lo or '(-inf'}, {hi or 'inf)'}"
        raise ValueError(f"`{name}` must be a finite number {rng}. Received: {name}={value!r}")
    return value


def check_activation(name, value):
    """Return `value` if Keras knows it as an activation (`None` is linear), else raise."""
    import keras

    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        raise ValueError(f"`{name}` is not a Keras activation. Received: {name}={value!r}") from None
    return value


def check_initializer(name, value):
    """`None`, or a Keras initializer as a name or config (an instance is serialized), else raise."""
    import keras

    if value is None:
        return None
    try:
        keras.initializers.get(value)
    except (ValueError, TypeError):
        raise ValueError(f"`{name}` is not a Keras initializer. Received: {name}={value!r}") from None
    if isinstance(value, keras.initializers.Initializer):
        value = keras.initializers.serialize(value)
    return value


def check_choice(name, value, choices):
    """Return `value` if it is one of `choices`, else raise `ValueError`."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {sorted(choices)}. Received: {name}={value!r}"
        )
    return value


def check_input_shape(input_shape):
    """Return `input_shape` as a tuple of positive ints (no batch axis)."""
    shape = check_units("input_shape", input_shape)
    if not shape:
        raise ValueError(
            "`input_shape` must describe one sample, e.g. (784,) or (28, 28, 1). "
            f"Received: input_shape={input_shape!r}"
        )
    return shape


def is_dataset(x):
    """True for batched input sources: `tf.data.Dataset`, `keras.utils.PyDataset`, a
    torch `DataLoader`, or a generator. Their batches are checked one at a time."""
    import inspect

    names = {f"{c.__module__}.{c.__qualname__}" for c in type(x).__mro__}
    return (inspect.isgenerator(x)
            or any(n.startswith("tensorflow.python.data.") and n.endswith("DatasetV2") for n in names)
            or any(n.endswith("PyDataset") for n in names)
            or "torch.utils.data.dataloader.DataLoader" in names)


def beyond_float32_rows(arr, chunk=1 << 22):
    """A boolean per sample (first axis) of the NumPy array `arr`: whether it holds a finite value beyond
    float32's range (|v| > 3.4e38), which keras-ae, computing in float32, cannot compute; `None` when
    `arr`'s dtype cannot hold one (float32 and narrower, integers). Checked `chunk` values at a time."""
    if arr.dtype.kind != "f" or arr.dtype.itemsize <= 4 or arr.ndim < 1:
        return None
    rows = max(1, chunk // max(1, int(np.prod(arr.shape[1:]))))
    found = np.zeros(len(arr), bool)
    for start in range(0, len(arr), rows):
        part = np.abs(arr[start:start + rows]).reshape(min(rows, len(arr) - start), -1)
        found[start:start + rows] = ((part > FLOAT32_MAX) & np.isfinite(part)).any(axis=1)
    return found


def first_beyond_float32(arr):
    """`(index, n_samples)`: the index (a tuple) of the first finite value of the NumPy array `arr` beyond
    float32's range, and how many samples hold one; `None` if none does."""
    rows = beyond_float32_rows(arr)
    if rows is None or not rows.any():
        return None
    r = int(np.argmax(rows))
    flat = np.asarray(arr[r]).reshape(-1)
    j = int(np.argmax(np.isfinite(flat) & (np.abs(flat) > FLOAT32_MAX)))
    return (r,) + tuple(int(i) for i in np.unravel_index(j, arr.shape[1:])), int(rows.sum())


def _refuse_beyond_float32(arr, name):
    """Raise a `ValueError` that names a finite value beyond float32's range in `arr`, if there is one
    (cast to float32 it would become infinite, and be reported as such)."""
    found = first_beyond_float32(arr)
    if found is None:
        return
    index, n = found
    raise ValueError(f"`{name}` holds values outside the float32 range (magnitudes up to {FLOAT32_MAX:.3g}) that "
                     f"keras-ae computes in, in {n} sample(s): the first is {float(arr[index]):g} at "
                     f"index {index}. Rescale the data; a detector's scores count such samples as anomalies")


def to_numpy(x, name="x"):
    """A NumPy view of an array of any kind the backends use.

    NumPy arrays, lists, pandas DataFrames and Series, `tf.Tensor`, JAX arrays
    and torch tensors all become NumPy arrays, so one set of checks covers them.
    """
    if isinstance(x, np.ndarray):
        return x
    module = type(x).__module__ or ""
    if module.startswith("pandas"):
        return x.to_numpy()
    if module.startswith("torch"):
        x = x.detach().cpu()
        return (x.float() if str(x.dtype) == "torch.bfloat16" else x).numpy()
    if module.startswith("tensorflow") and hasattr(x, "numpy"):
        return x.numpy()
    if is_dataset(x):
        raise ValueError(
            f"`{name}` must be an array here, not a batched data set. Received: {type(x).__name__}"
        )
    return x


def check_batch(x, sample_shape, name="x", value_range=None, check_values=True):
    """Validate a batch of samples and return it as a float32 NumPy array.

    A batch of flat vectors may be given for image models and vice versa, as
    long as the number of values per sample matches: `(n, 784)` and
    `(n, 28, 28)` are both reshaped to `(n, 28, 28, 1)` for a 28x28x1 model.

    Args:
        x: array-like batch.
        sample_shape: the shape of one sample the model expects.
        name: the argument name used in error messages.
        value_range: optional `(low, high)` bounds every value must lie in.
        check_values: `False` checks the type and shape only; the caller then
            checks the values with `check_value_range` (e.g. from extremes it has
            computed elsewhere).

    Returns:
        A float32 NumPy array of shape `(n,) + sample_shape`.
    """
    sample_shape = tuple(sample_shape)
    x = to_numpy(x, name)
    try:
        arr = np.asarray(x)
    except Exception as e:  # e.g. ragged nested lists
        raise ValueError(f"`{name}` must be an array of numbers. Received: {type(x).__name__} ({e})") from None
    if arr.dtype.name == "bfloat16":  # ml_dtypes' bfloat16 (JAX, torch) is not a NumPy number type
        arr = arr.astype("float32")
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise ValueError(
            f"`{name}` must hold real numbers. Received: dtype={arr.dtype}"
        )
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(f"`{name}` must hold real numbers. Received: dtype={arr.dtype}")
    expected = f"(batch,) + {sample_shape}"
    if arr.ndim < 2:
        raise ValueError(
            f"`{name}` must be a batch of samples with shape {expected}. "
            f"Received: shape={arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(
            f"`{name}` is an empty batch; expected at least one sample of shape "
            f"{sample_shape}. Received: shape={arr.shape}"
        )
    per_sample = int(np.prod(arr.shape[1:]))
    if arr.shape[1:] != sample_shape:
        # Accept a flat <-> image view of the same pixels, nothing else.
        if per_sample != int(np.prod(sample_shape)):
            raise ValueError(
                f"`{name}` has the wrong sample shape: expected {expected}. "
                f"Received: shape={arr.shape}"
            )
        arr = arr.reshape((arr.shape[0],) + sample_shape)
    wide = arr
    with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, and is reported below
        arr = arr.astype("float32", copy=False)
    if check_values:
        try:
            check_value_range(arr, name, value_range)
        except ValueError:
            _refuse_beyond_float32(wide, name)  # only on the error path: no extra pass over good data
            raise
    return arr


def check_value_range(arr, name="x", value_range=None, extremes=None):
    """Raise unless every value of the NumPy array `arr` is finite and within `value_range`.

    `extremes` is `(min, max)` of `arr` if already known (a model's jitted call
    computes them beside its output); otherwise NumPy computes them here.
    """
    # min and max propagate NaN, and are infinite if any value is: two passes over the batch
    # check both finiteness and range, without a third (np.isfinite) on the path of every `encode`.
    if extremes is not None:
        xmin, xmax = float(extremes[0]), float(extremes[1])
    else:
        xmin, xmax = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
    if not (math.isfinite(xmin) and math.isfinite(xmax)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"`{name}` must hold finite values. Received {bad} NaN or infinite "
            f"value(s) in an array of shape {arr.shape}"
        )
    if value_range is not None and arr.size:
        lo, hi = value_range
        if xmin < lo or xmax > hi:
            hint = " (scale uint8 images with x / 255.0)" if xmax > 1 and hi == 1 else ""
            raise ValueError(
                f"`{name}` values must lie in [{lo}, {hi}]{hint}. "
                f"Received: min={xmin:g}, max={xmax:g}"
            )
