"""Colorization: a convolutional autoencoder that sees only the luminance and gives back colour."""

import keras
import numpy as np
from keras import ops

from keras_ae._validation import check_batch
from keras_ae.models.convolutional import ConvolutionalAutoencoder
from keras_ae.models.registry import register_variant

LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, what PIL's "L" mode uses


@keras.saving.register_keras_serializable(package="keras_ae")
class Luminance(keras.layers.Layer):
    """`(..., 3)` RGB in [0, 1] -> `(..., 1)` luminance (BT.601 weights)."""

    def call(self, x):
        w = ops.convert_to_tensor(np.array(LUMA, "float32"), dtype=x.dtype)
        return ops.sum(x * w, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (1,)

    def get_config(self):
        # Explicit: Keras cannot generate the config of a layer made with a dtype policy object,
        # and `keras.models.clone_model` (or any re-creation from config) needs it.
        return super().get_config()


def to_grayscale(images):
    """RGB images `(n, h, w, 3)` in [0, 1] -> `(n, h, w, 1)` luminance, as float32 NumPy."""
    images = np.asarray(images, "float32")
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected RGB images of shape (n, height, width, 3). Received: {images.shape}")
    return (images @ np.array(LUMA, "float32"))[..., None]


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("conv_colorization")
class ColorizationAutoencoder(ConvolutionalAutoencoder):
    """Maps a grayscale image to colour, trained on colour images alone.

    The model takes RGB images and turns them into luminance first, so the
    encoder never sees colour; the decoder predicts a per-pixel change to each
    channel, added to the luminance (`output = clip(Y + delta, 0, 1)`), so the
    image's detail is never lost and the network only has to learn the colour.
    `fit(rgb_images)` is all the training it needs (self-supervised);
    `colorize(gray_images)` colours new grayscale images of the same size.

    Args:
        input_shape: `(H, W, 3)`, with H and W divisible by `2**len(filters)`.
        filters, latent_filters, upsampling, activation: as in
            `ConvolutionalAutoencoder`.
        latent_dim: `None` (default) keeps the spatial code: colour is
            placed pixel by pixel.
        reconstruction_loss: `"mse"`.

    Example:

    ```python
    model = keras_ae.ColorizationAutoencoder(input_shape=(32, 32, 3))
    model.compile(optimizer="adam")
    model.fit(rgb_patches, epochs=20, batch_size=64)
    colour = model.colorize(gray_patches)
    ```
    """

    # The small configuration the check suite (keras_ae.testing) and the tests use.
    test_config = dict(input_shape=(16, 16, 3), filters=(4, 8), latent_filters=8)
    # The decoder gives a change to each channel, in [-1, 1], added to the input's luminance.
    decoder_output_activation = "tanh"
    decodes_from_code_alone = False

    def __init__(self, input_shape=(32, 32, 3), filters=(32, 64), latent_filters=64, latent_dim=None,
                 upsampling="upsampling", activation="relu", reconstruction_loss="mse", **kwargs):
        super().__init__(input_shape=input_shape, filters=filters, latent_filters=latent_filters,
                         latent_dim=latent_dim, upsampling=upsampling, activation=activation,
                         reconstruction_loss=reconstruction_loss, **kwargs)

    def _check_config(self):
        super()._check_config()
        if self.input_shape[-1] != 3:
            raise ValueError(f"ColorizationAutoencoder needs RGB images, input_shape (height, width, 3). "
                             f"Received: input_shape={self.input_shape}")

    def build_layers(self):
        self.luminance = Luminance(name="luminance", dtype=self.dtype_policy)

    def encoder_input(self, inp):
        return self.luminance(inp)  # build_layers runs first; the layer has no weights to share

    def call(self, inputs, training=False):
        y = self.luminance(inputs)
        delta = self.decoder(self.encoder(inputs, training=training), training=training)
        return ops.clip(y + delta, 0.0, 1.0)

    def colorize(self, gray, batch_size=256):
        """Colour grayscale images `(n, H, W)` or `(n, H, W, 1)` in [0, 1]; returns `(n, H, W, 3)`."""
        gray = np.asarray(gray, "float32")
        if gray.ndim == 3:
            gray = gray[..., None]
        h, w, _ = self.input_shape
        gray = check_batch(gray, (h, w, 1), name="gray", value_range=(0.0, 1.0))
        return self.reconstruct(np.repeat(gray, 3, axis=-1), batch_size=batch_size)
