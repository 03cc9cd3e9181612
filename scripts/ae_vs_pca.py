"""The autoencoder against PCA for compression: reconstruction error against code size.

Mirrors the course's comparison of autoencoders with PCA: PCA is the best *linear*
code of each size; a non-linear autoencoder should reconstruct better at the same size.

    python scripts/ae_vs_pca.py [--quick] [--out DIR] [--pretrained]
"""

# %%
from matplotlib.figure import Figure

import keras_ae
from keras_ae.course import epochs, load_data, one_per_digit, parser, save
from keras_ae import evaluation, latent
from keras_ae.plotting import image_rows

args = parser(__doc__, pretrained="undercomplete.mnist_z2 and undercomplete.mnist_z20").parse_args()
(x_train, _), (x_test, y_test) = load_data(args)

if args.pretrained:
    rows = []
    for name in ("undercomplete.mnist_z2", "undercomplete.mnist_z20"):
        model = keras_ae.zoo.load(name)
        rows.append({"code_size": model.latent_dim, "model": model,
                     "autoencoder": evaluation.squared_error_per_image(model, x_test),
                     "pca": evaluation.pca_squared_error(x_train, x_test, model.latent_dim)})
else:
    sizes = (2, 8, 32) if args.quick else (2, 4, 8, 16, 32, 64)
    rows = latent.compression_curve(
        lambda k: keras_ae.UndercompleteAutoencoder(hidden_units=(256, 128), latent_dim=k, reconstruction_loss="bce"),
        x_train, x_test, code_sizes=sizes, epochs=epochs(args, 10), verbose=2, keep_models=True)
for r in rows:
    print(f"code size {r['code_size']:3d}: autoencoder {r['autoencoder']:7.2f}, PCA {r['pca']:7.2f} "
          f"squared error per image ({r['pca'] / r['autoencoder']:.2f}x)")

fig = Figure(figsize=(6, 4))
ax = fig.subplots()
ax.plot([r["code_size"] for r in rows], [r["autoencoder"] for r in rows], "o-", label="autoencoder")
ax.plot([r["code_size"] for r in rows], [r["pca"] for r in rows], "s--", label="PCA")
ax.set_xscale("log", base=2)
ax.set_xlabel("code size")
ax.set_ylabel("squared error per test image")
ax.set_title("Compression: autoencoder vs PCA")
ax.legend()
fig.tight_layout()
save(fig, args, "ae_vs_pca.png")


# %% [markdown]
# ## Side by side at the largest code size

# %%
from sklearn.decomposition import PCA  # noqa: E402

k = rows[-1]["code_size"]
idx = one_per_digit(y_test)
pca = PCA(k).fit(x_train)
pca_recon = pca.inverse_transform(pca.transform(x_test[idx]))
ae_recon = rows[-1]["model"].reconstruct(x_test[idx])
save(image_rows([x_test[idx], ae_recon, pca_recon], labels=["original", f"AE-{k}", f"PCA-{k}"],
                title=f"Code size {k}"), args, "ae_vs_pca_images.png")
