"""An interactive latent explorer: sliders over z, and a "dream" mode that wanders by itself.

Mirrors the course's "Digit Fantasies by a Deep Generative Model" demo: one slider per
latent dimension decodes z live; "dream" lets the model fantasize by drifting through z;
"randomize" and "reset" jump to a random or the zero code. Needs a display; without one
(or with --quick) it saves a PNG of the explorer instead and exits. As a notebook it shows
the same explorer with ipywidgets under its last cell.

    python scripts/latent_explorer.py [--quick] [--out DIR] [--pretrained]
"""

# %%
import os
import sys

import numpy as np

import keras_ae
from keras_ae.course import epochs, in_notebook, load_data, parser, save

args = parser(__doc__, pretrained="vae.mnist_z2").parse_args()
interactive = not args.quick and not in_notebook() and (os.environ.get("DISPLAY") or sys.platform in ("darwin", "win32"))
if interactive:
    os.environ["MPLBACKEND"] = "TkAgg"
import matplotlib  # noqa: E402

if not interactive:
    matplotlib.use("Agg")
    print("no display (or --quick, or a notebook): saving a snapshot of the explorer instead of opening a window")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.widgets import Button, CheckButtons, Slider  # noqa: E402

if args.pretrained:
    vae = keras_ae.zoo.load("vae.mnist_z2")
else:
    (x_train, _), _ = load_data(args)
    vae = keras_ae.VAE(hidden_units=(256,), latent_dim=4, seed=0)
    vae.compile(optimizer="adam")
    vae.fit(x_train, epochs=epochs(args, 10), batch_size=128)


# %% [markdown]
# ## The window: the decoded digit on the left, one slider per latent dimension

# %%
d = vae.latent_dim
fig = plt.figure(figsize=(8, 4.5))
ax_img = fig.add_axes([0.03, 0.1, 0.45, 0.8])
ax_img.set_axis_off()
image = ax_img.imshow(vae.decode(np.zeros((1, d), "float32"))[0].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
sliders = []
for i in range(d):
    ax = fig.add_axes([0.6, 0.85 - i * 0.6 / max(d, 1), 0.3, 0.04])
    sliders.append(Slider(ax, f"z[{i}]", -3.0, 3.0, valinit=0.0))
dream = CheckButtons(fig.add_axes([0.55, 0.08, 0.12, 0.1]), ["dream"], [False])
randomize = Button(fig.add_axes([0.69, 0.08, 0.12, 0.08]), "randomize")
reset = Button(fig.add_axes([0.83, 0.08, 0.12, 0.08]), "reset")
rng = np.random.default_rng(0)


def redraw(_=None):
    z = np.array([[s.val for s in sliders]], "float32")
    image.set_data(vae.decode(z)[0].reshape(28, 28))
    fig.canvas.draw_idle()


def set_z(z):
    for s, v in zip(sliders, z):
        s.set_val(float(np.clip(v, -3, 3)))


for s in sliders:
    s.on_changed(redraw)
randomize.on_clicked(lambda _: set_z(rng.standard_normal(d)))
reset.on_clicked(lambda _: set_z(np.zeros(d)))


# %% [markdown]
# ## Dream mode: a slow random walk through z

# %%
velocity = np.zeros(d)


def step():
    global velocity
    if dream.get_status()[0]:
        velocity = 0.9 * velocity + 0.1 * rng.standard_normal(d)
        set_z(np.array([s.val for s in sliders]) + 0.15 * velocity)


if interactive:
    timer = fig.canvas.new_timer(interval=80)
    timer.add_callback(step)
    timer.start()
    plt.show()
else:
    set_z(rng.standard_normal(d))
    save(fig, args, "latent_explorer.png")


# %% [markdown]
# ## In Jupyter or Colab: the same explorer with ipywidgets
# Sliders, "dream", "randomize" and "reset" under the notebook cell (`pip install ipywidgets`).

# %%
if in_notebook():
    from IPython.display import display

    from keras_ae.widgets import latent_explorer

    display(latent_explorer(vae))
