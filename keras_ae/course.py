"""Shared plumbing for the lecture scripts and notebooks: arguments, data, figures.

The lecture scripts in the repository's `scripts/` folder (and the notebooks
made from them, `keras-ae notebooks --out DIR`) import these helpers, so a
notebook runs wherever keras-ae is installed.

In a notebook there is no command line: `parse_args()` reads the arguments
from the `KERAS_AE_ARGS` environment variable (for example `--quick`), or
from the list you pass it, and every saved figure is also shown in the
notebook.
"""

import argparse
import os
import shlex
import sys
import warnings

# Set by the notebook tests and by users who want quick notebooks: arguments for `parse_args()` in a kernel.
ARGS_VARIABLE = "KERAS_AE_ARGS"


def in_notebook():
    """Whether this code runs in a Jupyter (IPython) kernel rather than as a script."""
    shell = sys.modules.get("IPython")
    shell = shell.get_ipython() if shell is not None and hasattr(shell, "get_ipython") else None
    return (shell is not None and type(shell).__name__ == "ZMQInteractiveShell") or "google.colab" in sys.modules


class CourseArgumentParser(argparse.ArgumentParser):
    """`argparse` that, in a notebook, reads `$KERAS_AE_ARGS` instead of the kernel's own command line."""

    def parse_args(self, args=None, namespace=None):
        if args is None and in_notebook():
            args = shlex.split(os.environ.get(ARGS_VARIABLE, ""))
        return super().parse_args(args, namespace)


def parser(doc, pretrained=None):
    """An argument parser with --quick, --out and (if a zoo entry exists) --pretrained.

    Figures go to `figures/<script name>` by default (`figures/` in a notebook).
    """
    caller = sys._getframe(1).f_globals.get("__file__")
    name = None if in_notebook() or not caller else os.path.splitext(os.path.basename(caller))[0]
    doc = doc if isinstance(doc, str) and not in_notebook() else "A keras-ae lecture notebook."
    p = CourseArgumentParser(description=doc.strip().splitlines()[0],
                             formatter_class=argparse.RawDescriptionHelpFormatter, epilog=doc)
    p.add_argument("--quick", action="store_true", help="a few steps on a small slice (seconds)")
    p.add_argument("--out", default=os.path.join("figures", name) if name else "figures",
                   help="folder for the PNG figures")
    p.add_argument("--epochs", type=int, default=None, help="override the course's number of epochs")
    if pretrained:
        p.add_argument("--pretrained", action="store_true",
                       help=f"load the zoo's {pretrained} instead of training")
    return p


def load_data(args, shape="flat", n_train=1000, n_test=200):
    """MNIST (the best source found), cut to a small slice with --quick."""
    from keras_ae.data import load_mnist

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ((x, y), (xt, yt)), source = load_mnist(shape=shape, return_source=True)
    if args.quick:
        x, y, xt, yt = x[:n_train], y[:n_train], xt[:n_test], yt[:n_test]
    print(f"MNIST from {source}: {len(x)} training and {len(xt)} test images")
    return (x, y), (xt, yt)


def epochs(args, course_default):
    """The course's epochs, 1 with --quick, or --epochs."""
    if args.epochs:
        return args.epochs
    return 1 if args.quick else course_default


def save(fig, args, filename):
    """Save a figure into --out and say where."""
    from keras_ae.plotting import save_figure

    if args.quick:  # say so on the figure: a few steps on a small slice look broken, and are not the course's
        fig.text(0.5, 0.995, "SMOKE TEST (--quick): a few training steps on a small slice; not representative",
                 ha="center", va="top", fontsize=7, color="firebrick")
    path = save_figure(fig, os.path.join(args.out, filename))
    print(f"wrote {path}")
    if in_notebook():  # shown under the cell too (a plain Figure has no IPython formatter of its own)
        import io

        from IPython.display import Image, display

        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=100)
        display(Image(data=png.getvalue(), format="png"))
    return path


def one_per_digit(labels, n=8):
    """Indices of the first test image of digits 0..n-1."""
    import numpy as np

    return np.array([np.flatnonzero(labels == d)[0] for d in range(n)])


def pretrained_or_trained(args, zoo_name, build, x_train, n_epochs, batch_size=256, **fit_kwargs):
    """With --pretrained, the zoo model `zoo_name`; otherwise `build()` trained on `x_train` with Adam."""
    import keras_ae

    if getattr(args, "pretrained", False):
        print(f"loading {zoo_name} from the zoo")
        return keras_ae.zoo.load(zoo_name)
    model = build()
    model.compile(optimizer="adam")
    model.fit(x_train, x_train, epochs=epochs(args, n_epochs), batch_size=batch_size, shuffle=True, **fit_kwargs)
    return model


def show_reconstructions(model, x_test, y_test, args, name):
    """Print the test squared error per image and save one reconstructed digit of each class."""
    from keras_ae.plotting import reconstruction_grid

    idx = one_per_digit(y_test)
    err = model.reconstruction_error(x_test, metric="sse").mean()
    print(f"{name}: code shape {model.code_shape}, test squared error per image {err:.3f}")
    save(reconstruction_grid(x_test[idx], model.reconstruct(x_test[idx]),
                             title=f"{name}: squared error {err:.2f} per image"), args, "reconstructions.png")
    return err


def undercomplete_z20(args, x_train):
    """The course's 784-512-256-128-20 autoencoder: the zoo's with --pretrained, else trained for 10 epochs."""
    import keras_ae

    return pretrained_or_trained(args, "undercomplete.mnist_z20",
                                 lambda: keras_ae.UndercompleteAutoencoder(latent_dim=20, reconstruction_loss="bce"),
                                 x_train, n_epochs=10)
