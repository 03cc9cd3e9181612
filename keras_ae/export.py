"""Export the deterministic parts of a keras-ae model, or a whole fitted detector, for deployment.

Four parts can be exported:

- `"encoder"`: x -> code (for a VAE, the posterior mean: no sampling op);
- `"decoder"`: code -> reconstruction;
- `"scorer"`: x -> the model's mean squared reconstruction error per sample
  (for a VAE, of the posterior mean's reconstruction), higher is more
  abnormal: `model.reconstruction_error(x, "mse")`;
- `"detector"`: a fitted detector (`keras_ae.anomaly`), x -> `score` and
  `threshold`, two outputs: the detector's own `decision_function(x)`,
  whatever its kind (`BaseDetector.scoring_model`), and `threshold_`.

Each part is a plain functional `keras.Model` (`export_part`), exported with
Keras's own `Model.export` in the formats it supports on the backend in use
(`SUPPORTED`): ONNX from every backend (through tf2onnx, jax2onnx or
PyTorch's exporter), OpenVINO IR from every backend, a TensorFlow SavedModel
from TensorFlow and JAX, LiteRT from TensorFlow (and PyTorch with
`litert-torch`), and a PyTorch ExportedProgram (`"torch"`, `.pt2`) from
PyTorch. A format the backend cannot export is refused with the backend that
can, and a missing exporter with the `pip install` that brings it. ONNX files
name their outputs after the part (`code`, `reconstruction`, `score`, and
`score`, `threshold` for a detector) on every backend. Files are written
atomically; the exporters' own FutureWarnings and DeprecationWarnings are
held back during the export.

Example:

```python
from keras_ae.export import export
export(keras_ae.zoo.load("vae.mnist_z2"), "encoder.onnx", part="encoder", format="onnx")
export(keras_ae.anomaly.AnomalyDetector.load("detector.keras"), "detector.onnx", part="detector")
```
"""

import contextlib
import importlib.util
import json
import os
import shutil
import tempfile
import warnings

import keras
from keras import ops

from keras_ae._validation import check_choice

PARTS = ("encoder", "decoder", "scorer", "detector")
FORMATS = ("onnx", "tf_saved_model", "litert", "openvino", "torch")
SUFFIXES = {"onnx": ".onnx", "litert": ".tflite", "openvino": ".xml", "torch": ".pt2"}
OUTPUT_NAMES = {"encoder": ("code",), "decoder": ("reconstruction",), "scorer": ("score",),
                "detector": ("score", "threshold")}

# format -> the backends it is exported from here (Keras 3.15: LiteRT refuses JAX; a SavedModel from PyTorch
# needs torch_xla, which no PyPI build of it installs beside this PyTorch; "torch" is PyTorch's own format)
SUPPORTED = {
    "onnx": ("tensorflow", "jax", "torch"),
    "tf_saved_model": ("tensorflow", "jax"),
    "litert": ("tensorflow", "torch"),
    "openvino": ("tensorflow", "jax", "torch"),
    "torch": ("torch",),
}
# (format, backend) -> (the modules the export imports, what installs them)
NEEDS = {
    ("onnx", "tensorflow"): (("onnx", "tf2onnx"), "keras-ae[export]"),
    ("onnx", "jax"): (("onnx", "jax2onnx"), "keras-ae[export-jax]"),
    ("onnx", "torch"): (("onnx",), "keras-ae[export]"),
    # OpenVINO IR is converted from the ONNX export by OpenVINO's runtime (`Core.read_model`), on every backend:
    # Keras's own path fails from JAX (jax2tf's XlaCallModule) and from PyTorch for two outputs (its tracer
    # refuses a dict), and goes through `ov.convert_model`, which sends usage data to Intel unless opted out
    ("openvino", "tensorflow"): (("openvino", "onnx", "tf2onnx"), "keras-ae[openvino]"),
    ("openvino", "jax"): (("openvino", "onnx", "jax2onnx"), "keras-ae[openvino,export-jax]"),
    ("openvino", "torch"): (("openvino", "onnx"), "keras-ae[openvino]"),
    ("litert", "torch"): (("litert_torch",), "litert-torch"),
}


def check_format(format, backend=None, command=None):
    """Raise unless `format` can be exported on `backend` (default: Keras's) with what is installed.

    `command` is the `keras-ae export ...` command line the error shows with
    the backend that can export `format` (default: a generic one).

    Raises:
        ValueError: naming the backends that can export `format`, and how to
            choose one (`KERAS_BACKEND`, set before Keras is imported).
        ImportError: naming the missing package(s) and the `pip install`
            that brings them.
    """
    check_choice("format", format, FORMATS)
    backend = backend or keras.backend.backend()
    can = SUPPORTED[format]
    if backend not in can:
        raise ValueError(
            f"The {format} export does not run on the {backend} backend; Keras exports {format} from "
            f"{' or '.join(can)}. Choose that backend before Keras is imported: "
            f"`KERAS_BACKEND={can[0]} {command or f'keras-ae export MODEL --format {format} --out OUT'}` "
            f"(or KERAS_BACKEND={can[0]} for your script)")
    modules, install = NEEDS.get((format, backend), ((), ""))
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        other = [b for b in can if b != backend and not NEEDS.get((format, b), ((), ""))[0]]
        also = f", or export from {other[0]} (KERAS_BACKEND={other[0]})" if other else ""
        raise ImportError(f"The {format} export on the {backend} backend needs {', '.join(missing)}, which "
                          f"{'is' if len(missing) == 1 else 'are'} not installed: pip install {install}{also}")
    return backend


@keras.saving.register_keras_serializable(package="keras_ae")
class ReconstructionScore(keras.layers.Layer):
    """`[x, reconstruction] -> mean squared error per sample`, shape `(batch,)`."""

    def call(self, inputs):
        from keras_ae.anomaly.graph import mse_per_sample

        return mse_per_sample(*inputs)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0],)


def _is_detector(obj):
    return callable(getattr(obj, "scoring_model", None)) and hasattr(obj, "decision_function")


def _check_model(model):
    if not callable(getattr(model, "encode", None)) or not hasattr(model, "decoder"):
        raise ValueError(f"export needs a keras-ae model or a fitted detector. Received: {type(model).__name__}")


def export_part(model, part="scorer"):
    """The functional `keras.Model` of one part of `model` (see the module docs).

    `model` is a keras-ae model, or a fitted detector (`keras_ae.anomaly`):
    `"detector"` needs one; the other parts are those of its model.
    """
    check_choice("part", part, PARTS)
    if part == "detector":
        if not _is_detector(model):
            raise ValueError("part='detector' needs a fitted detector (keras_ae.anomaly, or a detector file written "
                             f"by `keras-ae train` or a detector's save). Received: {type(model).__name__}; export "
                             "its 'scorer' for the plain reconstruction error")
        return model.scoring_model()
    if _is_detector(model):
        model = model.model
    _check_model(model)
    name = getattr(model, "variant", None) or type(model).__name__
    if getattr(model, "conditional", False):
        raise ValueError(f"export takes one input per part; a conditional model ({name}) reads the class label "
                         f"beside x and z, in its encoder and its decoder. Received: part={part!r} of a "
                         f"{type(model).__name__}; call model.encode(x, y) / model.decode(z, y) in Python instead")
    if part != "encoder" and not getattr(model, "decodes_from_code_alone", True):
        raise ValueError(f"part={part!r} needs a model whose output is decoded from the code alone; {name} also "
                         "reads its input directly (colorization adds the decoder's colour to the input's "
                         f"luminance), so its decoder alone is not its output. Received: {type(model).__name__}; "
                         "export part='encoder', or save the whole model")
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


@contextlib.contextmanager
def _exporters_quiet(backend):
    """Hold back the exporters' own notices for this call only: their FutureWarnings and DeprecationWarnings
    (tf2onnx's `np.object`, jax2tf's) and PyTorch's TracerWarnings. keras-ae's own warnings, and any other,
    still show."""
    with warnings.catch_warnings():
        for category in (FutureWarning, DeprecationWarning, PendingDeprecationWarning):
            warnings.filterwarnings("ignore", category=category, module=r"(?!keras_ae\b)")
        if backend == "torch":
            import torch

            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        yield


def _name_onnx_outputs(path, names):
    """Give the ONNX file's outputs `names` (each backend's exporter names them its own way)."""
    import onnx

    model = onnx.load(path)
    taken = {o for node in model.graph.node for o in node.output} | {i.name for i in model.graph.input}
    for output, name in zip(model.graph.output, names):
        if output.name == name or name in taken:
            continue
        model.graph.node.append(onnx.helper.make_node("Identity", [output.name], [name], name=f"{name}_output"))
        output.name = name
    onnx.save(model, path)


def _name_openvino_outputs(ov_model, names):
    for output, name in zip(ov_model.outputs, names):
        output.get_tensor().set_names({name})


def _write_onnx(fn, tmp, names, verbose):
    fn.export(tmp, format="onnx", verbose=verbose)
    _name_onnx_outputs(tmp, names)


def _openvino_runtime():
    """`import openvino`, without its model converter (`openvino.tools.ovc`) unless something imported it
    already: importing the converter sends usage data to Intel by default, and keras-ae needs only the runtime
    (`Core.read_model`, `save_model`). The converter stays importable afterwards."""
    import sys

    if "openvino" in sys.modules:
        return sys.modules["openvino"]
    blocked = "openvino.tools.ovc" not in sys.modules
    if blocked:
        sys.modules["openvino.tools.ovc"] = None  # `import openvino` then skips it (an ImportError it catches)
    try:
        import openvino
    finally:
        if blocked and sys.modules.get("openvino.tools.ovc", 0) is None:
            del sys.modules["openvino.tools.ovc"]
    return openvino


def _write_openvino(fn, xml, names, verbose):
    """OpenVINO IR (`xml` and the `.bin` beside it), read by OpenVINO's runtime from the ONNX export.

    Its weights stay float32. Compile it with `{"INFERENCE_PRECISION_HINT": "f32"}` for the model's
    numbers: on a CPU with bfloat16 units OpenVINO computes in bfloat16 by default (here the detectors'
    scores were then up to 5e-3 off, relatively; 6e-7 with the hint).
    """
    ov = _openvino_runtime()
    onnx_path = os.path.splitext(xml)[0] + ".onnx"
    _write_onnx(fn, onnx_path, names, verbose)
    ov_model = ov.Core().read_model(onnx_path)
    _name_openvino_outputs(ov_model, names)
    ov.save_model(ov_model, xml, compress_to_fp16=False)  # float32 weights, as the model's
    os.remove(onnx_path)


def _write_files(path, produce):
    """Call `produce(tmp_path)` in a fresh folder beside `path`, then move what it wrote into place: `path`'s
    companions first (an OpenVINO `.bin`), `path` last, so `path` never points at an old companion."""
    from keras_ae._io import clean_stale_temporaries, file_lock

    parent = os.path.dirname(os.path.abspath(path))
    base, stem = os.path.basename(path), os.path.splitext(os.path.basename(path))[0]
    with file_lock(path):
        clean_stale_temporaries(parent)
        tmp = tempfile.mkdtemp(dir=parent, prefix=f".tmp-{os.getpid()}-")
        try:
            produce(os.path.join(tmp, base))
            if not os.path.isfile(os.path.join(tmp, base)):
                raise OSError(f"Nothing was written for {path!r}")
            names = [n for n in os.listdir(tmp) if os.path.splitext(n)[0] == stem and n != base] + [base]
            for name in names:
                os.replace(os.path.join(tmp, name), os.path.join(parent, name))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return path


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


def _check_openvino_target(path, force):
    """An OpenVINO IR is `path` and a `.bin` beside it: refuse to replace a `.bin` that no `.xml` goes with
    (so no export of ours wrote it) unless `force`."""
    binary = os.path.splitext(path)[0] + ".bin"
    if os.path.exists(binary) and not os.path.exists(path) and not force:
        raise ValueError(f"{binary!r} exists and is not part of an OpenVINO export at {path!r} (there is no such "
                         "file); keras-ae will not replace it. Give another --out name, or replace it with --force "
                         "(force=True)")


def export(model, path, part="scorer", format="onnx", verbose=False, force=False):
    """Export one part of `model` (a keras-ae model, or a fitted detector) to `path` in `format`; return `path`.

    A SavedModel is a folder; an OpenVINO IR is the `.xml` file `path` and a
    `.bin` beside it; every other format is one file. Each is written beside
    its target first and renamed into place, so a failure leaves no
    half-written export (and an existing one intact). An existing folder is
    replaced only if it is empty or a SavedModel that keras-ae exported (a
    mark file inside says so), or with `force=True`; never the current
    folder, home, or a folder that holds either (`check_saved_model_folder`).
    Two processes exporting to one path take turns (`keras_ae._io.file_lock`).

    Raises:
        ValueError: for a bad `part`, `format` or `path`, or a format the
            backend in use cannot export (naming the backend that can).
        ImportError: if the exporter is not installed (naming what to install).
    """
    from keras_ae._io import atomic_write, check_output_path

    check_choice("part", part, PARTS)
    backend = check_format(format)
    if format == "tf_saved_model":
        path = check_saved_model_folder(path, force)  # before any work
    else:
        path = check_output_path(path, (SUFFIXES[format],), what=f"{format} export")
        if format == "openvino":
            _check_openvino_target(path, force)
    fn = export_part(model, part)
    # Keras exports only a model that has been called once: one batch of zeros.
    fn(ops.zeros((1,) + tuple(fn.inputs[0].shape[1:]), dtype="float32"))
    names = OUTPUT_NAMES[part]
    with _exporters_quiet(backend):
        if format == "onnx":
            return atomic_write(path, lambda tmp: _write_onnx(fn, tmp, names, verbose))
        if format == "openvino":
            return _write_files(path, lambda tmp: _write_openvino(fn, tmp, names, verbose))
        if format == "torch":
            import torch

            batch = {0: torch.export.Dim("batch", min=1)}  # any batch size, not the traced one
            return atomic_write(path, lambda tmp: fn.export(tmp, format="torch", verbose=verbose,
                                                            dynamic_shapes=batch))
        if format == "litert":
            return atomic_write(path, lambda tmp: fn.export(tmp, format="litert", verbose=verbose))
        owner = model.model if part != "detector" and _is_detector(model) else model
        return _write_saved_model(fn, path, {"part": part, "model": getattr(owner, "name", type(owner).__name__)},
                                  verbose, force)


def _write_saved_model(fn, path, about, verbose, force):
    from keras_ae._io import clean_stale_temporaries, file_lock

    parent = os.path.dirname(os.path.abspath(path))
    with file_lock(path):
        clean_stale_temporaries(parent)
        tmp = tempfile.mkdtemp(dir=parent, prefix=f".tmp-{os.getpid()}-")
        old = None
        try:
            fn.export(tmp, format="tf_saved_model", verbose=verbose)
            mark = {"written_by": "keras-ae", "keras_ae": _version(), **about, "files": sorted(os.listdir(tmp))}
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
