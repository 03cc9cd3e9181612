"""A prior over a VQ-VAE's code grid: a small gated PixelCNN (van den Oord et al. 2016), in keras.ops.

`CodePrior` models `p(c) = prod_i p(c_i | c_<i)` over the grid's positions in raster order (row by
row, left to right). It has the gated PixelCNN's two stacks, so no position is blind: the vertical
stack sees every row above (masked k x k convolutions), the horizontal stack the positions to the
left in the same row (masked 1 x k convolutions) and, through a 1 x 1 link, the vertical stack at the
same position. The first layer excludes the position itself; later ones include it, as the features
there already depend only on the positions before it.

It trains with plain `fit` on integer code grids (`VQVAE.encode`'s output), on every backend. Its loss
is the negative log-likelihood per code in nats (the cross-entropy); `fit` also reports `bits_per_code`.
"""

import math

import keras
import numpy as np
from keras import ops

from keras_ae._validation import check_float, check_positive_int, check_seed, is_dataset, to_numpy
from keras_ae.losses import batch_mean, replicas_in_sync
from keras_ae.samplers import NotFittedError, Sampler, register_sampler

__all__ = ["CodePrior", "CodePriorSampler", "MaskedConv2D", "check_codes"]

STACKS = ("vertical", "horizontal")


def check_codes(codes, grid_shape, num_codes, name="codes"):
    """Validate a batch of code indices: integers in `[0, num_codes)` of shape `(n,) + grid_shape`.

    Returns them as an int32 NumPy array. Floats are accepted when every value is a whole number.
    """
    arr = np.asarray(to_numpy(codes, name))
    grid_shape = tuple(grid_shape)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"`{name}` must be an array of integer code indices. Received: dtype {arr.dtype}")
    if arr.shape == grid_shape:
        raise ValueError(f"`{name}` must be a batch of code grids of shape (n,) + {grid_shape}. Received one "
                         f"grid of shape {arr.shape}: add a batch axis, e.g. codes[None]")
    if arr.shape[1:] != grid_shape or arr.ndim != len(grid_shape) + 1:
        raise ValueError(f"`{name}` must have shape (n,) + {grid_shape} (one index per code position). "
                         f"Received: shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"`{name}` must hold whole numbers (code indices). Received non-integer values")
    if arr.size and (arr.min() < 0 or arr.max() >= num_codes):
        raise ValueError(f"`{name}` must lie in [0, {num_codes}) (the codebook has {num_codes} codes). "
                         f"Received values from {arr.min()} to {arr.max()}")
    return arr.astype("int32")


@keras.saving.register_keras_serializable(package="keras_ae")
class MaskedConv2D(keras.layers.Layer):
    """A 'same' convolution whose kernel sees only the positions before the centre (raster order).

    Args:
        filters: output channels.
        kernel_size: odd size k. `"vertical"`: a k x k kernel that keeps the rows above the
            centre (and the centre row, all of it, with `include_center`). `"horizontal"`: a 1 x k
            kernel that keeps the columns left of the centre (and the centre, with `include_center`).
        stack: `"vertical"` or `"horizontal"`.
        include_center: see `kernel_size`; False for a PixelCNN's first layer.
    """

    def __init__(self, filters, kernel_size, stack="vertical", include_center=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"`kernel_size` must be odd. Received: kernel_size={kernel_size}")
        if stack not in STACKS:
            raise ValueError(f"`stack` must be one of {STACKS}. Received: stack={stack!r}")
        self.stack = stack
        self.include_center = bool(include_center)

    def _mask(self):
        k, c = self.kernel_size, self.kernel_size // 2
        if self.stack == "vertical":
            mask = np.zeros((k, k), "float32")
            mask[:c + (1 if self.include_center else 0), :] = 1.0
        else:
            mask = np.zeros((1, k), "float32")
            mask[0, :c + (1 if self.include_center else 0)] = 1.0
        return mask

    def build(self, input_shape):
        mask = self._mask()
        self.kernel = self.add_weight(shape=mask.shape + (input_shape[-1], self.filters), name="kernel",
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(self.filters,), name="bias", initializer="zeros")
        self.mask = mask[:, :, None, None]
        self.built = True

    def call(self, x):
        kernel = self.kernel * ops.cast(self.mask, self.kernel.dtype)
        return ops.conv(x, kernel, padding="same") + self.bias

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, stack=self.stack,
                      include_center=self.include_center)
        return config


def _gate(x):
    a, b = ops.split(x, 2, axis=-1)
    return ops.tanh(a) * ops.sigmoid(b)


@keras.saving.register_keras_serializable(package="keras_ae")
class CodePrior(keras.Model):
    """An autoregressive prior over a grid of code indices: a gated PixelCNN.

    `fit(codes)` trains it on int code grids of shape `(n,) + grid_shape` (e.g. `VQVAE.encode(x)`); the
    loss is the mean negative log-likelihood per code in nats, weighed per grid by `sample_weight`.
    `log_prob` and `bits_per_code` score grids; `sample` draws new ones, one position at a time.

    Args:
        grid_shape: `(h, w)` of one code grid.
        num_codes: the number of distinct codes K.
        filters: channels of each stack.
        num_layers: gated layers (the first one masks the centre).
        kernel_size: odd kernel size of the layers after the first.
        first_kernel_size: odd kernel size of the first layer.
        **kwargs: `keras.Model` arguments (`name`, `dtype`, ...).

    Example:

    ```python
    prior = keras_ae.CodePrior.for_model(vqvae)
    prior.compile(optimizer="adam")
    prior.fit(vqvae.encode(x_train), epochs=20, batch_size=128)
    print(prior.bits_per_code(vqvae.encode(x_test)))
    vqvae.prior = prior
    ```
    """

    def __init__(self, grid_shape=(7, 7), num_codes=512, filters=64, num_layers=5, kernel_size=3,
                 first_kernel_size=7, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(grid_shape, (tuple, list)) or len(grid_shape) != 2:
            raise ValueError(f"`grid_shape` must be (height, width). Received: grid_shape={grid_shape!r}")
        self.grid_shape = tuple(check_positive_int("grid_shape", int(s)) for s in grid_shape)
        self.num_codes = check_positive_int("num_codes", num_codes)
        self.filters = check_positive_int("filters", filters)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.first_kernel_size = check_positive_int("first_kernel_size", first_kernel_size)
        f, dtype = self.filters, self.dtype_policy
        self.embedding = keras.layers.Embedding(self.num_codes, f, name="embedding", dtype=dtype)
        self.vertical, self.horizontal, self.links, self.outs = [], [], [], []
        for i in range(self.num_layers):
            k = self.first_kernel_size if i == 0 else self.kernel_size
            self.vertical.append(MaskedConv2D(2 * f, k, "vertical", include_center=i > 0, name=f"v_{i}",
                                              dtype=dtype))
            self.horizontal.append(MaskedConv2D(2 * f, k, "horizontal", include_center=i > 0, name=f"h_{i}",
                                                dtype=dtype))
            self.links.append(keras.layers.Conv2D(2 * f, 1, name=f"link_{i}", dtype=dtype))
            self.outs.append(keras.layers.Conv2D(f, 1, name=f"out_{i}", dtype=dtype))
        self.head = keras.layers.Conv2D(f, 1, activation="relu", name="head", dtype=dtype)
        self.logits = keras.layers.Conv2D(self.num_codes, 1, name="logits", dtype=dtype)
        self.bits_tracker = keras.metrics.Mean(name="bits_per_code")
        self.build((None,) + self.grid_shape)

    @classmethod
    def for_model(cls, model, **kwargs):
        """A prior for `model`'s code grid (a `VQVAE`): its `code_shape` and `num_codes`, plus `kwargs`."""
        return cls(grid_shape=model.code_shape, num_codes=model.num_codes, **kwargs)

    def build(self, input_shape):
        shape = tuple(input_shape) + (self.filters,)
        wide = shape[:-1] + (2 * self.filters,)
        self.embedding.build(tuple(input_shape))
        for v, h, link, out in zip(self.vertical, self.horizontal, self.links, self.outs):
            v.build(shape)
            h.build(shape)
            link.build(wide)
            out.build(shape)
        self.head.build(shape)
        self.logits.build(shape)
        self.built = True

    def call(self, codes, training=False):
        e = self.embedding(ops.cast(codes, "int32"))
        v, h = e, e
        for i in range(self.num_layers):
            v_pre = self.vertical[i](v)
            h_pre = self.horizontal[i](h) + self.links[i](v_pre)
            v = _gate(v_pre)
            update = self.outs[i](_gate(h_pre))
            h = update if i == 0 else h + update
        return self.logits(self.head(ops.relu(h)))

    # ---- training -----------------------------------------------------------------
    def per_code_nll(self, codes, logits):
        """Float32 `-log p(c_i | c_<i)` in nats, shape `(n,) + grid_shape`."""
        return ops.sparse_categorical_crossentropy(ops.cast(codes, "int32"), ops.cast(logits, "float32"),
                                                   from_logits=True)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        nll = ops.mean(ops.reshape(self.per_code_nll(x, y_pred), (ops.shape(y_pred)[0], -1)), axis=-1)
        loss = batch_mean(nll, sample_weight)
        self.bits_tracker.update_state(loss / math.log(2.0))
        replicas = replicas_in_sync()
        return loss / replicas if replicas > 1 else loss

    def compile(self, optimizer="rmsprop", loss=None, **kwargs):
        if loss is not None:
            raise ValueError(f"A CodePrior trains on its own negative log-likelihood; do not pass `loss` to "
                             f"compile(). Received: loss={loss!r}")
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def _checked(self, codes, name):
        if codes is None or is_dataset(codes):
            return codes
        return check_codes(codes, self.grid_shape, self.num_codes, name=name)

    def fit(self, x=None, y=None, *args, **kwargs):
        if y is not None:
            raise ValueError("A CodePrior models the codes themselves: fit(codes), without `y`. "
                             f"Received: y of type {type(y).__name__}")
        # The codes are the target too: Keras drops `sample_weight` when `y` is None.
        vd = kwargs.get("validation_data")
        if isinstance(vd, (tuple, list)):
            codes = self._checked(vd[0], "validation_data[0]")
            kwargs["validation_data"] = (codes, codes) + tuple(vd[2:])
        elif vd is not None and not is_dataset(vd):
            codes = self._checked(vd, "validation_data")
            kwargs["validation_data"] = (codes, codes)
        x = self._checked(x, "x")
        return super().fit(x, None if is_dataset(x) else x, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        x = self._checked(x, "x")
        return super().evaluate(x, None if is_dataset(x) else x, *args, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(grid_shape=list(self.grid_shape), num_codes=self.num_codes, filters=self.filters,
                      num_layers=self.num_layers, kernel_size=self.kernel_size,
                      first_kernel_size=self.first_kernel_size)
        return config

    # ---- scores and draws -------------------------------------------------------------
    def log_prob(self, codes, batch_size=256):
        """Per-grid `log p(codes)` in nats: a float64 NumPy array of shape `(n,)`."""
        codes = check_codes(codes, self.grid_shape, self.num_codes)
        check_positive_int("batch_size", batch_size)
        out = []
        for start in range(0, len(codes), batch_size):
            cb = codes[start:start + batch_size]
            logits = self.predict_on_batch(cb)
            nll = ops.convert_to_numpy(self.per_code_nll(cb, logits))
            out.append(-nll.reshape(len(cb), -1).astype("float64").sum(axis=1))
        return np.concatenate(out) if out else np.zeros((0,), "float64")

    def bits_per_code(self, codes, batch_size=256):
        """The mean negative log-likelihood per code, in bits (log2 K for a uniform guess)."""
        lp = self.log_prob(codes, batch_size)
        return float(-lp.sum() / (len(lp) * math.prod(self.grid_shape)) / math.log(2.0))

    def sample(self, n, temperature=1.0, seed=None, batch_size=256):
        """Draw `n` code grids, position by position in raster order: an int32 array `(n,) + grid_shape`.

        Args:
            n: number of grids.
            temperature: divides the logits before each draw (`> 0`; 1 is the model itself).
            seed: int seed; the same seed gives the same grids on any backend (the draws are NumPy's).
            batch_size: grids per forward pass.
        """
        check_positive_int("n", n)
        temperature = check_float("temperature", temperature, 0.0, low_inclusive=False)
        check_positive_int("batch_size", batch_size)
        rng = np.random.default_rng(check_seed(seed))
        h, w = self.grid_shape
        codes = np.zeros((n,) + self.grid_shape, "int32")
        for start in range(0, n, batch_size):
            block = codes[start:start + batch_size]
            for i in range(h):
                for j in range(w):
                    logits = np.asarray(self.predict_on_batch(block)[:, i, j, :], "float64") / temperature
                    # Gumbel-max: one categorical draw per grid.
                    gumbel = -np.log(-np.log(rng.uniform(1e-12, 1.0, logits.shape)))
                    block[:, i, j] = np.argmax(logits + gumbel, axis=-1)
        return codes


# ---- the prior as a sampler: how a zoo entry ships it ------------------------------------------
@register_sampler("code_prior")
class CodePriorSampler(Sampler):
    """A VQ-VAE's sampler: a `CodePrior` fitted to the training code grids, stored as plain arrays.

    Its file (`save`, a `keras_ae.samplers` `.npz`) holds the prior's settings in the metadata JSON and
    each of its weights as an array `weight_0`, `weight_1`, ... (in `weights_dtype`): no pickle, and a
    zoo entry's prior is its one sampler file, hashed and signed with the weights like any sampler.
    `attach(vqvae)` takes the code grid and codebook size from the model and sets `vqvae.prior`;
    `fit_codes(codes)` trains the prior (Adam with a cosine decay) on int code grids; `sample(n)` draws
    grids from it and decodes them.

    Args:
        filters, num_layers, kernel_size, first_kernel_size: the `CodePrior`'s.
        epochs, batch_size, lr: its training.
        temperature: the default temperature of `sample`.
        weights_dtype: `"float32"` or `"float16"`: the stored weights; the prior is rounded to them after
            training, so it scores and samples as shipped.
        seed: seed of the prior's initialization and of the batches' order.
        grid_shape, num_codes: the code grid; `None` until `attach(model)` sets them.
    """

    def __init__(self, filters=64, num_layers=5, kernel_size=3, first_kernel_size=7, epochs=10, batch_size=128,
                 lr=1e-3, temperature=1.0, weights_dtype="float32", seed=0, grid_shape=None, num_codes=None):
        super().__init__()
        self.prior_kwargs = dict(filters=check_positive_int("filters", filters),
                                 num_layers=check_positive_int("num_layers", num_layers),
                                 kernel_size=check_positive_int("kernel_size", kernel_size),
                                 first_kernel_size=check_positive_int("first_kernel_size", first_kernel_size))
        self.epochs = check_positive_int("epochs", epochs)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.lr = check_float("lr", lr, 0.0, low_inclusive=False)
        self.temperature = check_float("temperature", temperature, 0.0, low_inclusive=False)
        if weights_dtype not in ("float32", "float16"):
            raise ValueError(f"`weights_dtype` must be 'float32' or 'float16'. Received: {weights_dtype!r}")
        self.weights_dtype = weights_dtype
        self.seed = check_seed(seed)
        self.grid_shape = None if grid_shape is None else tuple(check_positive_int("grid_shape", int(s))
                                                                for s in grid_shape)
        self.num_codes = check_positive_int("num_codes", num_codes, allow_none=True)
        self.prior = None
        self._ARRAYS = ()
        if self.grid_shape is not None and self.num_codes is not None:
            self._build()

    def _build(self):
        if len(self.grid_shape) != 2:
            raise ValueError(f"`grid_shape` must be (height, width). Received: {self.grid_shape}")
        self.prior = CodePrior(self.grid_shape, self.num_codes, **self.prior_kwargs)
        self._ARRAYS = tuple(f"weight_{i}" for i in range(len(self.prior.weights)))

    def check_model(self, model):
        """Return the number of positions of `model`'s code grid; a `ValueError` unless it is a grid of
        indices (a `VQVAE`) of this sampler's shape and codebook size."""
        shape, k = getattr(model, "code_shape", None), getattr(model, "num_codes", None)
        if shape is None or len(tuple(shape)) != 2 or k is None:
            raise ValueError(f"A code prior needs a model whose code is a grid of indices (a VQVAE). Received: "
                             f"{type(model).__name__} with code shape {shape}")
        if self.grid_shape is not None and (tuple(shape) != self.grid_shape or k != self.num_codes):
            raise ValueError(f"This code prior models {self.num_codes} codes on a {self.grid_shape} grid; "
                             f"{type(model).__name__} has {k} codes on a {tuple(shape)} grid")
        return math.prod(shape)

    def attach(self, model):
        """Take `model`'s grid and codebook size (first time), check them, and set `model.prior` once fitted."""
        self.check_model(model)
        if self.grid_shape is None:
            self.grid_shape, self.num_codes = tuple(model.code_shape), int(model.num_codes)
        if self.code_size_ is not None:
            model.prior = self.prior
        self.model = model
        return self

    def fit(self, model, x=None, batch_size=256):
        """Encode `x` with the VQ-VAE `model`, train the prior on the code grids; return `self`, attached."""
        if x is None:
            raise ValueError("CodePriorSampler.fit needs the training inputs `x` to encode. Received: x=None")
        self.attach(model)
        return self.fit_codes(model.encode(x, batch_size=batch_size)).attach(model)

    def fit_codes(self, z):
        """Train the prior on int code grids `z` of shape `(n,) + grid_shape`; returns the sampler."""
        if self.grid_shape is None:
            raise NotFittedError("A code prior takes its grid and codebook size from the model: call "
                                 "attach(vqvae) before fit_codes(codes), or fit(vqvae, x)")
        codes = check_codes(z, self.grid_shape, self.num_codes, name="z")
        keras.utils.set_random_seed(self.seed)
        self._build()
        steps = self.epochs * -(-len(codes) // self.batch_size)
        schedule = keras.optimizers.schedules.CosineDecay(self.lr, steps)
        self.prior.compile(optimizer=keras.optimizers.Adam(schedule))
        self.prior.fit(codes, epochs=self.epochs, batch_size=self.batch_size, verbose=2)
        self._store([np.asarray(w) for w in self.prior.get_weights()])
        self.code_size_, self.n_fit_ = math.prod(self.grid_shape), int(len(codes))
        return self

    def _store(self, weights):
        """Round `weights` to `weights_dtype`, load them into the prior and keep them as the file's arrays."""
        stored = [np.asarray(w, self.weights_dtype) for w in weights]
        self.prior.set_weights([w.astype("float32") for w in stored])
        for name, w in zip(self._ARRAYS, stored):
            setattr(self, name + "_", w)

    def _set_arrays(self, arrays, where):
        expected = [tuple(w.shape) for w in self.prior.weights]
        weights = []
        for name, shape in zip(self._ARRAYS, expected):
            a = arrays[name]
            if a.dtype.kind != "f" or tuple(a.shape) != shape or not np.all(np.isfinite(a)):
                raise ValueError(f"{where}: array {name!r} must be a finite float array of shape {shape} (the "
                                 f"prior's weight). Received: dtype={a.dtype}, shape={a.shape}")
            weights.append(a)
        self._store(weights)
        self.code_size_ = math.prod(self.grid_shape)

    def sample_codes(self, n, seed=None, temperature=None):
        """Draw `n` code grids from the prior: int32, shape `(n,) + grid_shape`."""
        self._require_fitted()
        t = self.temperature if temperature is None else temperature
        return self.prior.sample(n, temperature=t, seed=seed)

    def sample(self, n, seed=None, batch_size=256, model=None, temperature=None):
        """Draw `n` code grids (at `temperature`, default the sampler's) and decode them with the VQ-VAE."""
        model = self.model if model is None else model
        if model is None:
            raise ValueError("This CodePriorSampler has no model to decode with: pass model=..., or call "
                             "attach(vqvae)")
        self.check_model(model)
        codes = self.sample_codes(n, seed=seed, temperature=temperature)
        return model.decode(codes, batch_size=batch_size)

    def bits_per_code(self, codes, batch_size=256):
        """The prior's mean negative log-likelihood of `codes` per code position, in bits."""
        self._require_fitted()
        return self.prior.bits_per_code(codes, batch_size=batch_size)

    def get_config(self):
        return {**self.prior_kwargs, "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                "temperature": self.temperature, "weights_dtype": self.weights_dtype, "seed": self.seed,
                "grid_shape": None if self.grid_shape is None else list(self.grid_shape),
                "num_codes": self.num_codes}
