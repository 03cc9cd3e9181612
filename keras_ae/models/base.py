"""The shared autoencoder API: `encode`, `decode`, `reconstruct`, `latent_dim`.

Every keras-ae model subclasses `BaseAutoencoder`. A subclass builds its
`encoder` and `decoder` (functional Keras models) from its constructor
arguments, which are also its config, so `get_config`/`from_config` and
`.keras` save and load need no pickled code.
"""

import math

import keras
import numpy as np
from keras import ops

from keras_ae._validation import (
    check_batch,
    check_choice,
    check_input_shape,
    check_positive_int,
    check_units,
)

RECONSTRUCTION_LOSSES = ("mse", "bce")
ERROR_METRICS = ("mse", "sse", "bce")


def per_sample_reconstruction_loss(kind, y_true, y_pred, reduce="mean"):
    """Per-sample reconstruction loss over all non-batch axes.

    Args:
        kind: `"mse"` (squared error) or `"bce"` (binary cross-entropy).
        y_true, y_pred: tensors of the same shape, batch first.
        reduce: `"mean"` over values (the Keras convention) or `"sum"`.

    Returns:
        A tensor of shape `(batch,)`.
    """
    y_true = ops.reshape(y_true, (ops.shape(y_true)[0], -1))
    y_pred = ops.reshape(y_pred, (ops.shape(y_pred)[0], -1))
    if kind == "mse":
        values = ops.square(y_true - y_pred)
    else:
        values = ops.binary_crossentropy(y_true, y_pred)
    return ops.sum(values, axis=-1) if reduce == "sum" else ops.mean(values, axis=-1)


def num_replicas():
    """Replicas in the current `tf.distribute` strategy (1 outside one)."""
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def dense_stack(x, units, activation, prefix):
    """Apply `Dense` layers of the given sizes to the functional tensor `x`."""
    for i, u in enumerate(units):
        x = keras.layers.Dense(u, activation=activation, name=f"{prefix}_{i}")(x)
    return x


class BaseAutoencoder(keras.Model):
    """Base class of all keras-ae autoencoders.

    Subclasses implement `build_encoder()` and `build_decoder()`, and may set
    `self.corruption` (a `Corruption` layer applied in training only) and
    `penalty_name` (the metric under which losses added by `add_loss` in the
    encoder are reported, e.g. `"sparsity_loss"`).

    Training works with plain `compile(optimizer=...)` and `fit(x)` or
    `fit(x, x)` (or `fit(x_noisy, x_clean)`). Without a compiled `loss`, the
    model's own `reconstruction_loss` is used; a compiled `loss` replaces it.

    Args:
        input_shape: shape of one sample, e.g. `(784,)` or `(28, 28, 1)`.
        latent_dim: size of the code.
        reconstruction_loss: `"mse"` or `"bce"`, averaged over values.
    """

    penalty_name = None

    def __init__(self, input_shape=(784,), latent_dim=20, reconstruction_loss="mse", **kwargs):
        super().__init__(**kwargs)
        self._sample_shape = check_input_shape(input_shape)
        self._latent_dim_arg = latent_dim
        self.reconstruction_loss = check_choice(
            "reconstruction_loss", reconstruction_loss, RECONSTRUCTION_LOSSES
        )
        self.corruption = None
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        if self.penalty_name:
            self.penalty_tracker = keras.metrics.Mean(name=self.penalty_name)

    def _finish_init(self):
        """Build the encoder and decoder; subclasses call this at the end of `__init__`."""
        self.encoder = self.build_encoder()
        self.decoder = self.build_decoder()
        self.built = True

    # ---- architecture hooks -------------------------------------------------
    def build_encoder(self):
        raise NotImplementedError

    def build_decoder(self):
        raise NotImplementedError

    # ---- properties ---------------------------------------------------------
    @property
    def sample_shape(self):
        """Shape of one input sample, without the batch axis."""
        return self._sample_shape

    @property
    def code_shape(self):
        """Shape of one code, without the batch axis."""
        return tuple(self.decoder.inputs[0].shape[1:])

    @property
    def latent_dim(self):
        """Number of values in one code."""
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
        # Like Keras, return the loss divided by the number of replicas (their
        # gradients are summed); the metrics track the per-batch value.
        replicas = num_replicas()
        penalty = ops.sum(self.losses) if self.losses else None
        if self.loss is None:
            per = per_sample_reconstruction_loss(self.reconstruction_loss, target, y_pred)
            if sample_weight is not None:
                per = per * ops.reshape(ops.cast(sample_weight, per.dtype), (-1,))
            recon = ops.mean(per)
            total = recon if penalty is None else recon + penalty
            scaled = total / replicas
        else:
            scaled = super().compute_loss(x, target, y_pred, sample_weight, training)
            total = scaled * replicas
            recon = total if penalty is None else total - penalty
        self.reconstruction_loss_tracker.update_state(recon)
        if self.penalty_name:
            self.penalty_tracker.update_state(0.0 if penalty is None else penalty)
        return scaled

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, x if y is None else y, y_pred, sample_weight)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "input_shape": list(self._sample_shape),
            "latent_dim": self._latent_dim_arg,
            "reconstruction_loss": self.reconstruction_loss,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # ---- input checks on the Keras entry points -----------------------------
    def check_inputs(self, x, name="x"):
        """Validate a batch of inputs; return it as a float32 array of `sample_shape`."""
        return check_batch(x, self._sample_shape, name=name, value_range=self.input_range)

    def _maybe_check(self, x, name):
        if isinstance(x, (np.ndarray, list)):
            return self.check_inputs(x, name)
        return x

    def fit(self, x=None, y=None, *args, **kwargs):
        x, y = self._maybe_check(x, "x"), self._maybe_check(y, "y")
        vd = kwargs.get("validation_data")
        if isinstance(vd, tuple):  # (x_val,), (x_val, y_val) or (x_val, y_val, sample_weight)
            kwargs["validation_data"] = tuple(
                self._maybe_check(v, f"validation_data[{i}]") if i < 2 else v for i, v in enumerate(vd))
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        return super().evaluate(self._maybe_check(x, "x"), self._maybe_check(y, "y"), *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        return super().predict(self._maybe_check(x, "x"), *args, **kwargs)

    # ---- the shared API -----------------------------------------------------
    def encode(self, x, batch_size=256):
        """Encode a batch of inputs.

        Args:
            x: array of shape `(n,) + sample_shape` (or the same values flat).
            batch_size: samples per forward pass.

        Returns:
            A NumPy array of shape `(n,) + code_shape`. For a VAE, the means.
        """
        x = self.check_inputs(x)
        return self.encoder.predict(x, batch_size=batch_size, verbose=0)

    def decode(self, z, batch_size=256):
        """Decode a batch of codes of shape `(n,) + code_shape` to inputs."""
        z = check_batch(z, self.code_shape, name="z")
        return self.decoder.predict(z, batch_size=batch_size, verbose=0)

    def reconstruct(self, x, batch_size=256):
        """Return the model's reconstruction of `x` (no corruption applied)."""
        return self.predict(x, batch_size=batch_size, verbose=0)

    def reconstruction_error(self, x, metric="mse", batch_size=256):
        """Per-sample reconstruction error.

        Args:
            x: a batch of inputs.
            metric: `"mse"` (mean squared error per value), `"sse"` (squared
                error summed over values) or `"bce"` (binary cross-entropy
                summed over values).

        Returns:
            A NumPy array of shape `(n,)`.
        """
        check_choice("metric", metric, ERROR_METRICS)
        x = self.check_inputs(x)
        recon = self.reconstruct(x, batch_size=batch_size)
        return reconstruction_error(x, recon, metric)


def reconstruction_error(x, recon, metric="mse"):
    """Per-sample error between two NumPy batches of the same shape."""
    x = np.asarray(x, "float64").reshape(len(x), -1)
    recon = np.asarray(recon, "float64").reshape(len(recon), -1)
    if metric == "mse":
        return np.mean((x - recon) ** 2, axis=1)
    if metric == "sse":
        return np.sum((x - recon) ** 2, axis=1)
    p = np.clip(recon, 1e-7, 1 - 1e-7)
    return -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1)


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
        super().__init__(input_shape=input_shape, latent_dim=latent_dim,
                         reconstruction_loss=reconstruction_loss, **kwargs)
        self.hidden_units = check_units("hidden_units", hidden_units)
        check_positive_int("latent_dim", latent_dim)
        for name, act in (("activation", activation), ("latent_activation", latent_activation),
                          ("output_activation", output_activation)):
            try:
                keras.activations.get(act)
            except ValueError:
                raise ValueError(f"`{name}` is not a Keras activation. Received: {name}={act!r}") from None
        self.activation = activation
        self.latent_activation = latent_activation
        self.output_activation = output_activation
        self._check_config()
        self._finish_init()

    def _check_config(self):
        """Subclasses validate their configuration here, before building."""

    @property
    def input_range(self):
        if self.output_activation == "sigmoid" or self.reconstruction_loss == "bce":
            return (0.0, 1.0)
        return None

    def encoder_head(self, h):
        """Hook: layers applied to the code (e.g. a sparsity penalty)."""
        return h

    def build_encoder(self):
        inp = keras.Input(self._sample_shape, name="x")
        h = keras.layers.Flatten()(inp) if len(self._sample_shape) > 1 else inp
        h = dense_stack(h, self.hidden_units, self.activation, "encoder_dense")
        h = keras.layers.Dense(self._latent_dim_arg, activation=self.latent_activation, name="code")(h)
        return keras.Model(inp, self.encoder_head(h), name="encoder")

    def build_decoder(self):
        inp = keras.Input((self._latent_dim_arg,), name="z")
        h = dense_stack(inp, self.hidden_units[::-1], self.activation, "decoder_dense")
        h = keras.layers.Dense(math.prod(self._sample_shape), activation=self.output_activation,
                               name="reconstruction")(h)
        if len(self._sample_shape) > 1:
            h = keras.layers.Reshape(self._sample_shape)(h)
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
