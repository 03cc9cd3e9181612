"""`keras-ae export`: a model's encoder, decoder or scorer, or a whole fitted detector, for deployment."""

import shlex
import sys

from keras_ae.cli.common import CLIError, load_model_or_zoo


def _other_score_warning(path, part):
    """For a detector file whose score is not its model's plain squared reconstruction error (a
    RestorationDetector, a TabularDetector, a detector scoring by bce or the -ELBO), the warning that the
    exported "scorer" computes that error and not the detector's score; None otherwise."""
    from keras_ae.anomaly import describe_detector_file

    if part != "scorer":
        return None
    try:
        described = describe_detector_file(path)
    except (ValueError, OSError):
        return None  # not a readable detector file: keras's own loader says what is wrong
    if described is None:
        return None  # a plain model file
    kind, scoring = described["kind"], described.get("scoring", "mse")
    if kind in ("ReconstructionDetector", "AnomalyDetector") and scoring == "mse":
        return None
    what = kind if kind not in ("ReconstructionDetector", "AnomalyDetector") else f"detector scoring by {scoring!r}"
    return (f"{path} holds a {what}: the exported scorer computes its model's mean squared reconstruction "
            "error, not the detector's score, so the detector's threshold does not apply to it; "
            "--part detector exports the detector's score and threshold")


def _load_detector(name):
    from keras_ae.anomaly import AnomalyDetector

    if not name.endswith(".keras"):
        raise CLIError(f"--part detector needs a detector file (.keras) written by `keras-ae train` or a "
                       f"detector's save. Received: {name!r}; a zoo model has no fitted detector (export its "
                       "--part scorer, or fit a detector on it and save that)")
    return AnomalyDetector.load(name)


def cmd_export(args):
    from keras_ae.export import check_format, check_saved_model_folder, export

    command = " ".join(shlex.quote(a) for a in ("keras-ae", "export", args.model, "--part", args.part,
                                                "--format", args.format, "--out", args.out))
    try:
        check_format(args.format, command=command)  # before the model is loaded
    except ImportError as e:
        raise CLIError(str(e)) from None
    if args.format == "tf_saved_model":
        check_saved_model_folder(args.out, args.force)
    if args.part == "detector":
        model = _load_detector(args.model)
    else:
        warning = _other_score_warning(args.model, args.part) if args.model.endswith(".keras") else None
        if warning:
            print(f"keras-ae: warning: {warning}", file=sys.stderr)
        model = load_model_or_zoo(args.model)
    try:
        path = export(model, args.out, part=args.part, format=args.format, force=args.force)
    except ImportError as e:
        raise CLIError(str(e)) from None
    print(f"Wrote the {args.part} of {args.model} to {path} ({args.format}"
          + (": outputs score and threshold)" if args.part == "detector" else ")"))
