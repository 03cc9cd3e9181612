"""Export for deployment: ONNX (run with onnxruntime) and SavedModel (run with TensorFlow) match keras-ae."""

import os

import keras
import numpy as np
import pytest

from keras_ae.export import export, export_part
from keras_ae.testing import small_inputs
from model_check import small_model

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                reason="ONNX and SavedModel export go through TensorFlow here")


def reference(model, part, x):
    if part == "encoder":
        return model.encode(x)
    if part == "decoder":
        return model.decode(model.encode(x))
    return model.reconstruction_error(x, metric="mse")


@pytest.mark.parametrize("variant", ["undercomplete", "denoising", "vae", "conv_vae"])
def test_onnx_export_matches_keras_ae(variant, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model = small_model(variant)
    x = small_inputs(model, n=6)
    for part in ("encoder", "decoder", "scorer"):
        path = export(model, str(tmp_path / f"{part}.onnx"), part=part, format="onnx")
        session = ort.InferenceSession(path)
        feed = model.encode(x) if part == "decoder" else x
        out = session.run(None, {session.get_inputs()[0].name: feed})[0]
        np.testing.assert_allclose(out, reference(model, part, x), rtol=1e-4, atol=1e-5, err_msg=part)
        # No random op in the graph: a VAE exports its posterior mean and decoding only.
        assert b"RandomNormal" not in open(path, "rb").read(), part
    assert sorted(os.listdir(tmp_path)) == ["decoder.onnx", "encoder.onnx", "scorer.onnx"]


def test_the_scorer_ranks_like_the_detector(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from keras_ae.anomaly import AnomalyDetector

    model = small_model("undercomplete")
    x = small_inputs(model, n=16)
    path = export(model, str(tmp_path / "s.onnx"))
    session = ort.InferenceSession(path)
    onnx_scores = session.run(None, {"x": x})[0]
    detector = AnomalyDetector(model, scoring="mse").fit(x)
    np.testing.assert_allclose(onnx_scores, detector.decision_function(x), rtol=1e-4, atol=1e-6)


def test_saved_model_export_matches_and_replaces_atomically(tmp_path):
    import tensorflow as tf

    model = small_model("vae")
    x = small_inputs(model, n=4)
    path = str(tmp_path / "scorer")
    export(model, path, part="scorer", format="tf_saved_model")
    loaded = tf.saved_model.load(path)  # kept: its functions need the object alive
    served = loaded.serve(tf.constant(x)).numpy()
    np.testing.assert_allclose(served, reference(model, "scorer", x), rtol=1e-5, atol=1e-6)
    export(model, path, part="encoder", format="tf_saved_model")  # over the old one
    loaded = tf.saved_model.load(path)
    encoded = loaded.serve(tf.constant(x)).numpy()
    np.testing.assert_allclose(encoded, model.encode(x), rtol=1e-5, atol=1e-6)
    assert sorted(os.listdir(tmp_path)) == ["scorer"]


def test_export_errors(tmp_path):
    model = small_model("undercomplete")
    with pytest.raises(ValueError, match="part"):
        export_part(model, "middle")
    with pytest.raises(ValueError, match="format"):
        export(model, str(tmp_path / "m.onnx"), format="pickle")
    with pytest.raises(ValueError, match=r"\.onnx"):
        export(model, str(tmp_path / "m.h5"), format="onnx")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="folder"):
        export(model, str(tmp_path / "file"), format="tf_saved_model")
    with pytest.raises(ValueError, match="keras-ae model"):
        export_part(object())
    assert sorted(os.listdir(tmp_path)) == ["file"]


def test_cli_exports_a_zoo_model_and_a_saved_file(tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime")
    from keras_ae import cli, zoo

    assert cli.main(["export", "vae.mnist_z2", "--part", "encoder", "--out", str(tmp_path / "e.onnx")]) == 0
    assert "Wrote the encoder of vae.mnist_z2" in capsys.readouterr().out
    model = zoo.load("vae.mnist_z2")
    x = small_inputs(model, n=3)
    session = ort.InferenceSession(str(tmp_path / "e.onnx"))
    np.testing.assert_allclose(session.run(None, {"x": x})[0], model.encode(x), rtol=1e-4, atol=1e-5)
    small_model("undercomplete").save(str(tmp_path / "m.keras"))
    assert cli.main(["export", str(tmp_path / "m.keras"), "--out", str(tmp_path / "s.onnx")]) == 0
    assert cli.main(["export", str(tmp_path / "nope.keras"), "--out", str(tmp_path / "t.onnx")]) == 1
    assert "No model file" in capsys.readouterr().err


def test_cli_warns_when_the_scorer_is_not_the_detectors_score(tmp_path, capsys):
    """A RestorationDetector file's model restores rotated images: its exported scorer (the plain squared
    reconstruction error) gives numbers unlike the detector's scores, so the CLI warns; a plain
    AnomalyDetector (mse) file exports its scorer without a warning."""
    pytest.importorskip("onnxruntime")
    from keras_ae import cli
    from keras_ae.anomaly import AnomalyDetector, RestorationDetector

    x = np.random.default_rng(0).random((40, 64)).astype("float32")
    path = RestorationDetector(hidden_units=(16,), latent_dim=4, epochs=1).fit(x).save(str(tmp_path / "r.keras"))
    assert cli.main(["export", path, "--out", str(tmp_path / "s.onnx")]) == 0
    err = capsys.readouterr().err
    assert ("keras-ae: warning: " + path + " holds a RestorationDetector: the exported scorer computes its model's "
            "mean squared reconstruction error, not the detector's score") in err
    assert os.path.exists(tmp_path / "s.onnx")
    assert cli.main(["export", path, "--part", "encoder", "--out", str(tmp_path / "e.onnx")]) == 0
    assert "warning" not in capsys.readouterr().err
    model = small_model("undercomplete")
    plain = AnomalyDetector(model, scoring="mse").fit(small_inputs(model, n=20)).save(str(tmp_path / "d.keras"))
    assert cli.main(["export", plain, "--out", str(tmp_path / "d.onnx")]) == 0
    assert "warning" not in capsys.readouterr().err
