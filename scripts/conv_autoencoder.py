"""The course's convolutional autoencoder: Conv2D 32-64-128 with max-pooling, UpSampling back.

Mirrors the course's "Convolutional autoencoder" code: binary cross-entropy, 20 epochs,
batch size 256, and the 7x7x128 feature map as the code.

    python scripts/conv_autoencoder.py [--quick] [--out DIR] [--pretrained]
"""

# %%
import keras_ae
from keras_ae.course import epochs, load_data, one_per_digit, parser, save, show_reconstructions
from keras_ae.plotting import image_grid

args = parser(__doc__, pretrained="convolutional.mnist_z32 (a dense 32-D code)").parse_args()
(x_train, _), (x_test, y_test) = load_data(args, shape="image")


# %% [markdown]
# ## The model: the course's convolutional autoencoder

# %%
if args.pretrained:
    model = keras_ae.zoo.load("convolutional.mnist_z32")
else:
    # The course's architecture: its code is the 7x7x128 feature map itself (latent_dim=None),
    # larger than the image; the library's default adds a 32-value bottleneck instead.
    model = keras_ae.ConvolutionalAutoencoder(input_shape=(28, 28, 1), filters=(32, 64), latent_filters=128,
                                              latent_dim=None, upsampling="upsampling")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.encoder.summary()
    model.decoder.summary()
    model.fit(x_train, x_train, epochs=epochs(args, 20), batch_size=256, shuffle=True,
              validation_data=(x_test, x_test))


# %% [markdown]
# ## Reconstructions

# %%
show_reconstructions(model, x_test, y_test, args, "Convolutional autoencoder")
if len(model.code_shape) == 3:
    ## A few of the code's 128 feature maps for one digit
    maps = model.encode(x_test[one_per_digit(y_test)[:1]])[0].transpose(2, 0, 1)[:16]
    maps = maps / max(maps.max(), 1e-6)
    save(image_grid(maps, ncols=8, title="Code feature maps of one digit"), args, "feature_maps.png")
