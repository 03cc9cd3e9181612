"""The `keras-ae` command line: its parser, and the start of every command.

It parses the command line before anything heavy is imported, so `keras-ae --help`, `--version`
and usage errors answer at once, and it imports no Keras: the backend is chosen first
(`keras_ae.cli.backend`), then the command's module (`keras_ae.cli.commands`) is imported, which
loads Keras with the backend's start-up lines held back unless `--verbose` is given.
"""

import argparse
import math
import os
import re
import sys

PROG = "keras-ae"
BACKENDS = ("tensorflow", "jax", "torch")


class UsageError(Exception):
    """A command line that cannot be parsed: shown with the usage line, exit code 2."""

    def __init__(self, usage, message):
        super().__init__(message)
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(" ".join(self.format_usage().split()), message)  # the usage on one line


def version():
    """keras-ae's version, read from the package's source without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("keras_ae")
    if spec is not None and spec.origin:
        with open(spec.origin, encoding="utf-8") as f:
            found = re.search(r'^__version__ = "([^"]+)"', f.read(), re.M)
        if found:
            return found.group(1)
    from importlib.metadata import version as installed

    return installed("keras-ae")


def _checked(convert, noun, ok, expected):
    """An argparse type: `convert(text)`, refused up front unless `ok(value)`, saying what was expected."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


def bounded_int(low, high):
    """An argparse type: an int in [low, high]."""
    return _checked(int, "an integer", lambda v: low <= v <= high, f"an integer from {low} to {high}")


fraction = _checked(float, "a number", lambda v: 0.0 <= v < 0.5, "a number from 0 to below 0.5")
finite_float = _checked(float, "a number", math.isfinite, "a finite number")


def class_ids(text):
    """`--labels 3` or `--labels 0,1,2`: a list of class ids (non-negative integers)."""
    parts = [t.strip() for t in str(text).split(",")]
    if not parts or not all(t.isdigit() for t in parts):
        raise argparse.ArgumentTypeError(f"expected class ids such as 3 or 0,1,2; got {text!r}")
    return [int(t) for t in parts]


def build_parser():
    parser = _Parser(prog=PROG, description="Autoencoders for Keras 3: zoo, training, scoring and figures.")
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}")

    def talk_options(p, default):
        talk = p.add_mutually_exclusive_group()
        talk.add_argument("-q", "--quiet", action="store_true", default=default, help="print errors only")
        talk.add_argument("-v", "--verbose", action="store_true", default=default,
                          help="also show the backend's own start-up and warning lines")

    talk_options(parser, False)
    # The same options after the command (`keras-ae train -q`); SUPPRESS keeps the ones given before it.
    common = _Parser(add_help=False)
    talk_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    add_parser = sub.add_parser
    sub.add_parser = lambda *a, **k: add_parser(*a, parents=[common], **k)

    p = sub.add_parser("list", help="list zoo models")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style pattern, e.g. '*vae*'")
    p.add_argument("--markdown", action="store_true", help="print the README's zoo table")

    p = sub.add_parser("info", help="show a zoo model's metadata")
    p.add_argument("name")
    p.add_argument("--config", action="store_true", help="include the model config")

    image_size_option = dict(type=bounded_int(1, 16_384), nargs=2, metavar=("HEIGHT", "WIDTH"), default=None)
    header_option = dict(choices=("auto", "yes", "no"), default="auto",
                         help="whether a --data CSV file's first row is a header; auto: yes if a cell is text, "
                              "or if its numbers count up by one (2019,2020,2021) and no other row's do")
    p = sub.add_parser(
        "train", help="train a model on a data set (MNIST by default) or your own data; save a .keras file "
                      "with a fitted detector",
        description="Train a model and save it, with an anomaly detector fitted on the training data, "
                    "in one .keras file. A checkpoint is kept in OUT.checkpoint/ after every epoch: "
                    "rerun the same command to resume. The checkpoint records the data's sha256 and the "
                    "settings; a rerun with others is refused (--restart starts afresh).")
    p.add_argument("variant", nargs="?", default=None,
                   help="e.g. undercomplete, denoising, vae, conv_vae; default: undercomplete, or the "
                        "tabular recipe (keras_ae.anomaly.TabularDetector) for tables. cvae (conditional) "
                        "trains on images with their class labels: a data set with classes (its 10), or a .npz "
                        "with integer labels beside the images (y beside x, y_train beside x_train, labels "
                        "beside data; max label + 1 classes); it saves the model alone, for keras-ae sample "
                        "--labels")
    p.add_argument("--data", default=None,
                   help="a data set by name: mnist (the default), fashion_mnist, cifar10 or celeba "
                        "(keras_ae.data.DATASETS, found as keras_ae.data.load_dataset finds it; "
                        "$KERAS_AE_DOWNLOAD=1 allows a download); or your data: .npy, .npz, .csv (a table "
                        "of numbers) or a folder of images. An existing file or folder wins over a name")
    p.add_argument("--header", **header_option)
    p.add_argument("--image-size", **image_size_option,
                   help="resize a --data folder's images to HEIGHT x WIDTH (default: the first image's size)")
    p.add_argument("--epochs", type=bounded_int(1, 100_000), default=None,
                   help="default 10 (20 at most for tables, with early stopping)")
    p.add_argument("--latent-dim", type=bounded_int(1, 4096), default=None)
    p.add_argument("--batch-size", type=bounded_int(1, 65_536), default=None, help="default 256 (32 for tables)")
    p.add_argument("--validation-split", type=fraction, default=None,
                   help="the last part of --data held out for validation (default 0.1; 0 for none); "
                        "a named data set (MNIST too) uses its test split; for a table, the random part held "
                        "out for early stopping (default 0.2; 0: none, early stopping on the training loss)")
    p.add_argument("--seed", type=bounded_int(0, 2**31 - 1), default=0)
    p.add_argument("--backend", choices=("auto",) + BACKENDS, default="auto",
                   help="Keras backend: auto uses $KERAS_BACKEND if set, else the fastest one installed "
                        "for the model (JAX for dense models, PyTorch for contractive, TensorFlow for "
                        "convolutional ones)")
    p.add_argument("--out", default=None, help="output .keras file (default VARIANT.keras)")
    p.add_argument("--restart", action="store_true",
                   help="start afresh: remove the checkpoint in OUT.checkpoint/ (only its own files) instead of "
                        "resuming from it")

    p = sub.add_parser("score", help="score data with a model saved by `keras-ae train`; write a CSV",
                       description="Write one row per sample: index (the row, from 0), file (for a folder of "
                                   "images: the image's path in the folder), anomaly score (higher = more "
                                   "abnormal) and label (1 = anomaly).")
    p.add_argument("model", help="a .keras file written by `keras-ae train` or AnomalyDetector.save")
    p.add_argument("--data", required=True, help=".npy, .npz, .csv or a folder of images")
    p.add_argument("--header", **header_option)
    p.add_argument("--image-size", **image_size_option,
                   help="resize a --data folder's images to HEIGHT x WIDTH (default: the model's input size)")
    p.add_argument("--threshold", type=finite_float, default=None,
                   help="label scores above this as anomalies (default: the threshold fitted in training)")
    p.add_argument("--out", default="scores.csv", help="output CSV (default scores.csv)")
    p.add_argument("--map", default=None, metavar="OUT.png",
                   help="also write the anomaly maps of the first --map-count images (each image over its "
                        "per-pixel error, smoothed) as a figure: .png, .pdf, .svg or .jpg")
    p.add_argument("--map-count", type=bounded_int(1, 256), default=16,
                   help="images in the --map figure (default 16)")

    p = sub.add_parser("export", help="export a model's encoder, decoder or scorer, or a whole detector (ONNX, "
                                      "SavedModel, LiteRT, OpenVINO...)",
                       description="Export a deterministic part of a model: encoder (x -> code; a VAE's "
                                   "posterior mean), decoder (code -> x) or scorer (x -> mean squared "
                                   "reconstruction error per sample); or, from a detector file, the whole "
                                   "detector (x -> its score and its threshold, two outputs). The formats a "
                                   "backend exports (choose it with $KERAS_BACKEND): ONNX and OpenVINO from "
                                   "all three, tf_saved_model from TensorFlow and JAX, litert from TensorFlow, "
                                   "torch (.pt2) from PyTorch.")
    p.add_argument("model", help="a zoo name (keras-ae list) or a .keras file (a detector file for --part detector)")
    p.add_argument("--part", choices=("encoder", "decoder", "scorer", "detector"), default="scorer")
    p.add_argument("--format", choices=("onnx", "tf_saved_model", "litert", "openvino", "torch"), default="onnx")
    p.add_argument("--out", required=True,
                   help="a .onnx/.tflite/.xml (with a .bin beside it)/.pt2 file, or a folder for tf_saved_model")
    p.add_argument("--force", action="store_true",
                   help="tf_saved_model: replace an existing folder that is not a SavedModel keras-ae wrote "
                        "(never the current folder, home, or one that holds either)")

    p = sub.add_parser("sample", help="draw samples from a VAE (a zoo name or a .keras file) into a PNG grid")
    p.add_argument("model", help="a zoo name (keras-ae list '*vae*') or a .keras file")
    p.add_argument("-n", type=bounded_int(1, 1024), default=64, help="at most 1024 (one figure)")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--seed", type=bounded_int(0, 2**31 - 1), default=0)
    p.add_argument("--sampler", choices=("auto", "entry", "prior"), default="auto",
                   help="draw codes from the density the entry ships, fitted to its training codes (entry), "
                        "or from the prior N(0, I) (prior); auto: the entry's where it ships one (a .keras "
                        "file: the prior)")
    p.add_argument("--labels", type=class_ids, default=None, metavar="K[,K...]",
                   help="a conditional model (cvae.*): the classes to draw, e.g. 3 or 0,1,2 (one row per "
                        "class); default: every class")
    p.add_argument("--out", default="samples.png")

    p = sub.add_parser("reconstruct", help="reconstruct images with a model (a zoo name or a .keras file) into a PNG")
    p.add_argument("model", help="a zoo name (keras-ae list) or a .keras file")
    p.add_argument("--data", default=None,
                   help="the images: a folder of images, .npy or .npz, or a data set name (mnist, ...: its test "
                        "split); default: a zoo entry's own data set (a .keras file needs --data)")
    p.add_argument("--image-size", **image_size_option,
                   help="resize a --data folder's images to HEIGHT x WIDTH (default: the model's input size)")
    p.add_argument("-n", type=bounded_int(1, 1024), default=8, help="at most 1024 (one figure)")
    p.add_argument("--out", default="reconstructions.png")

    p = sub.add_parser("notebooks", help="write the lecture scripts as Jupyter notebooks (.ipynb)")
    p.add_argument("names", nargs="*", metavar="NAME", help="lecture scripts (default: all; see --list)")
    p.add_argument("--out", default="keras_ae_notebooks", help="folder for the notebooks")
    p.add_argument("--list", action="store_true", help="list the lecture scripts and exit")

    p = sub.add_parser("demo", help="load zoo models, write figures and print measured metrics")
    p.add_argument("--out", default="keras_ae_demo", help="folder for the PNG figures")
    p.add_argument("--quick", action="store_true", help="fewer images, for a smoke test")
    return parser


def choose_backend(args):
    """Set KERAS_BACKEND for `train --backend` before Keras is imported; return the choice."""
    if getattr(args, "command", None) != "train" or "keras" in sys.modules:
        return None
    import importlib.util

    if args.backend != "auto":
        if importlib.util.find_spec(args.backend) is None:
            extra = {"tensorflow": "", "jax": "[jax]", "torch": "[torch]"}[args.backend]
            raise UsageError(f"usage: {PROG} train --backend {{auto,{','.join(BACKENDS)}}}",
                             f"--backend {args.backend}: {args.backend} is not installed "
                             f"(pip install keras-ae{extra})")
        os.environ["KERAS_BACKEND"] = args.backend
        return args.backend
    if os.environ.get("KERAS_BACKEND"):
        return None
    from keras_ae.cli.backend import choose

    chosen = choose(args.variant, args.data)
    if chosen:
        os.environ["KERAS_BACKEND"] = chosen
    return chosen


def import_commands(verbose=False):
    """Import `keras_ae.cli.commands` (and so Keras) and start the backend's devices.

    `keras_ae` holds back the backend's start-up lines meanwhile (keras_ae/_quiet.py); `--verbose`
    shows them.
    """
    if verbose:
        os.environ["KERAS_AE_BACKEND_LOGS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from keras_ae.cli import commands

    commands.start_backend()
    return commands


def main(argv=None):
    """Entry point of the `keras-ae` console script; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except UsageError as e:
        print(e.usage, file=sys.stderr)
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help and --version
        return e.code or 0
    try:
        backend = choose_backend(args)
    except UsageError as e:
        print(e.usage, file=sys.stderr)
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    try:
        commands = import_commands(args.verbose)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return commands.run(args, backend_chosen=backend)


if __name__ == "__main__":
    sys.exit(main())
