"""Variational autoencoders: dense, convolutional and beta-VAE, with a custom `train_step`."""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_ae._validation import check_float, check_positive_int, check_units
from keras_ae.layers import Sampling
from keras_ae.models.base import (
    BaseAutoencoder,
    dense_stack,
    num_replicas,
    per_sample_reconstruction_loss,
)
from keras_ae.models.convolutional import check_image_shape, conv_down, conv_up
from keras_ae.models.registry import register_variant


def gaussian_kl(z_mean, z_log_var):
    """Closed-form `KL(N(mean, exp(log_var)) || N(0, I))` per sample, summed over latents."""
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


class BaseVAE(BaseAutoencoder):
    """Shared VAE logic: the ELBO loss, `train_step`, `test_step`, sampling.

    The loss per sample is the reconstruction term summed over values (BCE,
    or squared error for `"mse"`) plus `beta * KL(q(z|x) || N(0, I))`, and is
    averaged over the batch. `fit` reports `loss`, `reconstruction_loss` and
    `kl_loss`. `call` decodes the posterior mean when `training=False`, so
    `predict` is deterministic; `train_step` and `test_step` sample `z`.
    """

    def __init__(self, input_shape, latent_dim, beta=1.0, reconstruction_loss="bce",
                 dynamic_binarization=False, seed=None, **kwargs):
        super().__init__(input_shape=input_shape, latent_dim=latent_dim,
                         reconstruction_loss=reconstruction_loss, **kwargs)
        check_positive_int("latent_dim", latent_dim)
        self._beta_arg = check_float("beta", beta, 0.0)
        # A variable, so a callback can anneal beta without retracing train_step.
        self.beta = self.add_weight(shape=(), initializer=keras.initializers.Constant(beta),
                                    trainable=False, name="beta")
        self.dynamic_binarization = bool(dynamic_binarization)
        self.seed = seed
        self.sampling = Sampling(seed=seed, name="sampling")
        self.binarize_seed = keras.random.SeedGenerator(None if seed is None else seed + 1)
        self.total_loss_tracker = keras.metrics.Mean(name="loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    @property
    def code_shape(self):
        return (self._latent_dim_arg,)

    def call(self, inputs, training=False):
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        return self.decoder(z, training=training)

    def elbo_terms(self, x, training=False):
        """Per-sample `(reconstruction, kl)` for one sampled `z` (tensors)."""
        z_mean, z_log_var = self.encoder(x, training=training)
        z = self.sampling([z_mean, z_log_var])
        recon = self.decoder(z, training=training)
        rec = per_sample_reconstruction_loss(self.reconstruction_loss, x, recon, reduce="sum")
        return rec, gaussian_kl(z_mean, z_log_var)

    def compute_vae_loss(self, x, training=False):
        """The loss both `train_step` and `test_step` use: `(total, recon, kl)` batch means."""
        if training and self.dynamic_binarization:
            u = keras.random.uniform(ops.shape(x), seed=self.binarize_seed, dtype=x.dtype)
            x = ops.cast(ops.less(u, x), x.dtype)
        rec, kl = self.elbo_terms(x, training=training)
        rec, kl = ops.mean(rec), ops.mean(kl)
        return rec + ops.cast(self.beta, rec.dtype) * kl, rec, kl

    def _update_trackers(self, total, rec, kl):
        self.total_loss_tracker.update_state(total)
        self.reconstruction_loss_tracker.update_state(rec)
        self.kl_loss_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        x = keras.utils.unpack_x_y_sample_weight(data)[0]
        with tf.GradientTape() as tape:
            total, rec, kl = self.compute_vae_loss(x, training=True)
            # Each replica's gradient is summed across replicas, so divide here.
            scaled = total / num_replicas()
            scaled = self.optimizer.scale_loss(scaled)
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._update_trackers(total, rec, kl)

    def test_step(self, data):
        x = keras.utils.unpack_x_y_sample_weight(data)[0]
        return self._update_trackers(*self.compute_vae_loss(x, training=False))

    def compile(self, optimizer="rmsprop", loss=None, **kwargs):
        if loss is not None:
            raise ValueError(
                "A VAE trains on its own ELBO loss; do not pass `loss` to compile(). "
                f"Received: loss={loss!r}"
            )
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        # Keras skips compiling on load when `compile` is overridden; ours is safe to call.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def get_config(self):
        config = super().get_config()
        config.update(beta=self._beta_arg, dynamic_binarization=self.dynamic_binarization,
                      seed=self.seed)
        return config

    # ---- VAE verbs ----------------------------------------------------------
    def encode_distribution(self, x, batch_size=256):
        """Return `(z_mean, z_log_var)` of q(z|x) as NumPy arrays."""
        x = self.check_inputs(x)
        z_mean, z_log_var = self.encoder.predict(x, batch_size=batch_size, verbose=0)
        return z_mean, z_log_var

    def encode(self, x, batch_size=256):
        """Encode to the posterior means `z_mean`, shape `(n, latent_dim)`."""
        return self.encode_distribution(x, batch_size=batch_size)[0]

    def sample(self, n, temperature=1.0, seed=None, batch_size=256):
        """Decode `n` draws `z ~ N(0, temperature^2 I)` to new data.

        Args:
            n: number of samples.
            temperature: standard deviation of the prior draws, `> 0`.
            seed: int seed; the same seed gives the same samples.

        Returns:
            A NumPy array of shape `(n,) + sample_shape`.
        """
        check_positive_int("n", n)
        temperature = check_float("temperature", temperature, 0.0, low_inclusive=False)
        rng = np.random.default_rng(seed)
        z = temperature * rng.standard_normal((n, self._latent_dim_arg)).astype("float32")
        return self.decode(z, batch_size=batch_size)

    def elbo(self, x, num_samples=1, batch_size=256):
        """Per-sample ELBO in nats (a lower bound on log p(x)), averaged over `num_samples` draws."""
        x = self.check_inputs(x)
        check_positive_int("num_samples", num_samples)
        out = []
        for start in range(0, len(x), batch_size):
            xb = ops.convert_to_tensor(x[start:start + batch_size])
            acc = 0.0
            for _ in range(num_samples):
                rec, kl = self.elbo_terms(xb)
                acc = acc + ops.convert_to_numpy(-(rec + kl))
            out.append(acc / num_samples)
        return np.concatenate(out).astype("float64")

    def log_likelihood(self, x, num_samples=100, batch_size=64, chunk=None, verbose=0):
        """Importance-sampled estimate of log p(x) in nats, per sample.

        `log p(x) ~= logsumexp_i(log p(x|z_i) + log p(z_i) - log q(z_i|x)) - log k`
        with `z_i ~ q(z|x)`, `k = num_samples` (Burda et al., 2016). With k = 1
        it is an unbiased draw of the ELBO; as k grows it rises towards log p(x).
        `log p(x|z)` is minus the same reconstruction term the ELBO uses.

        Args:
            x: a batch of inputs.
            num_samples: importance samples per input (k).
            batch_size: inputs per forward pass.
            chunk: samples per forward pass (default: keeps about 8k decodes per pass).
            verbose: 1 shows a Keras progress bar over the inputs.

        Returns:
            A float64 NumPy array of shape `(n,)`.
        """
        x = self.check_inputs(x)
        k = check_positive_int("num_samples", num_samples)
        chunk = chunk or max(1, min(k, 8192 // batch_size))
        log2pi = math.log(2.0 * math.pi)
        out = []
        progress = keras.utils.Progbar(len(x)) if verbose else None
        for start in range(0, len(x), batch_size):
            xb = ops.convert_to_tensor(x[start:start + batch_size])
            b = int(xb.shape[0])
            z_mean, z_log_var = self.encoder(xb, training=False)
            weights = []
            for s in range(0, k, chunk):
                c = min(chunk, k - s)
                eps = keras.random.normal((c, b, self._latent_dim_arg), seed=self.sampling.seed_generator)
                z = z_mean[None] + ops.exp(0.5 * z_log_var)[None] * eps
                recon = self.decoder(ops.reshape(z, (c * b, -1)), training=False)
                target = ops.tile(xb, (c,) + (1,) * (len(xb.shape) - 1))
                log_px = -per_sample_reconstruction_loss(self.reconstruction_loss, target, recon, reduce="sum")
                log_pz = -0.5 * ops.sum(ops.square(z) + log2pi, axis=-1)
                log_qz = -0.5 * ops.sum(ops.square(eps) + log2pi + z_log_var[None], axis=-1)
                weights.append(ops.convert_to_numpy(ops.reshape(log_px, (c, b)) + log_pz - log_qz))
            lw = np.concatenate(weights, axis=0).astype("float64")
            m = lw.max(axis=0)
            out.append(m + np.log(np.exp(lw - m).sum(axis=0)) - math.log(k))
            if progress is not None:
                progress.add(b)
        return np.concatenate(out)


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("vae")
class VAE(BaseVAE):
    """A dense variational autoencoder.

    Args:
        input_shape: shape of one sample.
        hidden_units: encoder hidden sizes; the decoder mirrors them.
        latent_dim: size of z.
        beta: weight of the KL term (1 for a VAE, > 1 for a beta-VAE).
        activation: hidden activation.
        reconstruction_loss: `"bce"` (Bernoulli decoder) or `"mse"`.
        dynamic_binarization: draw binary pixels `x ~ Bernoulli(x)` afresh in
            every training step (the IWAE paper's protocol).
        seed: seed of the sampling noise.

    Example:

    ```python
    vae = keras_ae.VAE(latent_dim=2)
    vae.compile(optimizer="adam")
    vae.fit(x_train, epochs=30, batch_size=128, validation_data=(x_test,))
    digits = vae.sample(16)
    ```
    """

    def __init__(self, input_shape=(784,), hidden_units=(512,), latent_dim=2, beta=1.0,
                 activation="relu", reconstruction_loss="bce", dynamic_binarization=False,
                 seed=None, **kwargs):
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, beta=beta,
                         reconstruction_loss=reconstruction_loss,
                         dynamic_binarization=dynamic_binarization, seed=seed, **kwargs)
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.activation = activation
        self._finish_init()

    def build_encoder(self):
        inp = keras.Input(self._sample_shape, name="x")
        h = keras.layers.Flatten()(inp) if len(self._sample_shape) > 1 else inp
        h = dense_stack(h, self.hidden_units, self.activation, "encoder_dense")
        z_mean = keras.layers.Dense(self._latent_dim_arg, name="z_mean")(h)
        z_log_var = keras.layers.Dense(self._latent_dim_arg, name="z_log_var")(h)
        return keras.Model(inp, [z_mean, z_log_var], name="encoder")

    def build_decoder(self):
        inp = keras.Input((self._latent_dim_arg,), name="z")
        h = dense_stack(inp, self.hidden_units[::-1], self.activation, "decoder_dense")
        h = keras.layers.Dense(math.prod(self._sample_shape), activation="sigmoid",
                               name="reconstruction")(h)
        if len(self._sample_shape) > 1:
            h = keras.layers.Reshape(self._sample_shape)(h)
        return keras.Model(inp, h, name="decoder")

    def get_config(self):
        config = super().get_config()
        config.update(hidden_units=list(self.hidden_units), activation=self.activation)
        return config


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("beta_vae")
class BetaVAE(VAE):
    """A dense beta-VAE (Higgins et al., 2017): a VAE with `beta > 1` by default.

    A larger `beta` weighs the KL term more, trading reconstruction for a
    smoother, more factorised latent space. Anneal it with `BetaAnnealing`.
    """

    def __init__(self, input_shape=(784,), hidden_units=(512,), latent_dim=10, beta=4.0, **kwargs):
        super().__init__(input_shape=input_shape, hidden_units=hidden_units,
                         latent_dim=latent_dim, beta=beta, **kwargs)


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("conv_vae")
class ConvVAE(BaseVAE):
    """A convolutional VAE for images of any `(H, W, C)` (the keras.io layout).

    Encoder: strided 3x3 convolutions (`filters`), a dense layer of
    `hidden_units`, then `z_mean` and `z_log_var`. Decoder: a dense layer back
    to the feature map, `Conv2DTranspose` layers, and a sigmoid convolution.

    Args:
        input_shape: `(H, W, C)` with H and W divisible by `2**len(filters)`.
        filters: filters per downsampling level.
        hidden_units: size of the dense layer before the latent heads.
        latent_dim: size of z.
        beta, reconstruction_loss, dynamic_binarization, seed: as in `VAE`.
    """

    def __init__(self, input_shape=(28, 28, 1), filters=(32, 64), hidden_units=256,
                 latent_dim=16, beta=1.0, activation="relu", reconstruction_loss="bce",
                 dynamic_binarization=False, seed=None, **kwargs):
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, beta=beta,
                         reconstruction_loss=reconstruction_loss,
                         dynamic_binarization=dynamic_binarization, seed=seed, **kwargs)
        self.filters = check_units("filters", filters)
        if not self.filters:
            raise ValueError("`filters` needs at least one level. Received: filters=()")
        self.hidden_units = check_positive_int("hidden_units", hidden_units)
        self.activation = activation
        check_image_shape(self._sample_shape, len(self.filters))
        self._finish_init()

    @property
    def _map_shape(self):
        h, w, _ = self._sample_shape
        step = 2 ** len(self.filters)
        return (h // step, w // step, self.filters[-1])

    def build_encoder(self):
        inp = keras.Input(self._sample_shape, name="x")
        h = conv_down(inp, self.filters, self.activation, "stride")
        h = keras.layers.Flatten()(h)
        h = keras.layers.Dense(self.hidden_units, activation=self.activation, name="encoder_dense")(h)
        z_mean = keras.layers.Dense(self._latent_dim_arg, name="z_mean")(h)
        z_log_var = keras.layers.Dense(self._latent_dim_arg, name="z_log_var")(h)
        return keras.Model(inp, [z_mean, z_log_var], name="encoder")

    def build_decoder(self):
        inp = keras.Input((self._latent_dim_arg,), name="z")
        h = keras.layers.Dense(math.prod(self._map_shape), activation=self.activation, name="project")(inp)
        h = keras.layers.Reshape(self._map_shape)(h)
        h = conv_up(h, self.filters[::-1], self.activation, "transpose", self._sample_shape[-1])
        return keras.Model(inp, h, name="decoder")

    def get_config(self):
        config = super().get_config()
        config.update(filters=list(self.filters), hidden_units=self.hidden_units,
                      activation=self.activation)
        return config


@keras.saving.register_keras_serializable(package="keras_ae")
class BetaAnnealing(keras.callbacks.Callback):
    """Anneal a VAE's `beta` linearly from `start` to `stop` over `epochs` epochs.

    Example:

    ```python
    vae.fit(x, epochs=20, callbacks=[keras_ae.BetaAnnealing(0.0, 1.0, epochs=10)])
    ```
    """

    def __init__(self, start=0.0, stop=1.0, epochs=10):
        super().__init__()
        self.start = check_float("start", start, 0.0)
        self.stop = check_float("stop", stop, 0.0)
        self.epochs = check_positive_int("epochs", epochs)

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model, "beta"):
            raise ValueError(f"BetaAnnealing needs a VAE. Received: {type(self.model).__name__}")
        frac = min(1.0, epoch / self.epochs)
        self.model.beta.assign(self.start + frac * (self.stop - self.start))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["beta"] = float(ops.convert_to_numpy(self.model.beta))

    def get_config(self):
        return {"start": self.start, "stop": self.stop, "epochs": self.epochs}
