"""The shared autoencoder API: `encode`, `decode`, `reconstruct`, `latent_dim`.

Every keras-ae model subclasses `BaseAutoencoder`. A subclass builds its
`encoder` and `decoder` (functional Keras models) from its constructor
arguments, which are also its config, so `get_config`/`from_config` and
`.keras` save and load need no pickled code.

The model code is backend-neutral (`keras.ops`, `keras.random`): the same
classes train on TensorFlow, JAX and PyTorch with Keras's own trainers. The
deterministic models override `call` and `compute_loss` only, so `fit`,
`evaluate`, `sample_weight`, compiled metrics, `jit_compile`,
`steps_per_execution`, mixed precision and distribution all come from Keras.

One build order for every class: a constructor validates and stores its own
arguments under their own names, then calls `super().__init__`; the base
class builds the layers last (`build_layers`, `build_encoder`,
`build_decoder`), when every argument is known.
"""

import difflib
import inspect
import math
import os
import sys
import weakref

import keras
import numpy as np
from keras import ops

from keras_ae._quiet import start_devices
from keras_ae._validation import (
    check_activation,
    check_batch,
    check_choice,
    check_input_shape,
    check_positive_int,
    check_units,
    check_value_range,
    is_dataset,
    to_numpy,
)
from keras_ae.losses import (
    RECONSTRUCTION_LOSSES,
    batch_mean,
    per_sample_reconstruction_loss,
    replicas_in_sync,
    total_penalty,
)

ERROR_METRICS = ("mse", "sse", "bce")

__all__ = ["BaseAutoencoder", "DenseAutoencoder", "dense_stack", "per_sample_reconstruction_loss",
           "reconstruction_error"]


def dense_stack(x, units, activation, prefix, dtype=None, new_initializer=None):
    """Apply `Dense` layers of the given sizes to the functional tensor `x`.

    `new_initializer()`, if given, returns each layer's kernel initializer (a
    new one per layer); otherwise Keras's default, `"glorot_uniform"`.
    """
    for i, u in enumerate(units):
        init = new_initializer() if new_initializer is not None else "glorot_uniform"
        x = keras.layers.Dense(u, activation=activation, name=f"{prefix}_{i}", dtype=dtype,
                               kernel_initializer=init)(x)
    return x


def to_float32(outputs):
    """NumPy outputs (or a tuple of them) as float32, whatever the compute dtype."""
    if isinstance(outputs, (list, tuple)):
        return tuple(np.asarray(o, "float32") for o in outputs)
    return np.asarray(outputs, "float32")


class BaseAutoencoder(keras.Model):
    """Base class of all keras-ae autoencoders.

    Subclasses implement `build_encoder()` and `build_decoder()`, and may
    override `build_layers()` to create extra layers (e.g. a `Corruption`
    applied in training only, stored as `self.corruption`) and set
    `penalty_name` (the metric under which losses added by `add_loss` in the
    encoder are reported, e.g. `"sparsity_loss"`).

    Training works with plain `compile(optimizer=...)` and `fit(x)` or
    `fit(x, x)` (or `fit(x_noisy, x_clean)`). Without a compiled `loss`, the
    model's own `reconstruction_loss` is used; a compiled `loss` replaces it.
    `sample_weight` weighs each sample's reconstruction loss; penalties added
    with `add_loss` are not weighted.

    Args:
        input_shape: shape of one sample, e.g. `(784,)` or `(28, 28, 1)`.
        latent_dim: size of the code.
        reconstruction_loss: `"mse"` or `"bce"`, averaged over values.
        **kwargs: `keras.Model` arguments: `name`, `dtype` (e.g. `"float64"`
            or a mixed policy), `trainable`.
    """

    penalty_name = None
    # Whether `latent_dim=None` is allowed (a spatial code, for convolutional models).
    latent_dim_optional = False
    # What a variant is, in one place: the CLI, the zoo recipes, the tests and the benchmarks
    # read these (with `test_config`, the small configuration the tests build).
    image_input = False  # True: convolutional; one sample is an (height, width, channels) image
    generative = False  # True: a VAE (`sample`, `elbo`), trained with a random draw per step
    decodes_from_code_alone = True  # False: the output also uses the input directly (colorization)
    # The backend that trained this kind of model fastest in the speed benchmark (benchmarks/RESULTS.md,
    # "Which backend is fastest"): `keras-ae train --backend auto` reads it, without importing Keras,
    # from this literal (keras_ae/cli/backend.py). Dense models: JAX.
    fastest_backend = "jax"

    def __init__(self, input_shape=(784,), latent_dim=20, reconstruction_loss="mse", **kwargs):
        self._check_keywords(kwargs)
        start_devices()  # once: TensorFlow's CUDA probe lines are held back (keras_ae/_quiet.py)
        super().__init__(**kwargs)
        self.input_shape = check_input_shape(input_shape)
        self.latent_dim = check_positive_int("latent_dim", latent_dim,
                                             allow_none=self.latent_dim_optional)
        self.reconstruction_loss = check_choice(
            "reconstruction_loss", reconstruction_loss, RECONSTRUCTION_LOSSES
        )
        self.corruption = None
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        if self.penalty_name:
            self.penalty_tracker = keras.metrics.Mean(name=self.penalty_name)
        self._check_config()
        self.build_layers()
        self.encoder = self.build_encoder()
        self.decoder = self.build_decoder()
        self.built = True

    # Keyword arguments that keras.Model takes besides the constructor's own.
    _KERAS_KEYWORDS = ("name", "dtype", "trainable", "autocast", "activity_regularizer")

    @classmethod
    def _check_keywords(cls, kwargs):
        """Raise a `TypeError` naming a keyword no class in the hierarchy takes (e.g. a misspelling)."""
        known = set(cls._KERAS_KEYWORDS)
        for klass in cls.__mro__:
            if "__init__" in vars(klass) and issubclass(klass, BaseAutoencoder):
                known.update(p for p in inspect.signature(klass.__init__).parameters
                             if p not in ("self", "kwargs"))
        unknown = sorted(k for k in kwargs if k not in known)
        if unknown:
            close = difflib.get_close_matches(unknown[0], known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {unknown[0]!r}.{hint} "
                            f"It accepts: {', '.join(sorted(known))}")

    # ---- architecture hooks -------------------------------------------------
    def _check_config(self):
        """Hook: validate the arguments together, before anything is built."""

    def build_layers(self):
        """Hook: create layers used by `call` besides the encoder and decoder."""

    def build_encoder(self):
        raise NotImplementedError

    def build_decoder(self):
        raise NotImplementedError

    # ---- properties ---------------------------------------------------------
    @property
    def sample_shape(self):
        """Shape of one input sample, without the batch axis (the `input_shape` argument)."""
        return self.input_shape

    @property
    def code_shape(self):
        """Shape of one code, without the batch axis."""
        return tuple(self.decoder.inputs[0].shape[1:])

    @property
    def code_size(self):
        """Number of values in one code (`latent_dim`, or the size of a spatial code)."""
        return int(math.prod(self.code_shape))

    @property
    def input_range(self):
        """Bounds input values must lie in, or `None` for no bound."""
        return (0.0, 1.0)

    # ---- Keras override points ---------------------------------------------
    def call(self, inputs, training=False):
        x = inputs
        if self.corruption is not None:
            x = self.corruption(x, training=training)
        return self.decoder(self.encoder(x, training=training), training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # `fit(x)` and `fit(x, x)` both reconstruct the clean input.
        target = x if y is None else y
        # Penalties from `add_loss` (under JAX, the ones this step's stateless call collected).
        penalty = total_penalty(self.losses)
        # Like Keras's losses, return the loss divided by the number of tf.distribute
        # replicas (their gradients are summed); the metrics track the per-batch value.
        replicas = replicas_in_sync()
        if getattr(self, "loss", None) is None:
            per = per_sample_reconstruction_loss(self.reconstruction_loss, target, y_pred)
            recon = batch_mean(per, sample_weight)
            total = recon if penalty is None else recon + penalty
            scaled = total / replicas if replicas > 1 else total
        else:
            scaled = super().compute_loss(x, target, y_pred, sample_weight, training)
            total = ops.cast(scaled, "float32") * replicas
            recon = total if penalty is None else total - penalty
        self.reconstruction_loss_tracker.update_state(recon)
        if self.penalty_name:
            self.penalty_tracker.update_state(0.0 if penalty is None else penalty)
        return scaled

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, x if y is None else y, y_pred, sample_weight)

    def get_config(self):
        # Keras's base config: name, trainable and dtype (a policy) round trip.
        config = super().get_config()
        config.update(
            input_shape=list(self.input_shape),
            latent_dim=self.latent_dim,
            reconstruction_loss=self.reconstruction_loss,
        )
        return config

    # ---- saving ---------------------------------------------------------------
    @classmethod
    def from_preset(cls, preset, **overrides):
        """Load a pretrained zoo model of this class by name, the way KerasHub does.

        `keras_ae.VAE.from_preset("vae.mnist_z2")`. `overrides` may change
        settings that keep the weights' shapes, e.g. `dtype="mixed_float16"`.
        `keras_ae.list_models(pretrained=True)` lists the presets.
        """
        from keras_ae import zoo

        if not isinstance(preset, str):
            raise TypeError(f"`preset` must be a zoo name such as 'vae.mnist_z2'. Received: {preset!r}")
        # The class comes from the entry's signed config before anything is built or loaded, as
        # KerasHub's from_preset checks it (`check_config_class`, keras_hub/src/utils/preset_utils.py):
        # one manifest read; unknown names get a "did you mean" error.
        found = zoo.model_class(preset)
        if found is not None and not issubclass(found, cls):
            mine = zoo.presets_of(cls)  # from the `arch.tag` names, reading no manifest
            raise ValueError(f"{preset!r} is a {found.__name__}, not a {cls.__name__}: load it with "
                             f"keras_ae.{found.__name__}.from_preset or keras_ae.get_model({preset!r}, "
                             f"pretrained=True). {cls.__name__} presets: {', '.join(mine) or 'none'}")
        return zoo.load(preset, **overrides)

    def save(self, filepath, overwrite=True, **kwargs):
        """Save to a `.keras` file atomically: a temporary file beside it, then a rename.

        A failure or a kill never leaves a half-written file, and the previous
        file stays intact until the new one is complete. Refuses a model with
        NaN or infinite weights.
        """
        from keras_ae._io import atomic_write, check_finite_weights, check_output_path

        path = check_output_path(filepath, (".keras",), what="model file")
        if not overwrite and os.path.exists(path):
            raise ValueError(f"{path!r} exists and overwrite=False")
        check_finite_weights(self)
        parent = super().save
        return atomic_write(path, lambda tmp: parent(tmp, **kwargs))

    def save_weights(self, filepath, overwrite=True, **kwargs):
        """Keras's `save_weights`, written atomically (checkpoints survive a kill)."""
        from keras_ae._io import atomic_write

        if not overwrite and os.path.exists(filepath):
            raise ValueError(f"{filepath!r} exists and overwrite=False")
        parent = super().save_weights
        return atomic_write(filepath, lambda tmp: parent(tmp, **kwargs))

    # ---- input checks on the Keras entry points -----------------------------
    def check_inputs(self, x, name="x"):
        """Validate a batch of inputs; return it as a float32 array of `sample_shape`.

        NumPy arrays, lists, pandas DataFrames, `tf.Tensor`, JAX arrays and
        torch tensors are all checked for shape, finiteness and range.
        """
        return check_batch(x, self.input_shape, name=name, value_range=self.input_range)

    def _check_arg(self, x, name):
        # Batched sources (tf.data, PyDataset, DataLoader, generators) go to Keras as they are.
        if x is None or is_dataset(x) or isinstance(x, dict):
            return x
        return self.check_inputs(x, name)

    def fit(self, x=None, y=None, *args, **kwargs):
        _line_per_epoch(args, kwargs, position=2)  # fit(x, y, batch_size, epochs, verbose, ...)
        x, y = self._check_arg(x, "x"), self._check_arg(y, "y")
        if callable(getattr(x, "set_epoch", None)):
            # Epoch-keyed data (datasets.training_dataset, ArrayBatches): serve the epoch that is
            # starting, so a run resumed by SafeBackupAndRestore sees the batches it would have.
            from keras_ae.callbacks import EpochSync

            kwargs["callbacks"] = [EpochSync(x), *(kwargs.get("callbacks") or [])]
            # The data shuffles itself; Keras would otherwise reorder a PyDataset's batches at random.
            kwargs["shuffle"] = False
        vd = kwargs.get("validation_data")
        if isinstance(vd, (tuple, list)):  # (x_val,), (x_val, y_val) or (x_val, y_val, sample_weight)
            kwargs["validation_data"] = tuple(
                self._check_arg(v, f"validation_data[{i}]") if i < 2 else v for i, v in enumerate(vd))
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        _line_per_epoch(args, kwargs, position=1)  # evaluate(x, y, batch_size, verbose, ...)
        return super().evaluate(self._check_arg(x, "x"), self._check_arg(y, "y"), *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        _line_per_epoch(args, kwargs, position=1)  # predict(x, batch_size, verbose, ...)
        return super().predict(self._check_arg(x, "x"), *args, **kwargs)

    # ---- the shared API -----------------------------------------------------
    def _checked_batches(self, x, batch_size, name="x", check=None):
        """Yield `(start, batch)`: `x` checked and converted to float32 one batch at a time.

        No copy of the whole of `x` is made (a uint8 array stays uint8 until its
        batch is used), so memory is bounded by the batch.
        """
        check = check or self.check_inputs
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

    def _apply(self, model, x, batch_size, name="x", check=None):
        """Run `model` over `x` in batches; `x` may be an array or a batched data set.

        A data set's batches may be `x` or `(x, y[, sample_weight])`; each is
        checked like an array. Outputs are float32 NumPy arrays, written batch
        by batch into one preallocated array.
        """
        check_positive_int("batch_size", batch_size)
        if is_dataset(x):
            return self._apply_dataset(model, x, name, check)
        outs, n = None, None
        batches, values = self._input_batches(x, batch_size, name, check)
        for start, _, got in _forward_batches(model, batches, values):
            parts = got if isinstance(got, tuple) else (got,)
            if outs is None:
                n = len(to_numpy(x, name))
                outs = tuple(np.empty((n,) + p.shape[1:], "float32") for p in parts)
            for o, p in zip(outs, parts):
                o[start:start + len(p)] = p
        return outs if isinstance(got, tuple) else outs[0]

    def _input_batches(self, x, batch_size, name="x", check=None):
        """`(batches, values)` for `_forward_batches`: the checked batches of the array `x`.

        On JAX, for batches of 65,536 values or more, the inputs' values (finite,
        in `input_range`) are checked from the minimum and maximum the jitted call
        computes beside its output: two NumPy passes over every batch cost 6-9% of
        `encode` at batch 1024-4096. On small batches NumPy's passes cost less
        than copying the extremes back.
        """
        rows = min(batch_size, len(x)) if hasattr(x, "__len__") else batch_size
        if check is None and keras.backend.backend() == "jax" and rows * math.prod(self.input_shape) >= 65536:
            def shape_only(v, n):
                return check_batch(v, self.input_shape, name=n, check_values=False)

            return self._checked_batches(x, batch_size, name, shape_only), (name, self.input_range)
        return self._checked_batches(x, batch_size, name, check), None

    def _dataset_batches(self, x, name="x", check=None):
        """Yield `(i, batch)` for a batched data set, each batch checked like an array.

        A batch may be `x` or `(x, y[, sample_weight])`; only `x` is used.
        """
        check = check or self.check_inputs
        for i, batch in enumerate(x):
            if isinstance(batch, (tuple, list)):
                batch = batch[0]
            yield i, check(batch, f"{name} (batch {i})")
            if hasattr(x, "__len__") and not hasattr(x, "take") and i + 1 >= len(x):
                break  # a PyDataset indexes past its end

    def _apply_dataset(self, model, x, name="x", check=None):
        outs = [got for _, _, got in _forward_batches(model, self._dataset_batches(x, name, check))]
        if not outs:
            raise ValueError(f"`{name}` is an empty data set; expected at least one batch")
        if isinstance(outs[0], tuple):
            return tuple(np.concatenate(parts) for parts in zip(*outs))
        return np.concatenate(outs)

    def encode(self, x, batch_size=256):
        """Encode a batch of inputs.

        Args:
            x: array of shape `(n,) + sample_shape` (or the same values flat),
                or a batched data set (`tf.data.Dataset`, `keras.utils.PyDataset`).
            batch_size: samples per forward pass (for arrays).

        Returns:
            A float32 NumPy array of shape `(n,) + code_shape`. For a VAE, the means.
        """
        return self._apply(self.encoder, x, batch_size)

    def decode(self, z, batch_size=256):
        """Decode a batch of codes of shape `(n,) + code_shape` to inputs."""
        return self._apply(self.decoder, z, batch_size, name="z",
                           check=lambda v, name: check_batch(v, self.code_shape, name=name))

    def reconstruct(self, x, batch_size=256):
        """Return the model's reconstruction of `x` (no corruption or sampling)."""
        return self._apply(self, x, batch_size)

    def reconstruction_error(self, x, metric="mse", batch_size=256):
        """Per-sample reconstruction error.

        Args:
            x: a batch of inputs, or a batched data set.
            metric: `"mse"` (mean squared error per value), `"sse"` (squared
                error summed over values) or `"bce"` (binary cross-entropy
                summed over values).

        Returns:
            A NumPy array of shape `(n,)`.
        """
        check_choice("metric", metric, ERROR_METRICS)
        check_positive_int("batch_size", batch_size)
        # Batch by batch, so memory is bounded by the batch, not by len(x).
        batches, values = (self._dataset_batches(x), None) if is_dataset(x) else self._input_batches(x, batch_size)
        errors = [reconstruction_error(xb, recon, metric) for _, xb, recon in _forward_batches(self, batches, values)]
        if not errors:
            raise ValueError("`x` is an empty data set; expected at least one batch")
        return np.concatenate(errors)


def line_per_epoch_verbose(verbose="auto"):
    """Keras's `verbose`, with `"auto"` made 2 (one line per epoch) when stdout is not a terminal.

    Keras draws its progress bar with carriage returns whenever it runs on a POSIX
    system, so pipes and log files fill with them; a terminal still gets the bar.
    """
    if verbose == "auto" and not (hasattr(sys.stdout, "isatty") and sys.stdout.isatty()):
        return 2
    return verbose


def _line_per_epoch(args, kwargs, position):
    if len(args) <= position:
        kwargs["verbose"] = line_per_epoch_verbose(kwargs.get("verbose", "auto"))


class _RetracingFilter:
    """Drops TensorFlow's "N out of the last N calls ... triggered tf.function retracing" note.

    TensorFlow counts traces by the Python code of the function, and every Keras
    model's predict step shares that code: the verbs below run several models
    (encoder, decoder, the whole model), each tracing its own step once or twice,
    which TensorFlow reports as excessive retracing of one function.
    """

    @staticmethod
    def filter(record):
        return "triggered tf.function retracing" not in record.getMessage()


# model -> its jitted inference call on JAX (see `_jax_forward`); weak, so models are not kept alive.
_JAX_FORWARD = weakref.WeakKeyDictionary()


def _batch_name(name, start, stop):
    """How errors name the rows `start:stop` of the argument `name`."""
    return name if start == 0 else f"{name} (rows {start}-{stop - 1})"


def _jax_forward(model, extremes=False):
    """`f(trainable, non_trainable, x)`: `model(x)` at inference, jitted once per model (JAX only).

    Keras's `predict_on_batch` on JAX gathers every variable's value before the
    call and assigns each one back after it, and waits for the result: a fixed
    cost per batch that made `encode` 0.7-0.9x as fast as `predict` (benchmarks/
    RESULTS.md). This call reads the values once per verb and returns at once.
    With `extremes`, it returns `(output, [min(x), max(x)])`, both NaN if any
    value is not finite (XLA's min and max skip NaN): one small array, as each
    copy back to the host has a fixed cost.
    """
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


def _forward_batches(model, batches, values=None):
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


def reconstruction_error(x, recon, metric="mse"):
    """Per-sample error between two NumPy batches of the same shape."""
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


class DenseAutoencoder(BaseAutoencoder):
    """A fully connected autoencoder: `input -> hidden_units -> code -> mirror`.

    Image inputs are flattened by the encoder and reshaped back by the decoder.

    Args:
        input_shape: shape of one sample.
        hidden_units: sizes of the encoder's hidden layers; the decoder mirrors them.
        latent_dim: size of the code.
        activation: hidden activation.
        latent_activation: activation of the code layer (`None` for linear).
        output_activation: activation of the output layer.
        reconstruction_loss: `"mse"` or `"bce"`.
    """

    def __init__(self, input_shape=(784,), hidden_units=(512, 256, 128), latent_dim=20,
                 activation="relu", latent_activation=None, output_activation="sigmoid",
                 reconstruction_loss="mse", **kwargs):
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.activation = check_activation("activation", activation)
        self.latent_activation = check_activation("latent_activation", latent_activation)
        self.output_activation = check_activation("output_activation", output_activation)
        super().__init__(input_shape=input_shape, latent_dim=latent_dim,
                         reconstruction_loss=reconstruction_loss, **kwargs)

    @property
    def input_range(self):
        if self.output_activation == "sigmoid" or self.reconstruction_loss == "bce":
            return (0.0, 1.0)
        return None

    def encoder_head(self, h):
        """Hook: layers applied to the code (e.g. a sparsity penalty)."""
        return h

    def build_encoder(self):
        dtype = self.dtype_policy
        inp = keras.Input(self.input_shape, name="x")
        h = keras.layers.Flatten(dtype=dtype)(inp) if len(self.input_shape) > 1 else inp
        h = dense_stack(h, self.hidden_units, self.activation, "encoder_dense", dtype)
        h = keras.layers.Dense(self.latent_dim, activation=self.latent_activation, name="code",
                               dtype=dtype)(h)
        return keras.Model(inp, self.encoder_head(h), name="encoder")

    def build_decoder(self):
        dtype = self.dtype_policy
        inp = keras.Input((self.latent_dim,), name="z")
        h = dense_stack(inp, self.hidden_units[::-1], self.activation, "decoder_dense", dtype)
        h = keras.layers.Dense(math.prod(self.input_shape), activation=self.output_activation,
                               name="reconstruction", dtype=dtype)(h)
        if len(self.input_shape) > 1:
            h = keras.layers.Reshape(self.input_shape, dtype=dtype)(h)
        return keras.Model(inp, h, name="decoder")

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_units=list(self.hidden_units),
            activation=self.activation,
            latent_activation=self.latent_activation,
            output_activation=self.output_activation,
        )
        return config
