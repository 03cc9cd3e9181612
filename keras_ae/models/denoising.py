"""Denoising autoencoders: the input is corrupted inside the model, in training only."""

import keras
import numpy as np

from keras_ae._validation import check_choice, check_float, check_seed
from keras_ae.layers import NOISE_TYPES, Corruption
from keras_ae.models.base import DenseAutoencoder
from keras_ae.models.convolutional import ConvolutionalAutoencoder
from keras_ae.models.registry import register_variant


class _DenoisingMixin:
    """Adds a `Corruption` layer and its config to an autoencoder.

    The constructor calls `_store_noise` before `super().__init__`; the base
    class then calls `build_layers`, which creates the layer.
    """

    def _store_noise(self, noise, noise_factor, seed, corruption_probability):
        self.noise = check_choice("noise", noise, NOISE_TYPES)
        high = None if noise == "gaussian" else 1.0
        self.noise_factor = check_float("noise_factor", noise_factor, 0.0, high)
        self.corruption_probability = check_float("corruption_probability", corruption_probability,
                                                  0.0, 1.0, low_inclusive=False)
        self.seed = check_seed(seed)

    def build_layers(self):
        self.corruption = Corruption(self.noise, self.noise_factor, seed=self.seed,
                                     probability=self.corruption_probability, name="corruption",
                                     dtype=self.dtype_policy)

    def corrupt(self, x):
        """Return a corrupted copy of `x` with this model's noise, as float32 NumPy."""
        x = self.check_inputs(x)
        return np.asarray(keras.ops.convert_to_numpy(
            self.corruption.corrupt(keras.ops.convert_to_tensor(x))), "float32")

    def _noise_config(self):
        return dict(noise=self.noise, noise_factor=self.noise_factor, seed=self.seed,
                    corruption_probability=self.corruption_probability)


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("denoising")
class DenoisingAutoencoder(_DenoisingMixin, DenseAutoencoder):
    """A dense autoencoder trained to undo noise it adds to its own input.

    The corruption happens inside the model and only when `training=True`, and
    the loss compares the output with the clean input, so `fit(x, x)` or
    `fit(x)` is all it takes. The course style, `fit(x_noisy, x_clean)`, also
    works: the model then adds its noise on top of the given noisy input
    (set `noise_factor=0` to train on your own noisy copies only).

    Args:
        input_shape: shape of one sample.
        hidden_units: encoder hidden sizes; the decoder mirrors them. The default
            is the course's 128-64 with a 32-unit code.
        latent_dim: code size.
        noise: `"gaussian"` (`x + noise_factor * N(0, 1)`, clipped to [0, 1]),
            `"masking"` or `"salt_and_pepper"` (a fraction `noise_factor` of values).
        noise_factor: the noise strength; 0.5 as in the course.
        seed: seed of the training noise.
        corruption_probability: the fraction of training samples that get
            noise (each drawn independently); 1 (the course's setting)
            corrupts all of them. Below 1 the model also learns to pass
            clean images through, so it reconstructs clean input better.
        activation, latent_activation, output_activation, reconstruction_loss:
            as in `DenseAutoencoder`.

    Example:

    ```python
    model = keras_ae.DenoisingAutoencoder(noise="gaussian", noise_factor=0.5)
    model.compile(optimizer="adam")
    model.fit(x_train, x_train, epochs=10, batch_size=256)
    denoised = model.reconstruct(x_test_noisy)
    ```
    """

    # The small configuration the check suite (keras_ae.testing) and the tests use.
    test_config = dict(hidden_units=(32,), latent_dim=8, seed=1)

    def __init__(self, input_shape=(784,), hidden_units=(128, 64), latent_dim=32,
                 noise="gaussian", noise_factor=0.5, seed=None, corruption_probability=1.0,
                 activation="relu", latent_activation="relu", output_activation="sigmoid",
                 reconstruction_loss="mse", **kwargs):
        self._store_noise(noise, noise_factor, seed, corruption_probability)
        super().__init__(input_shape=input_shape, hidden_units=hidden_units,
                         latent_dim=latent_dim, activation=activation,
                         latent_activation=latent_activation,
                         output_activation=output_activation,
                         reconstruction_loss=reconstruction_loss, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self._noise_config())
        return config


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("conv_denoising")
class ConvDenoisingAutoencoder(_DenoisingMixin, ConvolutionalAutoencoder):
    """A convolutional autoencoder trained to remove noise it adds in training.

    Takes the arguments of `ConvolutionalAutoencoder` plus `noise`,
    `noise_factor`, `seed` and `corruption_probability` as in
    `DenoisingAutoencoder`.
    """

    test_config = dict(input_shape=(28, 28, 1), filters=(4, 8), latent_filters=8, latent_dim=8, seed=1)

    def __init__(self, input_shape=(28, 28, 1), noise="gaussian", noise_factor=0.5, seed=None,
                 corruption_probability=1.0, **kwargs):
        self._store_noise(noise, noise_factor, seed, corruption_probability)
        super().__init__(input_shape=input_shape, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self._noise_config())
        return config
