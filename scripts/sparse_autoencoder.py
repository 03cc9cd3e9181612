"""The sparse autoencoder: a KL(rho || rho_hat) penalty keeps most code units silent.

Mirrors the course's "Sparse autoencoders" section: the loss is reconstruction error plus a
sparsity penalty on the code's mean activations. The figures show the mean activation of
each code unit against the target rho, and the features the first layer learned.

    python scripts/sparse_autoencoder.py [--quick] [--out DIR] [--pretrained]
"""

# %%
import numpy as np
from matplotlib.figure import Figure

import keras_ae
from keras_ae.course import load_data, one_per_digit, parser, pretrained_or_trained, save
from keras_ae.plotting import image_grid, reconstruction_grid

args = parser(__doc__, pretrained="sparse.mnist_kl64").parse_args()
(x_train, _), (x_test, y_test) = load_data(args)

model = pretrained_or_trained(
    args, "sparse.mnist_kl64",
    lambda: keras_ae.SparseAutoencoder(hidden_units=(256,), latent_dim=64, sparsity="kl", rho=0.05, beta=1e-2,
                                       reconstruction_loss="bce"),
    x_train, n_epochs=10, validation_data=(x_test, x_test))


# %% [markdown]
# ## How sparse is the code?

# %%
codes = model.encode(x_test)
rho = model.rho
print(f"mean code activation {codes.mean():.4f} (target rho = {rho}); "
      f"fraction of activations > 0.5: {(codes > 0.5).mean():.4f}")
fig = Figure(figsize=(7, 3.5))
ax = fig.subplots()
ax.bar(np.arange(codes.shape[1]), codes.mean(0))
ax.axhline(rho, color="k", linestyle="--", label=f"rho = {rho}")
ax.set_xlabel("code unit")
ax.set_ylabel("mean activation on test set")
ax.set_title("Sparse code: mean activation per unit")
ax.legend()
fig.tight_layout()
save(fig, args, "mean_activations.png")


# %% [markdown]
# ## First-layer features, as images

# %%
kernel = model.encoder.get_layer("encoder_dense_0").kernel.numpy().T[:32]
kernel = (kernel - kernel.min(1, keepdims=True)) / np.ptp(kernel, axis=1, keepdims=True)
save(image_grid(kernel, ncols=8, title="First-layer features"), args, "features.png")

idx = one_per_digit(y_test)
save(reconstruction_grid(x_test[idx], model.reconstruct(x_test[idx]), title="Sparse autoencoder"),
     args, "reconstructions.png")
