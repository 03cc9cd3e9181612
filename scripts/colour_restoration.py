"""Denoising and inpainting colour photos: a convolutional autoencoder against classical filters.

Mirrors the course's third practical application of autoencoders, "Denoising" (lecture notes 000,
section "Practical Applications": "Network learns to remove noise. Code doesn't have space for noise
details. Reconstruction is clean!"; notes 002, "Use Cases of Auto-encoders: Image Denoising", and its
Denoising Autoencoder: "The most common [corruptions] being adding a Gaussian noise or randomly masking
some of the inputs"). Here on colour photos, with three corruptions (`keras_ae.restoration`, seeded):

- Gaussian noise, sigma 0.1 on every value, clipped to [0, 1];
- salt and pepper: 10% of the pixels set to black or white;
- a masked square, a quarter of the image's side (16x16 on 64x64 faces, 8x8 on 32x32 images), at a
  random place: inpainting. The model keeps the known pixels and fills the hole with its
  reconstruction, re-encoding the result 5 times, starting from the image's mean colour.

Each is measured by PSNR (dB, per image, averaged) against the original: the corrupted input itself,
the classical answer (a 3x3 median filter per channel for the noises; for the square, the harmonic
fill, the smoothest surface that meets the hole's border) and the model's. The figure shows the
original, then per corruption: corrupted, classical, model.

Where it gets its model and photos:

- `--zoo NAME` or `--dataset celeba|cifar10`: the zoo's convolutional model of that data set (the
  deterministic `resnet.*` where the zoo has it, else the VAE `resnet_vae.*`, whose restoration is the
  decoded posterior mean) on its test photos (set `$KERAS_AE_CELEBA` / `$KERAS_AE_CIFAR10`, see
  `keras_ae.data`). **CelebA is for non-commercial research and education only**, and so are its
  entries and their figures.
- by default, the first data set (CelebA, then CIFAR-10) whose entry is shipped and whose test
  photos are on this machine; else a small convolutional autoencoder trained here on 32x32 patches of
  scikit-learn's two sample photographs (offline), measured on held-out patches. It was never trained
  on corrupted images: what it removes, it removes because its code has no room for it.

    python scripts/colour_restoration.py [--quick] [--out DIR] [--dataset celeba|cifar10] [--zoo NAME] [--epochs N]
"""

# %%
import keras_ae  # before Keras: it holds back TensorFlow's C++ start-up lines
import keras
import numpy as np

from keras_ae import restoration, zoo
from keras_ae.course import epochs, parser, save
from keras_ae.plotting import image_rows

ENTRIES = restoration.ZOO_ENTRIES  # per data set: the plain autoencoder first, then the VAE
TITLES = {"celeba": "CelebA test faces", "cifar10": "CIFAR-10 test images"}
p = parser(__doc__)
p.add_argument("--dataset", default=None, choices=tuple(ENTRIES), help="measure this data set's zoo model")
p.add_argument("--zoo", default=None, metavar="NAME",
               help="this zoo entry (" + ", ".join(n for names in ENTRIES.values() for n in names) + ")")
p.add_argument("--iterations", type=int, default=restoration.SETTINGS["iterations"],
               help="inpainting: reconstructions of the image with its known pixels put back (default 5)")
args = p.parse_args()


def entry_dataset(name):
    """The data set key of zoo entry `name` (`celeba`, `cifar10`, ...)."""
    from keras_ae.zoo.index import entry_dataset as dataset_of

    return dataset_of(zoo.info(name))[0]


def test_photos(dataset):
    """The test split of `dataset`, float32 in [0, 1] (OSError / ValueError when it is not here)."""
    from keras_ae.data import load_celeba, load_dataset

    if dataset == "celeba":  # decodes only the 3,000 test faces
        return load_celeba(split="test")[0]
    return load_dataset(dataset)[1][0]


def shipped(dataset):
    """The first of `ENTRIES[dataset]` that the zoo ships, else None."""
    return next((n for n in ENTRIES[dataset] if n in zoo.list_models()), None)


def pick():
    """`(entry, data set, test photos)`: from --zoo, --dataset, or the first that is here; `(None, None, None)`."""
    if args.zoo:
        dataset = entry_dataset(args.zoo)  # a ZooError names the entries there are
        candidates = [(args.zoo, dataset)]
    elif args.dataset:
        name = shipped(args.dataset)
        if name is None:
            raise SystemExit(f"--dataset {args.dataset}: the zoo has none of {list(ENTRIES[args.dataset])} yet "
                             f"(not trained yet; the recipes are in keras_ae/zoo/recipes.py)")
        candidates = [(name, args.dataset)]
    else:
        candidates = [(shipped(d), d) for d in ENTRIES if shipped(d)]
    for name, dataset in candidates:
        try:
            return name, dataset, test_photos(dataset)
        except (OSError, ValueError) as e:
            if args.zoo or args.dataset:
                raise SystemExit(f"{name}: the test photos of {dataset} are not on this machine ({e}); set the data "
                                 "set's variable (keras_ae.data)") from None
            print(f"{name} is shipped, but its test photos are not here ({str(e).splitlines()[0]})")
    return None, None, None


def sample_patches(n, part, rng, size=32):
    """`n` random size x size patches from the left 3/4 (`part="train"`) or right 1/4 of scikit-learn's photos."""
    from sklearn.datasets import load_sample_images

    photos = [im.astype("float32") / 255.0 for im in load_sample_images().images]
    out = []
    for k in range(n):
        im = photos[k % len(photos)]
        h, w, _ = im.shape
        split = int(w * 0.75)
        low, high = (0, split - size) if part == "train" else (split, w - size)
        i, j = rng.integers(0, h - size + 1), rng.integers(low, high + 1)
        out.append(im[i:i + size, j:j + size])
    return np.stack(out)


# %% [markdown]
# ## The model and the photos: a zoo entry on real test photos, or one trained here on patches

# %%
name, dataset, x_test = pick()
if name:
    model = zoo.load(name)
    info = zoo.info(name)
    what = TITLES.get(dataset, dataset)
    print(f"zoo entry {name}: {info['description']}")
    if info.get("licence"):
        print("licence:", info["licence"])
    if args.quick:
        x_test = x_test[:64]
else:
    for d, names in ENTRIES.items():
        if not shipped(d):
            print(f"{TITLES[d]}: the zoo has none of {list(names)} yet (not trained yet)")
    rng = np.random.default_rng(0)
    n_train, n_test = (256, 64) if args.quick else (8000, 1000)
    x_train, x_test = sample_patches(n_train, "train", rng), sample_patches(n_test, "test", rng)
    keras.utils.set_random_seed(0)
    model = keras_ae.ConvolutionalAutoencoder(input_shape=(32, 32, 3), filters=(32, 64), latent_filters=64,
                                              latent_dim=None, reconstruction_loss="mse")
    model.compile(optimizer="adam")
    model.fit(x_train, x_train, epochs=epochs(args, 20), batch_size=64, shuffle=True, verbose=2)
    what = "held-out patches of scikit-learn's sample photos"
side = x_test.shape[1]
size = max(1, side // 4)
print(f"{len(x_test)} {what}, {side}x{side}: Gaussian sigma {restoration.SETTINGS['sigma']}, salt and pepper on "
      f"{restoration.SETTINGS['amount']:.0%} of the pixels, a {size}x{size} masked square")


# %% [markdown]
# ## Corrupt, restore, measure: the corrupted input, the classical filter, the model

# %%
scores, shown = restoration.compare(model, x_test, sigma=restoration.SETTINGS["sigma"],
                                    amount=restoration.SETTINGS["amount"], size=size, iterations=args.iterations,
                                    seed=restoration.SETTINGS["seed"], batch_size=128, keep=8)
LABELS = {"gaussian": f"Gaussian σ={restoration.SETTINGS['sigma']}",
          "salt_and_pepper": f"salt & pepper {restoration.SETTINGS['amount']:.0%}",
          "square": f"{size}x{size} square"}
CLASSICAL = {"gaussian": "3x3 median", "salt_and_pepper": "3x3 median", "square": "harmonic fill"}
print(f"\nPSNR in dB against the original, mean over {len(x_test)} images")
print(f"{'corruption':<22}{'corrupted':>10}{'classical':>22}{'model':>8}")
for kind, row in scores.items():
    print(f"{LABELS[kind]:<22}{row['corrupted']:>10.2f}{row['classical']:>10.2f} ({CLASSICAL[kind]:>13})"
          f"{row['model']:>8.2f}")
hole = scores["square"]
print(f"inside the {size}x{size} hole: corrupted {hole['corrupted_hole']:.2f}, harmonic fill "
      f"{hole['classical_hole']:.2f}, model {hole['model_hole']:.2f}, model started from the harmonic fill "
      f"{hole['model_from_harmonic_hole']:.2f} (whole image {hole['model_from_harmonic']:.2f})")
clean = float(restoration.psnr(x_test, restoration.restore(model, x_test, batch_size=128)).mean())
print(f"the model's reconstruction of the clean images: {clean:.2f} dB (what it can give back at best)")


# %% [markdown]
# ## The figure: original, then per corruption the corrupted input, the classical answer, the model's

# %%
rows, labels = [x_test[:8]], ["original"]
for kind in restoration.CORRUPTIONS:
    s = scores[kind]
    rows += [shown[kind]["corrupted"], shown[kind]["classical"], shown[kind]["model"]]
    labels += [f"{LABELS[kind]}\n{s['corrupted']:.1f} dB", f"{CLASSICAL[kind]}\n{s['classical']:.1f} dB",
               f"model\n{s['model']:.1f} dB"]
title = (f"{name or 'a conv autoencoder trained here'} on {len(x_test)} {what}\nPSNR per image, mean over "
         f"them; inpainting: {args.iterations} reconstructions, known pixels kept")
if name and "non-commercial" in (info.get("licence") or "").lower():
    title += "\nCelebA: non-commercial research and education only"
save(image_rows(rows, labels=labels, title=title), args, "restoration.png")
