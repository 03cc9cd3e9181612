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

import keras
from keras import ops

from keras_ae._quiet import start_devices
from keras_ae._validation import (
    check_activation,
    check_batch,
    check_choice,
    check_input_shape,
    check_positive_int,
    check_units,
    is_dataset,
)
from keras_ae import inference
# Imported from here by other modules before the batching moved to keras_ae/inference.py.
from keras_ae.inference import ERROR_METRICS, to_float32  # noqa: F401
from keras_ae.inference import per_sample_error as reconstruction_error  # noqa: F401
from keras_ae.losses import (
    RECONSTRUCTION_LOSSES,
    batch_mean,
    per_sample_reconstruction_loss,
    replicas_in_sync,
    total_penalty,
)

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
    # The `reconstruction_loss` values the class takes (the VAEs add "gaussian").
    reconstruction_losses = RECONSTRUCTION_LOSSES

    def __init__(self, input_shape=(784,), latent_dim=20, reconstruction_loss="mse", **kwargs):
        self._check_keywords(kwargs)
        start_devices()  # once: TensorFlow's CUDA probe lines are held back (keras_ae/_quiet.py)
        super().__init__(**kwargs)
        self.input_shape = check_input_shape(input_shape)
        self.latent_dim = check_positive_int("latent_dim", latent_dim,
                                             allow_none=self.latent_dim_optional)
        self.reconstruction_loss = check_choice(
            "reconstruction_loss", reconstruction_loss, self.reconstruction_losses
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
    def from_preset(cls, preset, trusted_keys=None, force_download=False, **overrides):
        """Load a pretrained model of this class, the way KerasHub does.

        Args:
            preset: a zoo name (`"vae.mnist_z2"`; `keras_ae.list_models(pretrained=True)`), a preset
                folder written by `save_to_preset` (`"./my_vae"`), an `https://` or `file://` URL of one
                (fetched with `keras.utils.get_file` and cached under `$KERAS_HOME/keras_ae/presets`),
                `"hf://user/repo"` (needs `huggingface_hub`) or `"kaggle://owner/model/keras/variation"`.
            trusted_keys: Ed25519 public keys one of which must have signed the preset
                (`keras_ae.zoo.keys`). Default: `$KERAS_AE_TRUSTED_KEYS`, else the project key for the
                shipped zoo and no key check elsewhere. The sha256 hashes are checked always.
            force_download: fetch a URL preset's `preset.json` again instead of using the cached one.
            **overrides: settings that keep the weights' shapes, e.g. `dtype="mixed_float16"`.

        A preset of another class is refused before its weights are read.

        Example: `keras_ae.VAE.from_preset("vae.mnist_z2")`, `keras_ae.VAE.from_preset("./my_vae")`.
        """
        from keras_ae.zoo import preset as presets

        return presets.from_preset(cls, preset, trusted_keys=trusted_keys, force_download=force_download,
                                   **overrides)

    def save_to_preset(self, preset_dir, name=None, metadata=None, signing_key=None, overwrite=True):
        """Write the model to a preset folder that `from_preset` and `get_model` load, here or elsewhere.

        The folder gets `preset.json` (the config, `metadata`, the weights' size and sha256, a
        `signature` binding them, and the library versions) and `model.<sha12>.weights.h5`, as a zoo
        entry is written: the weights first, then the manifest atomically, then the old weights go, so a
        failure leaves the old preset or the new one. Upload the folder as it is (a web server, a
        Hugging Face repo) and load it by URL.

        Args:
            preset_dir: a new or empty folder, or one that holds a preset (it is replaced). A folder
                with other files is refused.
            name: the preset's name (default: the model's `name`); a key signature binds it.
            metadata: a JSON-able dict stored in `preset.json`, e.g. `{"description": ...}`.
            signing_key: an Ed25519 private key (or its PEM file; default `$KERAS_AE_SIGNING_KEY`) to
                sign with, so that loaders with `trusted_keys=` accept it. Without one the preset is
                hashed, not signed: it loads wherever no trusted keys are asked for.
            overwrite: replace a preset already in `preset_dir`.

        Returns:
            The manifest dict written to `preset.json`.
        """
        from keras_ae.zoo import preset as presets

        return presets.save(self, preset_dir, name=name, metadata=metadata, signing_key=signing_key,
                            overwrite=overwrite)

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

    def _check_first_batch(self, data, name):
        """Check a data set's first batch as an array is checked (shape, finiteness, `input_range`).

        For a `tf.data.Dataset` and a `keras.utils.PyDataset`, which can be read again; a generator or a
        torch `DataLoader` is not (it would be consumed, or start its workers), nor keras-ae's own
        pipelines (`set_epoch`: checked when made, and reading one would move its epoch on).
        """
        if callable(getattr(data, "set_epoch", None)):
            return
        names = {f"{c.__module__}.{c.__qualname__}" for c in type(data).__mro__}
        try:
            if any(n.endswith("PyDataset") for n in names):
                batch = data[0]
            elif callable(getattr(data, "take", None)) and any(n.startswith("tensorflow.") for n in names):
                batch = next(iter(data.take(1)))  # a pass over one batch; Keras starts its own iterator
            else:
                return
        except (StopIteration, IndexError):
            return  # an empty data set: Keras says so
        parts = batch if isinstance(batch, (tuple, list)) else (batch,)
        for i, part in enumerate(parts[:2]):  # (x,), (x, y) or (x, y, sample_weight)
            if part is not None and not isinstance(part, dict):
                self.check_inputs(part, f"{name} (first batch{', targets' if i else ''})")

    def fit(self, x=None, y=None, *args, **kwargs):
        _line_per_epoch(args, kwargs, position=2)  # fit(x, y, batch_size, epochs, verbose, ...)
        _check_batch_size(args, kwargs, position=0)
        x, y = self._check_arg(x, "x"), self._check_arg(y, "y")
        if is_dataset(x):
            self._check_first_batch(x, "x")
        if callable(getattr(x, "set_epoch", None)):
            # Epoch-keyed data (data.training_dataset, ArrayBatches): serve the epoch that is
            # starting, so a run resumed by SafeBackupAndRestore sees the batches it would have.
            from keras_ae.callbacks import EpochSync

            kwargs["callbacks"] = [EpochSync(x), *(kwargs.get("callbacks") or [])]
            # The data shuffles itself; Keras would otherwise reorder a PyDataset's batches at random.
            kwargs["shuffle"] = False
        vd = kwargs.get("validation_data")
        if isinstance(vd, (tuple, list)):  # (x_val,), (x_val, y_val) or (x_val, y_val, sample_weight)
            kwargs["validation_data"] = tuple(
                self._check_arg(v, f"validation_data[{i}]") if i < 2 else v for i, v in enumerate(vd))
        elif is_dataset(vd):
            self._check_first_batch(vd, "validation_data")
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        _line_per_epoch(args, kwargs, position=1)  # evaluate(x, y, batch_size, verbose, ...)
        _check_batch_size(args, kwargs, position=0)
        return super().evaluate(self._check_arg(x, "x"), self._check_arg(y, "y"), *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        _line_per_epoch(args, kwargs, position=1)  # predict(x, batch_size, verbose, ...)
        _check_batch_size(args, kwargs, position=0)
        return super().predict(self._check_arg(x, "x"), *args, **kwargs)

    # ---- the shared API -----------------------------------------------------
    # The batching lives in keras_ae/inference.py; the verbs state the contract and call it.
    def _apply(self, part, x, batch_size, name="x", check=None):
        """Run `part` (this model, its encoder or decoder) over `x` in batches: `inference.apply`."""
        return inference.apply(self, part, x, batch_size, name=name, check=check)

    def encode(self, x, batch_size=256):
        """Encode a batch of inputs.

        Args:
            x: array of shape `(n,) + sample_shape` (or the same values flat),
                or a batched data set (`tf.data.Dataset`, `keras.utils.PyDataset`).
            batch_size: samples per forward pass (for arrays).

        Returns:
            A float32 NumPy array of shape `(n,) + code_shape`. For a VAE, the means.
        """
        return inference.encode(self, x, batch_size)

    def decode(self, z, batch_size=256):
        """Decode a batch of codes of shape `(n,) + code_shape` to inputs."""
        return inference.decode(self, z, batch_size)

    def reconstruct(self, x, batch_size=256):
        """Return the model's reconstruction of `x` (no corruption or sampling)."""
        return inference.reconstruct(self, x, batch_size)

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
        # Batch by batch, so memory is bounded by the batch, not by len(x).
        return inference.reconstruction_error(self, x, metric, batch_size)


def line_per_epoch_verbose(verbose="auto"):
    """Keras's `verbose`, with `"auto"` made 2 (one line per epoch) when stdout is not a terminal.

    Keras draws its progress bar with carriage returns whenever it runs on a POSIX
    system, so pipes and log files fill with them; a terminal still gets the bar.
    """
    if verbose == "auto" and not (hasattr(sys.stdout, "isatty") and sys.stdout.isatty()):
        return 2
    return verbose


def _check_batch_size(args, kwargs, position):
    """Refuse a `batch_size` (positional at `position` of `args`, or a keyword) that is not a positive int."""
    size = args[position] if len(args) > position else kwargs.get("batch_size")
    if size is not None:
        check_positive_int("batch_size", size)


def _line_per_epoch(args, kwargs, position):
    if len(args) <= position:
        kwargs["verbose"] = line_per_epoch_verbose(kwargs.get("verbose", "auto"))


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
