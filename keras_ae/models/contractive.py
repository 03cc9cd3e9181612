"""Contractive autoencoder (Rifai et al., 2011)."""

import keras
import numpy as np

from keras_ae._validation import check_float, check_positive_int
from keras_ae.layers import ContractiveEncoder
from keras_ae.models.base import DenseAutoencoder
from keras_ae.models.registry import register_variant


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("contractive")
class ContractiveAutoencoder(DenseAutoencoder):
    """A dense autoencoder penalised by `lam * ||J_f(x)||_F^2`.

    `J_f(x)` is the Jacobian of the code with respect to the input. Keeping it
    small makes the code insensitive to small moves of the input, except along
    the directions the reconstruction needs (the data manifold). The Jacobian
    is computed exactly in closed form (see `ContractiveEncoder`); the penalty
    is reported during `fit` as the metric `contractive_loss`.

    Args:
        input_shape: shape of one sample.
        hidden_units: encoder hidden sizes; the decoder mirrors them.
        latent_dim: code size.
        lam: penalty weight, `>= 0`.
        activation: hidden activation: sigmoid, tanh, relu, softplus or linear.
        latent_activation: code activation (same choices), sigmoid as in the
            paper. On MNIST with the per-pixel mean loss, a sigmoid code learns
            several times slower than a linear one, and a tanh code with
            `lam=1e-4` can saturate until the code is constant (zero Jacobian,
            mean-image output); the zoo's contractive entry uses a linear code.
        output_activation, reconstruction_loss: as in `DenseAutoencoder`.

    Example:

    ```python
    model = keras_ae.ContractiveAutoencoder(latent_dim=32, lam=1e-4)
    model.compile(optimizer="adam")
    model.fit(x_train, epochs=10)   # logs contractive_loss
    ```
    """

    # The small configuration the check suite (keras_ae.testing) and the tests use.
    test_config = dict(hidden_units=(32,), latent_dim=8)

    penalty_name = "contractive_loss"

    def __init__(self, input_shape=(784,), hidden_units=(512,), latent_dim=32, lam=1e-4,
                 activation="relu", latent_activation="sigmoid", output_activation="sigmoid",
                 reconstruction_loss="mse", **kwargs):
        self.lam = check_float("lam", lam, 0.0)
        super().__init__(input_shape=input_shape, hidden_units=hidden_units,
                         latent_dim=latent_dim, activation=activation,
                         latent_activation=latent_activation,
                         output_activation=output_activation,
                         reconstruction_loss=reconstruction_loss, **kwargs)

    def build_encoder(self):
        inp = keras.Input(self.input_shape, name="x")
        code = ContractiveEncoder(
            units=self.hidden_units + (self.latent_dim,), activation=self.activation,
            latent_activation=self.latent_activation or "linear", weight=self.lam,
            name="contractive", dtype=self.dtype_policy,
        )(inp)
        return keras.Model(inp, code, name="encoder")

    def jacobian_penalty(self, x, batch_size=1024):
        """Per-sample `||J_f(x)||_F^2` as a NumPy array (without `lam`), in batches."""
        x = self.check_inputs(x)
        check_positive_int("batch_size", batch_size)
        layer = self.encoder.get_layer("contractive")
        return np.concatenate([
            keras.ops.convert_to_numpy(layer.code_and_jacobian(keras.ops.convert_to_tensor(x[i:i + batch_size]))[1])
            for i in range(0, len(x), batch_size)
        ])

    def get_config(self):
        config = super().get_config()
        config.update(lam=self.lam)
        return config
