"""Undercomplete autoencoder: a code narrower than the input."""

import math

import keras

from keras_ae.models.base import DenseAutoencoder
from keras_ae.models.registry import register_variant


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("undercomplete")
class UndercompleteAutoencoder(DenseAutoencoder):
    """A dense autoencoder whose code is smaller than its input.

    The bottleneck forces the network to keep only what it needs to rebuild
    the input. The default follows the course notes: 784-512-256-128-20 and
    back, with ReLU hidden units, a linear code and a sigmoid output.

    Args:
        input_shape: shape of one sample, e.g. `(784,)` or `(28, 28, 1)`.
        hidden_units: encoder hidden sizes; the decoder mirrors them.
        latent_dim: code size; must be smaller than the input size.
        activation, latent_activation, output_activation: activations.
        reconstruction_loss: `"mse"` or `"bce"`.

    Example:

    ```python
    model = keras_ae.UndercompleteAutoencoder(latent_dim=20)
    model.compile(optimizer="adam")
    model.fit(x_train, x_train, epochs=10, batch_size=256)
    codes = model.encode(x_test)
    ```
    """

    # The small configuration the check suite (keras_ae.testing) and the tests use.
    test_config = dict(hidden_units=(32,), latent_dim=8)

    def _check_config(self):
        n = math.prod(self.input_shape)
        if self.latent_dim >= n:
            raise ValueError(
                f"An undercomplete autoencoder needs latent_dim < input size {n}. "
                f"Received: latent_dim={self.latent_dim} (use OvercompleteAutoencoder)"
            )
