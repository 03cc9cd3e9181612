"""Latent arithmetic and morphing: interpolate between digits, and add a "thickness" vector.

Mirrors the course's latent-space arithmetic ("smile vector") and morphing
z = z_A (1 - alpha) + z_B alpha. On MNIST the attribute is stroke thickness: the mean code
of the thickest quarter of a digit's images minus that of the thinnest quarter, averaged
over the ten digits.

    python scripts/latent_arithmetic.py [--quick] [--out DIR] [--pretrained]
"""

# %%
import numpy as np

import keras_ae
from keras_ae.course import epochs, load_data, one_per_digit, parser, save
from keras_ae import latent
from keras_ae.plotting import image_rows, interpolation_strip

args = parser(__doc__, pretrained="vae.mnist_z2 and undercomplete.mnist_z20").parse_args()
(x_train, y_train), (x_test, y_test) = load_data(args)

if args.pretrained:
    vae = keras_ae.zoo.load("vae.mnist_z2")
    ae = keras_ae.zoo.load("undercomplete.mnist_z20")
else:
    vae = keras_ae.VAE(hidden_units=(512,), latent_dim=8, seed=0)
    ae = keras_ae.UndercompleteAutoencoder(latent_dim=20, reconstruction_loss="bce")
    for model in (vae, ae):
        model.compile(optimizer="adam")
        model.fit(x_train, x_train, epochs=epochs(args, 10), batch_size=128)


# %% [markdown]
# ## Morphing: a 1 into a 7, linear and spherical paths through the VAE's latent space

# %%
idx = one_per_digit(y_test, 10)
for method in ("linear", "slerp"):
    images, alphas = latent.interpolate(vae, x_test[idx[1]], x_test[idx[7]], steps=10, method=method)
    save(interpolation_strip(images, alphas=alphas, title=f"Morphing 1 -> 7 ({method})"),
         args, f"interpolation_{method}.png")


# %% [markdown]
# ## Attribute vector: thick minus thin strokes within each digit, averaged over the digits

# %%
# (within a digit, so the vector carries thickness and not "more 0s and 8s")
vectors = []
for digit in np.unique(y_train):
    xd = x_train[y_train == digit]
    ink = latent.stroke_thickness(xd)
    vectors.append(latent.attribute_vector(ae, xd[ink > np.percentile(ink, 75)], xd[ink < np.percentile(ink, 25)]))
vector = np.mean(vectors, axis=0)
alphas = (-1.0, -0.5, 0.0, 0.5, 1.0, 1.5)
out = latent.apply_attribute(ae, x_test[idx[:6]], vector, alphas=alphas)
measured = latent.stroke_thickness(out.reshape(-1, 784)).reshape(out.shape[:2]).mean(0)
print("mean ink after z + alpha * v: " + ", ".join(f"alpha={a:+.1f}: {m:.1f}" for a, m in zip(alphas, measured)))
rows = [out[:, j] for j in range(len(alphas))]
save(image_rows(rows, labels=[f"α = {a:+.1f}" for a in alphas], title="z + α · (thick − thin)"),
     args, "thickness_vector.png")
