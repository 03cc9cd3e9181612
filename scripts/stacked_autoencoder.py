"""The stacked autoencoder, with greedy layer-wise pretraining, against random initialisation.

Mirrors the course's "Stacked autoencoders" code (784-256-128-64 and back): each layer is
first trained as a shallow autoencoder on the codes of the layer below, then the whole
stack is fine-tuned. The figure compares fine-tuning curves from pretrained and from
random weights.

    python scripts/stacked_autoencoder.py [--quick] [--out DIR] [--pretrained]
"""

# %%
import keras_ae  # before Keras: it holds back TensorFlow's C++ start-up lines
import keras

from keras_ae.course import epochs, load_data, parser, save, show_reconstructions
from matplotlib.figure import Figure

args = parser(__doc__, pretrained="stacked.mnist_z30 (784-1000-500-250-30)").parse_args()
(x_train, _), (x_test, y_test) = load_data(args)
n_epochs = epochs(args, 10)


# %% [markdown]
# ## Layer-wise pretraining against random initialisation

# %%
if args.pretrained:
    model = keras_ae.zoo.load("stacked.mnist_z30")
else:
    ## Two identical stacks: one pretrained layer by layer, one from random weights
    curves = {}
    for name in ("pretrained", "random init"):
        keras.utils.set_random_seed(0)
        stack = keras_ae.StackedAutoencoder(hidden_units=(256, 128), latent_dim=64, reconstruction_loss="bce")
        if name == "pretrained":
            stack.pretrain(x_train, epochs=1 if args.quick else 3, batch_size=256, seed=0)
            model = stack
        stack.compile(optimizer="adam")
        before = stack.evaluate(x_test, x_test, verbose=0, return_dict=True)["reconstruction_loss"]
        h = stack.fit(x_train, x_train, epochs=n_epochs, batch_size=256, validation_data=(x_test, x_test))
        curves[name] = [before] + h.history["val_reconstruction_loss"]
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for name, c in curves.items():
        ax.plot(range(len(c)), c, "o-", label=name)
    ax.set_xlabel("fine-tuning epoch (0 = before fine-tuning)")
    ax.set_ylabel("test reconstruction loss (BCE)")
    ax.set_title("Layer-wise pretraining vs random initialisation")
    ax.legend()
    fig.tight_layout()
    save(fig, args, "pretraining_vs_random.png")


# %% [markdown]
# ## Reconstructions

# %%
show_reconstructions(model, x_test, y_test, args, "Stacked autoencoder")
