"""The VAE with a 2-D latent space: the latent scatter by digit and the decoded manifold.

Mirrors the course's VAE section: the encoder outputs z_mean and z_log_var, z is sampled
with the reparameterization trick, and the loss is reconstruction plus KL. With two latent
dimensions the whole latent space fits in one picture.

    python scripts/vae_2d.py [--quick] [--out DIR] [--pretrained]
"""

# %%
import keras_ae
from keras_ae.course import epochs, load_data, parser, save
from keras_ae.plotting import latent_scatter, manifold_grid, sample_grid, training_curves

args = parser(__doc__, pretrained="vae.mnist_z2").parse_args()
(x_train, _), (x_test, y_test) = load_data(args)


# %% [markdown]
# ## The model: a VAE with a 2-D latent space

# %%
if args.pretrained:
    vae = keras_ae.zoo.load("vae.mnist_z2")
else:
    vae = keras_ae.VAE(hidden_units=(512,), latent_dim=2, seed=0)
    vae.compile(optimizer="adam")
    history = vae.fit(x_train, epochs=epochs(args, 30), batch_size=128, validation_data=(x_test,))
    save(training_curves(history, title="VAE: loss = reconstruction + KL"), args, "training_curves.png")


# %% [markdown]
# ## The latent space: scatter, decoded grid and samples

# %%
elbo = vae.elbo(x_test).mean()
print(f"test ELBO {elbo:.2f} nats per image")
save(latent_scatter(vae.encode(x_test), y_test, title="VAE latent means by digit"), args, "latent_scatter.png")
save(manifold_grid(vae, n=10 if args.quick else 20, title="Decoded 2-D latent grid"), args, "manifold.png")
save(sample_grid(vae.sample(32, seed=0), title="Samples z ~ N(0, I)"), args, "samples.png")
