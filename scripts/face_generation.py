"""Faces that don't exist: sampling, morphing and arithmetic with the zoo's face VAE.

Mirrors lecture notes 000 ("generates realistic human faces that don't exist", "smoothly transforms
between different images") and 001 (sampling z ~ N(0, I) and decoding; latent interpolation
z = z_A (1 - alpha) + z_B alpha; latent arithmetic).

- Samples from the prior N(0, I), and from the entry's shipped sampler: a 10-component Gaussian
  mixture fitted to the training faces' codes (the "ex-post" density of pythae and the RAE paper),
  which gives sharper, more face-like samples.
- Morphing between two faces, linear and spherical (slerp).
- Arithmetic: "man with glasses" - "man" + "woman", from the mean codes of those groups of
  training faces (with CelebA's attributes), as in the DCGAN paper's figure.
- Beside each sample, its nearest training face (pixel distance), so that you can see the model
  does not copy its training faces.

The model is `resnet_vae.celeba64_z128` from the zoo: nothing is trained. With CelebA on the
machine (`$KERAS_AE_CELEBA`, see `keras_ae.data.load_celeba`) the morphs use real test faces and
the arithmetic and nearest faces use the training faces; without it, the sections that need
faces use generated ones, and the nearest-face check is skipped (it says so).

**CelebA is for non-commercial research and education only**, and so are this model and its figures.

    python scripts/face_generation.py [--quick] [--out DIR]
"""

# %%
import warnings

import numpy as np

from keras_ae import latent, zoo
from keras_ae.course import parser, save
from keras_ae.plotting import image_rows, interpolation_strip, sample_grid

ENTRY = "resnet_vae.celeba64_z128"
args = parser(__doc__).parse_args()
vae = zoo.load(ENTRY)
sampler = zoo.load_sampler(ENTRY, model=vae)
print(zoo.info(ENTRY)["licence"])
try:
    from keras_ae.data import load_celeba

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ((x_train, a_train), (x_test, a_test)), source = load_celeba(
            dtype="uint8", attributes=["Male", "Eyeglasses"], return_source=True)
    if args.quick:
        x_train, a_train = x_train[:2000], {k: v[:2000] for k, v in a_train.items()}
    print(f"CelebA from {source}: {len(x_train)} training and {len(x_test)} test faces")
except (OSError, ValueError) as e:
    x_train = x_test = None
    print(f"No CelebA data here ({str(e).splitlines()[0]}); generated faces stand in for real ones")

# %% [markdown]
# ## Samples: the prior N(0, I) against the Gaussian mixture fitted to the training codes

# %%
n = 8 if args.quick else 16
prior = vae.sample(n, seed=0)
mixture = vae.sample(n, sampler=sampler, seed=0)
save(image_rows([prior[:8], prior[8:], mixture[:8], mixture[8:]] if n == 16 else [prior, mixture],
                labels=(["prior", "prior", "mixture", "mixture"] if n == 16 else ["prior", "mixture"]),
                title="Faces that do not exist: z ~ N(0, I) (top) and z ~ the fitted mixture (bottom)"),
     args, "samples_prior_vs_mixture.png")

# %% [markdown]
# ## Morphing between two faces: linear and spherical paths through the latent space

# %%
pair = x_test[[0, 7]].astype("float32") / 255.0 if x_test is not None else mixture[:2]
for method in ("linear", "slerp"):
    images, alphas = latent.interpolate(vae, pair[0], pair[1], steps=8 if args.quick else 10, method=method)
    save(interpolation_strip(np.concatenate([pair[:1], images, pair[1:]]),
                             title=f"Morphing between two {'test' if x_test is not None else 'generated'} faces "
                                   f"({method}); the real faces at both ends"),
         args, f"morph_{method}.png")

# %% [markdown]
# ## Arithmetic: man with glasses - man without + woman without = woman with glasses

# %%
if x_train is not None:
    codes = latent.encode_dataset(vae, x_train.astype("float32") / 255.0, batch_size=256)
    male, glasses = a_train["Male"], a_train["Eyeglasses"]
    groups = {"man with glasses": male & glasses, "man": male & ~glasses, "woman": ~male & ~glasses}
    means = {k: codes[v].mean(0) for k, v in groups.items()}
    print(", ".join(f"{k}: {int(v.sum())} training faces" for k, v in groups.items()))
    result = means["man with glasses"] - means["man"] + means["woman"]
    # The group means, and the result with some of each woman's own variation: 5 non-glasses women's codes
    women = codes[np.flatnonzero(groups["woman"])[:5]]
    shifted = women + (means["man with glasses"] - means["man"])
    row1 = vae.decode(np.stack([means["man with glasses"], means["man"], means["woman"], result]))
    save(image_rows([row1, vae.decode(women[:4]), vae.decode(shifted[:4])],
                    labels=["group means", "women", "+ (man+g − man)"],
                    title="man with glasses − man + woman\n(top: the 3 group means, then the result)"),
         args, "arithmetic.png")
else:
    vectors = zoo.load_attributes(ENTRY)
    z = sampler.sample_codes(4, seed=2)
    save(image_rows([vae.decode(z), vae.decode(z + 1.5 * vectors["Eyeglasses"]),
                     vae.decode(z + 1.5 * vectors["Eyeglasses"] - 1.5 * vectors["Male"])],
                    labels=["generated", "+ glasses", "+ glasses − male"],
                    title="Latent arithmetic with the shipped attribute vectors (no CelebA data here)"),
         args, "arithmetic.png")

# %% [markdown]
# ## Does it copy? Each sample beside its nearest training face (squared pixel distance)

# %%
if x_train is not None:
    flat = x_train.reshape(len(x_train), -1).astype("float32") / 255.0
    s = mixture.reshape(len(mixture), -1)
    d = (s ** 2).sum(1)[:, None] - 2 * s @ flat.T + (flat ** 2).sum(1)[None, :]
    nearest = x_train[d.argmin(1)].astype("float32") / 255.0
    print("squared distance to the nearest training face, per sample:", np.round(d.min(1), 1).tolist())
    k = min(8, len(mixture))
    save(image_rows([mixture[:k], nearest[:k]], labels=["sample", "nearest training face"],
                    title=f"Samples and their nearest of {len(x_train)} training faces"), args, "nearest.png")
else:
    print("Skipped the nearest-training-face check: it needs the CelebA training faces")
    save(sample_grid(mixture, title="Samples (the nearest-face check needs CelebA's training faces)"), args,
         "nearest.png")
