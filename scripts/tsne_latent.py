"""t-SNE of latent codes: do the digits form clusters in the autoencoder's code space?

Mirrors the course's "visualise the latent space" figures: a t-SNE (scikit-learn) of the
20-D codes of test digits, coloured by label, next to a t-SNE of the raw pixels.

    python scripts/tsne_latent.py [--quick] [--out DIR] [--pretrained]
"""

# %%
from keras_ae.course import load_data, parser, save, undercomplete_z20
from keras_ae.plotting import tsne_plot

args = parser(__doc__, pretrained="undercomplete.mnist_z20").parse_args()
(x_train, _), (x_test, y_test) = load_data(args)

model = undercomplete_z20(args, x_train)


# %% [markdown]
# ## t-SNE on a subset (t-SNE is quadratic in the number of points)

# %%
n = 300 if args.quick else 2000
codes = model.encode(x_test[:n])
save(tsne_plot(codes, y_test[:n], title=f"t-SNE of {model.latent_dim}-D codes"), args, "tsne_codes.png")
save(tsne_plot(x_test[:n], y_test[:n], title="t-SNE of raw pixels"), args, "tsne_pixels.png")
