"""The `keras-ae` command line: list, info, train, sample, reconstruct, demo."""

import argparse
import json
import os
import sys
import warnings


class CLIError(Exception):
    """An error shown to the user as one line, with a non-zero exit."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(f"{self.prog}: {message}")


def _load_zoo_model(name):
    from keras_ae import zoo

    return zoo.load(name)


def _test_images(model, n, seed=0):
    """`n` test images (from the best MNIST source found), shaped for `model`."""
    from keras_ae.datasets import load_mnist

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


# ---- commands ---------------------------------------------------------------------

def cmd_list(args):
    from keras_ae import zoo

    import os

    if not os.path.isdir(zoo.zoo_dir()):
        raise CLIError(f"the zoo folder {zoo.zoo_dir()!r} does not exist (check ${zoo.ENV_ZOO})")
    names = zoo.list_models(args.pattern)
    if args.markdown:
        print(zoo.markdown_table(args.pattern))
        return
    broken = []
    for name in names:
        try:
            entry = zoo.info(name)
        except zoo.ZooError as e:
            broken.append(name)
            print(f"{name:32s} BROKEN: {e}")
            continue
        metrics = entry.get("metrics", {}).get("test", {})
        shown = ", ".join(f"{k}={v}" for k, v in metrics.items() if k != "n_test")
        print(f"{name:32s} {entry.get('params', 0):>9,d} params  {shown}")
    if not names:
        print(f"no zoo model matches {args.pattern!r}")
    if broken:
        raise CLIError(f"{len(broken)} zoo entr{'y is' if len(broken) == 1 else 'ies are'} broken: "
                       + ", ".join(broken))


def cmd_info(args):
    from keras_ae import zoo

    entry = zoo.info(args.name)
    if not args.config:
        entry.pop("config", None)
    print(json.dumps(entry, indent=2))


def cmd_train(args):
    import keras

    from keras_ae._io import check_history_finite, check_output_path
    from keras_ae.datasets import load_mnist
    from keras_ae.models.registry import VARIANTS, get_model

    out = check_output_path(args.out or f"{args.variant}.keras", (".keras",), what="--out model file")
    if args.variant not in VARIANTS:
        get_model(args.variant)  # raises the "did you mean" error
    image = args.variant.startswith("conv")
    kwargs = {"input_shape": (28, 28, 1) if image else (784,)}
    if args.latent_dim is not None:
        kwargs["latent_dim"] = args.latent_dim
    model = get_model(args.variant, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ((x, _), (xt, _)), source = load_mnist(shape="image" if image else "flat", return_source=True)
    print(f"Training {type(model).__name__} on MNIST ({source}): {len(x)} train, {len(xt)} validation images")
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    from keras_ae.datasets import training_dataset

    # A tf.data pipeline: 1.3-1.8x the throughput of NumPy arrays on CPU (benchmarks/RESULTS.md).
    # A checkpoint after every epoch, next to the output: a rerun of the same command resumes.
    from keras_ae.callbacks import SafeBackupAndRestore

    backup_dir = out + ".checkpoint"
    if os.path.exists(os.path.join(backup_dir, "training_metadata.json")):
        print(f"Resuming from the checkpoint in {backup_dir} (delete it to start afresh)")
    history = model.fit(training_dataset(x, args.batch_size, seed=0), epochs=args.epochs, shuffle=False,
                        validation_data=(xt, xt), verbose=1 if sys.stdout.isatty() else 2,
                        callbacks=[keras.callbacks.TerminateOnNaN(),
                                   SafeBackupAndRestore(backup_dir, delete_checkpoint=False)])
    check_history_finite(history)
    model.save(out)  # atomic
    import shutil

    shutil.rmtree(backup_dir, ignore_errors=True)  # the model is saved: the checkpoint is done with
    err = model.reconstruction_error(xt, metric="sse").mean()
    print(f"Saved {out}; validation squared error per image: {err:.3f}")


def cmd_sample(args):
    from keras_ae.plotting import sample_grid, save_figure

    from keras_ae.plotting import FIGURE_SUFFIXES
    from keras_ae._io import check_output_path

    check_output_path(args.out, FIGURE_SUFFIXES, what="--out figure")
    model = _load_zoo_model(args.name)
    if not hasattr(model, "sample"):
        raise CLIError(f"{args.name} is not a generative model (it has no sample()); try a VAE from "
                       "`keras-ae list '*vae*'`")
    images = model.sample(args.n, temperature=args.temperature, seed=args.seed)
    save_figure(sample_grid(images, ncols=min(8, args.n), title=f"{args.name}: {args.n} samples"), args.out)
    print(f"Wrote {args.out}")


def cmd_reconstruct(args):
    from keras_ae.plotting import reconstruction_grid, save_figure

    from keras_ae.plotting import FIGURE_SUFFIXES
    from keras_ae._io import check_output_path

    check_output_path(args.out, FIGURE_SUFFIXES, what="--out figure")
    model = _load_zoo_model(args.name)
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


# ---- parser -------------------------------------------------------------------------

def build_parser():
    parser = _Parser(prog="keras-ae", description="Autoencoders for Keras 3: zoo, training and figures.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="list zoo models")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style pattern, e.g. '*vae*'")
    p.add_argument("--markdown", action="store_true", help="print the README's zoo table")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="show a zoo model's metadata")
    p.add_argument("name")
    p.add_argument("--config", action="store_true", help="include the model config")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("train", help="train a model variant on MNIST and save a .keras file "
                                     "(checkpointed in OUT.checkpoint/: rerun to resume)")
    p.add_argument("variant", help="e.g. undercomplete, denoising, vae, conv_vae")
    p.add_argument("--epochs", type=_bounded_int(1, 100_000), default=10)
    p.add_argument("--latent-dim", type=_bounded_int(1, 4096), default=None)
    p.add_argument("--batch-size", type=_bounded_int(1, 65_536), default=256)
    p.add_argument("--out", default=None, help="output .keras file (default VARIANT.keras)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="draw samples from a zoo VAE into a PNG grid")
    p.add_argument("name")
    p.add_argument("-n", type=_bounded_int(1, 1024), default=64, help="at most 1024 (one figure)")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--seed", type=_bounded_int(0, 2**31 - 1), default=0)
    p.add_argument("--out", default="samples.png")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("reconstruct", help="reconstruct test images with a zoo model into a PNG")
    p.add_argument("name")
    p.add_argument("-n", type=_bounded_int(1, 1024), default=8, help="at most 1024 (one figure)")
    p.add_argument("--out", default="reconstructions.png")
    p.set_defaults(func=cmd_reconstruct)

    p = sub.add_parser("demo", help="load zoo models, write figures and print measured metrics")
    p.add_argument("--out", default="keras_ae_demo", help="folder for the PNG figures")
    p.add_argument("--quick", action="store_true", help="fewer images, for a smoke test")
    p.set_defaults(func=cmd_demo)
    return parser


def _bounded_int(low, high):
    """An argparse type: an int in [low, high], refused up front with the bounds."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected an integer from {low} to {high}, got {text!r}")
        return value

    return parse


def main(argv=None):
    """Entry point of the `keras-ae` console script; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        args.func(args)
    except CLIError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError, OSError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"keras-ae: error: {msg}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("keras-ae: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
