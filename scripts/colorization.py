"""Colorization: an autoencoder that sees only grayscale and learns to put the colour back.

The course lists colorization among the applications of autoencoders. The model
(`keras_ae.ColorizationAutoencoder`) takes RGB patches, turns them into
luminance inside, and learns a change to each colour channel; it trains on
colour images alone. The baseline is the grayscale image copied into the three
channels. Training patches come from the left three quarters of each image,
held-out patches from the right quarter.

Data: scikit-learn's two sample photographs (offline), or your own RGB images
with --images FOLDER.

    python scripts/colorization.py [--quick] [--out DIR] [--images FOLDER] [--epochs N]
"""

# %%
import numpy as np

import keras_ae
from keras_ae.course import epochs, parser, save
from keras_ae.models.colorization import to_grayscale
from keras_ae.plotting import image_grid

p = parser(__doc__)
p.add_argument("--images", default=None, help="a folder of RGB images (default: scikit-learn's sample images)")
args = p.parse_args()
SIZE = 32


def load_images():
    if args.images:
        from keras_ae.data import load_user_data

        images, kind = load_user_data(args.images)
        if kind != "images" or images.shape[-1] != 3:
            raise SystemExit(f"--images: expected a folder of RGB images; got {kind} of shape {images.shape}")
        return list(images)
    from sklearn.datasets import load_sample_images

    return [im.astype("float32") / 255.0 for im in load_sample_images().images]


def patches(images, n, part, rng):
    """`n` random SIZE x SIZE patches from the left 3/4 (`part="train"`) or right 1/4 of each image."""
    out = []
    for k in range(n):
        im = images[k % len(images)]
        h, w, _ = im.shape
        split = int(w * 0.75)
        low, high = (0, split - SIZE) if part == "train" else (split, w - SIZE)
        i, j = rng.integers(0, h - SIZE + 1), rng.integers(low, high + 1)
        out.append(im[i:i + SIZE, j:j + SIZE])
    return np.stack(out).astype("float32")


images = load_images()
rng = np.random.default_rng(0)
n_train, n_test = (512, 128) if args.quick else (8000, 1000)
x_train, x_test = patches(images, n_train, "train", rng), patches(images, n_test, "test", rng)
print(f"{len(images)} images; {len(x_train)} training and {len(x_test)} held-out {SIZE}x{SIZE} patches")


# %% [markdown]
# ## The model: luminance in, colour out

# %%
model = keras_ae.ColorizationAutoencoder(input_shape=(SIZE, SIZE, 3))
model.compile(optimizer="adam")
model.fit(x_train, epochs=epochs(args, 30), batch_size=64, validation_data=(x_test,))


# %% [markdown]
# ## Held-out patches: colorized against the grayscale copy

# %%
gray = to_grayscale(x_test)
colour = model.colorize(gray)
baseline = np.repeat(gray, 3, axis=-1)
mse = float(np.mean((colour - x_test) ** 2))
mse_base = float(np.mean((baseline - x_test) ** 2))
print(f"held-out mean squared error per value: colorized {mse:.5f}, grayscale copy {mse_base:.5f} "
      f"(baseline / model = {mse_base / mse:.2f}; above 1, the model puts back more colour than it gets wrong)")

show = np.arange(8)
grid = np.concatenate([baseline[show], colour[show], x_test[show]])
save(image_grid(grid, ncols=8, title=f"Grayscale (MSE {mse_base:.4f}) / colorized (MSE {mse:.4f}) / original, "
                                     "held-out patches"), args, "colorization.png")
