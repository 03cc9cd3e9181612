"""Attribute vectors on faces: the course's "smile vector", and glasses, blond hair and male.

Mirrors lecture notes 001, "Latent arithmetic" (pages 39-40): compute an attribute direction
as the average latent code of smiling faces minus that of non-smiling faces,
z_new = z + alpha * v_smile, and decode z_new to get a "more smiley" face.

The face VAE of the zoo (`resnet_vae.celeba64_z128`, trained on CelebA-HQ at 64x64) ships its
attribute vectors, computed once on its 27,000 training faces (`keras_ae.zoo.load_attributes`),
so this needs no data set. With CelebA on the machine (`$KERAS_AE_CELEBA`, see
`keras_ae.data.load_celeba`) it edits real test faces (images 27001-30000); without it, faces the
VAE generates. `python -m benchmarks --faces` measures the smile vector with a smile classifier.

**CelebA is for non-commercial research and education only**, and so are this model and its figures.

    python scripts/face_attributes.py [--quick] [--out DIR]
"""

# %%
import warnings

import numpy as np

from keras_ae import latent, zoo
from keras_ae.course import parser, save
from keras_ae.plotting import image_rows

ENTRY = "resnet_vae.celeba64_z128"
args = parser(__doc__).parse_args()
vae = zoo.load(ENTRY)
vectors = zoo.load_attributes(ENTRY)
print(zoo.info(ENTRY)["licence"])
print("attribute vectors shipped with the entry:", ", ".join(f"{k} (|v| = {np.linalg.norm(v):.2f})"
                                                             for k, v in vectors.items()))

# %% [markdown]
# ## Faces to edit: CelebA's test faces if they are on this machine, else faces the VAE generates

# %%
n = 3 if args.quick else 4
try:
    from keras_ae.data import load_celeba

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (x_test, a_test), source = load_celeba(split="test", attributes=["Smiling"], return_source=True)
    # Non-smiling faces, the first n of the test split (images 27001-30000)
    faces = x_test[np.flatnonzero(~a_test["Smiling"])[:n]]
    what = "CelebA test faces (not smiling)"
    print(f"CelebA from {source}")
except (OSError, ValueError) as e:
    print(f"No CelebA data here ({str(e).splitlines()[0]}); editing faces the VAE generates instead")
    faces = np.asarray(vae.sample(n, sampler=zoo.load_sampler(ENTRY, model=vae), seed=1))
    what = "generated faces"

# %% [markdown]
# ## The smile vector at several strengths: z + alpha * (mean smiling code - mean non-smiling code)

# %%
alphas = (-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0)
out = latent.apply_attribute(vae, faces, vectors["Smiling"], alphas=alphas)
rows = [faces] + [out[:, j] for j in range(len(alphas))]
labels = ["input"] + [f"α = {a:+.1f}" for a in alphas]
fig = image_rows([np.stack(r) for r in zip(*rows)], labels=[f"face {i + 1}" for i in range(n)],
                 title=f"Smile vector on {what}: input, then z + α·v for α = " + ", ".join(f"{a:+g}" for a in alphas))
save(fig, args, "smile_vector.png")

# %% [markdown]
# ## The other shipped vectors: eyeglasses, blond hair, male (alpha = 0, 1, 1.5)

# %%
others = [name for name in ("Eyeglasses", "Blond_Hair", "Male") if name in vectors]
rows, labels = [faces], ["input"]
for name in others:
    edited = latent.apply_attribute(vae, faces, vectors[name], alphas=(1.5,))
    rows.append(edited[:, 0])
    labels.append(f"+ {name}")
save(image_rows(rows, labels=labels, title=f"Attribute vectors on {what} (α = 1.5)"), args, "attribute_vectors.png")
