"""An interactive latent explorer: sliders over z, and a "dream" mode that wanders by itself.

Mirrors the course's "Digit Fantasies by a Deep Generative Model" demo: one slider per
latent dimension decodes z live; "dream" lets the model fantasize by drifting through z;
"randomize" and "reset" jump to a random or the mean code. In Jupyter or Colab it is an
ipywidgets explorer under the last cell (`pip install ipywidgets`); run as a script with a
display it opens a matplotlib window; without one (or with --quick) it also saves a PNG
of the explorer.

    python scripts/latent_explorer.py [--quick] [--out DIR] [--pretrained]
"""

# %%
import os
import sys

import keras_ae
from keras_ae.course import epochs, in_notebook, load_data, parser, save

args = parser(__doc__, pretrained="vae.mnist_z2").parse_args()
window = not args.quick and not in_notebook() and (os.environ.get("DISPLAY") or sys.platform in ("darwin", "win32"))
if window:
    os.environ["MPLBACKEND"] = "TkAgg"
import matplotlib  # noqa: E402

if not window and not in_notebook():
    matplotlib.use("Agg")
    print("no display (or --quick): saving a snapshot of the explorer instead of opening a window")

if args.pretrained:
    vae = keras_ae.zoo.load("vae.mnist_z2")
else:
    (x_train, _), _ = load_data(args)
    vae = keras_ae.VAE(hidden_units=(256,), latent_dim=4, seed=0)
    vae.compile(optimizer="adam")
    vae.fit(x_train, epochs=epochs(args, 10), batch_size=128)


# %% [markdown]
# ## The explorer: the decoded digit, one slider per latent dimension
# "randomize" draws z from the VAE's prior N(0, I). A plain autoencoder's codes are not distributed so:
# give it the training images, `latent_explorer(autoencoder, data=x_train)`, and it draws from a
# Gaussian fitted to their codes (its sliders span their range too).

# %%
from keras_ae.widgets import latent_explorer  # noqa: E402

explorer = latent_explorer(vae, seed=0)  # at z = 0, the prior's mean
snapshot = save(explorer.figure(), args, "latent_explorer.png")  # a snapshot, as a figure

# %% [markdown]
# ## Move the sliders, or press "dream" for a slow random walk through z
# In Jupyter the ipywidgets explorer shows under this cell; as a script, a matplotlib window opens.

# %%
if in_notebook():
    from IPython.display import display

    display(explorer)
elif window:
    import matplotlib.pyplot as plt

    explorer.window()
    plt.show()
