"""Layers the autoencoders are built from: corruption, sampling, penalties."""

import keras
from keras import ops

from keras_ae._validation import check_choice, check_float, check_seed, check_units

NOISE_TYPES = ("gaussian", "masking", "salt_and_pepper")


@keras.saving.register_keras_serializable(package="keras_ae")
class Corruption(keras.layers.Layer):
    """Corrupts its input during training only; the identity at inference.

    Args:
        noise: `"gaussian"` adds `noise_factor * N(0, 1)` and clips to [0, 1]
            (the course's recipe); `"masking"` sets a fraction `noise_factor`
            of the values to 0; `"salt_and_pepper"` sets a fraction
            `noise_factor` of the values to 0 or 1 with equal odds.
        noise_factor: the noise strength, `>= 0`; a fraction `<= 1` for
            masking and salt-and-pepper.
        seed: optional int seed for the noise.
        probability: the fraction of samples corrupted in training, in
            (0, 1]; each sample is drawn independently. Below 1 the model
            also sees clean inputs, so it keeps reconstructing them well.

    Call arguments:
        inputs: a tensor with values in [0, 1].
        training: corrupt only when `True`.
    """

    def __init__(self, noise="gaussian", noise_factor=0.5, seed=None, probability=1.0, **kwargs):
        super().__init__(**kwargs)
        self.noise = check_choice("noise", noise, NOISE_TYPES)
        high = None if noise == "gaussian" else 1.0
        self.noise_factor = check_float("noise_factor", noise_factor, 0.0, high)
        self.probability = check_float("corruption_probability", probability, 0.0, 1.0,
                                       low_inclusive=False)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.supports_masking = True

    def corrupt(self, x):
        """Return a corrupted copy of `x`, whatever the training phase."""
        if self.noise == "gaussian":
            eps = keras.random.normal(ops.shape(x), seed=self.seed_generator, dtype=x.dtype)
            return ops.clip(x + self.noise_factor * eps, 0.0, 1.0)
        u = keras.random.uniform(ops.shape(x), seed=self.seed_generator, dtype=x.dtype)
        hit = ops.less(u, self.noise_factor)
        if self.noise == "masking":
            return ops.where(hit, ops.zeros_like(x), x)
        salt = keras.random.uniform(ops.shape(x), seed=self.seed_generator, dtype=x.dtype)
        return ops.where(hit, ops.cast(ops.greater(salt, 0.5), x.dtype), x)

    def call(self, inputs, training=False):
        if not training or self.noise_factor == 0:
            return inputs
        corrupted = self.corrupt(inputs)
        if self.probability >= 1.0:
            return corrupted
        shape = (ops.shape(inputs)[0],) + (1,) * (len(inputs.shape) - 1)
        hit = ops.less(keras.random.uniform(shape, seed=self.seed_generator, dtype=inputs.dtype),
                       self.probability)
        return ops.where(hit, corrupted, inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(noise=self.noise, noise_factor=self.noise_factor, seed=self.seed,
                      probability=self.probability)
        return config


@keras.saving.register_keras_serializable(package="keras_ae")
class Sampling(keras.layers.Layer):
    """Draws `z = z_mean + exp(z_log_var / 2) * eps` (the reparameterization trick).

    Gradients flow to `z_mean` and `z_log_var` through the sample; `eps` comes
    from a seeded `keras.random.SeedGenerator`, so one seed gives one sequence.

    Args:
        seed: optional int seed.

    Call arguments:
        inputs: a pair `(z_mean, z_log_var)` of tensors of the same shape.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs, temperature=1.0):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator, dtype=z_mean.dtype)
        return z_mean + temperature * ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="keras_ae")
class Binarization(keras.layers.Layer):
    """Dynamic binarization: draws binary pixels `x ~ Bernoulli(x)` in training only.

    A fresh draw in every training step is the IWAE paper's protocol for
    binarized MNIST. At inference the layer is the identity.

    Args:
        seed: optional int seed.

    Call arguments:
        inputs: a tensor with values in [0, 1].
        training: draw only when `True`.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs, training=False):
        if not training:
            return inputs
        u = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator, dtype=inputs.dtype)
        return ops.cast(ops.less(u, inputs), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(seed=self.seed)
        return config


def kl_sparsity(rho, rho_hat):
    """Ng's sparsity penalty: sum_j KL(rho || rho_hat_j) of Bernoulli means."""
    rho_hat = ops.clip(ops.cast(rho_hat, "float32"), 1e-7, 1.0 - 1e-7)
    return ops.sum(
        rho * ops.log(rho / rho_hat) + (1.0 - rho) * ops.log((1.0 - rho) / (1.0 - rho_hat))
    )


@keras.saving.register_keras_serializable(package="keras_ae")
class SparsityPenalty(keras.layers.Layer):
    """Identity layer that adds an activity sparsity penalty with `add_loss`.

    Args:
        kind: `"kl"`: `weight * sum_j KL(rho || rho_hat_j)`, where `rho_hat_j`
            is the batch-mean activation of unit j, which must lie in (0, 1)
            (use sigmoid units); `"l1"`: `weight * mean_batch(sum_j |h_j|)`.
        rho: the target mean activation for `"kl"`, in (0, 1).
        weight: the penalty weight (beta for `"kl"`), `>= 0`.
    """

    def __init__(self, kind="kl", rho=0.05, weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.kind = check_choice("sparsity", kind, ("kl", "l1"))
        self.rho = check_float("rho", rho, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
        self.weight = check_float("sparsity_weight", weight, 0.0)

    def penalty(self, h):
        if self.kind == "kl":
            return self.weight * kl_sparsity(self.rho, ops.mean(h, axis=0))
        return self.weight * ops.mean(ops.sum(ops.abs(ops.cast(h, "float32")), axis=-1))

    def call(self, inputs):
        self.add_loss(self.penalty(inputs))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(kind=self.kind, rho=self.rho, weight=self.weight)
        return config


def _activation_derivative(name, pre, out):
    """d activation / d pre-activation, from the pre-activation and output."""
    if name == "sigmoid":
        return out * (1.0 - out)
    if name == "tanh":
        return 1.0 - ops.square(out)
    if name == "relu":
        return ops.cast(ops.greater(pre, 0.0), pre.dtype)
    if name == "softplus":
        return ops.sigmoid(pre)
    return ops.ones_like(pre)  # linear


CONTRACTIVE_ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus", "linear")


@keras.saving.register_keras_serializable(package="keras_ae")
class ContractiveEncoder(keras.layers.Layer):
    """A dense encoder that adds `weight * ||J_f(x)||_F^2` with `add_loss`.

    `J_f(x)` is the Jacobian of the code with respect to the (flattened) input.
    It is computed exactly, in closed form, by multiplying the layer Jacobians
    `diag(f'(a_l)) W_l^T` from the code back to the input, so its cost grows
    with the code size rather than the input size. The penalty is averaged
    over the batch (Rifai et al., 2011).

    Args:
        units: sizes of the dense layers; the last one is the code.
        activation: hidden activation, one of
            `"sigmoid", "tanh", "relu", "softplus", "linear"`.
        latent_activation: activation of the code layer (same choices).
        weight: the penalty weight lambda, `>= 0`.
    """

    def __init__(self, units, activation="relu", latent_activation="sigmoid",
                 weight=1e-4, **kwargs):
        super().__init__(**kwargs)
        self.units = check_units("units", units)
        if not self.units:
            raise ValueError("`units` needs at least the code layer. Received: units=()")
        self.activation = check_choice("activation", activation, CONTRACTIVE_ACTIVATIONS)
        self.latent_activation = check_choice(
            "latent_activation", latent_activation, CONTRACTIVE_ACTIVATIONS
        )
        self.weight = check_float("contractive_weight", weight, 0.0)
        self.dense_layers = [
            keras.layers.Dense(u, name=f"dense_{i}", dtype=self.dtype_policy)
            for i, u in enumerate(self.units)
        ]
        self.activations = [self.activation] * (len(self.units) - 1) + [self.latent_activation]

    def build(self, input_shape):
        dim = 1
        for d in input_shape[1:]:
            dim *= d
        for layer in self.dense_layers:
            layer.build((None, dim))
            dim = layer.units

    def code_and_jacobian(self, inputs):
        """Return `(code, jacobian_frobenius_sq)`; the second is per sample, in float32."""
        h = ops.reshape(inputs, (ops.shape(inputs)[0], -1))
        derivs = []
        for layer, act in zip(self.dense_layers, self.activations):
            pre = layer(h)
            h = keras.activations.get(act)(pre)
            # The Jacobian is a product of many factors: keep it in float32 under mixed precision.
            derivs.append(ops.cast(_activation_derivative(act, pre, h), "float32"))
        # m = d code / d (output of layer l), shape (batch, code, units_l), from the top down.
        # Identity matrices for the batch by broadcasting (the batch size may be unknown here).
        m = ops.zeros_like(derivs[-1])[:, :, None] + ops.eye(self.units[-1], dtype="float32")[None]
        for layer, d in zip(self.dense_layers[:0:-1], derivs[:0:-1]):
            m = ops.einsum("bkj,ij->bki", m * d[:, None, :], ops.cast(layer.kernel, "float32"))
        # Last step to the input: ||X W^T||_F^2 = sum((X W^T W) * X), with X = m diag(d_1);
        # the Gram matrix W^T W is (units_1, units_1), cheaper than a (batch, code, input) product.
        x = m * derivs[0][:, None, :]
        kernel = ops.cast(self.dense_layers[0].kernel, "float32")
        gram = ops.matmul(ops.transpose(kernel), kernel)
        return h, ops.sum(ops.einsum("bkj,jl->bkl", x, gram) * x, axis=(1, 2))

    def call(self, inputs):
        code, jac_sq = self.code_and_jacobian(inputs)
        self.add_loss(self.weight * ops.mean(jac_sq))
        return code

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            units=list(self.units), activation=self.activation,
            latent_activation=self.latent_activation, weight=self.weight,
        )
        return config
