"""The residual convolutional family: encoders and decoders that scale to colour photos.

One architecture, four variants: `ResNetAutoencoder`, `ResNetDenoisingAutoencoder`,
`ResNetVAE` and `ResNetBetaVAE` share the encoder and decoder built here.

Encoder: a 3x3 stem convolution, then one stage per entry of `filters`: a
strided 3x3 convolution halves H and W, and `blocks_per_stage` pre-activation
residual blocks (normalization, activation, 3x3 convolution, twice, plus the
identity; He et al. 2016, "Identity mappings in deep residual networks")
follow at that width. A final normalization and activation, then a dense
layer to the code (the VAE: to `z_mean` and `z_log_var`).

Decoder: the mirror image: a dense layer to the smallest feature map, then per
stage the residual blocks and a 2x upsampling (a 4x4 `Conv2DTranspose` of
stride 2, or nearest-neighbour `UpSampling2D` and a 3x3 convolution), and a
3x3 convolution to the image's channels with a sigmoid.

Any `(H, W, C)` works: when H or W is not a multiple of `2**len(filters)`, the
encoder pads the image with zeros to the next multiple (split evenly between
the two sides) and the decoder crops its output back, so the reconstruction
always has the input's shape.
"""

import math

import keras

from keras_ae._validation import check_activation, check_choice, check_units
from keras_ae.models.base import BaseAutoencoder
from keras_ae.models.denoising import _DenoisingMixin
from keras_ae.models.registry import register_variant
from keras_ae.models.vae import BaseVAE

__all__ = ["ResNetAutoencoder", "ResNetDenoisingAutoencoder", "ResNetVAE", "ResNetBetaVAE",
           "NORMALIZATIONS", "UPSAMPLINGS"]

NORMALIZATIONS = ("batch", "group", "layer", "none")
UPSAMPLINGS = ("transpose", "nearest")


def _under_tf_strategy():
    """True when the model is built in a TensorFlow distribution strategy's scope.

    Batch norm is then synchronized: its statistics are the global batch's, so two replicas train as
    one device does. Outside a strategy it stays Keras's default, whose moments are computed the stabler
    way (synchronized ones use E[x^2] - E[x]^2). Keras accepts `synchronized` only on TensorFlow; JAX's
    data parallelism computes global statistics anyway.
    """
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf  # the backend in use, so already imported

    return tf.distribute.has_strategy()


def _norm(kind, channels, name, dtype):
    """A normalization layer of `kind` for `channels` feature maps, or None for "none"."""
    if kind == "batch":
        return keras.layers.BatchNormalization(synchronized=_under_tf_strategy(), name=name, dtype=dtype)
    if kind == "group":
        return keras.layers.GroupNormalization(groups=math.gcd(8, channels), name=name, dtype=dtype)
    if kind == "layer":
        return keras.layers.LayerNormalization(name=name, dtype=dtype)
    return None


def _norm_act(x, kind, activation, name, dtype):
    layer = _norm(kind, x.shape[-1], f"{name}_norm", dtype)
    if layer is not None:
        x = layer(x)
    return keras.layers.Activation(activation, name=f"{name}_act", dtype=dtype)(x)


def residual_block(x, norm, activation, name, dtype=None):
    """A pre-activation residual block at the width of `x`: `x + conv(act(norm(conv(act(norm(x))))))`."""
    channels = x.shape[-1]
    h = _norm_act(x, norm, activation, f"{name}_a", dtype)
    h = keras.layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv_a", dtype=dtype)(h)
    h = _norm_act(h, norm, activation, f"{name}_b", dtype)
    h = keras.layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv_b", dtype=dtype)(h)
    return keras.layers.Add(name=f"{name}_add", dtype=dtype)([x, h])


class _ResNetShape:
    """The constructor arguments, checks, padding and trunks the residual variants share.

    A variant's constructor calls `_store_resnet` before `super().__init__`;
    its `build_encoder` calls `encoder_trunk` and adds its code layers; the
    decoder and the config's architecture keys are the same for every variant.
    """

    image_input = True

    def _store_resnet(self, filters, blocks_per_stage, norm, activation, upsampling):
        self.filters = check_units("filters", filters)
        if not self.filters:
            raise ValueError("`filters` needs at least one stage. Received: filters=()")
        if isinstance(blocks_per_stage, bool) or not isinstance(blocks_per_stage, int) or blocks_per_stage < 0:
            raise ValueError("`blocks_per_stage` must be an integer >= 0. "
                             f"Received: blocks_per_stage={blocks_per_stage!r}")
        self.blocks_per_stage = int(blocks_per_stage)
        self.norm = check_choice("norm", norm, NORMALIZATIONS)
        self.activation = check_activation("activation", activation)
        self.upsampling = check_choice("upsampling", upsampling, UPSAMPLINGS)

    def _check_config(self):
        if len(self.input_shape) != 3:
            raise ValueError("A residual convolutional model needs image inputs of shape (height, width, "
                             f"channels). Received: input_shape={tuple(self.input_shape)}")

    @property
    def padding(self):
        """`((top, bottom), (left, right))` zeros the encoder adds so H and W divide by `2**len(filters)`."""
        step = 2 ** len(self.filters)
        pads = []
        for side in self.input_shape[:2]:
            extra = -side % step
            pads.append((extra // 2, extra - extra // 2))
        return tuple(pads)

    @property
    def _map_shape(self):
        step = 2 ** len(self.filters)
        (t, b), (l, r) = self.padding
        h, w = self.input_shape[0] + t + b, self.input_shape[1] + l + r
        return (h // step, w // step, self.filters[-1])

    def encoder_trunk(self, inp, flatten=True):
        """The encoder up to its flattened feature map (`flatten=False`: the map itself, as `VQVAE` uses)."""
        dtype = self.dtype_policy
        x = inp
        if any(p for pair in self.padding for p in pair):
            x = keras.layers.ZeroPadding2D(self.padding, name="pad", dtype=dtype)(x)
        x = keras.layers.Conv2D(self.filters[0], 3, padding="same", name="stem", dtype=dtype)(x)
        for s, f in enumerate(self.filters):
            x = keras.layers.Conv2D(f, 3, strides=2, padding="same", name=f"down_{s}", dtype=dtype)(x)
            for b in range(self.blocks_per_stage):
                x = residual_block(x, self.norm, self.activation, f"enc_{s}_{b}", dtype)
        x = _norm_act(x, self.norm, self.activation, "enc_out", dtype)
        if not flatten:
            return x
        return keras.layers.Flatten(name="flatten", dtype=dtype)(x)

    def decoder_trunk(self, z):
        """The decoder from a flat code to the image, cropped to `input_shape`."""
        dtype = self.dtype_policy
        x = keras.layers.Dense(math.prod(self._map_shape), name="project", dtype=dtype)(z)
        x = keras.layers.Reshape(self._map_shape, name="unflatten", dtype=dtype)(x)
        return self.decoder_stages(x)

    def decoder_stages(self, x):
        """The decoder from the smallest feature map to the image, cropped to `input_shape`."""
        dtype = self.dtype_policy
        for s in reversed(range(len(self.filters))):
            for b in range(self.blocks_per_stage):
                x = residual_block(x, self.norm, self.activation, f"dec_{s}_{b}", dtype)
            x = _norm_act(x, self.norm, self.activation, f"up_{s}", dtype)
            out = self.filters[max(s - 1, 0)]
            if self.upsampling == "transpose":
                x = keras.layers.Conv2DTranspose(out, 4, strides=2, padding="same", name=f"up_{s}_conv",
                                                 dtype=dtype)(x)
            else:
                x = keras.layers.UpSampling2D(2, name=f"up_{s}_resize", dtype=dtype)(x)
                x = keras.layers.Conv2D(out, 3, padding="same", name=f"up_{s}_conv", dtype=dtype)(x)
        x = _norm_act(x, self.norm, self.activation, "dec_out", dtype)
        x = keras.layers.Conv2D(self.input_shape[-1], 3, padding="same", activation="sigmoid",
                                name="reconstruction", dtype=dtype)(x)
        if any(p for pair in self.padding for p in pair):
            x = keras.layers.Cropping2D(self.padding, name="crop", dtype=dtype)(x)
        return x

    def build_decoder(self):
        inp = keras.Input((self.latent_dim,), name="z")
        return keras.Model(inp, self.decoder_trunk(inp), name="decoder")

    def get_config(self):
        config = super().get_config()
        config.update(filters=list(self.filters), blocks_per_stage=self.blocks_per_stage, norm=self.norm,
                      activation=self.activation, upsampling=self.upsampling)
        return config


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("resnet")
class ResNetAutoencoder(_ResNetShape, BaseAutoencoder):
    """A residual convolutional autoencoder for images of any `(H, W, C)`, colour photos included.

    See the module docstring for the layout. The code is flat, `latent_dim`
    values, so it can be compared with PCA at the same size and fed to a
    sampler (`keras_ae.samplers`).

    Args:
        input_shape: `(H, W, C)`; sides that do not divide by
            `2**len(filters)` are padded and cropped back.
        filters: width of each stage; each stage halves H and W.
        blocks_per_stage: residual blocks per stage (0: a plain strided
            convolutional network).
        norm: `"batch"`, `"group"` (8 groups, or fewer when the width does
            not divide), `"layer"` or `"none"`.
        latent_dim: size of the code.
        activation: hidden activation.
        upsampling: `"transpose"` (4x4 `Conv2DTranspose`, stride 2) or
            `"nearest"` (`UpSampling2D` then a 3x3 convolution).
        reconstruction_loss: `"mse"` (default) or `"bce"`.

    Example:

    ```python
    model = keras_ae.ResNetAutoencoder(input_shape=(32, 32, 3), latent_dim=128)
    model.compile(optimizer="adam")
    model.fit(x_train, epochs=20, batch_size=128)
    ```
    """

    test_config = dict(input_shape=(9, 9, 3), filters=(4,), blocks_per_stage=1, latent_dim=6)

    def __init__(self, input_shape=(32, 32, 3), filters=(32, 64, 128), blocks_per_stage=1, norm="batch",
                 latent_dim=128, activation="relu", upsampling="transpose", reconstruction_loss="mse",
                 **kwargs):
        self._store_resnet(filters, blocks_per_stage, norm, activation, upsampling)
        super().__init__(input_shape=input_shape, latent_dim=latent_dim,
                         reconstruction_loss=reconstruction_loss, **kwargs)

    def build_encoder(self):
        inp = keras.Input(self.input_shape, name="x")
        h = self.encoder_trunk(inp)
        code = keras.layers.Dense(self.latent_dim, name="code", dtype=self.dtype_policy)(h)
        return keras.Model(inp, code, name="encoder")



@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("resnet_denoising")
class ResNetDenoisingAutoencoder(_DenoisingMixin, ResNetAutoencoder):
    """A residual convolutional autoencoder trained to remove noise it adds in training.

    Takes the arguments of `ResNetAutoencoder` plus `noise`, `noise_factor`,
    `seed` and `corruption_probability` as in `DenoisingAutoencoder`
    (`"gaussian"`, `"masking"` or `"salt_and_pepper"` noise).
    """

    test_config = dict(input_shape=(9, 9, 3), filters=(4,), blocks_per_stage=1, latent_dim=6, seed=1)

    def __init__(self, input_shape=(32, 32, 3), noise="gaussian", noise_factor=0.1, seed=None,
                 corruption_probability=1.0, **kwargs):
        self._store_noise(noise, noise_factor, seed, corruption_probability)
        super().__init__(input_shape=input_shape, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self._noise_config())
        return config


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("resnet_vae")
class ResNetVAE(_ResNetShape, BaseVAE):
    """A residual convolutional VAE for images of any `(H, W, C)`, colour photos included.

    The encoder and decoder are `ResNetAutoencoder`'s; the encoder ends in
    `z_mean` and `z_log_var`. The default decoder is the Gaussian with a
    learned scale (`reconstruction_loss="gaussian"`, see `BaseVAE`): colour
    values are continuous, for which a Bernoulli decoder is no density, and a
    fixed-variance Gaussian (`"mse"`) leaves the weight between
    reconstruction and KL to be tuned by hand per data set, where the learned
    scale finds it.

    Args:
        input_shape, filters, blocks_per_stage, norm, activation, upsampling:
            as in `ResNetAutoencoder`.
        latent_dim: size of z.
        beta: weight of the KL term (`ResNetBetaVAE` defaults to 4).
        reconstruction_loss: `"gaussian"` (default), `"mse"` or `"bce"`.
        dynamic_binarization, seed, kl_gradient: as in `VAE`.
    """

    test_config = dict(input_shape=(9, 9, 3), filters=(4,), blocks_per_stage=1, latent_dim=4, seed=1)

    def __init__(self, input_shape=(32, 32, 3), filters=(32, 64, 128), blocks_per_stage=1, norm="batch",
                 latent_dim=128, beta=1.0, activation="relu", upsampling="transpose",
                 reconstruction_loss="gaussian", dynamic_binarization=False, seed=None, **kwargs):
        self._store_resnet(filters, blocks_per_stage, norm, activation, upsampling)
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, beta=beta,
                         reconstruction_loss=reconstruction_loss,
                         dynamic_binarization=dynamic_binarization, seed=seed, **kwargs)

    def build_encoder(self):
        dtype = self.dtype_policy
        inp = keras.Input(self.input_shape, name="x")
        h = self.encoder_trunk(inp)
        z_mean = keras.layers.Dense(self.latent_dim, name="z_mean", dtype=dtype)(h)
        z_log_var = keras.layers.Dense(self.latent_dim, name="z_log_var", dtype=dtype)(h)
        return keras.Model(inp, [z_mean, z_log_var], name="encoder")



@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("resnet_beta_vae")
class ResNetBetaVAE(ResNetVAE):
    """A `ResNetVAE` with `beta=4` by default (Higgins et al. 2017): a stronger pull towards the prior."""

    test_config = dict(input_shape=(9, 9, 3), filters=(4,), blocks_per_stage=1, latent_dim=4, seed=1)

    def __init__(self, input_shape=(32, 32, 3), latent_dim=32, beta=4.0, **kwargs):
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, beta=beta, **kwargs)
