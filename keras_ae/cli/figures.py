"""`keras-ae sample`, `reconstruct`, `demo` and `notebooks`: figures and notebooks from the zoo."""

from keras_ae.cli.common import CLIError, load_zoo_model


def _test_images(model, n, seed=0):
    """`n` test images (from the best MNIST source found), shaped for `model`."""
    import warnings

    from keras_ae.data import load_mnist

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (_, _), (x, y) = load_mnist()
    idx = _spread(y, n, seed)
    return x[idx].reshape((-1,) + tuple(model.sample_shape)), y[idx]


def _spread(labels, n, seed=0):
    """Indices of `n` examples cycling through the classes, so a grid shows every digit."""
    import numpy as np

    if n > len(labels):
        raise CLIError(f"-n {n} asks for more images than the {len(labels)} test images available")
    rng = np.random.default_rng(seed)
    pools = {c: list(rng.permutation(np.flatnonzero(labels == c))) for c in np.unique(labels)}
    out = []
    while len(out) < n:
        for c in pools:
            if len(out) < n and pools[c]:
                out.append(pools[c].pop())
    return np.array(out)


def _checked_figure_path(path):
    from keras_ae._io import check_output_path
    from keras_ae.plotting import FIGURE_SUFFIXES

    return check_output_path(path, FIGURE_SUFFIXES, what="--out figure")


def cmd_sample(args):
    from keras_ae.plotting import sample_grid, save_figure

    _checked_figure_path(args.out)
    model = load_zoo_model(args.name)
    if not hasattr(model, "sample"):
        raise CLIError(f"{args.name} is not a generative model (it has no sample()); try a VAE from "
                       "`keras-ae list '*vae*'`")
    images = model.sample(args.n, temperature=args.temperature, seed=args.seed)
    save_figure(sample_grid(images, ncols=min(8, args.n), title=f"{args.name}: {args.n} samples"), args.out)
    print(f"Wrote {args.out}")


def cmd_reconstruct(args):
    from keras_ae.plotting import reconstruction_grid, save_figure

    _checked_figure_path(args.out)
    model = load_zoo_model(args.name)
    x, _ = _test_images(model, args.n)
    noisy = model.corrupt(x) if hasattr(model, "corrupt") else None
    recon = model.reconstruct(noisy if noisy is not None else x)
    err = ((recon.reshape(len(x), -1) - x.reshape(len(x), -1)) ** 2).sum(1).mean()
    fig = reconstruction_grid(x, recon, noisy=noisy, n=args.n,
                              title=f"{args.name}: squared error per image {err:.2f}")
    save_figure(fig, args.out)
    print(f"Wrote {args.out} (squared error per image {err:.3f})")


def cmd_demo(args):
    from keras_ae import demo

    demo.run(out_dir=args.out, quick=args.quick)


def cmd_notebooks(args):
    from keras_ae import notebooks

    if args.list:
        print("\n".join(notebooks.list_scripts()))
        return
    for path in notebooks.write_notebooks(args.out, args.names or None):
        print(f"wrote {path}")
    print("Open them in Jupyter or Colab. For a quick smoke test, start Jupyter with KERAS_AE_ARGS=--quick.")
