"""A detector file is checked when it is loaded: its kind, its settings' structure, types and shapes, and its
weights. A tampered or NaN file gives one ValueError naming the file and the field (or the weight)."""

import json
import os
import zipfile

import keras
import numpy as np
import pytest

from keras_ae.anomaly import AnomalyDetector, TabularDetector, describe_detector_file
from model_check import small_model

MEMBER = "keras_ae_detector.json"


def rewrite(source, target, edit):
    """Copy the detector file `source` to `target`, its settings replaced by `edit(settings)` (JSON text if
    `edit` returns a string)."""
    with zipfile.ZipFile(source) as z:
        members = {name: z.read(name) for name in z.namelist()}
    settings = edit(json.loads(members[MEMBER]))
    members[MEMBER] = settings if isinstance(settings, str) else json.dumps(settings)
    with zipfile.ZipFile(target, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return str(target)


def edited(**changes):
    """An `edit` for `rewrite`: set each field (dotted for a section), or delete it if the value is `...`."""
    def edit(settings):
        for field, value in changes.items():
            *parents, key = field.split("__")
            where = settings
            for parent in parents:
                where = where[parent]
            if value is ...:
                del where[key]
            else:
                where[key] = value
        return settings

    return edit


@pytest.fixture(scope="module")
def plain_file(tmp_path_factory, mnist_sample):
    (x, _), _ = mnist_sample
    path = str(tmp_path_factory.mktemp("plain") / "detector.keras")
    return AnomalyDetector(small_model("undercomplete"), scoring="bce").fit(x[:64]).save(path)


@pytest.fixture(scope="module")
def tabular_file(tmp_path_factory):
    x = np.random.default_rng(0).lognormal(size=(40, 6))
    path = str(tmp_path_factory.mktemp("tabular") / "table.keras")
    return TabularDetector(epochs=2, patience=1, hidden_units=(8,), latent_dim=2, preprocessing="power",
                           scoring="mse+mahalanobis").fit(x).save(path)  # the former defaults: no reference rows


@pytest.fixture(scope="module")
def knn_file(tmp_path_factory):
    x = np.random.default_rng(1).normal(size=(30, 5))
    path = str(tmp_path_factory.mktemp("knn") / "knn.keras")
    return TabularDetector(epochs=2, patience=1, hidden_units=(8,), latent_dim=2,
                           scoring="knn+code").fit(x).save(path)  # a format 3 file, as the former default wrote


@pytest.fixture(scope="module")
def forest_file(tmp_path_factory):
    x = np.random.default_rng(2).normal(size=(40, 5))
    path = str(tmp_path_factory.mktemp("forest") / "forest.keras")
    return TabularDetector(epochs=1, patience=1, hidden_units=(8,), latent_dim=2).fit(x).save(path)


def test_a_nan_weight_is_refused_at_load(plain_file, tmp_path):
    """It used to load, score every sample NaN, and call every one normal."""
    poisoned = keras.models.load_model(plain_file)
    weights = poisoned.get_weights()
    weights[-1] = np.full_like(weights[-1], np.nan)
    poisoned.set_weights(weights)
    path = str(tmp_path / "nan.keras")
    keras.Model.save(poisoned, path)  # Keras's own save: keras-ae's refuses NaN weights
    with zipfile.ZipFile(plain_file) as z, zipfile.ZipFile(path, "a") as out:
        out.writestr(MEMBER, z.read(MEMBER))
    with pytest.raises(ValueError, match=r"detector file '.*nan\.keras' has \d+ NaN or infinite value\(s\) in "
                                         r"weight '[^']+'"):
        AnomalyDetector.load(path)


@pytest.mark.parametrize("edit, message", [
    (edited(threshold="abc"), r"settings field 'threshold' must be a finite number. Received: 'abc'"),
    (edited(threshold=...), r"settings field 'threshold' is missing"),
    (edited(threshold=None), r"settings field 'threshold' must be a finite number. Received: None"),
    (lambda s: json.dumps(list(s)), r"the settings must be a JSON object. Received: a JSON list"),
    (lambda s: "[1, 2]", r"the settings must be a JSON object"),
    (edited(tabular={"mean": [0.0]}), r"settings field 'tabular' is not a field of a ReconstructionDetector file"),
    (edited(decision_scores=[]), r"settings field 'decision_scores' must be a non-empty list of numbers"),
    (edited(decision_scores="many"), r"settings field 'decision_scores' must be a list of numbers"),
    (edited(decision_scores=[1.0, None]), r"settings field 'decision_scores' must be finite numbers"),
    (edited(percentile=300), r"settings field 'percentile' must be a finite number in \[0.0, 100.0\]"),
    (edited(contamination="lots"), r"settings field 'contamination' must be null, 'auto' or a number"),
    (edited(num_samples=0), r"settings field 'num_samples' must be an integer >= 1. Received: 0"),
    (edited(scoring="l1"), r"settings field 'scoring' must be one of \['bce', 'mse', 'neg_elbo'\]"),
    (edited(scoring="neg_elbo"), r"settings field 'scoring' must be 'mse' or 'bce' for its "),
    (edited(kind="ForestDetector"), r"settings field 'kind' must be one of \["),
    (edited(kind=...), r"settings field 'kind' is missing"),
    (edited(format=99), r"settings format 99 was written by a newer keras-ae"),
])
def test_an_edited_plain_detector_file_names_the_field(plain_file, tmp_path, edit, message):
    path = rewrite(plain_file, tmp_path / "edited.keras", edit)
    with pytest.raises(ValueError, match=r"^" + str(tmp_path / "edited.keras").replace("\\", "\\\\") + ": " + message):
        AnomalyDetector.load(path)


@pytest.mark.parametrize("edit, message", [
    (edited(tabular__code_precision=[[1.0, 0.0, 0.0]] * 3),
     r"settings field 'tabular.code_precision' must be a list of numbers of shape \(2, 2\). Received: shape \(3, 3\)"),
    (edited(tabular__code_precision=[[1.0, 0.0], [0.0, "x"]]), r"'tabular.code_precision' must be a list of numbers"),
    (edited(tabular__mean=[0.0] * 4), r"settings field 'tabular.scale' must be a list of numbers of shape \(4,\)"),
    (edited(tabular__mean=[0.0] * 4, tabular__scale=[1.0] * 4, tabular__lambdas=[1.0] * 4),
     r"settings field 'tabular.mean' must be 6 values, one per input of the file's model. Received: 4 values"),
    (edited(tabular__code_mean=[0.0] * 3, tabular__code_precision=np.eye(3).tolist()),
     r"settings field 'tabular.code_mean' must be 2 values, one per code value of the file's model"),
    (edited(tabular__scale=[1.0] * 5 + [0.0]), r"settings field 'tabular.scale' must be finite numbers >= "),
    (edited(tabular__lambdas=None), r"settings field 'tabular.lambdas' must be a list with preprocessing 'power'"),
    (edited(tabular__score_scales=...), r"settings field 'tabular.score_scales' is missing"),
    (edited(tabular__extra=1), r"settings field 'tabular.extra' is not a field of the 'tabular' section"),
    (edited(tabular=[1, 2]), r"settings field 'tabular' must be a JSON object"),
    (edited(tabular=...), r"settings field 'tabular' is missing"),
    (edited(restoration={}), r"settings field 'restoration' is not a field of a TabularDetector file"),
    (edited(params__epochs="abc"), r"settings field 'params.epochs' is invalid: `epochs` must be a positive"),
    (edited(params__depth=3), r"settings field 'params.depth' is not a saved setting of a TabularDetector"),
    (edited(scoring="mse+l1"), r"settings field 'scoring' must be one of \['knn\+code', 'knn\+code\+forest', "
                               r"'knn\+forest', 'knn\+mse', 'mse', 'mse\+mahalanobis'\]"),
])
def test_an_edited_tabular_detector_file_names_the_field(tabular_file, tmp_path, edit, message):
    path = rewrite(tabular_file, tmp_path / "edited.keras", edit)
    for load in (AnomalyDetector.load, TabularDetector.load):
        with pytest.raises(ValueError, match=message):
            load(path)


def test_the_kind_is_recorded_and_checked(plain_file, tabular_file, tmp_path):
    from keras_ae.anomaly import ReconstructionDetector

    with zipfile.ZipFile(tabular_file) as z:
        assert json.loads(z.read(MEMBER))["kind"] == "TabularDetector"
    with pytest.raises(ValueError, match="holds a ReconstructionDetector, not a TabularDetector"):
        TabularDetector.load(plain_file)
    with pytest.raises(ValueError, match="holds a TabularDetector, not a ReconstructionDetector"):
        ReconstructionDetector.load(tabular_file)
    assert type(ReconstructionDetector.load(plain_file)) is ReconstructionDetector
    assert type(AnomalyDetector.load(plain_file)) is AnomalyDetector
    # A file that says it is a TabularDetector is checked as one, whatever else it holds.
    lying = rewrite(plain_file, tmp_path / "lying.keras", edited(kind="TabularDetector"))
    with pytest.raises(ValueError, match="settings field 'params' is missing"):
        AnomalyDetector.load(lying)


def test_files_written_before_the_kind_was_recorded_still_load(plain_file, tabular_file, tmp_path, mnist_sample):
    (x, _), _ = mnist_sample
    old_plain = rewrite(plain_file, tmp_path / "old_plain.keras", edited(format=1, kind=...))
    back = AnomalyDetector.load(old_plain)
    assert back.scoring_ == "bce" and back.threshold_ == AnomalyDetector.load(plain_file).threshold_
    old_table = rewrite(tabular_file, tmp_path / "old_table.keras", edited(format=1, kind=..., params=...,
                                                                           num_samples=1))
    assert type(AnomalyDetector.load(old_table)) is TabularDetector
    assert TabularDetector.load(old_table).epochs == TabularDetector().epochs  # no saved settings: the defaults
    both = rewrite(tabular_file, tmp_path / "both.keras", edited(format=1, kind=..., restoration={}))
    with pytest.raises(ValueError, match=r"both\.keras: settings fields \['tabular', 'restoration'\] belong to "
                                         "different kinds"):
        AnomalyDetector.load(both)


def test_describe_detector_file(plain_file, tabular_file, tmp_path):
    assert describe_detector_file(plain_file) == {
        "kind": "ReconstructionDetector", "scoring": "bce", "format": 2, "percentile": 95.0, "contamination": None,
        "threshold": AnomalyDetector.load(plain_file).threshold_}
    info = describe_detector_file(tabular_file)
    assert info["kind"] == "TabularDetector" and info["scoring"] == "mse+mahalanobis"
    model = str(tmp_path / "model.keras")
    keras.models.load_model(plain_file).save(model)
    assert describe_detector_file(model) is None  # a plain model file
    (tmp_path / "notes.txt").write_text("hello")
    assert describe_detector_file(str(tmp_path / "notes.txt")) is None  # not a zip: Keras says what it is
    with pytest.raises(ValueError, match=r"edited\.keras: settings field 'threshold' must be a finite number"):
        describe_detector_file(rewrite(plain_file, tmp_path / "edited.keras", edited(threshold="abc")))
    with pytest.raises(FileNotFoundError):
        describe_detector_file(str(tmp_path / "missing.keras"))


def test_save_never_writes_a_file_load_refuses(mnist_sample, tmp_path):
    (x, _), _ = mnist_sample
    det = AnomalyDetector(small_model("undercomplete")).fit(x[:64])
    det.decision_scores_ = np.array([])
    with pytest.raises(ValueError, match="'decision_scores' must be a non-empty list"):
        det.save(str(tmp_path / "empty.keras"))
    assert not os.path.exists(tmp_path / "empty.keras")


def _replaced(source, target, name, data):
    """A copy of the zip `source` with its member `name` replaced by `data` (left out if `None`)."""
    with zipfile.ZipFile(source) as z:
        members = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(target, "w") as z:
        for n, d in members.items():
            if n != name:
                z.writestr(n, d)
            elif data is not None:
                z.writestr(n, data)
    return str(target)


def _npy(array):
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_a_knn_detector_file_holds_its_reference_rows(knn_file, tmp_path):
    """Format 3: the kNN reference rows are a .npy member beside the settings; a missing or wrong member is
    refused naming the file and the member, and an older keras-ae is told to upgrade."""
    back = TabularDetector.load(knn_file)
    assert back.scoring_ == "knn+code" and back.reference_.shape == (30, 5) and back.reference_.dtype == np.float32
    assert describe_detector_file(knn_file)["format"] == 3
    reference = "keras_ae_detector_reference.npy"
    with zipfile.ZipFile(knn_file) as z:
        assert reference in z.namelist()
    with pytest.raises(ValueError, match=r"missing\.keras: the member 'keras_ae_detector_reference\.npy' .* is missing"):
        TabularDetector.load(_replaced(knn_file, tmp_path / "missing.keras", reference, None))
    with pytest.raises(ValueError, match=r"must be a float32 array of shape \(30, 5\), finite. Received: shape \(29, 5\)"):
        TabularDetector.load(_replaced(knn_file, tmp_path / "short.keras", reference,
                                       _npy(np.zeros((29, 5), "float32"))))
    with pytest.raises(ValueError, match="NaN or infinite"):
        TabularDetector.load(_replaced(knn_file, tmp_path / "nan.keras", reference,
                                       _npy(np.full((30, 5), np.nan, "float32"))))
    with pytest.raises(ValueError, match="'tabular.reference_rows' must be"):
        AnomalyDetector.load(rewrite(knn_file, tmp_path / "rows.keras", edited(tabular__reference_rows=...)))
    with pytest.raises(ValueError, match="settings format 5 was written by a newer keras-ae"):
        AnomalyDetector.load(rewrite(knn_file, tmp_path / "newer.keras", edited(format=5)))


def test_a_forest_detector_file_holds_its_trees_as_arrays(forest_file, tmp_path):
    """Format 4: the default score's isolation forest is three .npy members (no pickle), checked on load; a
    missing or wrong member, or a forest shape that does not fit, is refused naming the file and the member."""
    back = TabularDetector.load(forest_file)
    assert back.scoring_ == "knn+forest" and describe_detector_file(forest_file)["format"] == 4
    x = np.random.default_rng(3).normal(size=(6, 5))
    np.testing.assert_array_equal(back.decision_function(x), TabularDetector.load(forest_file).decision_function(x))
    shape = back.forest_.settings()
    trees, depth = shape["trees"], shape["depth"]
    features = "keras_ae_detector_forest_features.npy"
    with pytest.raises(ValueError, match=r"gone\.keras: the member 'keras_ae_detector_forest_leaf_values\.npy' "
                                         r"\(the isolation forest's leaf values\) is missing"):
        TabularDetector.load(_replaced(forest_file, tmp_path / "gone.keras",
                                       "keras_ae_detector_forest_leaf_values.npy", None))
    wide = back.forest_.features.copy()
    wide[0, 0] = 5
    with pytest.raises(ValueError, match=rf"wide\.keras: the member '{features}' must be a int32 array of shape "
                                         rf"\({trees}, {2 ** depth - 1}\), values from 0 to 4. Received: .* to 5"):
        TabularDetector.load(_replaced(forest_file, tmp_path / "wide.keras", features, _npy(wide)))
    with pytest.raises(ValueError, match="must be a float32 array .* Received: shape .* dtype float64"):
        TabularDetector.load(_replaced(forest_file, tmp_path / "f64.keras", "keras_ae_detector_forest_thresholds.npy",
                                       _npy(back.forest_.thresholds.astype("float64"))))
    nan = back.forest_.leaf_values.copy()
    nan[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"leaf_values\.npy' must be a float64 array .*, finite and >= 0"):
        TabularDetector.load(_replaced(forest_file, tmp_path / "nan.keras", "keras_ae_detector_forest_leaf_values.npy",
                                       _npy(nan)))
    with pytest.raises(ValueError, match=rf"must be a int32 array of shape \({trees + 1}, "):
        AnomalyDetector.load(rewrite(forest_file, tmp_path / "trees.keras",
                                     edited(tabular__forest={**shape, "trees": trees + 1})))
    for edit, message in ((edited(tabular__forest=...), "'tabular.forest' must be the isolation forest's shape"),
                          (edited(tabular__forest={**shape, "depth": 40}),
                           "'tabular.forest.depth' must be an integer from 0 to 16"),
                          (edited(format=3), "'format' must be 4 or more with scoring 'knn\\+forest'")):
        with pytest.raises(ValueError, match=message):
            AnomalyDetector.load(rewrite(forest_file, tmp_path / "edited.keras", edit))
