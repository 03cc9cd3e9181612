"""The course's comparison: a convolutional AE against a convolutional VAE (latent 128, 5 epochs).

Mirrors the course's PyTorch comparison code and its 3x8 figure: originals on top, the
autoencoder's reconstructions in the middle, the VAE's at the bottom. Both use stride-2
3x3 convolutions with 16 and 32 filters. Differences from the course code: the
autoencoder downsamples by max-pooling (the course's AE uses strides), its code is a
dense 128-D vector so both models have the same latent size, and the VAE has a
128-unit dense layer before its latent heads.

    python scripts/conv_ae_vs_conv_vae.py [--quick] [--out DIR]
"""

# %%
import keras_ae  # before Keras: it holds back TensorFlow's C++ start-up lines
import keras

from keras_ae.course import epochs, load_data, parser, save
from keras_ae.plotting import image_rows

args = parser(__doc__).parse_args()
(x_train, _), (x_test, _) = load_data(args, shape="image")
n_epochs = epochs(args, 5)


# %% [markdown]
# ## The two models, latent size 128 as in the course

# %%
ae = keras_ae.ConvolutionalAutoencoder(filters=(16, 32), latent_filters=64, latent_dim=128,
                                       upsampling="transpose", reconstruction_loss="bce")
vae = keras_ae.ConvVAE(filters=(16, 32), hidden_units=128, latent_dim=128, seed=0)


# %% [markdown]
# ## Train both, Adam 1e-3, batch size 128, 5 epochs

# %%
for name, model in (("autoencoder", ae), ("VAE", vae)):
    print(f"training the convolutional {name}")
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x_train, x_train, epochs=n_epochs, batch_size=128, verbose=2)


# %% [markdown]
# ## The 3x8 figure

# %%
first8 = x_test[:8]
ae_err = ae.reconstruction_error(x_test, metric="sse").mean()
vae_err = vae.reconstruction_error(x_test, metric="sse").mean()
print(f"test squared error per image: autoencoder {ae_err:.2f}, VAE {vae_err:.2f}")
fig = image_rows([first8, ae.reconstruct(first8), vae.reconstruct(first8)],
                 labels=["Original", "Autoencoder", "VAE"],
                 title=f"Conv AE ({ae_err:.1f}) vs conv VAE ({vae_err:.1f}): squared error per image", cell=1.5)
save(fig, args, "comparison.png")
