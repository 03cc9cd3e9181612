"""Convolutional autoencoder: Conv2D + pooling down, UpSampling or Conv2DTranspose up."""

import math

import keras

from keras_ae._validation import check_activation, check_choice, check_positive_int, check_units
from keras_ae.models.base import BaseAutoencoder
from keras_ae.models.registry import register_variant


def check_image_shape(input_shape, levels):
    """Check an `(H, W, C)` shape whose sides halve `levels` times without remainder."""
    if len(input_shape) != 3:
        raise ValueError(
            "A convolutional model needs image inputs of shape (height, width, channels). "
            f"Received: input_shape={tuple(input_shape)}"
        )
    h, w, _ = input_shape
    step = 2 ** levels
    if h % step or w % step:
        raise ValueError(
            f"Height and width must be divisible by 2**len(filters) = {step} so the decoder "
            f"can restore them. Received: input_shape={tuple(input_shape)} with {levels} "
            "downsampling levels"
        )


def conv_down(x, filters, activation, downsampling, dtype=None):
    """Encoder body: each level halves H and W, by max-pooling or a stride of 2."""
    for i, f in enumerate(filters):
        if downsampling == "pool":
            x = keras.layers.Conv2D(f, 3, activation=activation, padding="same", name=f"conv_{i}",
                                    dtype=dtype)(x)
            x = keras.layers.MaxPooling2D(2, padding="same", name=f"pool_{i}", dtype=dtype)(x)
        else:
            x = keras.layers.Conv2D(f, 3, strides=2, activation=activation, padding="same",
                                    name=f"conv_{i}", dtype=dtype)(x)
    return x


def conv_up(x, filters, activation, upsampling, channels, dtype=None, final_activation="sigmoid"):
    """Decoder body: each level doubles H and W; ends in a Conv2D to `channels` (sigmoid by default)."""
    for i, f in enumerate(filters):
        if upsampling == "upsampling":
            x = keras.layers.Conv2D(f, 3, activation=activation, padding="same", name=f"deconv_{i}",
                                    dtype=dtype)(x)
            x = keras.layers.UpSampling2D(2, name=f"up_{i}", dtype=dtype)(x)
        else:
            x = keras.layers.Conv2DTranspose(f, 3, strides=2, activation=activation,
                                             padding="same", name=f"deconv_{i}", dtype=dtype)(x)
    return keras.layers.Conv2D(channels, 3, activation=final_activation, padding="same", name="reconstruction",
                               dtype=dtype)(x)


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("convolutional")
class ConvolutionalAutoencoder(BaseAutoencoder):
    """A convolutional autoencoder for images of any `(H, W, C)`.

    Encoder: for each entry of `filters`, a 3x3 ReLU `Conv2D` then 2x2
    max-pooling; then a 3x3 `Conv2D` with `latent_filters` filters, and a
    dense layer that gives a flat code of `latent_dim` values (default 32, a
    real bottleneck: 4% of a 28x28 image). With `latent_dim=None` the feature
    map itself is the code, as in the course (7x7x128 = 6,272 values for
    MNIST, more than the 784 pixels: it compresses nothing; the course's
    script builds it that way on purpose). The decoder mirrors the encoder with
    `UpSampling2D` or `Conv2DTranspose` layers and ends in a sigmoid.

    Args:
        input_shape: `(H, W, C)`, with H and W divisible by `2**len(filters)`.
        filters: filters per downsampling level (course: 32, 64).
        latent_filters: filters of the last encoder convolution (course: 128).
        latent_dim: the size of the flat code, or `None` for the spatial code.
        upsampling: `"upsampling"` (course) or `"transpose"`.
        activation: hidden activation.
        reconstruction_loss: `"bce"` (course) or `"mse"`.

    Example:

    ```python
    model = keras_ae.ConvolutionalAutoencoder(input_shape=(32, 32, 3), latent_dim=64)
    model.compile(optimizer="adam")
    model.fit(images, epochs=20, batch_size=256)
    ```
    """

    # The small configuration the check suite (keras_ae.testing) and the tests use.
    test_config = dict(input_shape=(28, 28, 1), filters=(4, 8), latent_filters=8)

    latent_dim_optional = True
    image_input = True
    decoder_output_activation = "sigmoid"  # the decoder's last layer

    def __init__(self, input_shape=(28, 28, 1), filters=(32, 64), latent_filters=128,
                 latent_dim=32, upsampling="upsampling", activation="relu",
                 reconstruction_loss="bce", **kwargs):
        self.filters = check_units("filters", filters)
        if not self.filters:
            raise ValueError("`filters` needs at least one level. Received: filters=()")
        self.latent_filters = check_positive_int("latent_filters", latent_filters)
        self.upsampling = check_choice("upsampling", upsampling, ("upsampling", "transpose"))
        self.activation = check_activation("activation", activation)
        super().__init__(input_shape=input_shape, latent_dim=latent_dim,
                         reconstruction_loss=reconstruction_loss, **kwargs)

    def _check_config(self):
        check_image_shape(self.input_shape, len(self.filters))

    def encoder_input(self, inp):
        """Hook: what the encoder's convolutions see (the image itself here)."""
        return inp

    @property
    def _map_shape(self):
        h, w, _ = self.input_shape
        step = 2 ** len(self.filters)
        return (h // step, w // step, self.latent_filters)

    def build_encoder(self):
        dtype = self.dtype_policy
        inp = keras.Input(self.input_shape, name="x")
        x = conv_down(self.encoder_input(inp), self.filters, self.activation, "pool", dtype)
        x = keras.layers.Conv2D(self.latent_filters, 3, activation=self.activation,
                                padding="same", name="code_conv", dtype=dtype)(x)
        if self.latent_dim is not None:
            x = keras.layers.Flatten(dtype=dtype)(x)
            x = keras.layers.Dense(self.latent_dim, name="code", dtype=dtype)(x)
        return keras.Model(inp, x, name="encoder")

    def build_decoder(self):
        dtype = self.dtype_policy
        if self.latent_dim is None:
            inp = x = keras.Input(self._map_shape, name="z")
        else:
            inp = keras.Input((self.latent_dim,), name="z")
            x = keras.layers.Dense(math.prod(self._map_shape), activation=self.activation,
                                   name="project", dtype=dtype)(inp)
            x = keras.layers.Reshape(self._map_shape, dtype=dtype)(x)
        x = conv_up(x, self.filters[::-1], self.activation, self.upsampling, self.input_shape[-1], dtype,
                    final_activation=self.decoder_output_activation)
        return keras.Model(inp, x, name="decoder")

    def get_config(self):
        config = super().get_config()
        config.update(filters=list(self.filters), latent_filters=self.latent_filters,
                      upsampling=self.upsampling, activation=self.activation)
        return config
