"""The denoising autoencoder: clean, noisy (noise_factor 0.5) and denoised digits.

Mirrors the course's "Denoising autoencoder" code: 784-128-64-32 dense layers, a sigmoid
output, noise_factor 0.5 clipped to [0, 1], 10 epochs, batch size 256. The course adds the
noise once to the data and fits (x_noisy, x_clean); here the model adds fresh noise itself
in every training step, which is the same objective with more noise samples.

    python scripts/denoising_autoencoder.py [--quick] [--out DIR] [--pretrained]
"""

# %%
import keras_ae
from keras_ae.course import load_data, one_per_digit, parser, pretrained_or_trained, save
from keras_ae.data import add_noise
from keras_ae.plotting import reconstruction_grid

args = parser(__doc__, pretrained="denoising.mnist_gauss05").parse_args()
(x_train, _), (x_test, y_test) = load_data(args)


# %% [markdown]
# ## Noisy test images, as in the course

# %%
noise_factor = 0.5
x_test_noisy = add_noise(x_test, "gaussian", noise_factor, seed=0)


# %% [markdown]
# ## The model: the noise is added inside, during training only

# %%
model = pretrained_or_trained(
    args, "denoising.mnist_gauss05",
    lambda: keras_ae.DenoisingAutoencoder(hidden_units=(128, 64), latent_dim=32, noise="gaussian",
                                          noise_factor=noise_factor, seed=0),
    x_train, n_epochs=10, validation_data=(x_test_noisy, x_test))


# %% [markdown]
# ## Denoise the test images

# %%
denoised = model.reconstruct(x_test_noisy)
noisy_err = ((x_test_noisy - x_test) ** 2).sum(1).mean()
err = ((denoised.reshape(len(x_test), -1) - x_test) ** 2).sum(1).mean()
print(f"squared error per image: noisy input {noisy_err:.2f}, denoised {err:.2f}")
idx = one_per_digit(y_test)
save(reconstruction_grid(x_test[idx], denoised[idx], noisy=x_test_noisy[idx],
                         labels=["clean", "noisy", "denoised"],
                         title=f"Denoising: squared error {noisy_err:.1f} (noisy) -> {err:.1f} (denoised)"),
     args, "denoising.png")
