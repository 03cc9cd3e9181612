"""Training pipelines: shuffled `(input, target)` batches whose order, noise and shifts are keyed by epoch.

A run resumed at epoch `e` (`keras_ae.callbacks.SafeBackupAndRestore`) sees
exactly the batches the uninterrupted run saw, on every backend:
`training_dataset` is a `tf.data.Dataset` on TensorFlow and an `ArrayBatches`
(a `keras.utils.PyDataset`, no TensorFlow) elsewhere.
"""

import numpy as np

from keras_ae._quiet import import_keras
from keras_ae._validation import check_batch, check_float, check_positive_int, check_seed

import_keras()
import keras  # noqa: E402


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


def shift_images(xp, xb, offsets, shift, image_shape):
    """Each image of `xb` moved by `offsets - shift` pixels (rows, columns), zero-filled.

    The same code serves the NumPy and the `tf.data` pipelines.

    Args:
        xp: the array module, `numpy` or `tensorflow`.
        xb: a batch of images, `(batch, height, width, channels)` or
            flattened, with `height * width * channels` values per sample.
        offsets: int array of shape `(batch, 2)`, values in `[0, 2 * shift]`:
            `shift` means "not moved" along that axis.
        shift: the largest move, in pixels.
        image_shape: `(height, width, channels)` of one image.

    Returns:
        The moved batch, in the shape of `xb`.
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
    `flip=True` mirrors a random half of the images left to right (input and
    target alike). A uint8 `x` (a loader's `dtype="uint8"`) stays uint8 in
    memory and each batch is converted to float32 in [0, 1] as it is served.
    The order of epoch `e` and the noise of its
    batch `i` are functions of `(seed, e, i)` only, so a run resumed at epoch
    `e` (`callbacks.SafeBackupAndRestore`) sees exactly the batches the
    uninterrupted run saw. `fit` on a keras-ae model keeps `epoch` in step
    with training (`set_epoch`); for another model pass `EpochSync(data)`
    from `keras_ae.callbacks`.
    """

    def __init__(self, x, batch_size=256, shuffle=True, seed=None, input_noise=0.0, shift=0,
                 image_shape=None, flip=False, **kwargs):
        super().__init__(**kwargs)
        self.x = x
        self.flip = bool(flip)
        if self.flip and len(np.shape(x)) != 4:
            raise ValueError("`flip` needs images of shape (n, height, width, channels). "
                             f"Received: x of shape {np.shape(x)}")
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
        if xb.dtype == np.uint8:
            xb = xb.astype("float32") / 255.0
        rng = np.random.default_rng([self.seed, self.epoch, i, 1])
        if self.flip:
            mirrored = np.random.default_rng([self.seed, self.epoch, i, 2]).random(len(xb)) < 0.5
            xb = np.where(mirrored[:, None, None, None], xb[:, :, ::-1], xb)
        if self.shift:  # before `transform`, so every subclass's batches are moved too
            xb = shift_images(np, xb, rng.integers(0, 2 * self.shift + 1, size=(len(xb), 2)), self.shift,
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


def training_dataset(x, batch_size=256, shuffle=True, seed=None, input_noise=0.0, shift=0, image_shape=None,
                     flip=False):
    """A pipeline of `(input, target)` batches for `fit`, on the current backend.

    On TensorFlow it is a prefetched `tf.data.Dataset` (faster than NumPy
    arrays passed to `fit`: benchmarks/RESULTS.md, "jit_compile and input
    pipeline"). On JAX and
    PyTorch it is an `ArrayBatches` (a `keras.utils.PyDataset`), which needs
    no TensorFlow. The target is the clean `x`; `input_noise=s` adds
    `s * N(0, 1)` to the input, clipped to [0, 1]; `shift` and `flip` are
    augmentations, as in `ArrayBatches`. A uint8 `x` stays uint8 in memory
    (a quarter of float32's) and is served as float32 in [0, 1], a batch at
    a time.

    Example:

    ```python
    model.fit(keras_ae.data.training_dataset(x_train, 256, seed=0), epochs=10)
    ```
    """
    if not (isinstance(x, np.ndarray) and x.dtype == np.uint8):  # uint8 is in range by construction
        x = check_batch(x, np.shape(x)[1:], "x", value_range=(0.0, 1.0))
    check_positive_int("batch_size", batch_size)
    input_noise = check_float("input_noise", input_noise, 0.0)
    shift, image_shape = _check_shift(shift, image_shape, np.shape(x)[1:])
    if keras.backend.backend() != "tensorflow":
        return ArrayBatches(x, batch_size, shuffle=shuffle, seed=seed, input_noise=input_noise,
                            shift=shift, image_shape=image_shape, flip=flip)
    if flip and len(np.shape(x)) != 4:
        raise ValueError("`flip` needs images of shape (n, height, width, channels). "
                         f"Received: x of shape {np.shape(x)}")
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
        if b.dtype == tf.uint8:
            b = tf.cast(b, "float32") / 255.0
        if flip:
            key = tf.stack([tf.constant(seed, "int64") * 1_000_003 + e, i - 2**41])
            mirrored = tf.random.stateless_uniform([tf.shape(b)[0]], key) < 0.5
            b = tf.where(mirrored[:, None, None, None], tf.reverse(b, axis=[2]), b)
        if shift:
            # Neither the noise's key (i >= 0) nor the order's ((seed, -1 - e)).
            key = tf.stack([tf.constant(seed, "int64") * 1_000_003 + e, i - 2**40])
            offsets = tf.random.stateless_uniform([tf.shape(b)[0], 2], key, 0, 2 * shift + 1, "int32")
            b = shift_images(tf, b, offsets, shift, image_shape)
        if not input_noise:
            return b, b
        noise = tf.random.stateless_normal(tf.shape(b), dtype=b.dtype,
                                           seed=tf.stack([tf.constant(seed, "int64") * 1_000_003 + e, i]))
        return tf.clip_by_value(b + input_noise * noise, 0.0, 1.0), b

    ds = tf.data.Dataset.from_tensors(0).flat_map(one_epoch).map(make_batch)
    ds = ds.apply(tf.data.experimental.assert_cardinality(-(-n // batch_size))).prefetch(tf.data.AUTOTUNE)
    ds.set_epoch = lambda e: epoch.assign(int(e))
    return ds
