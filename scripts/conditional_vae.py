"""The conditional VAE: generate *this* digit, and move one digit's style onto another.

Lecture notes 004 build the VAE on probabilities; the conditional VAE (Sohn et al. 2015) models
p(x|y), the image given its label y. The encoder sees q(z|x, y) and the decoder p(x|z, y): the label
is concatenated to the image and to z. Since the decoder is told the class, z is free to hold the
rest, the *style* (slant, thickness, width). Two pictures:

- a conditional grid: row k decodes the same draws of z under label k;
- style transfer: encode a test digit with its own label, decode the code under every other label.

    python scripts/conditional_vae.py [--quick] [--out DIR] [--pretrained]
"""

# %%
import numpy as np

import keras_ae
from keras_ae.course import epochs, load_data, parser, save
from keras_ae.plotting import image_grid, training_curves

args = parser(__doc__, pretrained="cvae.mnist_z2").parse_args()
(x_train, y_train), (x_test, y_test) = load_data(args, shape="image")


# %% [markdown]
# ## The model: a conditional VAE, fitted on (image, label) pairs

# %%
if args.pretrained:
    cvae = keras_ae.zoo.load("cvae.mnist_z2")
else:
    cvae = keras_ae.ConditionalVAE(input_shape=(28, 28, 1), num_classes=10, hidden_units=(512,),
                                   latent_dim=2, seed=0)
    cvae.compile(optimizer="adam")
    history = cvae.fit(x_train, y_train, epochs=epochs(args, 30), batch_size=128,
                       validation_data=(x_test, y_test))
    save(training_curves(history, title="CVAE: loss = reconstruction + KL, given the label"), args,
         "training_curves.png")
print(f"test ELBO {cvae.elbo(x_test, y_test).mean():.2f} nats per image (given the labels)")


# %% [markdown]
# ## The conditional grid: rows are the classes, columns the same draws of z

# %%
columns = 8
z = np.random.default_rng(0).standard_normal((columns, cvae.latent_dim)).astype("float32")
grid = np.concatenate([cvae.decode(z, np.full(columns, k)) for k in range(10)])
save(image_grid(grid, ncols=columns, title="CVAE: row k decodes the same 8 codes z under label k"), args,
     "conditional_grid.png")


# %% [markdown]
# ## Style transfer: encode with the true label, decode with every label

# %%
picks = [int(np.flatnonzero(y_test == k)[0]) for k in range(4) if np.any(y_test == k)]
rows = []
for i in picks:
    x, y = x_test[i:i + 1], y_test[i:i + 1]
    swapped = cvae.swap(np.repeat(x, 10, axis=0), np.repeat(y, 10), new_y=np.arange(10))
    rows.append(np.concatenate([x, swapped]))
save(image_grid(np.concatenate(rows), ncols=11,
                title="Style transfer: a test digit (left), then its code decoded as 0, 1, ..., 9"),
     args, "style_transfer.png")
