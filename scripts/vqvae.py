"""A VQ-VAE on MNIST: reconstructions from a grid of code indices, the codebook's use, and samples from its prior.

The encoder maps each digit to a 14 x 14 grid; each position takes the nearest of 32 codebook vectors,
so a digit's code is 196 indices (196 x 5 = 980 bits). A VQ-VAE has no prior to sample from: a gated
PixelCNN (`keras_ae.CodePrior`) is fitted to the training codes and draws new grids, one position at a
time, which the decoder turns into digits. `--pretrained` loads the zoo's vqvae.mnist_14x14_k32, which
ships its prior.

    python scripts/vqvae.py [--quick] [--out DIR] [--pretrained]
"""

# %%
import numpy as np

import keras_ae
from keras_ae.course import epochs, load_data, parser, save, show_reconstructions
from keras_ae.plotting import image_grid, sample_grid
from keras_ae.zoo.vq import codebook_stats, code_bits

args = parser(__doc__, pretrained="vqvae.mnist_14x14_k32 (with its PixelCNN prior)").parse_args()
(x_train, _), (x_test, y_test) = load_data(args, shape="image")


# %% [markdown]
# ## The VQ-VAE: an EMA codebook with restarts of dead codes

# %%
if args.pretrained:
    model = keras_ae.zoo.load("vqvae.mnist_14x14_k32")  # its shipped prior is attached: model.prior
else:
    model = keras_ae.VQVAE(input_shape=(28, 28, 1), filters=(32,), blocks_per_stage=1, num_codes=32,
                           embedding_dim=16, seed=0)
    model.compile(optimizer="adam")
    model.fit(x_train, epochs=epochs(args, 3), batch_size=128, shuffle=True)
print(f"code grid {model.code_shape}, {model.num_codes} codes: {code_bits(model):.0f} bits per image")


# %% [markdown]
# ## Reconstructions and the codebook in use

# %%
show_reconstructions(model, x_test, y_test, args, "VQ-VAE")
codes = model.encode(x_test)
usage, perplexity = codebook_stats(codes, model.num_codes)
print(f"test codes use {usage:.0%} of the {model.num_codes} codebook vectors (perplexity {perplexity:.1f})")
counts = np.bincount(codes.ravel(), minlength=model.num_codes)
import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(1, 2, figsize=(9, 3))
axes[0].bar(np.arange(model.num_codes), counts / counts.sum())
axes[0].set(xlabel="code index", ylabel="share of positions",
            title=f"codebook use: {usage:.0%}, perplexity {perplexity:.1f}")
axes[1].imshow(codes[0], cmap="tab20")
axes[1].set(title="one test digit's code grid", xticks=[], yticks=[])
fig.tight_layout()
save(fig, args, "codebook_usage.png")


# %% [markdown]
# ## A prior over the codes, and samples from it

# %%
if model.prior is None:  # trained here: fit a small gated PixelCNN to the training codes
    sampler = keras_ae.get_sampler("code_prior", filters=32, num_layers=4, first_kernel_size=5,
                                   epochs=epochs(args, 2), batch_size=128)
    sampler.fit(model, x_train)  # sets model.prior
print(f"prior: {model.prior.bits_per_code(codes):.3f} bits per code on the test codes "
      f"(log2 K = {np.log2(model.num_codes):.0f} for a uniform guess)")
n = 8 if args.quick else 32
for t in (1.0, 0.7):
    save(sample_grid(model.sample(n, temperature=t, seed=0), ncols=8,
                     title=f"VQ-VAE: {n} samples from the PixelCNN prior, temperature {t}"), args,
         f"samples_t{str(t).replace('.', '')}.png")
save(image_grid(model.decode(model.prior.sample(8, seed=1)), ncols=8, title="decoded prior grids"),
     args, "prior_grids.png")
