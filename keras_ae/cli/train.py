"""`keras-ae train`: a model on MNIST or the user's data, saved with a fitted detector in one file."""

import shutil
import sys
import warnings

from keras_ae.cli.common import CLIError


def _load_data(args):
    """`(x, kind, source)`: the user's `--data`, or `(None, kind, None)` for MNIST."""
    from keras_ae.models.registry import VARIANTS

    if args.data:
        from keras_ae.data import load_user_data

        x, kind = load_user_data(args.data)
        return x, kind, f"{args.data} ({len(x)} samples of shape {x.shape[1:]}, {kind})"
    kind = "images" if args.variant in VARIANTS and VARIANTS[args.variant].image_input else "flat"
    return None, kind, None


def _split(args, x, image, variant):
    """`(x_train, x_validation or None, source)`: MNIST's own split, or the last part of `--data` held out."""
    if x is None:
        from keras_ae.data import load_mnist

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ((x, _), (xv, _)), source = load_mnist(shape="image" if image else "flat", return_source=True)
        return x, xv, f"MNIST ({source})"
    if image and x.ndim != 4:
        raise CLIError(f"{variant!r} is convolutional and needs images (n, height, width, channels); "
                       f"{args.data} holds shape {x.shape}")
    x = x if image else x.reshape(len(x), -1)
    split = 0.1 if args.validation_split is None else args.validation_split
    n_val = int(round(split * len(x)))
    return (x[:len(x) - n_val], x[len(x) - n_val:], None) if n_val else (x, None, None)


def cmd_train(args):
    import keras
    import numpy as np

    from keras_ae._io import check_output_path
    from keras_ae.models.registry import VARIANTS, get_model

    if args.variant is not None and args.variant != "tabular" and args.variant not in VARIANTS:
        get_model(args.variant)  # raises the "did you mean" error
    if args.out:
        check_output_path(args.out, (".keras",), what="--out model file")  # before reading any data
    x, kind, source = _load_data(args)
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
    x, xv, mnist_source = _split(args, x, image, variant)
    source = source or mnist_source
    kwargs = {"input_shape": tuple(x.shape[1:])}
    if args.latent_dim is not None:
        kwargs["latent_dim"] = args.latent_dim
    keras.utils.set_random_seed(args.seed)
    model = get_model(variant, **kwargs)
    n_val = 0 if xv is None else len(xv)
    print(f"Training {type(model).__name__} on {source}: {len(x)} train, {n_val} validation samples "
          f"({keras.backend.backend()} backend)")
    from keras_ae.data import training_dataset
    from keras_ae.training import fit_model, has_checkpoint

    # A checkpoint after every epoch, next to the output: a rerun of the same command resumes.
    backup_dir = out + ".checkpoint"
    if has_checkpoint(backup_dir):
        print(f"Resuming from the checkpoint in {backup_dir} (delete it to start afresh)")
    verbose = 0 if args.quiet else (1 if sys.stdout.isatty() else 2)
    # 8 steps per call for the dense models (benchmarks/RESULTS.md, input pipeline table); one for the
    # convolutional ones. fit_model runs one on PyTorch, whose Keras trainer runs one step per call.
    fit_model(model, training_dataset(x, args.batch_size or 256, seed=args.seed), epochs=args.epochs or 10,
              optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=1 if image else 8,
              checkpoint=backup_dir, shuffle=False, validation_data=None if xv is None else (xv, xv),
              verbose=verbose)
    from keras_ae.anomaly import AnomalyDetector

    detector = AnomalyDetector(model).fit(x)
    detector.save(out)  # atomic: the model and the fitted detector in one .keras file
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
