"""Variational autoencoders: dense, convolutional, beta-VAE and IWAE, on every Keras backend.

How training works, and why: the ELBO lives in `compute_loss`, and the
training step is Keras's own on every backend (TensorFlow, JAX, PyTorch).
`call(x, training=True)` samples `z` and returns a dict of the parts the
loss needs (the reconstruction, `z_mean`, `z_log_var` and the target, which
is the binarized input under `dynamic_binarization`); `compute_loss` turns
them into the per-sample negative ELBO, weighs it by `sample_weight` and
averages it. `test_step` is a thin override of Keras's per-backend step that
asks `call` for the same sampled pass, so validation reports the same ELBO.
This is simpler than three hand-written steps (one per backend, as in Keras's
"Customizing what happens in fit()" guides), and `sample_weight`, compiled
metrics, loss scaling under mixed precision, `jit_compile`,
`steps_per_execution` and distribution come from Keras unchanged.
`call(x)` at inference decodes the posterior mean, so `predict` is
deterministic and exportable.
"""

import math

import keras
import numpy as np
from keras import ops

from keras_ae._validation import (
    check_activation,
    check_float,
    check_initializer,
    check_positive_int,
    check_seed,
    check_units,
    stream_seed,
)
from keras_ae.layers import Binarization, Sampling
from keras_ae.losses import (
    VAE_RECONSTRUCTION_LOSSES,
    batch_mean,
    bounded_log_scale,
    gaussian_kl,
    gaussian_nll,
    per_sample_reconstruction_loss,
    replicas_in_sync,
    total_penalty,
)
from keras_ae.models.base import BaseAutoencoder, dense_stack
from keras_ae.models.convolutional import check_image_shape, conv_down, conv_up
from keras_ae.models.registry import register_variant

__all__ = ["BaseVAE", "VAE", "BetaVAE", "IWAE", "ConvVAE", "BetaAnnealing", "gaussian_kl"]

KL_GRADIENTS = ("analytic", "path")


def path_gradient_kl(z, z_mean, z_log_var, closed_form):
    """The closed-form KL per sample in value, with the path-derivative gradient.

    The gradient is that of `log q(z|x) - log p(z)` at the draw `z` (which
    carries the gradient through `z = mean + std * eps`), with q's mean and
    log-variance held fixed: the "sticking the landing" estimator.
    """
    z = ops.cast(z, "float32")
    mean = ops.stop_gradient(ops.cast(z_mean, "float32"))
    log_var = ops.stop_gradient(ops.cast(z_log_var, "float32"))
    # log q(z|x) - log p(z); the log(2 pi) terms cancel.
    draw = -0.5 * ops.sum(ops.square(z - mean) * ops.exp(-log_var) + log_var - ops.square(z), axis=-1)
    return ops.stop_gradient(closed_form) + draw - ops.stop_gradient(draw)


class BaseVAE(BaseAutoencoder):
    """Shared VAE logic: the ELBO loss, sampling, likelihood estimates.

    The loss per sample is the reconstruction term summed over values (BCE,
    or squared error for `"mse"`) plus `beta * KL(q(z|x) || N(0, I))`; it is
    weighted by `sample_weight` and averaged over the batch. `fit` reports
    `loss`, `reconstruction_loss` and `kl_loss`, plus any compiled metrics
    (computed between the target and the sampled reconstruction).

    `beta` is the constructor's value; the weight used in training is the
    non-trainable variable `kl_weight`, which `BetaAnnealing` changes.

    `reconstruction_loss="gaussian"` makes the decoder a Gaussian with a
    learned scale shared by all values (the "sigma-VAE" of Rybkin et al.
    2021), a proper density on continuous [0, 1] values such as colour
    photos: the reconstruction term is `-log N(x; decoder(z), sigma^2 I)`,
    `sigma = exp(log_scale)` is a trainable weight (`decoder_scale` reads
    it), and the balance between reconstruction and KL that a fixed `"mse"`
    weight would set by hand is learned. `"bce"` remains the Bernoulli
    decoder for binary or near-binary data.

    `kl_gradient` chooses how the KL term's gradient is estimated; its value
    (the loss reported) is the closed form either way. `"analytic"` (default)
    differentiates the closed form. `"path"` uses the path derivative of the
    one-draw estimate `log q(z|x) - log p(z)` with q's parameters held fixed
    ("sticking the landing", Roeder, Wu & Duvenaud 2017): unbiased, and its
    variance vanishes as q approaches the true posterior.
    """

    generative = True
    reconstruction_losses = VAE_RECONSTRUCTION_LOSSES

    def __init__(self, input_shape, latent_dim, beta=1.0, reconstruction_loss="bce",
                 dynamic_binarization=False, seed=None, kl_gradient="analytic", **kwargs):
        self.beta = check_float("beta", beta, 0.0)
        if kl_gradient not in KL_GRADIENTS:
            raise ValueError(f"kl_gradient must be one of {KL_GRADIENTS}. Received: {kl_gradient!r}")
        self.kl_gradient = kl_gradient
        self.dynamic_binarization = bool(dynamic_binarization)
        self.seed = check_seed(seed)
        # True while Keras's test step runs `call`: sample z as in training.
        self._elbo_pass = False
        super().__init__(input_shape=input_shape, latent_dim=latent_dim,
                         reconstruction_loss=reconstruction_loss, **kwargs)
        # A variable, so a callback can anneal it without retracing the train step.
        self.kl_weight = self.add_weight(shape=(), initializer=keras.initializers.Constant(self.beta),
                                         trainable=False, name="beta")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    def build_layers(self):
        self.sampling = Sampling(seed=self.seed, name="sampling", dtype=self.dtype_policy)
        self.binarization = Binarization(seed=stream_seed(self.seed, 1),
                                         name="binarization", dtype=self.dtype_policy)
        if self.reconstruction_loss == "gaussian":
            self.log_scale = self.add_weight(shape=(), initializer="zeros", name="log_scale")

    @property
    def decoder_scale(self):
        """The Gaussian decoder's learned standard deviation (a float), or None for another decoder."""
        if self.reconstruction_loss != "gaussian":
            return None
        return float(np.exp(ops.convert_to_numpy(bounded_log_scale(self.log_scale))))

    def reconstruction_nll(self, target, reconstruction):
        """Per-sample float32 `-log p(x|z)` (summed over values) of `target` under the decoded `reconstruction`.

        The one place the decoder's likelihood is written: the training loss,
        `elbo`, `log_likelihood` and the importance weights all call it.
        """
        if self.reconstruction_loss == "gaussian":
            return gaussian_nll(target, reconstruction, self.log_scale)
        return per_sample_reconstruction_loss(self.reconstruction_loss, target, reconstruction, reduce="sum")

    @property
    def code_shape(self):
        return (self.latent_dim,)

    # ---- training -------------------------------------------------------------
    def call(self, inputs, training=False):
        if not (training or self._elbo_pass):
            z_mean, _ = self.encoder(inputs, training=False)
            return self.decoder(z_mean, training=False)
        x = inputs
        if self.dynamic_binarization:
            x = self.binarization(x, training=training)
        z_mean, z_log_var = self.encoder(x, training=training)
        z = self.sampling([z_mean, z_log_var])
        return {"reconstruction": self.decoder(z, training=training), "z_mean": z_mean,
                "z_log_var": z_log_var, "z": z, "target": x}

    def test_step(self, *args):
        # TensorFlow and PyTorch call test_step(data), JAX test_step(state, data). The flag is
        # read while Keras traces (or, on PyTorch, runs) its step, so `call` samples z there.
        self._elbo_pass = True
        try:
            return super().test_step(*args)
        finally:
            self._elbo_pass = False

    def elbo_loss_terms(self, parts):
        """Per-sample float32 `(reconstruction, kl)` from the dict `call(training=True)` returns."""
        rec = self.reconstruction_nll(parts["target"], parts["reconstruction"])
        kl = gaussian_kl(parts["z_mean"], parts["z_log_var"])
        if self.kl_gradient == "path":
            kl = path_gradient_kl(parts["z"], parts["z_mean"], parts["z_log_var"], kl)
        return rec, kl

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(y_pred, dict):
            raise ValueError(
                "A VAE's loss needs the sampled pass: y_pred must be the dict that "
                "`model(x, training=True)` returns. Received: " + type(y_pred).__name__)
        rec, kl = self.elbo_loss_terms(y_pred)
        bound = batch_mean(self.negative_bound(y_pred, rec, kl), sample_weight)
        kl_mean = batch_mean(kl, sample_weight)
        if type(self).negative_bound is BaseVAE.negative_bound:
            # The ELBO's reconstruction term as `bound - beta * KL`: the same value, without a second
            # reduction over the per-sample reconstruction terms, which slowed a convolutional VAE's
            # step on JAX (benchmarks/RESULTS.md, "What was tried against ratios below target").
            rec_mean = bound - ops.cast(self.kl_weight, "float32") * kl_mean
        else:
            rec_mean = batch_mean(rec, sample_weight)
        total = bound
        penalty = total_penalty(self.losses)
        if penalty is not None:
            total = total + penalty
        self.reconstruction_loss_tracker.update_state(rec_mean)
        self.kl_loss_tracker.update_state(kl_mean)
        replicas = replicas_in_sync()
        return total / replicas if replicas > 1 else total

    def negative_bound(self, parts, rec, kl):
        """The per-sample float32 loss `compute_loss` averages: the negative ELBO `rec + beta * kl`.

        `parts` is the dict `call(training=True)` returns and `(rec, kl)` are its
        `elbo_loss_terms`. A subclass with another bound (`IWAE`) overrides this.
        """
        return rec + ops.cast(self.kl_weight, "float32") * kl

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if isinstance(y_pred, dict):
            y, y_pred = y_pred["target"], y_pred["reconstruction"]
        return super().compute_metrics(x, y, y_pred, sample_weight)

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
        config.update(beta=self.beta, dynamic_binarization=self.dynamic_binarization,
                      seed=self.seed, kl_gradient=self.kl_gradient)
        return config

    def elbo_terms(self, x, training=False):
        """Per-sample `(reconstruction, kl)` tensors for one sampled `z`, without binarization."""
        z_mean, z_log_var = self.encoder(x, training=training)
        z = self.sampling([z_mean, z_log_var])
        recon = self.decoder(z, training=training)
        return self.reconstruction_nll(x, recon), gaussian_kl(z_mean, z_log_var)

    def importance_terms(self, target, z_mean, z_log_var, eps, training=False):
        """Decode `k` draws from q(z|x) in one pass; return their log densities.

        The draws are `z = z_mean + exp(z_log_var / 2) * eps`, with `eps` of shape
        `(k, batch, latent_dim)`: the encoder's output is repeated `k` times (the
        encoder runs once) and the decoder runs once on `k * batch` codes.

        Returns:
            `(reconstruction, log_px, log_pz, log_qz)`: the `k * batch` decoded
            draws (draw-major: rows `i * batch ... (i + 1) * batch - 1` are draw
            `i`), and float32 `log p(x|z)` (the ELBO's reconstruction term,
            negated), `log p(z)` (standard normal) and `log q(z|x)`, each `(k, batch)`.
        """
        z_mean, z_log_var = ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32")
        k = eps.shape[0]
        z = z_mean[None] + ops.exp(0.5 * z_log_var)[None] * eps
        recon = self.decoder(ops.reshape(z, (-1, self.latent_dim)), training=training)
        repeated = ops.tile(target, (k,) + (1,) * (len(target.shape) - 1))
        log_px = -self.reconstruction_nll(repeated, recon)
        log2pi = math.log(2.0 * math.pi)
        log_pz = -0.5 * ops.sum(ops.square(z) + log2pi, axis=-1)
        log_qz = -0.5 * ops.sum(ops.square(eps) + log2pi + z_log_var[None], axis=-1)
        return recon, ops.reshape(log_px, (k, -1)), log_pz, log_qz

    # ---- VAE verbs ----------------------------------------------------------
    def encode_distribution(self, x, batch_size=256):
        """Return `(z_mean, z_log_var)` of q(z|x) as NumPy arrays."""
        return self._apply(self.encoder, x, batch_size)

    def encode(self, x, batch_size=256):
        """Encode to the posterior means `z_mean`, shape `(n, latent_dim)`."""
        return self.encode_distribution(x, batch_size=batch_size)[0]

    def sample(self, n, temperature=1.0, seed=None, batch_size=256, sampler=None):
        """Decode `n` draws `z ~ N(0, temperature^2 I)` to new data, or `n` codes drawn by a fitted `sampler`.

        Args:
            n: number of samples.
            temperature: standard deviation of the prior draws, `> 0`.
            seed: int seed; the same seed gives the same samples.
            batch_size: codes per decoder pass.
            sampler: `None` (the prior), `"normal"` (the same draws, through
                `keras_ae.samplers.NormalSampler`), or a fitted `keras_ae.samplers.Sampler`, e.g.
                `keras_ae.samplers.get_sampler("gmm").fit(vae, x_train)`: a density fitted to the
                training codes. Its codes are decoded with this model. A fitted sampler draws from
                what it fitted, so `temperature` must then be 1.0 (a `NormalSampler` takes its own).

        Returns:
            A NumPy array of shape `(n,) + sample_shape`.
        """
        check_positive_int("n", n)
        temperature = check_float("temperature", temperature, 0.0, low_inclusive=False)
        if sampler is None:
            rng = np.random.default_rng(check_seed(seed))
            z = temperature * rng.standard_normal((n, self.latent_dim)).astype("float32")
            return self.decode(z, batch_size=batch_size)
        from keras_ae import samplers

        if isinstance(sampler, str) and sampler != "normal":
            samplers.get_sampler(sampler)  # an unknown name fails here, with "did you mean"
            raise ValueError(f"sampler={sampler!r} must be fitted to this model's codes first: `sampler = "
                             f"keras_ae.samplers.get_sampler({sampler!r}).fit(model, x_train)`, then "
                             "`model.sample(n, sampler=sampler)`. Only 'normal' (the prior) needs no fit")
        if isinstance(sampler, str):
            sampler = samplers.NormalSampler(temperature)  # the prior by name: the draws above, bit for bit
        elif not isinstance(sampler, samplers.Sampler):
            raise TypeError(f"`sampler` must be None, 'normal' or a fitted keras_ae.samplers.Sampler. "
                            f"Received: sampler={sampler!r}")
        elif temperature != 1.0:
            raise ValueError(f"`temperature` scales the prior's draws; {type(sampler).__name__} draws from the "
                             "density it fitted, so leave temperature at 1.0 with it (NormalSampler(temperature=...) "
                             f"takes its own). Received: temperature={temperature}")
        return sampler.sample(n, seed=seed, batch_size=batch_size, model=self)

    def _noise(self, seed):
        """The seed generator for sampling verbs: the model's own, or a fresh one from `seed`."""
        if seed is None:
            return self.sampling.seed_generator
        return keras.random.SeedGenerator(check_seed(seed))

    def elbo(self, x, num_samples=1, batch_size=256, seed=None):
        """Per-sample ELBO in nats (a lower bound on log p(x)), averaged over `num_samples` draws.

        `seed` (an int) makes the draws reproducible: one seed, one result.
        Without it the model's sampling noise moves on between calls.
        """
        x = self.check_inputs(x)
        check_positive_int("num_samples", num_samples)
        check_positive_int("batch_size", batch_size)
        noise = self._noise(seed)
        out = []
        for start in range(0, len(x), batch_size):
            xb = ops.convert_to_tensor(x[start:start + batch_size])
            z_mean, z_log_var = self.encoder(xb, training=False)
            kl = gaussian_kl(z_mean, z_log_var)
            acc = 0.0
            for _ in range(num_samples):
                eps = keras.random.normal(ops.shape(z_mean), seed=noise, dtype=z_mean.dtype)
                recon = self.decoder(z_mean + ops.exp(0.5 * z_log_var) * eps, training=False)
                rec = self.reconstruction_nll(xb, recon)
                acc = acc + ops.convert_to_numpy(-(rec + kl)).astype("float64")
            out.append(acc / num_samples)
        return np.concatenate(out)

    def log_likelihood(self, x, num_samples=100, batch_size=64, chunk=None, verbose=0, seed=None):
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
            seed: an int makes the estimate reproducible (one seed, one result).

        Returns:
            A float64 NumPy array of shape `(n,)`.
        """
        x = self.check_inputs(x)
        k = check_positive_int("num_samples", num_samples)
        check_positive_int("batch_size", batch_size)
        chunk = check_positive_int("chunk", chunk, allow_none=True) or max(1, min(k, 8192 // batch_size))
        noise = self._noise(seed)
        out = []
        progress = keras.utils.Progbar(len(x)) if verbose else None
        for start in range(0, len(x), batch_size):
            xb = ops.convert_to_tensor(x[start:start + batch_size])
            b = int(xb.shape[0])
            z_mean, z_log_var = self.encoder(xb, training=False)
            weights = []
            for s in range(0, k, chunk):
                c = min(chunk, k - s)
                eps = keras.random.normal((c, b, self.latent_dim), seed=noise)
                _, log_px, log_pz, log_qz = self.importance_terms(xb, z_mean, z_log_var, eps)
                weights.append(ops.convert_to_numpy(log_px + log_pz - log_qz))
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
        kernel_initializer: initializer of every Dense kernel: a Keras
            initializer (name, config or instance), or `None` (the default)
            for U(±1/sqrt(fan_in)), PyTorch's `nn.Linear` default, so that a
            keras-ae VAE and a PyTorch one of the same layers start from the
            same weight distribution. How it compares with Keras's
            `"glorot_uniform"`: benchmarks/RESULTS.md, section "Against
            pythae (PyTorch), the same dense VAE".

    Example:

    ```python
    vae = keras_ae.VAE(latent_dim=2)
    vae.compile(optimizer="adam")
    vae.fit(x_train, epochs=30, batch_size=128, validation_data=(x_test,))
    digits = vae.sample(16)
    ```
    """

    # The small configuration the check suite (keras_ae.testing) and the tests use.
    test_config = dict(hidden_units=(32,), latent_dim=2, seed=1)

    def __init__(self, input_shape=(784,), hidden_units=(512,), latent_dim=2, beta=1.0,
                 activation="relu", reconstruction_loss="bce", dynamic_binarization=False,
                 seed=None, kernel_initializer=None, **kwargs):
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.activation = check_activation("activation", activation)
        self.kernel_initializer = check_initializer("kernel_initializer", kernel_initializer)
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, beta=beta,
                         reconstruction_loss=reconstruction_loss,
                         dynamic_binarization=dynamic_binarization, seed=seed, **kwargs)

    def _kernel_initializer(self):
        """A new initializer per call: one instance draws the same values for every layer of a shape."""
        if self.kernel_initializer is None:
            return keras.initializers.VarianceScaling(scale=1 / 3, mode="fan_in", distribution="uniform")
        return keras.initializers.get(self.kernel_initializer)

    def build_encoder(self):
        dtype, init = self.dtype_policy, self._kernel_initializer
        inp = keras.Input(self.input_shape, name="x")
        h = keras.layers.Flatten(dtype=dtype)(inp) if len(self.input_shape) > 1 else inp
        h = dense_stack(h, self.hidden_units, self.activation, "encoder_dense", dtype, init)
        z_mean = keras.layers.Dense(self.latent_dim, name="z_mean", dtype=dtype, kernel_initializer=init())(h)
        z_log_var = keras.layers.Dense(self.latent_dim, name="z_log_var", dtype=dtype,
                                       kernel_initializer=init())(h)
        return keras.Model(inp, [z_mean, z_log_var], name="encoder")

    def build_decoder(self):
        dtype, init = self.dtype_policy, self._kernel_initializer
        inp = keras.Input((self.latent_dim,), name="z")
        h = dense_stack(inp, self.hidden_units[::-1], self.activation, "decoder_dense", dtype, init)
        h = keras.layers.Dense(math.prod(self.input_shape), activation="sigmoid",
                               name="reconstruction", dtype=dtype, kernel_initializer=init())(h)
        if len(self.input_shape) > 1:
            h = keras.layers.Reshape(self.input_shape, dtype=dtype)(h)
        return keras.Model(inp, h, name="decoder")

    def get_config(self):
        config = super().get_config()
        config.update(hidden_units=list(self.hidden_units), activation=self.activation,
                      kernel_initializer=self.kernel_initializer)
        return config


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("beta_vae")
class BetaVAE(VAE):
    """A dense beta-VAE (Higgins et al., 2017): a VAE with `beta > 1` by default.

    A larger `beta` weighs the KL term more, trading reconstruction for a
    smoother, more factorised latent space. Anneal it with `BetaAnnealing`.
    """

    test_config = dict(hidden_units=(32,), latent_dim=3, seed=1)

    def __init__(self, input_shape=(784,), hidden_units=(512,), latent_dim=10, beta=4.0, **kwargs):
        super().__init__(input_shape=input_shape, hidden_units=hidden_units,
                         latent_dim=latent_dim, beta=beta, **kwargs)


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("iwae")
class IWAE(VAE):
    """An importance-weighted autoencoder (Burda, Grosse & Salakhutdinov, 2016).

    The architecture of a dense `VAE`, trained on a tighter bound: for each
    input, `k = num_samples` draws `z_i ~ q(z|x)` give the loss

    `-(logsumexp_i(log p(x|z_i) + log p(z_i) - log q(z_i|x)) - log k)`,

    the negative k-sample importance-weighted bound on `log p(x)`. It is at
    least as tight as the ELBO and tightens as `k` grows; with `k = 1` it is the
    negative ELBO with a one-draw estimate of the KL term (the `VAE` uses the
    closed form), the same in expectation. The encoder runs once per batch and
    the decoder once on the `k * batch` draws.

    `fit` and `evaluate` report `loss` (the negative k-sample bound),
    `reconstruction_loss` (the reconstruction term averaged over the `k`
    draws) and `kl_loss` (the closed-form `KL(q(z|x) || N(0, I))`, as in the
    `VAE`); in expectation `loss <= reconstruction_loss + beta * kl_loss`,
    the negative ELBO. Compiled metrics compare every draw's reconstruction with
    the target. `beta` (and `BetaAnnealing`) weighs `log p(z_i) - log q(z_i|x)`
    inside each weight; the default 1 is the paper's bound.

    `elbo` and `log_likelihood` are the `VAE`'s: `log_likelihood(x, num_samples=k)`
    estimates the same k-sample bound on fresh draws.

    Args:
        input_shape: shape of one sample.
        hidden_units: encoder hidden sizes; the decoder mirrors them.
        latent_dim: size of z.
        num_samples: importance samples per input in the training and
            evaluation loss (k), an int `>= 1`.
        **kwargs: the other `VAE` arguments (`beta`, `activation`,
            `reconstruction_loss`, `dynamic_binarization`, `seed`, ...).

    Example:

    ```python
    iwae = keras_ae.IWAE(latent_dim=2, num_samples=5, dynamic_binarization=True)
    iwae.compile(optimizer="adam")
    iwae.fit(x_train, epochs=30, batch_size=128, validation_data=(x_test,))
    log_px = iwae.log_likelihood(x_test[:100], num_samples=1000)
    ```
    """

    test_config = dict(hidden_units=(32,), latent_dim=2, num_samples=3, seed=1)

    def __init__(self, input_shape=(784,), hidden_units=(512,), latent_dim=2, num_samples=5, **kwargs):
        self.num_samples = check_positive_int("num_samples", num_samples)
        if kwargs.get("kl_gradient", "analytic") != "analytic":
            raise ValueError("An IWAE's bound has no separate KL term; kl_gradient='path' is for the "
                             f"VAE's ELBO. Received: kl_gradient={kwargs['kl_gradient']!r}")
        super().__init__(input_shape=input_shape, hidden_units=hidden_units, latent_dim=latent_dim,
                         **kwargs)

    def call(self, inputs, training=False):
        if not (training or self._elbo_pass):
            return super().call(inputs, training=False)  # decodes the posterior mean
        x = inputs
        if self.dynamic_binarization:
            x = self.binarization(x, training=training)
        z_mean, z_log_var = self.encoder(x, training=training)
        eps = keras.random.normal((self.num_samples,) + tuple(ops.shape(z_mean)),
                                  seed=self.sampling.seed_generator)
        recon, log_px, log_pz, log_qz = self.importance_terms(x, z_mean, z_log_var, eps, training=training)
        # `reconstruction` holds the k draws, draw-major: (k * batch,) + sample_shape.
        return {"reconstruction": recon, "log_px": log_px, "log_pz": log_pz, "log_qz": log_qz,
                "z_mean": z_mean, "z_log_var": z_log_var, "target": x}

    def elbo_loss_terms(self, parts):
        """Per-sample float32 `(reconstruction, kl)`: the reconstruction term averaged over the
        k draws, and the closed-form KL."""
        return -ops.mean(parts["log_px"], axis=0), gaussian_kl(parts["z_mean"], parts["z_log_var"])

    def negative_bound(self, parts, rec, kl):
        """The per-sample negative k-sample bound, `-(logsumexp_i log w_i - log k)`."""
        beta = ops.cast(self.kl_weight, "float32")
        log_w = parts["log_px"] + beta * (parts["log_pz"] - parts["log_qz"])
        return math.log(self.num_samples) - ops.logsumexp(log_w, axis=0)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if isinstance(y_pred, dict):
            # Every draw's reconstruction against the target, each sample's weight repeated k times.
            k, target = self.num_samples, y_pred["target"]
            y, y_pred = ops.tile(target, (k,) + (1,) * (len(target.shape) - 1)), y_pred["reconstruction"]
            if sample_weight is not None:
                sample_weight = ops.tile(ops.reshape(sample_weight, (-1,)), (k,))
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(num_samples=self.num_samples)
        return config


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
        hidden_units: sizes of the dense layers between the feature map and the
            latent heads (an int is one layer). The decoder maps z through the
            later ones in reverse, then a dense `project` layer to the feature
            map stands in for the first one.
        latent_dim: size of z.
        beta, reconstruction_loss, dynamic_binarization, seed: as in `VAE`.
    """

    test_config = dict(input_shape=(28, 28, 1), filters=(4, 8), hidden_units=(16,), latent_dim=4, seed=1)
    image_input = True

    def __init__(self, input_shape=(28, 28, 1), filters=(32, 64), hidden_units=(256,),
                 latent_dim=16, beta=1.0, activation="relu", reconstruction_loss="bce",
                 dynamic_binarization=False, seed=None, **kwargs):
        self.filters = check_units("filters", filters)
        if not self.filters:
            raise ValueError("`filters` needs at least one level. Received: filters=()")
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.activation = check_activation("activation", activation)
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, beta=beta,
                         reconstruction_loss=reconstruction_loss,
                         dynamic_binarization=dynamic_binarization, seed=seed, **kwargs)

    def _check_config(self):
        check_image_shape(self.input_shape, len(self.filters))

    @property
    def _map_shape(self):
        h, w, _ = self.input_shape
        step = 2 ** len(self.filters)
        return (h // step, w // step, self.filters[-1])

    def build_encoder(self):
        dtype = self.dtype_policy
        inp = keras.Input(self.input_shape, name="x")
        h = conv_down(inp, self.filters, self.activation, "stride", dtype)
        h = keras.layers.Flatten(dtype=dtype)(h)
        # The first dense layer keeps its historical name, so the zoo's weights files still load.
        for i, units in enumerate(self.hidden_units):
            h = keras.layers.Dense(units, activation=self.activation,
                                   name="encoder_dense" if i == 0 else f"encoder_dense_{i}", dtype=dtype)(h)
        z_mean = keras.layers.Dense(self.latent_dim, name="z_mean", dtype=dtype)(h)
        z_log_var = keras.layers.Dense(self.latent_dim, name="z_log_var", dtype=dtype)(h)
        return keras.Model(inp, [z_mean, z_log_var], name="encoder")

    def build_decoder(self):
        dtype = self.dtype_policy
        inp = keras.Input((self.latent_dim,), name="z")
        h = inp
        for i, units in enumerate(self.hidden_units[:0:-1]):
            h = keras.layers.Dense(units, activation=self.activation, name=f"decoder_dense_{i}",
                                   dtype=dtype)(h)
        h = keras.layers.Dense(math.prod(self._map_shape), activation=self.activation, name="project",
                               dtype=dtype)(h)
        h = keras.layers.Reshape(self._map_shape, dtype=dtype)(h)
        h = conv_up(h, self.filters[::-1], self.activation, "transpose", self.input_shape[-1], dtype)
        return keras.Model(inp, h, name="decoder")

    def get_config(self):
        config = super().get_config()
        config.update(filters=list(self.filters), hidden_units=list(self.hidden_units),
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

    def set_model(self, model):
        if not isinstance(model, BaseVAE):
            raise ValueError(
                "BetaAnnealing anneals the KL weight of a keras-ae VAE (a BaseVAE). "
                f"Received: {type(model).__name__}")
        super().set_model(model)

    def on_epoch_begin(self, epoch, logs=None):
        frac = min(1.0, epoch / self.epochs)
        self.model.kl_weight.assign(self.start + frac * (self.stop - self.start))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["beta"] = float(ops.convert_to_numpy(self.model.kl_weight))

    def get_config(self):
        return {"start": self.start, "stop": self.stop, "epochs": self.epochs}
