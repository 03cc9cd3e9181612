"""Export the deterministic parts of a keras-ae model for deployment (ONNX, SavedModel, ...).

Three parts of every model can be exported:

- `"encoder"`: x -> code (for a VAE, the posterior mean: no sampling op);
- `"decoder"`: code -> reconstruction;
- `"scorer"`: x -> anomaly score, the mean squared reconstruction error per
  sample (for a VAE, of the posterior mean's reconstruction), higher is more
  abnormal: the same numbers as `model.reconstruction_error(x, "mse")` and
  `AnomalyDetector(model, scoring="mse").decision_function(x)`.

Each part is a plain functional `keras.Model` (`export_part`), exported with
Keras's own `Model.export` in any format it supports: `"onnx"`,
`"tf_saved_model"`, `"litert"`, `"openvino"`. Files are written atomically.

Example:

```python
from keras_ae.export import export
export(keras_ae.zoo.load("vae.mnist_z2"), "encoder.onnx", part="encoder", format="onnx")
```
"""

import json
import os
import shutil
import tempfile

import keras
from keras import ops

from keras_ae._validation import check_choice

PARTS = ("encoder", "decoder", "scorer")
FORMATS = ("onnx", "tf_saved_model", "litert", "openvino")


@keras.saving.register_keras_serializable(package="keras_ae")
class ReconstructionScore(keras.layers.Layer):
    """`[x, reconstruction] -> mean squared error per sample`, shape `(batch,)`."""

    def call(self, inputs):
        x, recon = inputs
        err = ops.square(ops.cast(x, "float32") - ops.cast(recon, "float32"))
        return ops.mean(ops.reshape(err, (ops.shape(err)[0], -1)), axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0],)


def _check_model(model):
    if not callable(getattr(model, "encode", None)) or not hasattr(model, "decoder"):
        raise ValueError(f"export needs a keras-ae model. Received: {type(model).__name__}")


def export_part(model, part="scorer"):
    """The functional `keras.Model` of one deterministic part of `model` (see the module docs)."""
    _check_model(model)
    check_choice("part", part, PARTS)
    if part == "decoder":
        inp = keras.Input(model.code_shape, name="z")
        return keras.Model(inp, model.decoder(inp, training=False), name=f"{model.name}_decoder")
    inp = keras.Input(tuple(model.sample_shape), name="x")
    code = model.encoder(inp, training=False)
    if isinstance(code, (list, tuple)):  # a VAE's (z_mean, z_log_var): the mean, never a sample
        code = code[0]
    if part == "encoder":
        return keras.Model(inp, code, name=f"{model.name}_encoder")
    recon = model.decoder(code, training=False)
    return keras.Model(inp, ReconstructionScore(name="score")([inp, recon]), name=f"{model.name}_scorer")


MARK = "keras_ae_export.json"  # written into every SavedModel folder keras-ae exports: what marks it as ours


def _protected(path):
    """Why the folder `path` may never be replaced (the current folder, home, an ancestor of either), or None."""
    real, cwd = os.path.realpath(path), os.path.realpath(os.getcwd())
    home = os.path.realpath(os.path.expanduser("~"))
    if real == cwd:
        return "it is the current folder"
    if real == home:
        return "it is the home folder"
    inside = real.rstrip(os.sep) + os.sep
    if cwd.startswith(inside):
        return "it holds the current folder"
    if home.startswith(inside):
        return "it holds the home folder"
    return None


def _foreign(path):
    """`(names keras-ae did not write, whether keras-ae's mark is there)` for the existing folder `path`."""
    try:
        with open(os.path.join(path, MARK), encoding="utf-8") as f:
            mark = json.load(f)
        ours = set(mark["files"]) | {MARK} if mark.get("written_by") == "keras-ae" else set()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        ours = set()
    return [n for n in sorted(os.listdir(path)) if n not in ours], bool(ours)


def check_saved_model_folder(path, force=False):
    """Raise `ValueError` unless a SavedModel export may be written to the folder `path`; return it.

    It may if `path` does not exist, is an empty folder, or is a SavedModel
    that keras-ae exported (it holds the mark file `keras_ae_export.json` and
    nothing else that keras-ae did not write), or with `force=True` any other
    folder. Never the current folder, the home folder, or a folder that holds
    either, even with `force=True`.
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise ValueError(f"The SavedModel folder path is empty. Received: {path!r}")
    path = os.fspath(path)
    why = _protected(path)
    if why:
        raise ValueError(f"Refusing to replace {path!r} with a SavedModel: {why}; give a new folder name "
                         "for it, such as ./scorer_savedmodel")
    if os.path.islink(path) or (os.path.exists(path) and not os.path.isdir(path)):
        raise ValueError(f"A SavedModel is a folder: expected a folder path that is not a file or a link. "
                         f"Received: {path!r}")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"The folder {parent!r} for the SavedModel does not exist")
    foreign, marked = _foreign(path) if os.path.isdir(path) and not force else ([], False)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        what = (f"is a SavedModel keras-ae wrote, but it also holds {shown}" if marked
                else f"is not a SavedModel that keras-ae wrote (it holds {shown})")
        raise ValueError(f"The folder {path!r} {what}; keras-ae will not delete it. Give a new folder name, "
                         "or replace the folder with --force (force=True)")
    return path


def export(model, path, part="scorer", format="onnx", verbose=False, force=False):
    """Export one part of `model` to `path` in `format`; return `path`.

    A SavedModel is a folder; every other format is one file. Either is written
    beside its target first and renamed into place, so a failure leaves no
    half-written export (and an existing one intact). An existing folder is
    replaced only if it is empty or a SavedModel that keras-ae exported (a
    mark file inside says so), or with `force=True`; never the current
    folder, home, or a folder that holds either (`check_saved_model_folder`).
    Two processes exporting to one path take turns (`keras_ae._io.file_lock`).
    """
    from keras_ae._io import atomic_write, check_output_path, clean_stale_temporaries, file_lock

    check_choice("format", format, FORMATS)
    if format == "tf_saved_model":
        path = check_saved_model_folder(path, force)  # before any work
    fn = export_part(model, part)
    # Keras exports only a model that has been called once: one batch of zeros.
    fn(ops.zeros((1,) + tuple(fn.inputs[0].shape[1:]), dtype="float32"))
    if format != "tf_saved_model":
        suffix = {"onnx": ".onnx", "litert": ".tflite", "openvino": ".xml"}[format]
        path = check_output_path(path, (suffix,), what=f"{format} export")
        return atomic_write(path, lambda tmp: fn.export(tmp, format=format, verbose=verbose))
    parent = os.path.dirname(os.path.abspath(path))
    with file_lock(path):
        clean_stale_temporaries(parent)
        tmp = tempfile.mkdtemp(dir=parent, prefix=f".tmp-{os.getpid()}-")
        old = None
        try:
            fn.export(tmp, format="tf_saved_model", verbose=verbose)
            mark = {"written_by": "keras-ae", "keras_ae": _version(), "part": part, "model": model.name,
                    "files": sorted(os.listdir(tmp))}
            with open(os.path.join(tmp, MARK), "w", encoding="utf-8") as f:
                json.dump(mark, f, indent=2)
            check_saved_model_folder(path, force)  # again, under the lock: the folder may have changed
            if os.path.exists(path):
                old = tempfile.mkdtemp(dir=parent, prefix=f".tmp-{os.getpid()}-old-")
                os.rmdir(old)
                os.replace(path, old)
            os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if old is not None and not os.path.exists(path):
                os.replace(old, path)  # put the previous folder back
            raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return path


def _version():
    import keras_ae

    return keras_ae.__version__
