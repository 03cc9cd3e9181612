"""The vector-quantized VAE (van den Oord, Vinyals & Kavukcuoglu 2017), on every Keras backend.

The encoder (the residual convolutional family's, `keras_ae/models/resnet.py`, without its dense
head) maps an image to a grid of `embedding_dim`-vectors; each is replaced by the nearest of
`num_codes` codebook vectors; the decoder maps the quantized grid back to the image. The gradient
passes the quantization straight through (`z_e + stop_gradient(z_q - z_e)`).

The codebook learns by exponential moving averages (the paper's appendix A.1, and VQ-VAE-2), not by
a codebook loss. Why: dead codes have to be restarted inside the training step, and on JAX Keras's
stateless call returns only the *non-trainable* variables it assigned, so a restart written into a
trainable codebook would be dropped there. With EMA updates the codebook, its statistics and its
restarts are all non-trainable state, assigned in `call` as `BatchNormalization` assigns its moving
statistics: the same code under `jit` on TensorFlow, JAX and PyTorch. The loss is then the
reconstruction term plus `commitment * ||z_e - sg(z_q)||^2` (beta = 0.25); sample weights weigh both.
The EMA statistics, like a batch norm's, follow every sample of the batch.
"""

import math
import os

import keras
import numpy as np
from keras import ops

from keras_ae import inference
from keras_ae._validation import check_float, check_positive_int, check_seed
from keras_ae.losses import batch_mean, per_sample_reconstruction_loss, replicas_in_sync
from keras_ae.models.base import BaseAutoencoder
from keras_ae.models.code_prior import CodePrior, check_codes
from keras_ae.models.registry import register_variant
from keras_ae.models.resnet import _ResNetShape

__all__ = ["VectorQuantizer", "VQVAE"]

_PRIOR_FILES = ("prior.json", "prior.weights.h5")


@keras.saving.register_keras_serializable(package="keras_ae")
class VectorQuantizer(keras.layers.Layer):
    """Nearest-codebook quantization with an EMA codebook and restarts of dead codes.

    Computes in float32 whatever the dtype policy. `call(z, training)` returns `(indices, z_q,
    counts)`: the index of each vector's nearest code (`z.shape[:-1]`, int32), the codes themselves
    (`z.shape`, float32) and how many vectors of the batch each code took (`(num_codes,)`).

    In training (`training=True`) it also updates its non-trainable state: the EMA of each code's
    share of the batch (`cluster_size`) and of the vectors assigned to it (`embed_sum`), from which
    `codebook = embed_sum / cluster_size` (Laplace-smoothed). On the first training step every code
    is set to a random vector of the batch (a data-dependent start); every `restart_every` steps the
    codes no vector took since the last check are set to random vectors of the batch.

    Args:
        num_codes: codebook size K.
        embedding_dim: size D of each code vector.
        decay: EMA decay, in [0, 1).
        restart_every: steps between restarts of unused codes; `None` or 0: never (the first step's
            start still happens).
        epsilon: Laplace smoothing of the cluster sizes.
        seed: seed of the restarts' draws.
    """

    def __init__(self, num_codes, embedding_dim, decay=0.99, restart_every=100, epsilon=1e-5, seed=None,
                 **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.num_codes = check_positive_int("num_codes", num_codes)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.decay = check_float("decay", decay, 0.0, 1.0, high_inclusive=False)
        self.restart_every = check_positive_int("restart_every", restart_every or None, allow_none=True)
        self.epsilon = check_float("epsilon", epsilon, 0.0, low_inclusive=False)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed, name="restart_seed")

    def build(self, input_shape=None):
        k, d = self.num_codes, self.embedding_dim
        state = dict(trainable=False, autocast=False, dtype="float32", aggregation="mean")
        self.codebook = self.add_weight(shape=(k, d), name="codebook",
                                        initializer=keras.initializers.RandomUniform(-1.0, 1.0), **state)
        self.cluster_size = self.add_weight(shape=(k,), name="cluster_size",
                                            initializer=keras.initializers.Constant(1.0 / k), **state)
        self.embed_sum = self.add_weight(shape=(k, d), name="embed_sum", initializer="zeros", **state)
        self.usage = self.add_weight(shape=(k,), name="usage", initializer="zeros", **state)
        self.steps = self.add_weight(shape=(), name="steps", initializer="zeros", trainable=False,
                                     autocast=False, dtype="int32", aggregation="only_first_replica")
        self.built = True

    def nearest(self, flat, codebook=None):
        """Index (int32) of the nearest code to each row of the float32 `(n, D)` `flat`."""
        codebook = self.codebook if codebook is None else codebook
        dist = (ops.sum(ops.square(flat), axis=-1, keepdims=True)
                - 2.0 * ops.matmul(flat, ops.transpose(codebook))
                + ops.sum(ops.square(codebook), axis=-1)[None, :])
        return ops.cast(ops.argmin(dist, axis=-1), "int32")

    def call(self, z, training=False):
        z = ops.cast(z, "float32")
        flat = ops.reshape(z, (-1, self.embedding_dim))
        codebook = ops.convert_to_tensor(self.codebook)
        flat_idx = self.nearest(flat, codebook)
        onehot = ops.one_hot(flat_idx, self.num_codes, dtype="float32")
        counts = ops.sum(onehot, axis=0)
        z_q = ops.reshape(ops.take(codebook, flat_idx, axis=0), ops.shape(z))
        if training:
            self._update(ops.stop_gradient(flat), onehot, counts)
        return ops.reshape(flat_idx, ops.shape(z)[:-1]), z_q, counts

    def _update(self, flat, onehot, counts):
        k = self.num_codes
        n = ops.cast(ops.shape(flat)[0], "float32")
        # Shares of the batch (not counts), so that replicas averaging their updates agree with one device.
        cluster = self.decay * self.cluster_size + (1.0 - self.decay) * counts / n
        embed = self.decay * self.embed_sum + (1.0 - self.decay) * ops.matmul(ops.transpose(onehot), flat) / n
        total = ops.sum(cluster)
        smoothed = (cluster + self.epsilon) / (total + k * self.epsilon) * total
        codebook = embed / smoothed[:, None]
        # Restarts: random vectors of this batch for the codes that are due.
        step = self.steps + 1
        usage = self.usage + counts
        first = ops.equal(self.steps, 0)
        if self.restart_every:
            due = ops.equal(ops.mod(step, self.restart_every), 0)
        else:
            due = ops.zeros((), "bool")
        dead = ops.logical_or(first, ops.logical_and(due, usage < 0.5))
        pick = ops.cast(keras.random.uniform((k,), seed=self.seed_generator) * n, "int32")
        pick = ops.minimum(pick, ops.cast(n, "int32") - 1)
        fresh = ops.take(flat, pick, axis=0)
        start = ops.full((k,), 1.0 / k, "float32")
        cluster = ops.where(dead, start, cluster)
        embed = ops.where(dead[:, None], fresh * start[:, None], embed)
        codebook = ops.where(dead[:, None], fresh, codebook)
        self.cluster_size.assign(cluster)
        self.embed_sum.assign(embed)
        self.codebook.assign(codebook)
        self.usage.assign(ops.where(ops.logical_or(first, due), ops.zeros_like(usage), usage))
        self.steps.assign(step)

    def compute_output_spec(self, z, training=False):
        shape = tuple(z.shape)
        return (keras.KerasTensor(shape[:-1], "int32"), keras.KerasTensor(shape, "float32"),
                keras.KerasTensor((self.num_codes,), "float32"))

    def get_config(self):
        config = super().get_config()
        config.update(num_codes=self.num_codes, embedding_dim=self.embedding_dim, decay=self.decay,
                      restart_every=self.restart_every, epsilon=self.epsilon, seed=self.seed)
        return config


def codebook_perplexity(counts):
    """`exp(entropy)` of the codes' shares of a batch: K when all K codes are used equally, 1 for one code."""
    p = counts / ops.maximum(ops.sum(counts), 1.0)
    return ops.exp(-ops.sum(p * ops.log(p + 1e-10)))


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("vqvae")
class VQVAE(_ResNetShape, BaseAutoencoder):
    """A vector-quantized VAE: a residual conv encoder, a codebook of `num_codes` vectors, a decoder.

    The code of an image is a grid of indices into the codebook: `encode` returns it (int32, shape
    `(n,) + code_shape`), `decode` takes it. `fit` reports `loss`, `reconstruction_loss`,
    `commitment_loss`, `perplexity` (of the codes' use in the batch; K at best) and `codebook_usage`
    (the fraction of the K codes the batch used). See the module docstring for the EMA codebook and
    the restarts of dead codes.

    To generate, fit a `keras_ae.CodePrior` to the training codes and attach it: `model.prior =
    prior`; then `model.sample(n)`. A `.keras` file written by `save` keeps the attached prior.

    Args:
        input_shape: `(H, W, C)`; the code grid is `(ceil(H / 2**s), ceil(W / 2**s))` for `s =
            len(filters)` stages (sides are padded up, as in `ResNetAutoencoder`).
        filters, blocks_per_stage, norm, activation, upsampling: as in `ResNetAutoencoder`. The
            default norm is `"group"`: no moving statistics, so a code is the same in training and
            at inference.
        num_codes: codebook size K.
        embedding_dim: size D of each code vector.
        commitment: weight beta of the commitment loss `||z_e - sg(z_q)||^2` (mean per value).
        decay: the codebook's EMA decay.
        restart_every: steps between restarts of the codes unused since the last check (`None`: never).
        reconstruction_loss: `"mse"` (default) or `"bce"`, mean per value.
        seed: seed of the restarts' draws.

    Example:

    ```python
    vq = keras_ae.VQVAE(input_shape=(28, 28, 1), num_codes=64)
    vq.compile(optimizer="adam")
    vq.fit(x_train, epochs=10, batch_size=128)
    codes = vq.encode(x_train)                  # (n, 7, 7) int32
    prior = keras_ae.CodePrior.for_model(vq)
    prior.compile(optimizer="adam")
    prior.fit(codes, epochs=10, batch_size=128)
    vq.prior = prior
    images = vq.sample(16, seed=0)
    ```
    """

    latent_dim_optional = True
    # Training draws random numbers (the restarts' picks), per replica under a distribution strategy.
    draws_noise = True
    code_dtype = "int32"  # the code is a grid of indices (keras_ae.testing reads this)
    # No residual blocks: the ResNet variants' checks cover them, and the check suite compiles many steps.
    test_config = dict(input_shape=(8, 8, 1), filters=(4,), blocks_per_stage=0, num_codes=8, embedding_dim=3,
                       seed=1)

    def __init__(self, input_shape=(28, 28, 1), filters=(32, 64), blocks_per_stage=1, norm="group",
                 num_codes=512, embedding_dim=64, commitment=0.25, decay=0.99, restart_every=100,
                 activation="relu", upsampling="transpose", reconstruction_loss="mse", seed=None, **kwargs):
        if kwargs.pop("latent_dim", None) is not None:
            raise TypeError("A VQVAE's code is a grid of indices: set `num_codes` and `embedding_dim`, not "
                            "`latent_dim`")
        self._store_resnet(filters, blocks_per_stage, norm, activation, upsampling)
        self.num_codes = check_positive_int("num_codes", num_codes)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.commitment = check_float("commitment", commitment, 0.0)
        self.decay = check_float("decay", decay, 0.0, 1.0, high_inclusive=False)
        self.restart_every = check_positive_int("restart_every", restart_every or None, allow_none=True)
        self.seed = check_seed(seed)
        self._loss_pass = False  # True while Keras's test step runs `call`: return the loss's parts
        super().__init__(input_shape=input_shape, latent_dim=None, reconstruction_loss=reconstruction_loss,
                         **kwargs)
        self.commitment_tracker = keras.metrics.Mean(name="commitment_loss")
        self.perplexity_tracker = keras.metrics.Mean(name="perplexity")
        self.usage_tracker = keras.metrics.Mean(name="codebook_usage")

    def __setattr__(self, name, value):
        if name == "prior":
            # Kept out of Keras's tracking: its weights are not the VQ-VAE's (`fit` must not see them).
            object.__setattr__(self, "_prior", self._checked_prior(value))
            return
        super().__setattr__(name, value)

    # ---- architecture ---------------------------------------------------------
    def build_layers(self):
        self.quantizer = VectorQuantizer(self.num_codes, self.embedding_dim, decay=self.decay,
                                         restart_every=self.restart_every, seed=self.seed, name="quantizer")
        self.quantizer.build((None,) + self._map_shape[:2] + (self.embedding_dim,))

    def build_encoder(self):
        inp = keras.Input(self.input_shape, name="x")
        h = self.encoder_trunk(inp, flatten=False)
        z_e = keras.layers.Conv2D(self.embedding_dim, 1, name="pre_quantization", dtype=self.dtype_policy)(h)
        return keras.Model(inp, z_e, name="encoder")

    def build_decoder(self):
        inp = keras.Input(self._map_shape[:2] + (self.embedding_dim,), name="z_q")
        h = keras.layers.Conv2D(self.filters[-1], 3, padding="same", name="post_quantization",
                                dtype=self.dtype_policy)(inp)
        return keras.Model(inp, self.decoder_stages(h), name="decoder")

    @property
    def code_shape(self):
        """The grid of code indices of one image, `(h, w)`."""
        return tuple(self._map_shape[:2])

    @property
    def codebook(self):
        """The codebook, a float32 NumPy array of shape `(num_codes, embedding_dim)`."""
        return np.asarray(ops.convert_to_numpy(self.quantizer.codebook), "float32")

    # ---- training -------------------------------------------------------------
    def call(self, inputs, training=False):
        z_e = self.encoder(inputs, training=training)
        _, z_q, counts = self.quantizer(z_e, training=training)
        z_e = ops.cast(z_e, "float32")
        z_st = z_e + ops.stop_gradient(z_q - z_e)  # straight through
        recon = self.decoder(z_st, training=training)
        if not (training or self._loss_pass):
            return recon
        commit = ops.mean(ops.square(z_e - ops.stop_gradient(z_q)), axis=tuple(range(1, len(z_e.shape))))
        return {"reconstruction": recon, "commitment": commit, "counts": counts}

    def test_step(self, *args):
        # As in BaseVAE: validation and `evaluate` report the training loss's parts.
        self._loss_pass = True
        try:
            return super().test_step(*args)
        finally:
            self._loss_pass = False

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(y_pred, dict):
            raise ValueError("A VQVAE's loss needs the commitment term: y_pred must be the dict that "
                             "`model(x, training=True)` returns. Received: " + type(y_pred).__name__)
        target = x if y is None else y
        recon_out = y_pred["reconstruction"]
        replicas = replicas_in_sync()
        if getattr(self, "loss", None) is None:
            recon = batch_mean(per_sample_reconstruction_loss(self.reconstruction_loss, target, recon_out),
                               sample_weight)
        else:
            recon = ops.cast(keras.Model.compute_loss(self, x, target, recon_out, sample_weight, training),
                             "float32") * replicas
        commit = batch_mean(y_pred["commitment"], sample_weight)
        total = recon + self.commitment * commit
        self.reconstruction_loss_tracker.update_state(recon)
        self.commitment_tracker.update_state(commit)
        counts = y_pred["counts"]
        self.perplexity_tracker.update_state(codebook_perplexity(counts))
        self.usage_tracker.update_state(ops.mean(ops.cast(counts > 0, "float32")))
        return total / replicas if replicas > 1 else total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if isinstance(y_pred, dict):
            y_pred = y_pred["reconstruction"]
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def get_config(self):
        config = super().get_config()
        config.pop("latent_dim", None)
        config.update(num_codes=self.num_codes, embedding_dim=self.embedding_dim, commitment=self.commitment,
                      decay=self.decay, restart_every=self.restart_every, seed=self.seed)
        return config

    # ---- the verbs ----------------------------------------------------------------
    def encode(self, x, batch_size=256):
        """The code indices of `x`: an int32 NumPy array of shape `(n,) + code_shape`."""
        z_e = inference.encode(self, x, batch_size)
        flat = ops.convert_to_tensor(z_e.reshape(-1, self.embedding_dim))
        idx = []
        rows = max(1, batch_size * math.prod(self.code_shape))
        for start in range(0, flat.shape[0], rows):
            idx.append(ops.convert_to_numpy(self.quantizer.nearest(flat[start:start + rows])))
        out = np.concatenate(idx) if idx else np.zeros((0,), "int32")
        return out.astype("int32").reshape((len(z_e),) + self.code_shape)

    def decode(self, codes, batch_size=256):
        """Decode code indices of shape `(n,) + code_shape` (ints in `[0, num_codes)`) to images."""
        codes = check_codes(codes, self.code_shape, self.num_codes)
        z_q = self.codebook[codes]
        return inference.apply(self, self.decoder, z_q, batch_size, name="codes",
                               check=lambda v, name: np.asarray(v, "float32"))

    def codebook_usage(self, x, batch_size=256):
        """The fraction of the codes that some code position of `x` uses (1.0: no dead code)."""
        return float(np.unique(self.encode(x, batch_size)).size / self.num_codes)

    # ---- the prior ------------------------------------------------------------------
    @property
    def prior(self):
        """The attached `keras_ae.CodePrior` over the code grid, or None. Attach one with `model.prior = p`."""
        return self.__dict__.get("_prior")

    def _checked_prior(self, prior):
        if prior is None:
            return None
        if not isinstance(prior, CodePrior):
            raise TypeError(f"`prior` must be a keras_ae.CodePrior (or None). Received: {type(prior).__name__}")
        if tuple(prior.grid_shape) != self.code_shape or prior.num_codes != self.num_codes:
            raise ValueError(f"The prior models {prior.num_codes} codes on a {tuple(prior.grid_shape)} grid; this "
                             f"VQVAE has {self.num_codes} codes on a {self.code_shape} grid. Build it with "
                             "keras_ae.CodePrior.for_model(model)")
        return prior

    def sample(self, n, temperature=1.0, seed=None, batch_size=256, sampler=None):
        """Draw `n` code grids from the attached prior (one position at a time) and decode them.

        Args:
            n: number of samples.
            temperature: divides the prior's logits (`< 1`: safer, less varied draws).
            seed: int seed; the same seed gives the same samples.
            batch_size: grids per forward pass.
            sampler: optional; a fitted `CodePriorSampler` (a zoo entry's, `zoo.load_sampler`) whose
                prior is drawn from instead of the attached one.

        Returns:
            A NumPy array of shape `(n,) + sample_shape`.
        """
        if sampler is not None:
            if getattr(sampler, "kind", None) != "code_prior":
                raise TypeError("A VQVAE draws codes from a prior over its code grid: `sampler` must be a "
                                f"fitted 'code_prior' sampler. Received: {sampler!r}")
            sampler.check_model(self)
            sampler._require_fitted()
            codes = sampler.prior.sample(n, temperature=temperature, seed=seed, batch_size=batch_size)
            return self.decode(codes, batch_size=batch_size)
        if self.prior is None:
            raise ValueError("VQVAE.sample draws codes from a prior over the code grid, and none is attached. "
                             "Fit one to the training codes: `prior = keras_ae.CodePrior.for_model(model)`, "
                             "`prior.compile(optimizer='adam')`, `prior.fit(model.encode(x_train), epochs=...)`, "
                             "then `model.prior = prior`")
        codes = self.prior.sample(n, temperature=temperature, seed=seed, batch_size=batch_size)
        return self.decode(codes, batch_size=batch_size)

    # A `.keras` file carries the prior as an asset: its config and weights, beside the model's.
    def save_assets(self, dir_path):
        import json

        prior = self.prior
        if prior is None:
            return
        with open(os.path.join(dir_path, _PRIOR_FILES[0]), "w", encoding="utf-8") as f:
            json.dump(keras.saving.serialize_keras_object(prior), f)
        prior.save_weights(os.path.join(dir_path, _PRIOR_FILES[1]))

    def load_assets(self, dir_path):
        import json

        config_path = os.path.join(dir_path, _PRIOR_FILES[0])
        if not os.path.exists(config_path):
            return
        with open(config_path, encoding="utf-8") as f:
            prior = keras.saving.deserialize_keras_object(json.load(f))
        prior.load_weights(os.path.join(dir_path, _PRIOR_FILES[1]))
        self.prior = prior
