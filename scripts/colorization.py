"""Colorization: an autoencoder that sees only grayscale and learns to put the colour back.

The course lists colorization among the applications of autoencoders. The model
(`keras_ae.ColorizationAutoencoder`) takes RGB images, turns them into
luminance inside, and learns a change to each colour channel; it trains on
colour images alone. The figure shows gray input, model output and the original.

Where it gets its model and photos:

- `--zoo NAME` (a colorization entry of the zoo, `conv_colorization.cifar10` or
  `conv_colorization.celeba64`): real test photos of the entry's data set (set
  `$KERAS_AE_CIFAR10` / `$KERAS_AE_CELEBA`, see `keras_ae.data`), measured against
  two baselines: the gray copy (luminance in all three channels) and the training
  set's mean colour added to the luminance (`keras_ae.zoo.colorization`).
  **CelebA is for non-commercial research and education only**, and so are that
  entry and its figures.
- by default, the first of those entries that is shipped and whose test photos are
  on this machine; else a model trained here on scikit-learn's two sample
  photographs (offline): training patches from the left three quarters of each
  photo, held-out patches from the right quarter.
- `--images FOLDER`: your own RGB images, cut into patches the same way; a model is
  trained on them, or with `--zoo NAME` that entry colours them.

    python scripts/colorization.py [--quick] [--out DIR] [--images FOLDER] [--zoo NAME] [--epochs N]
"""

# %%
import numpy as np

import keras_ae
from keras_ae import zoo
from keras_ae.course import epochs, parser, save
from keras_ae.plotting import image_rows
from keras_ae.zoo.colorization import gray_copy, mean_colour

ENTRIES = ("conv_colorization.cifar10", "conv_colorization.celeba64")  # the default's order
p = parser(__doc__)
p.add_argument("--images", default=None, help="a folder of RGB images (default: scikit-learn's sample images)")
p.add_argument("--zoo", default=None, metavar="NAME",
               help=f"colour with this zoo entry ({', '.join(ENTRIES)}) instead of training one")
args = p.parse_args()


def load_images():
    if args.images:
        from keras_ae.data import load_user_data

        images, kind = load_user_data(args.images)
        if kind != "images" or images.shape[-1] != 3:
            raise SystemExit(f"--images: expected a folder of RGB images; got {kind} of shape {images.shape}")
        return list(images)
    from sklearn.datasets import load_sample_images

    return [im.astype("float32") / 255.0 for im in load_sample_images().images]


def patches(images, n, part, rng, size):
    """`n` random size x size patches from the left 3/4 (`part="train"`) or right 1/4 of each image."""
    out = []
    for k in range(n):
        im = images[k % len(images)]
        h, w, _ = im.shape
        split = int(w * 0.75)
        low, high = (0, split - size) if part == "train" else (split, w - size)
        if h < size or high < low:
            raise SystemExit(f"--images: image {k % len(images)} is {h}x{w}; expected at least {size} high and "
                             f"{round(size * 4)} wide for {size}x{size} patches from its {part} part")
        i, j = rng.integers(0, h - size + 1), rng.integers(low, high + 1)
        out.append(im[i:i + size, j:j + size])
    return np.stack(out).astype("float32")


def dataset_name(name):
    """The data set a zoo entry was trained on: `(keras_ae.data key, display name)`."""
    from keras_ae.data import DATASETS
    from keras_ae.zoo.index import entry_dataset

    key, _ = entry_dataset(zoo.info(name))
    return key, DATASETS[key].source.name if key in DATASETS else str(key)


def test_photos(name):
    """The test split of a zoo entry's data set, float32 in [0, 1] (OSError / ValueError when it is not here)."""
    from keras_ae.data import load_celeba, load_dataset

    key, _ = dataset_name(name)
    if key == "celeba":  # decodes only the 3,000 test faces (images 27001-30000)
        return load_celeba(split="test")[0]
    return load_dataset(key)[1][0]


def pick_entry():
    """`(name, test photos)` of the first shipped entry whose data set is here, else `(None, None)`."""
    for name in ENTRIES:
        if name in zoo.list_models():
            try:
                return name, test_photos(name)
            except (OSError, ValueError) as e:
                print(f"{name} is shipped, but its test photos are not here ({str(e).splitlines()[0]})")
    return None, None


# %% [markdown]
# ## The model and the photos: a zoo entry on real test photos, or one trained here on patches

# %%
rng = np.random.default_rng(0)
name, x_test = (args.zoo, None) if args.zoo else (None, None) if args.images else pick_entry()
if name:
    model = zoo.load(name)  # a ZooError names the entries there are
    info = zoo.info(name)
    size = tuple(model.input_shape)[-3]
    if args.images:
        x_test = patches(load_images(), 64 if args.quick else 256, "test", rng, size)
        what = f"{size}x{size} patches of {args.images}"
    else:
        if x_test is None:
            try:
                x_test = test_photos(name)
            except (OSError, ValueError) as e:
                raise SystemExit(f"--zoo {name}: its test photos are not on this machine ({e}); set the data "
                                 "set's variable (keras_ae.data) or colour your own with --images FOLDER") from None
        what = f"{dataset_name(name)[1]} test photos"
    print(f"zoo entry {name}: {info['description']}")
    if info.get("licence"):
        print("licence:", info["licence"])
    recorded = info["metrics"]["test"]
    print("recorded on the whole test split: " + ", ".join(f"{k} {v}" for k, v in recorded.items()))
else:
    SIZE = 32
    images = load_images()
    n_train, n_test = (512, 128) if args.quick else (8000, 1000)
    x_train = patches(images, n_train, "train", rng, SIZE)
    x_test = patches(images, n_test, "test", rng, SIZE)
    print(f"{len(images)} images; {len(x_train)} training and {len(x_test)} held-out {SIZE}x{SIZE} patches")
    model = keras_ae.ColorizationAutoencoder(input_shape=(SIZE, SIZE, 3))
    model.compile(optimizer="adam")
    model.fit(x_train, epochs=epochs(args, 30), batch_size=64, validation_data=(x_test,))
    what = "held-out patches"


# %% [markdown]
# ## Gray input, the model's colours, the original

# %%
gray_all = gray_copy(x_test)
colour_all = model.colorize(gray_all[..., :1])
mse, mse_gray = float(np.mean((colour_all - x_test) ** 2)), float(np.mean((gray_all - x_test) ** 2))
print(f"{what} ({len(x_test)}), mean squared error per value: colorized {mse:.5f}, grayscale copy {mse_gray:.5f} "
      f"(baseline / model = {mse_gray / mse:.2f}; above 1, the model puts back more colour than it gets wrong)")
show = np.arange(min(8, len(x_test)))  # the first ones: the same figure on every run
gray, colour, x_show = gray_all[show], colour_all[show], x_test[show]
if name and "mean_colour_squared_error" in recorded:
    title = (f"{name} on {what}: gray input / colorized / original\nwhole test split, squared error per image: "
             f"model {recorded['squared_error']:.1f}, gray copy {recorded['gray_squared_error']:.1f}, mean colour "
             f"{recorded['mean_colour_squared_error']:.1f} (model / better baseline {recorded['colour_ratio']:.2f})")
else:
    title = f"Gray (MSE {mse_gray:.4f}) / colorized (MSE {mse:.4f}) / original, {what}"
if name and "non-commercial" in (info.get("licence") or "").lower():
    title += "\nCelebA: non-commercial research and education only"
save(image_rows([gray, colour, x_show], labels=["gray input", "colorized", "original"], title=title),
     args, "colorization.png")

# %% [markdown]
# ## The mean colour: one colour cast for every pixel (the second baseline; needs the training photos)

# %%
if not name:
    from keras_ae.zoo.colorization import mean_chroma

    chroma = mean_chroma(x_train)
    tinted = mean_colour(x_test, chroma)
    print(f"training patches' mean chroma offset (R, G, B) - Y: {np.round(chroma, 4)}; held-out mean squared "
          f"error per value with it added to the luminance: {float(np.mean((tinted - x_test) ** 2)):.5f}")
