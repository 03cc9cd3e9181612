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


def export(model, path, part="scorer", format="onnx", verbose=False):
    """Export one part of `model` to `path` in `format`; return `path`.

    A SavedModel is a folder; every other format is one file. Either is written
    beside its target first and renamed into place, so a failure leaves no
    half-written export (and an existing one intact).
    """
    from keras_ae._io import atomic_write, check_output_path, clean_stale_temporaries

    check_choice("format", format, FORMATS)
    fn = export_part(model, part)
    # Keras exports only a model that has been called once: one batch of zeros.
    fn(ops.zeros((1,) + tuple(fn.inputs[0].shape[1:]), dtype="float32"))
    if format != "tf_saved_model":
        suffix = {"onnx": ".onnx", "litert": ".tflite", "openvino": ".xml"}[format]
        path = check_output_path(path, (suffix,), what=f"{format} export")
        return atomic_write(path, lambda tmp: fn.export(tmp, format=format, verbose=verbose))
    path = os.fspath(path)
    if not path or os.path.isfile(path):
        raise ValueError(f"A SavedModel is a folder: expected a folder path that is not a file. Received: {path!r}")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"The folder {parent!r} for the SavedModel does not exist")
    clean_stale_temporaries(parent)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".tmp-{os.getpid()}-")
    old = None
    try:
        fn.export(tmp, format="tf_saved_model", verbose=verbose)
        if os.path.exists(path):
            old = tempfile.mkdtemp(dir=parent, prefix=f".tmp-{os.getpid()}-old-")
            os.rmdir(old)
            os.replace(path, old)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not os.path.exists(path):
            os.replace(old, path)  # put the previous export back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return path
