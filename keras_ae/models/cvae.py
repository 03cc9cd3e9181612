"""The conditional VAE (Sohn, Lee & Yan 2015): q(z|x, y) and p(x|z, y), with class labels y.

`fit(x, y)` takes the labels as Keras's `y`: integer class ids `(n,)` or one-hot rows `(n,
num_classes)`. How they reach the encoder and decoder: a thin `train_step`/`test_step` (the same on
TensorFlow, JAX and PyTorch: only the argument list differs) repacks each batch `(x, y, w)` as
`((x, y), x, w)` before Keras's own step runs, so `call` gets the labels beside the images, the
target is the image, and `sample_weight`, compiled metrics, mixed precision and `jit_compile` come
from Keras unchanged. A batch without labels stops with an error that says how to pass them.

The verbs take the labels next to the data: `encode(x, y)`, `decode(z, y)`, `reconstruct(x, y)`,
`reconstruction_error(x, y)`, `elbo(x, y)`, `sample(n, labels=...)`, and `swap(x, y, new_y)`
(the same style, another class). `predict((x, y))` (or `predict(x, y=y)`) reconstructs.
"""

import math

import keras
import numpy as np
from keras import ops

from keras_ae import inference
from keras_ae._validation import check_float, check_positive_int, check_seed, is_dataset, to_numpy
from keras_ae.losses import gaussian_kl
from keras_ae.models.base import dense_stack
from keras_ae.models.registry import register_variant
from keras_ae.models.vae import VAE

__all__ = ["ConditionalVAE", "check_labels"]

NEEDS_LABELS = ("A ConditionalVAE needs class labels: fit(x, y) with y the integer class ids, shape (n,), or "
                "one-hot rows, shape (n, num_classes); a data set must yield (x, y) batches; validation_data "
                "must be (x_val, y_val)")


def check_labels(y, num_classes, n=None, name="y"):
    """Validate labels (integer ids `(n,)` or one-hot / class-probability rows `(n, K)`); return float32 one-hot."""
    arr = np.asarray(to_numpy(y, name))
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ValueError(f"`{name}` must hold class labels: integer ids or one-hot rows. Received: dtype {arr.dtype}")
    if n is not None and (arr.ndim == 0 or len(arr) != n):
        raise ValueError(f"`{name}` must have one label per sample ({n}). Received: shape {arr.shape}")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 1:
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"`{name}` holds integer class ids; received values that are not whole numbers")
        if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
            raise ValueError(f"`{name}` must be class ids in [0, {num_classes}) (num_classes={num_classes}). "
                             f"Received values from {arr.min()} to {arr.max()}")
        return np.eye(num_classes, dtype="float32")[arr.astype("int64")]
    if arr.ndim == 2 and arr.shape[1] == num_classes:
        arr = arr.astype("float32")
        if not np.all(np.isfinite(arr)) or arr.min(initial=0) < 0 or np.any(np.abs(arr.sum(axis=1) - 1) > 1e-3):
            raise ValueError(f"`{name}` as rows of {num_classes} values must be one-hot (or class probabilities: "
                             "non-negative, summing to 1)")
        return arr
    raise ValueError(f"`{name}` must be integer class ids of shape (n,) or one-hot rows of shape (n, {num_classes}). "
                     f"Received: shape {arr.shape}")


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("cvae")
class ConditionalVAE(VAE):
    """A dense conditional VAE: the label is concatenated to the encoder's input and to z.

    Args:
        input_shape: shape of one sample.
        num_classes: the number of classes K.
        hidden_units: encoder hidden sizes; the decoder mirrors them.
        latent_dim: size of z.
        **kwargs: the other `VAE` arguments (`beta`, `activation`, `reconstruction_loss`,
            `dynamic_binarization`, `seed`, `kernel_initializer`, ...).

    Example:

    ```python
    cvae = keras_ae.ConditionalVAE(num_classes=10, latent_dim=2)
    cvae.compile(optimizer="adam")
    cvae.fit(x_train, y_train, epochs=30, batch_size=128, validation_data=(x_test, y_test))
    sevens = cvae.sample(16, labels=7)
    as_ones = cvae.swap(x_test[:8], y_test[:8], new_y=1)   # the same style, another digit
    ```
    """

    conditional = True  # the verbs take labels (keras_ae.testing reads this)
    test_config = dict(hidden_units=(32,), latent_dim=2, num_classes=3, seed=1)

    def __init__(self, input_shape=(784,), num_classes=10, hidden_units=(512,), latent_dim=2, **kwargs):
        self.num_classes = check_positive_int("num_classes", num_classes)
        super().__init__(input_shape=input_shape, hidden_units=hidden_units, latent_dim=latent_dim, **kwargs)

    # ---- architecture ---------------------------------------------------------
    def build_encoder(self):
        dtype, init = self.dtype_policy, self._kernel_initializer
        inp = keras.Input(self.input_shape, name="x")
        label = keras.Input((self.num_classes,), name="y")
        h = keras.layers.Flatten(dtype=dtype)(inp) if len(self.input_shape) > 1 else inp
        h = keras.layers.Concatenate(name="with_label", dtype=dtype)([h, label])
        h = dense_stack(h, self.hidden_units, self.activation, "encoder_dense", dtype, init)
        z_mean = keras.layers.Dense(self.latent_dim, name="z_mean", dtype=dtype, kernel_initializer=init())(h)
        z_log_var = keras.layers.Dense(self.latent_dim, name="z_log_var", dtype=dtype,
                                       kernel_initializer=init())(h)
        return keras.Model([inp, label], [z_mean, z_log_var], name="encoder")

    def build_decoder(self):
        dtype, init = self.dtype_policy, self._kernel_initializer
        inp = keras.Input((self.latent_dim,), name="z")
        label = keras.Input((self.num_classes,), name="y")
        h = keras.layers.Concatenate(name="with_label", dtype=dtype)([inp, label])
        h = dense_stack(h, self.hidden_units[::-1], self.activation, "decoder_dense", dtype, init)
        h = keras.layers.Dense(math.prod(self.input_shape), activation="sigmoid", name="reconstruction",
                               dtype=dtype, kernel_initializer=init())(h)
        if len(self.input_shape) > 1:
            h = keras.layers.Reshape(self.input_shape, dtype=dtype)(h)
        return keras.Model([inp, label], h, name="decoder")

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes)
        return config

    # ---- training -------------------------------------------------------------
    def _one_hot(self, y):
        """Labels as float one-hot rows, in the graph: ids `(n,)` become rows, rows stay rows."""
        if len(y.shape) == 1 or (len(y.shape) == 2 and y.shape[-1] == 1 and self.num_classes != 1):
            return ops.one_hot(ops.cast(ops.reshape(y, (-1,)), "int32"), self.num_classes, dtype=self.compute_dtype)
        return ops.cast(y, self.compute_dtype)

    def _split(self, inputs):
        if isinstance(inputs, dict):
            return inputs["x"], inputs["y"]
        if isinstance(inputs, (tuple, list)) and len(inputs) == 2:
            return inputs[0], inputs[1]
        if _symbolic():
            # Keras's first pass over a data set's batch, for shapes only (JAX, PyTorch): its labels
            # are added by the step, so any of the right shape does here.
            return inputs, ops.zeros((ops.shape(inputs)[0], self.num_classes), self.compute_dtype)
        raise ValueError(NEEDS_LABELS + ". The model's input is the pair (x, y_one_hot); received one tensor")

    def _labelled(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, (tuple, list, dict)):
            return data  # already (x, y) inputs
        if y is None:
            raise ValueError(NEEDS_LABELS)
        return (x, self._one_hot(y)), x, sample_weight

    def train_step(self, *args):
        # TensorFlow and PyTorch call train_step(data), JAX train_step(state, data).
        *state, data = args
        return super().train_step(*state, self._labelled(data))

    def test_step(self, *args):
        *state, data = args
        return super().test_step(*state, self._labelled(data))

    def call(self, inputs, training=False):
        x, y = self._split(inputs)
        y = self._one_hot(y)
        if not (training or self._elbo_pass):
            z_mean, _ = self.encoder([x, y], training=False)
            return self.decoder([z_mean, y], training=False)
        if self.dynamic_binarization:
            x = self.binarization(x, training=training)
        z_mean, z_log_var = self.encoder([x, y], training=training)
        z = self.sampling([z_mean, z_log_var])
        return {"reconstruction": self.decoder([z, y], training=training), "z_mean": z_mean,
                "z_log_var": z_log_var, "z": z, "target": x}

    # ---- input checks ---------------------------------------------------------
    def _pack(self, x, y, name="x"):
        """`(inputs, targets)` for Keras: arrays become the checked `((x, one_hot(y)), x)`.

        A `tf.data.Dataset` of `(x, y[, w])` batches is mapped to `((x, y)[, None, w])`; other data
        sets go as they are, and the step repacks their batches.
        """
        if isinstance(x, (tuple, list, dict)):
            return x, y  # already the model's (x, y) inputs
        if is_dataset(x):
            if y is None and callable(getattr(x, "map", None)) and type(x).__module__.startswith("tensorflow"):
                x = x.map(lambda *b: ((b[0], b[1]),) if len(b) == 2 else ((b[0], b[1]), None, *b[2:]))
            return x, y
        if y is None:
            raise ValueError(NEEDS_LABELS)
        x = self.check_inputs(x, name)
        label_name = "y" if name == "x" else name.replace("[0]", "[1]")
        # The image as the target too: Keras drops `sample_weight` when `y` is None.
        return (x, check_labels(y, self.num_classes, n=len(x), name=label_name)), x

    def _check_arg(self, x, name):
        # BaseAutoencoder.fit/evaluate check their arguments here; `_pack` has checked the pairs.
        if isinstance(x, (tuple, list)):
            return x
        return super()._check_arg(x, name)

    def _check_first_batch(self, data, name):
        # As BaseAutoencoder's, but only the images: the batch's second part is labels.
        if callable(getattr(data, "set_epoch", None)):
            return  # keras-ae's own pipelines: checked when made, and reading one moves its epoch on
        try:
            batch = data[0] if hasattr(data, "__getitem__") and not hasattr(data, "take") else next(iter(data.take(1)))
        except Exception:
            return  # read by Keras, and checked in the step
        while isinstance(batch, (tuple, list)) and batch:
            batch = batch[0]
        self.check_inputs(batch, f"{name} (first batch)")

    def _pack_validation(self, kwargs):
        vd = kwargs.get("validation_data")
        if isinstance(vd, (tuple, list)) and not isinstance(vd[0], (tuple, list, dict)):
            kwargs["validation_data"] = self._pack(vd[0], vd[1] if len(vd) > 1 else None,
                                                   "validation_data[0]") + tuple(vd[2:])

    def fit(self, x=None, y=None, *args, **kwargs):
        x, y = self._pack(x, y)
        self._pack_validation(kwargs)
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        x, y = self._pack(x, y)
        return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, y=None, **kwargs):
        """Reconstruct `x` given its labels: `predict((x, y))` or `predict(x, y=y)`."""
        if y is None and isinstance(x, (tuple, list)) and len(x) == 2:
            x, y = x
        if y is None:
            raise ValueError(NEEDS_LABELS.replace("fit(x, y)", "predict((x, y))"))
        x = self.check_inputs(x)
        y = check_labels(y, self.num_classes, n=len(x))
        return keras.Model.predict(self, (x, y), *args, **kwargs)

    # ---- the verbs with labels ----------------------------------------------------
    def _pairs(self, x, y, batch_size, name="x"):
        """Yield checked `(x_batch, one_hot_batch)` pairs."""
        check_positive_int("batch_size", batch_size)
        x = self.check_inputs(x, name)
        y = check_labels(y, self.num_classes, n=len(x))
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]

    def _run(self, part, pairs):
        outs = [inference.to_float32(part.predict_on_batch([a, b])) for a, b in pairs]
        if not outs:
            raise ValueError("no samples given")
        if isinstance(outs[0], tuple):
            return tuple(np.concatenate(o) for o in zip(*outs))
        return np.concatenate(outs)

    def encode_distribution(self, x, y, batch_size=256):
        """`(z_mean, z_log_var)` of q(z|x, y) as NumPy arrays."""
        return self._run(self.encoder, self._pairs(x, y, batch_size))

    def encode(self, x, y, batch_size=256):
        """The posterior means of q(z|x, y), shape `(n, latent_dim)`."""
        return self.encode_distribution(x, y, batch_size)[0]

    def decode(self, z, y, batch_size=256):
        """Decode codes `z` of shape `(n, latent_dim)` under labels `y`."""
        from keras_ae._validation import check_batch

        z = check_batch(z, (self.latent_dim,), name="z")
        y = check_labels(y, self.num_classes, n=len(z))
        pairs = ((z[s:s + batch_size], y[s:s + batch_size]) for s in range(0, len(z), batch_size))
        return self._run(self.decoder, pairs)

    def reconstruct(self, x, y, batch_size=256):
        """The reconstruction of `x` under labels `y` (the posterior mean decoded)."""
        return self._run(_Forward(self), self._pairs(x, y, batch_size))

    def reconstruction_error(self, x, y, metric="mse", batch_size=256):
        """Per-sample error between `x` and `reconstruct(x, y)` (`metric` as in `BaseAutoencoder`)."""
        x = self.check_inputs(x)
        return inference.per_sample_error(x, self.reconstruct(x, y, batch_size), metric)

    def swap(self, x, y, new_y, batch_size=256):
        """Encode `x` under its labels `y`, decode under `new_y` (an id for all, or one label per sample)."""
        x = self.check_inputs(x)
        z = self.encode(x, y, batch_size)
        return self.decode(z, self._labels_for(new_y, len(x), "new_y"), batch_size)

    def _labels_for(self, labels, n, name):
        if labels is None:
            raise ValueError(f"`{name}` is needed: a class id for every sample, or one label per sample")
        if np.ndim(labels) == 0:
            labels = np.full(n, labels)
        return check_labels(labels, self.num_classes, n=n, name=name)

    def sample(self, n, labels=None, temperature=1.0, seed=None, batch_size=256):
        """Decode `n` draws `z ~ N(0, temperature^2 I)` under `labels`.

        Args:
            n: number of samples.
            labels: a class id for all `n`, or `n` labels (ids or one-hot rows).
            temperature: standard deviation of the draws, `> 0`.
            seed: int seed; the same seed gives the same samples.
        """
        check_positive_int("n", n)
        temperature = check_float("temperature", temperature, 0.0, low_inclusive=False)
        y = self._labels_for(labels, n, "labels")
        rng = np.random.default_rng(check_seed(seed))
        z = temperature * rng.standard_normal((n, self.latent_dim)).astype("float32")
        return self.decode(z, y, batch_size)

    def elbo(self, x, y, num_samples=1, batch_size=256, seed=None):
        """Per-sample ELBO of `log p(x|y)` in nats, averaged over `num_samples` draws of z."""
        check_positive_int("num_samples", num_samples)
        noise = self._noise(seed)
        out = []
        for xb, yb in self._pairs(x, y, batch_size):
            xb, yb = ops.convert_to_tensor(xb), ops.convert_to_tensor(yb)
            z_mean, z_log_var = self.encoder([xb, yb], training=False)
            kl = gaussian_kl(z_mean, z_log_var)
            acc = 0.0
            for _ in range(num_samples):
                eps = keras.random.normal(ops.shape(z_mean), seed=noise, dtype=z_mean.dtype)
                recon = self.decoder([z_mean + ops.exp(0.5 * z_log_var) * eps, yb], training=False)
                acc = acc + ops.convert_to_numpy(-(self.reconstruction_nll(xb, recon) + kl)).astype("float64")
            out.append(acc / num_samples)
        return np.concatenate(out)

    def log_likelihood(self, *args, **kwargs):
        raise NotImplementedError("ConditionalVAE has no importance-sampled log p(x|y) yet; use elbo(x, y)")


def _symbolic():
    """Whether Keras is computing output shapes only (`backend.compute_output_spec`)."""
    try:
        from keras.src.backend.common.symbolic_scope import in_symbolic_scope
    except ImportError:  # a Keras that moved it: data sets then need ((x, y),) batches on JAX and PyTorch
        return False
    return in_symbolic_scope()


class _Forward:
    """`predict_on_batch([x, y])` of the whole model at inference, for `ConditionalVAE._run`."""

    def __init__(self, model):
        self.model = model

    def predict_on_batch(self, pair):
        return self.model.predict_on_batch(tuple(pair))
