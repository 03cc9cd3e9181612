"""`keras-ae score`: a saved detector's scores (`keras-ae export` is in `exporting`)."""

import sys

from keras_ae.cli.common import CLIError, load_model_or_zoo


def read_for_model(data, shape, header="auto", image_size=None, beyond_float32="error", with_kind=False,
                   keep_uint8=False):
    """`(x, files)`: `--data` read for a model whose samples have `shape`, reshaped to it. A folder of
    images is read at `image_size`, else at the model's height and width (for an image model); `files` are
    the images' names relative to the folder (None for a file). `with_kind`: `(x, kind, files)`, with
    `load_user_data`'s kind. `keep_uint8`: a file of uint8 images stays uint8 (`load_user_data`)."""
    import os

    import numpy as np

    from keras_ae.cli.train import read_user_data

    shape = tuple(int(s) for s in shape)
    folder = os.path.isdir(data)
    if folder and image_size is None and len(shape) == 3:
        image_size = shape[:2]  # the model's size: a folder of other sizes is resized to it
    x, kind, files = read_user_data(data, header=header, beyond_float32=beyond_float32,
                                    image_size=None if image_size is None else tuple(image_size), return_files=True,
                                    keep_uint8=keep_uint8)
    if int(np.prod(x.shape[1:])) != int(np.prod(shape)):
        hint = ""
        if folder:
            side = (int(np.prod(shape)) / x.shape[-1]) ** 0.5
            size = f"{int(side)} {int(side)}" if side == int(side) else "HEIGHT WIDTH"
            hint = f"; --image-size {size} resizes the folder's images"
        raise CLIError(f"{data} holds samples of shape {x.shape[1:]}; the model expects {shape}{hint}")
    x = x.reshape((-1,) + shape)
    return (x, kind, files) if with_kind else (x, files)


def cmd_score(args):
    import csv
    import io
    import warnings

    from keras_ae._io import atomic_write, check_output_path
    from keras_ae.anomaly import AnomalyDetector, BeyondFloat32Warning, TabularDetector

    out = check_output_path(args.out, (".csv",), what="--out scores file")
    map_out = None
    if getattr(args, "map", None):
        from keras_ae.plotting import FIGURE_SUFFIXES

        map_out = check_output_path(args.map, FIGURE_SUFFIXES, what="--map figure")
    try:
        detector = AnomalyDetector.load(args.model)
    except ValueError as e:
        if "without a fitted detector" not in str(e):
            raise
        model = load_model_or_zoo(args.model)
        if getattr(model, "conditional", False):
            raise CLIError(f"{args.model} is a conditional model ({type(model).__name__}): it reconstructs an image "
                           "only together with its class label, which `keras-ae score` does not take. Score in "
                           "Python with model.reconstruction_error(x, y)") from None
        if args.threshold is None:
            raise
        detector = AnomalyDetector(model)  # unfitted: --threshold decides
    # Values beyond float32 are kept (as float64): the detector scores those samples +inf, anomalies.
    if isinstance(detector, TabularDetector):
        if args.image_size is not None:
            raise CLIError(f"--image-size resizes images; {args.model} holds a TabularDetector, for tables")
        if map_out:
            raise CLIError(f"--map draws anomaly maps of images; {args.model} holds a TabularDetector, for tables")
        from keras_ae.cli.train import read_user_data

        x, _, files = read_user_data(args.data, header=args.header, beyond_float32="keep", return_files=True)
    else:
        # uint8 images stay uint8 for a detector that divides them by 255 a chunk at a time: the memory of
        # scoring is then the file's pixels and a chunk, not a float32 copy four times their size.
        x, files = read_for_model(args.data, detector.model.sample_shape, header=args.header,
                                  image_size=args.image_size, beyond_float32="keep",
                                  keep_uint8=getattr(detector, "takes_uint8", False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BeyondFloat32Warning)
        scores = detector.decision_function(x)
    for w in caught:
        if issubclass(w.category, BeyondFloat32Warning):
            print(f"keras-ae: warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    threshold = detector.threshold_ if args.threshold is None else args.threshold
    labels = (scores > threshold).astype(int)
    # A folder's rows name their image (relative to the folder); a file's rows are its rows, counted from 0.
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["index", "file", "score", "label"] if files else ["index", "score", "label"])
    for i, (s, k) in enumerate(zip(scores, labels)):
        writer.writerow([i, files[i], f"{s:.9g}", k] if files else [i, f"{s:.9g}", k])

    def write(tmp):
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text.getvalue())

    atomic_write(out, write)
    print(f"Scored {len(scores)} samples with {args.model}: {int(labels.sum())} above the threshold "
          f"{threshold:.6g} ({detector.score_kind}); wrote {out}")
    if map_out:
        write_map(detector, x, scores, labels, files, args.map_count, map_out)


def write_map(detector, x, scores, labels, files, count, out):
    """The anomaly maps of the first `count` samples over their images, saved (atomically) to `out`."""
    from keras_ae.anomaly import anomaly_map
    from keras_ae.plotting import anomaly_map_overlay, save_figure

    n = min(int(count), len(x))
    x = x[:n].astype("float32") / 255.0 if x.dtype == "uint8" else x[:n]  # a file's uint8 pixels, as scored
    names = [files[i] if files else f"#{i}" for i in range(n)]
    captions = [f"{name[-14:]}\n{scores[i]:.3g}{' (anomaly)' if labels[i] else ''}" for i, name in enumerate(names)]
    fig = anomaly_map_overlay(x, anomaly_map(detector, x), labels=captions,
                              title=f"Anomaly maps ({detector.score_kind} error per pixel, smoothed); "
                                    "caption: score")
    save_figure(fig, out)
    print(f"wrote the anomaly maps of {n} images to {out}")

