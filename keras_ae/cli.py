"""The `keras-ae` commands: list, info, train, score, sample, reconstruct, demo.

The console script's parser is `keras_ae_cli` (it answers `--help` without
importing Keras); `main` here is the same entry point, for `python -m keras_ae.cli`.
"""

import contextlib
import json
import os
import sys
import warnings


class CLIError(Exception):
    """An error shown to the user as one line, with a non-zero exit."""


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
    import numpy as np

    from keras_ae._io import check_output_path
    from keras_ae.models.registry import VARIANTS, get_model

    if args.variant is not None and args.variant != "tabular" and args.variant not in VARIANTS:
        get_model(args.variant)  # raises the "did you mean" error
    if args.out:
        check_output_path(args.out, (".keras",), what="--out model file")  # before reading any data
    if args.data:
        from keras_ae.datasets import load_user_data

        x, kind = load_user_data(args.data)
        source = f"{args.data} ({len(x)} samples of shape {x.shape[1:]}, {kind})"
    else:
        kind = "images" if args.variant in VARIANTS and VARIANTS[args.variant].image_input else "flat"
        x, source = None, None
    default = args.variant or ("tabular" if kind == "tabular" else "undercomplete")
    out = check_output_path(args.out or f"{default}.keras", (".keras",), what="--out model file")
    if kind == "tabular":
        if args.variant not in (None, "tabular"):
            raise CLIError(f"{args.data} is a table of features (a CSV file, or values outside [0, 1]): train "
                           "it with the tabular default (leave out VARIANT), or save it as a .npy array in "
                           f"[0, 1] for {args.variant!r}")
        return _train_tabular(args, x, out)
    variant = args.variant or "undercomplete"
    if variant == "tabular":
        raise CLIError("the tabular recipe needs --data with a table of numbers (.csv, .npy or .npz)")
    image = VARIANTS[variant].image_input
    if x is None:
        from keras_ae.datasets import load_mnist

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ((x, _), (xv, _)), source = load_mnist(shape="image" if image else "flat", return_source=True)
        source = f"MNIST ({source})"
    else:
        if image and x.ndim != 4:
            raise CLIError(f"{variant!r} is convolutional and needs images (n, height, width, channels); "
                           f"{args.data} holds shape {x.shape}")
        x = x if image else x.reshape(len(x), -1)
        split = 0.1 if args.validation_split is None else args.validation_split
        n_val = int(round(split * len(x)))
        x, xv = (x[:len(x) - n_val], x[len(x) - n_val:]) if n_val else (x, None)
    kwargs = {"input_shape": tuple(x.shape[1:])}
    if args.latent_dim is not None:
        kwargs["latent_dim"] = args.latent_dim
    keras.utils.set_random_seed(args.seed)
    model = get_model(variant, **kwargs)
    n_val = 0 if xv is None else len(xv)
    print(f"Training {type(model).__name__} on {source}: {len(x)} train, {n_val} validation samples "
          f"({keras.backend.backend()} backend)")
    # 8 steps per call for the dense models: 1.04-1.5x the speed of one step per call on TensorFlow
    # and JAX in benchmarks/RESULTS.md (input pipeline table); no gain for the convolutional ones,
    # and Keras's PyTorch trainer runs one step per call.
    per_call = 1 if image or keras.backend.backend() == "torch" else 8
    model.compile(optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=per_call)
    from keras_ae._io import check_history_finite
    from keras_ae.callbacks import SafeBackupAndRestore
    from keras_ae.datasets import training_dataset

    # A checkpoint after every epoch, next to the output: a rerun of the same command resumes.
    backup_dir = out + ".checkpoint"
    if os.path.exists(os.path.join(backup_dir, "training_metadata.json")):
        print(f"Resuming from the checkpoint in {backup_dir} (delete it to start afresh)")
    verbose = 0 if args.quiet else (1 if sys.stdout.isatty() else 2)
    history = model.fit(training_dataset(x, args.batch_size or 256, seed=args.seed), epochs=args.epochs or 10,
                        shuffle=False, validation_data=None if xv is None else (xv, xv), verbose=verbose,
                        callbacks=[keras.callbacks.TerminateOnNaN(),
                                   SafeBackupAndRestore(backup_dir, delete_checkpoint=False)])
    check_history_finite(history)
    from keras_ae.anomaly import AnomalyDetector

    detector = AnomalyDetector(model).fit(x)
    detector.save(out)  # atomic: the model and the fitted detector in one .keras file
    import shutil

    shutil.rmtree(backup_dir, ignore_errors=True)  # the model is saved: the checkpoint is done with
    check = xv if xv is not None else x
    err = float(np.mean(model.reconstruction_error(check, metric="sse")))
    print(f"Saved {out}; {'validation' if xv is not None else 'training'} squared error per sample: "
          f"{err:.3f}; anomaly threshold ({detector.scoring_}, 95th percentile of training): "
          f"{detector.threshold_:.6g}")


def _train_tabular(args, x, out):
    import keras

    from keras_ae.anomaly import TabularDetector

    split = 0.2 if not args.validation_split else args.validation_split
    det = TabularDetector(latent_dim=args.latent_dim, epochs=args.epochs or 500, batch_size=args.batch_size,
                          validation_fraction=split, random_state=args.seed)
    print(f"Training the tabular recipe (keras_ae.anomaly.TabularDetector) on {args.data}: {len(x)} samples, "
          f"{x.shape[1]} features, {split:.0%} held out for early stopping ({keras.backend.backend()} backend)")
    det.fit(x)
    det.save(out)
    hist = det.history_
    best = min(hist["val_loss"])
    print(f"Saved {out}: {det.model.hidden_units} -> {det.model.latent_dim} code, stopped after "
          f"{len(hist['loss'])} epochs, best held-out loss {best:.4f}; anomaly threshold "
          f"(95th percentile of training scores): {det.threshold_:.6g}")


def cmd_score(args):
    import numpy as np

    from keras_ae._io import atomic_write, check_output_path
    from keras_ae.anomaly import AnomalyDetector, TabularDetector
    from keras_ae.datasets import load_user_data

    out = check_output_path(args.out, (".csv",), what="--out scores file")
    try:
        detector = AnomalyDetector.load(args.model)
    except ValueError as e:
        if "without a fitted detector" not in str(e) or args.threshold is None:
            raise
        import keras

        detector = AnomalyDetector(keras.models.load_model(args.model))  # unfitted: --threshold decides
    x, _ = load_user_data(args.data)
    if not isinstance(detector, TabularDetector):
        shape = tuple(detector.model.sample_shape)
        if int(np.prod(x.shape[1:])) != int(np.prod(shape)):
            raise CLIError(f"{args.data} holds samples of shape {x.shape[1:]}; the model expects {shape}")
        x = x.reshape((-1,) + shape)
    scores = detector.decision_function(x)
    threshold = detector.threshold_ if args.threshold is None else args.threshold
    labels = (scores > threshold).astype(int)
    text = "index,score,label\n" + "".join(f"{i},{s:.9g},{k}\n" for i, (s, k) in enumerate(zip(scores, labels)))

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    atomic_write(out, write)
    print(f"Scored {len(scores)} samples with {args.model}: {int(labels.sum())} above the threshold "
          f"{threshold:.6g} ({detector.score_kind}); wrote {out}")


def _other_score_warning(path, part):
    """For a detector file whose score is not its model's plain squared reconstruction error (a
    RestorationDetector, a TabularDetector, a detector scoring by bce or the -ELBO), the warning that the
    exported "scorer" computes that error and not the detector's score; None otherwise."""
    import json
    import zipfile

    from keras_ae.anomaly import _MEMBER, AnomalyDetector, _detector_class

    if part != "scorer":
        return None
    try:
        with zipfile.ZipFile(path) as z:
            settings = json.loads(z.read(_MEMBER))
    except (KeyError, zipfile.BadZipFile, ValueError, OSError):
        return None  # a plain model file (or not a zip: keras's own loader says what is wrong)
    if not isinstance(settings, dict):
        return None
    kind = _detector_class(settings)
    if kind is AnomalyDetector and settings.get("scoring", "mse") == "mse":
        return None
    what = kind.__name__ if kind is not AnomalyDetector else f"detector scoring by {settings.get('scoring')!r}"
    return (f"{path} holds a {what}: the exported scorer computes its model's mean squared reconstruction "
            "error, not the detector's score, so the detector's threshold does not apply to it")


def cmd_export(args):
    from keras_ae.export import export

    if args.model.endswith(".keras"):
        if not os.path.isfile(args.model):
            raise FileNotFoundError(f"No model file at {args.model!r}")
        import keras

        warning = _other_score_warning(args.model, args.part)
        if warning:
            print(f"keras-ae: warning: {warning}", file=sys.stderr)
        model = keras.models.load_model(args.model)
    else:
        model = _load_zoo_model(args.model)
    try:
        path = export(model, args.out, part=args.part, format=args.format)
    except ImportError as e:
        raise CLIError(f"the {args.format} export needs a package that is not installed ({e}); "
                       "`pip install keras-ae[export]` brings onnx, onnxruntime and tf2onnx") from None
    print(f"Wrote the {args.part} of {args.model} to {path} ({args.format})")


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


def cmd_notebooks(args):
    from keras_ae import notebooks

    if args.list:
        print("\n".join(notebooks.list_scripts()))
        return
    for path in notebooks.write_notebooks(args.out, args.names or None):
        print(f"wrote {path}")
    print("Open them in Jupyter or Colab. For a quick smoke test, start Jupyter with KERAS_AE_ARGS=--quick.")


# ---- running ------------------------------------------------------------------------

COMMANDS = {"list": cmd_list, "info": cmd_info, "train": cmd_train, "score": cmd_score, "export": cmd_export,
            "sample": cmd_sample, "reconstruct": cmd_reconstruct, "demo": cmd_demo,
            "notebooks": cmd_notebooks}


def start_backend():
    """Start the backend's devices now, with their start-up lines held back (keras_ae/_quiet.py)."""
    from keras_ae._quiet import start_devices

    start_devices()


def run(args, backend_chosen=None):
    """Run a parsed command line; return the exit code. Errors are one line on stderr."""
    try:
        with contextlib.ExitStack() as stack:
            if args.quiet:
                stack.enter_context(contextlib.redirect_stdout(open(os.devnull, "w")))
            if backend_chosen and not args.quiet:
                print(f"(backend: {backend_chosen}; choose with --backend or $KERAS_BACKEND)")
            COMMANDS[args.command](args)
    except (CLIError, ValueError, FileNotFoundError, OSError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"keras-ae: error: {msg}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("keras-ae: interrupted", file=sys.stderr)
        return 130
    return 0


def main(argv=None):
    """Entry point (the same as the `keras-ae` console script); returns the exit code."""
    import keras_ae_cli

    return keras_ae_cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
