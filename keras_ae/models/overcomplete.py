"""Overcomplete autoencoder: a code wider than the input, kept honest by a regularizer."""

import math

import keras

from keras_ae._validation import check_choice, check_float, check_seed
from keras_ae.layers import Corruption, SparsityPenalty
from keras_ae.models.base import DenseAutoencoder
from keras_ae.models.registry import register_variant


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("overcomplete")
class OvercompleteAutoencoder(DenseAutoencoder):
    """A dense autoencoder whose code is wider than its input.

    Why a regularizer: with more code units than inputs and nothing else, the
    network can learn the identity map and copy each pixel through, which
    reconstructs perfectly and learns nothing. So the code is constrained:
    `regularizer="sparse"` adds an L1 activity penalty on the code (most
    units stay silent for any one input), and `regularizer="noise"` corrupts
    the input with Gaussian noise during training, so copying is no longer
    enough and the model must learn the data's structure to undo the noise.

    Args:
        input_shape: shape of one sample.
        hidden_units: encoder hidden sizes (default none: one wide code layer).
        latent_dim: code size; must exceed the input size.
        regularizer: `"sparse"` or `"noise"`.
        sparsity_weight: L1 weight for `"sparse"`.
        noise_factor: Gaussian noise strength for `"noise"`.
        activation, latent_activation, output_activation, reconstruction_loss:
            as in `DenseAutoencoder`.
        seed: seed of the training noise.
    """

    # The small configuration the check suite (keras_ae.testing) and the tests use.
    test_config = dict(latent_dim=800, seed=1)

    @property
    def penalty_name(self):
        # Only the sparse regularizer adds a loss; with noise there is nothing to log.
        return "sparsity_loss" if self.regularizer == "sparse" else None

    def __init__(self, input_shape=(784,), hidden_units=(), latent_dim=1024,
                 regularizer="sparse", sparsity_weight=1e-4, noise_factor=0.3,
                 activation="relu", latent_activation="relu", output_activation="sigmoid",
                 reconstruction_loss="mse", seed=None, **kwargs):
        self.regularizer = check_choice("regularizer", regularizer, ("sparse", "noise"))
        self.sparsity_weight = check_float("sparsity_weight", sparsity_weight, 0.0)
        self.noise_factor = check_float("noise_factor", noise_factor, 0.0)
        self.seed = check_seed(seed)
        super().__init__(input_shape=input_shape, hidden_units=hidden_units,
                         latent_dim=latent_dim, activation=activation,
                         latent_activation=latent_activation,
                         output_activation=output_activation,
                         reconstruction_loss=reconstruction_loss, **kwargs)

    def build_layers(self):
        if self.regularizer == "noise":
            self.corruption = Corruption("gaussian", self.noise_factor, seed=self.seed,
                                         name="corruption", dtype=self.dtype_policy)

    def _check_config(self):
        n = math.prod(self.input_shape)
        if self.latent_dim <= n:
            raise ValueError(
                f"An overcomplete autoencoder needs latent_dim > input size {n}. "
                f"Received: latent_dim={self.latent_dim} (use UndercompleteAutoencoder)"
            )

    def encoder_head(self, h):
        if self.regularizer == "sparse":
            return SparsityPenalty("l1", weight=self.sparsity_weight, name="sparsity",
                                   dtype=self.dtype_policy)(h)
        return h

    def get_config(self):
        config = super().get_config()
        config.update(regularizer=self.regularizer, sparsity_weight=self.sparsity_weight,
                      noise_factor=self.noise_factor, seed=self.seed)
        return config
