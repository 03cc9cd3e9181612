"""Export from every backend (issue 37, item 4): the formats each backend exports, the errors for those it
cannot, and the whole detector (score and threshold) exported and run outside Keras to 1e-5.

The quick tests check the graph pieces against NumPy, SciPy and scikit-learn, the errors, and each
detector's scoring model in Keras. The slow ones export each detector kind in every format the backend
in use exports, run it in its own runtime (onnxruntime, OpenVINO, TensorFlow Lite, TensorFlow, PyTorch)
and compare with `decision_function`; run them under each backend with KERAS_BACKEND.
"""

import csv
import importlib.util
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_ae import export as ex
from keras_ae.anomaly import ReconstructionDetector, RestorationDetector, TabularDetector, graph
from keras_ae.testing import small_inputs, small_model

BACKEND = keras.backend.backend()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RTOL = 1e-5


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def close(got, want):
    """Relative difference to 1e-5 (absolute below 1)."""
    got, want = np.asarray(got, "float64"), np.asarray(want, "float64")
    assert got.shape == want.shape
    assert np.max(np.abs(got - want) / np.maximum(np.abs(want), 1.0)) <= RTOL, (got, want)


# ---- the graph's pieces, against NumPy, SciPy and scikit-learn ------------------------------------------------
def test_yeo_johnson_matches_scikit_learn_for_every_lambda_case():
    from sklearn.preprocessing import PowerTransformer

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=(50, 5)) * 3, [[0, 1e-6, -1e-6, 20, -20]]]).astype("float32")
    lambdas = np.array([0.0, 2.0, 1e-4, 1.9999, -0.7])  # both log cases, near them, and a negative lambda
    pt = PowerTransformer(standardize=False)
    pt.lambdas_, pt.n_features_in_ = lambdas, 5
    want = pt.transform(x.astype("float64"))
    got = numpy(graph.yeo_johnson(keras.ops.convert_to_tensor(x), lambdas))
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7)


def test_smoothing_rotation_and_neighbours_match_their_numpy_forms():
    from scipy.ndimage import gaussian_filter
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(1)
    images = rng.random((3, 7, 7, 2)).astype("float32")
    got = numpy(graph.smooth(keras.ops.convert_to_tensor(images), graph.smoothing_matrix(7, 1.5)))
    np.testing.assert_allclose(got, gaussian_filter(images, sigma=(0, 1.5, 1.5, 0)), rtol=1e-5, atol=1e-6)
    for k in range(4):
        np.testing.assert_array_equal(numpy(graph.rot90(keras.ops.convert_to_tensor(images), k)),
                                      np.rot90(images, k, axes=(1, 2)))
    reference = rng.normal(size=(40, 3)) + 5.0
    x = np.concatenate([rng.normal(size=(5, 3)) + 5.0, reference[:1] + 1e-4]).astype("float32")  # one row near
    dist, _ = NearestNeighbors(n_neighbors=4).fit(reference).kneighbors(x)
    for method, want in (("largest", dist[:, -1]), ("mean", dist.mean(axis=1))):
        layer = graph.NearestNeighbourDistance(reference, k=4, method=method)
        np.testing.assert_allclose(numpy(layer(x)), want, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="`k` must be an integer from 1 to 40"):
        graph.NearestNeighbourDistance(reference, k=41)


def test_the_forest_in_keras_ops_is_scikit_learns_isolation_forest():
    """`PaddedForest`: the padded trees, gathered down in Keras ops (and in NumPy), give IsolationForest's
    `-score_samples` to 1e-6, for trees of every depth, subsampled features, and rows on and off the data."""
    from sklearn.ensemble import IsolationForest

    from keras_ae.anomaly.forest import PaddedForest

    rng = np.random.default_rng(5)
    for n, settings in ((300, {}), (23, {"max_features": 0.5})):  # the same shapes: JAX compiles its ops once
        x = (rng.normal(size=(n, 6)) * rng.uniform(0.1, 10, 6)).astype("float32")
        forest = IsolationForest(random_state=n, **settings).fit(x)
        padded = PaddedForest.from_isolation_forest(forest)
        rows = np.concatenate([x[:20], (rng.normal(size=(40, 6)) * 4).astype("float32")])
        want = -forest.score_samples(rows)
        np.testing.assert_allclose(padded.score(rows), want, rtol=0, atol=1e-12)
        np.testing.assert_allclose(numpy(padded.graph(keras.ops.convert_to_tensor(rows))), want, rtol=0, atol=1e-6)
        assert padded.depth == max(e.tree_.max_depth for e in forest.estimators_)
    same = PaddedForest.from_isolation_forest(IsolationForest(random_state=0).fit(np.ones((30, 6), "float32")))
    assert same.depth == 0  # identical rows: every tree is one leaf
    want = -IsolationForest(random_state=0).fit(np.ones((30, 6), "float32")).score_samples(rows)
    np.testing.assert_allclose(numpy(same.graph(keras.ops.convert_to_tensor(rows))), want, rtol=0, atol=1e-6)


# ---- which backend exports which format, and the errors ---------------------------------------------------
def test_the_parser_offers_exactly_the_parts_and_formats():
    from keras_ae.cli.parser import build_parser

    actions = {a.dest: a for a in build_parser()._subparsers._group_actions[0].choices["export"]._actions}
    assert tuple(actions["part"].choices) == ex.PARTS
    assert tuple(actions["format"].choices) == ex.FORMATS


@pytest.mark.parametrize("format,backend,can", [("litert", "jax", "tensorflow"), ("tf_saved_model", "torch",
                                                                                  "tensorflow"),
                                                ("torch", "tensorflow", "torch"), ("torch", "jax", "torch")])
def test_a_format_the_backend_cannot_export_names_the_backend_that_can(format, backend, can):
    command = f"keras-ae export m.keras --part detector --format {format} --out out"
    with pytest.raises(ValueError, match=f"does not run on the {backend} backend") as err:
        ex.check_format(format, backend, command=command)
    assert f"`KERAS_BACKEND={can} {command}`" in str(err.value)


def test_a_missing_exporter_names_what_installs_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("jax2onnx", "openvino", "litert_torch") else real(name, *a))
    with pytest.raises(ImportError, match=r"needs jax2onnx, which is not installed: pip install keras-ae\[export-jax\]"):
        ex.check_format("onnx", "jax")
    with pytest.raises(ImportError, match=r"needs openvino, which is not installed: pip install keras-ae\[openvino\]"):
        ex.check_format("openvino", "tensorflow")
    with pytest.raises(ImportError, match=r"pip install litert-torch, or export from tensorflow"):
        ex.check_format("litert", "torch")
    assert ex.check_format("litert", "tensorflow") == "tensorflow"


def test_part_detector_needs_a_fitted_detector(tmp_path, capsys):
    from keras_ae import cli

    model = small_model("undercomplete")
    with pytest.raises(ValueError, match="part='detector' needs a fitted detector"):
        ex.export_part(model, "detector")
    assert cli.main(["export", "undercomplete.mnist_z2", "--part", "detector", "--out", str(tmp_path / "d.onnx")]) == 1
    assert "--part detector needs a detector file (.keras)" in capsys.readouterr().err
    model.save(str(tmp_path / "plain.keras"))
    assert cli.main(["export", str(tmp_path / "plain.keras"), "--part", "detector",
                     "--out", str(tmp_path / "d.onnx")]) == 1
    assert "without a fitted detector" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["plain.keras"]


def test_parts_that_are_not_the_models_output_are_refused_clearly():
    """A conditional model reads the label in both halves, and a colorization model adds its decoder's colour to
    the input's luminance: a one-input part would be a different model, so export says why instead of a Keras
    error (or, for colorization, a 'scorer' that scores the colour change)."""
    cvae = small_model("cvae")
    for part in ("encoder", "decoder", "scorer"):
        with pytest.raises(ValueError, match="a conditional model \\(cvae\\) reads the class label"):
            ex.export_part(cvae, part)
    colour = small_model("conv_colorization")
    for part in ("decoder", "scorer"):
        with pytest.raises(ValueError, match=f"part='{part}' needs a model whose output is decoded from the code"):
            ex.export_part(colour, part)
    encoder = ex.export_part(colour, "encoder")
    x = small_inputs(colour, n=2)
    close(numpy(encoder(x)), colour.encode(x))


def test_the_scoring_model_is_the_reconstruction_detector(tmp_path):
    for variant, scoring in (("undercomplete", "mse"), ("vae", "bce")):
        model = small_model(variant)
        x = small_inputs(model, n=8)
        detector = ReconstructionDetector(model, scoring=scoring).fit(x)
        out = detector.scoring_model()(x)
        close(numpy(out["score"]), detector.decision_function(x))
        np.testing.assert_array_equal(numpy(out["threshold"]), np.float32(detector.threshold_))
    with pytest.raises(ValueError, match="no deterministic graph to export"):
        ReconstructionDetector(model, scoring="neg_elbo").fit(x).scoring_model()


# ---- slow: every detector kind, exported in every format this backend exports, run outside Keras -------------
def detectors():
    rng = np.random.default_rng(0)
    table = np.exp(rng.normal(size=(120, 5))).astype("float32")
    table[:, 1] *= -1  # a column of negatives: the other branch of Yeo-Johnson
    images = rng.random((30, 8, 8)).astype("float32")
    model = small_model("vae")
    return {
        "tabular": (TabularDetector(epochs=2).fit(table), (table[:7] * 1.5).astype("float32")),
        "restoration": (RestorationDetector(hidden_units=(16,), latent_dim=4, epochs=1).fit(images),
                        images[:7, ..., None]),
        "reconstruction": (ReconstructionDetector(model, scoring="bce").fit(small_inputs(model, n=20)),
                           small_inputs(model, n=7, seed=3)),
    }


def run_export(format, path, x):
    """`{output name: values}` of the exported file run in its own runtime."""
    if format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(path)
        return dict(zip([o.name for o in session.get_outputs()], session.run(None, {"x": x})))
    if format == "openvino":
        from keras_ae.export import _openvino_runtime

        compiled = _openvino_runtime().Core().compile_model(path, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        result = compiled(x)
        return {name: result[compiled.output(name)] for name in ("score", "threshold")} \
            if len(compiled.outputs) == 2 else {}
    if format == "litert":
        import tensorflow as tf

        return tf.lite.Interpreter(model_path=path).get_signature_runner()(x=x)
    if format == "torch":
        import torch

        return {k: v.detach().numpy() for k, v in torch.export.load(path).module()(torch.from_numpy(x)).items()}
    import tensorflow as tf

    loaded = tf.saved_model.load(path)
    return {k: v.numpy() for k, v in loaded.serve(tf.constant(x)).items()}


EXPORTABLE = [f for f in ex.FORMATS if BACKEND in ex.SUPPORTED[f]]


@pytest.mark.slow
@pytest.mark.parametrize("format", EXPORTABLE)
def test_the_exported_detector_is_the_detector(format, tmp_path):
    """Score and threshold, two outputs, within 1e-5 of `decision_function` and `threshold_`, for a batch size
    other than the one traced."""
    try:
        ex.check_format(format)
    except ImportError as e:
        pytest.skip(str(e))
    pytest.importorskip({"onnx": "onnxruntime", "openvino": "openvino", "litert": "tensorflow",
                         "tf_saved_model": "tensorflow", "torch": "torch"}[format])
    for kind, (detector, x) in detectors().items():
        path = str(tmp_path / (kind + ex.SUFFIXES.get(format, "")))
        assert ex.export(detector, path, part="detector", format=format) == path
        out = run_export(format, path, x)
        assert sorted(out) == ["score", "threshold"], kind
        close(np.ravel(out["score"]), detector.decision_function(x))
        np.testing.assert_allclose(np.ravel(out["threshold"]), detector.threshold_, rtol=1e-7, err_msg=kind)
    if format == "openvino":
        assert sorted(os.listdir(tmp_path)) == ["reconstruction.bin", "reconstruction.xml", "restoration.bin",
                                                "restoration.xml", "tabular.bin", "tabular.xml"]


@pytest.mark.slow
def test_cli_export_matches_keras_ae_score_and_prints_no_third_party_warning(tmp_path):
    """The issue's repros: the detector's export reproduces `keras-ae score` (scores and labels), and no
    exporter's FutureWarning or DeprecationWarning (tf2onnx's `np.object`) reaches the user."""
    ort = pytest.importorskip("onnxruntime")
    try:
        ex.check_format("onnx")
    except ImportError as e:
        pytest.skip(str(e))
    rng = np.random.default_rng(0)
    table = np.exp(rng.normal(size=(100, 4)))
    detector_file = TabularDetector(epochs=2).fit(table).save(str(tmp_path / "tab.keras"))
    data = str(tmp_path / "new.csv")
    np.savetxt(data, np.exp(rng.normal(size=(9, 4))) * 1.5, delimiter=",", fmt="%.6f")
    # Python's own warning filters, as a user has them (FutureWarnings show; tf2onnx's did)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "TF_CPP_MIN_LOG_LEVEL")}
    env["KERAS_BACKEND"] = BACKEND

    def cli(*args):
        proc = subprocess.run([sys.executable, "-m", "keras_ae.cli", *args], capture_output=True, text=True,
                              env=env, cwd=str(tmp_path), timeout=600)
        assert proc.returncode == 0, proc.stderr
        return proc

    exported = cli("export", detector_file, "--part", "detector", "--out", "d.onnx")
    assert exported.stderr == "", exported.stderr
    assert "outputs score and threshold" in exported.stdout
    cli("score", detector_file, "--data", data, "--header", "no", "--out", "scores.csv")
    with open(tmp_path / "scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    session = ort.InferenceSession(str(tmp_path / "d.onnx"))
    x = np.loadtxt(data, delimiter=",", dtype="float32")
    score, threshold = session.run(["score", "threshold"], {"x": x})
    close(score, [float(r["score"]) for r in rows])
    assert [int(s > t) for s, t in zip(score, threshold)] == [int(r["label"]) for r in rows]
