"""The anomaly detectors follow scikit-learn's and PyOD's conventions, and save in one file."""

import copy
import os
import warnings
import zipfile

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from keras_ae.anomaly import AnomalyDetector, TabularDetector, default_tabular_architecture
from model_check import small_model


@pytest.fixture(scope="module")
def model(mnist_sample):
    (x, y), _ = mnist_sample
    keras.utils.set_random_seed(0)
    m = small_model("undercomplete")
    m.compile(optimizer=keras.optimizers.Adam(2e-3))
    m.fit(x[y == 1], epochs=3, batch_size=32, verbose=0)
    return m


def test_fit_returns_self_and_sets_pyod_attributes(model, x_small):
    det = AnomalyDetector(model, percentile=90)
    assert det.fit(x_small, y=np.zeros(len(x_small))) is det  # y is accepted and ignored
    scores = det.decision_function(x_small)
    np.testing.assert_allclose(det.decision_scores_, scores, rtol=1e-6)
    assert det.threshold_ == pytest.approx(np.percentile(scores, 90))
    np.testing.assert_array_equal(det.labels_, (scores > det.threshold_).astype(int))
    np.testing.assert_array_equal(det.predict(x_small), det.labels_)
    np.testing.assert_array_equal(det.fit_predict(x_small), det.labels_)
    assert det.labels_.mean() == pytest.approx(0.1, abs=0.03)
    assert det.n_features_in_ == 784 and det.scoring_ == "mse"


def test_score_samples_is_the_opposite_of_decision_function(model, x_small):
    det = AnomalyDetector(model).fit(x_small)
    np.testing.assert_allclose(det.score_samples(x_small[:5]), -det.decision_function(x_small[:5]))


def test_predict_proba_rows_sum_to_one_and_follow_the_score(model, x_small, mnist_sample):
    det = AnomalyDetector(model).fit(x_small)
    (x, y), _ = mnist_sample
    probe = np.concatenate([x[y == 1][:10], x[y == 0][:10]])
    proba = det.predict_proba(probe)
    assert proba.shape == (20, 2) and np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(1), 1.0)
    order = np.argsort(det.decision_function(probe))
    assert np.all(np.diff(proba[order, 1]) >= -1e-12)  # monotone in the score
    assert proba[10:, 1].mean() > proba[:10, 1].mean()  # zeros look more abnormal to a model of ones


def test_get_params_set_params_and_clone(model, x_small):
    det = AnomalyDetector(model, scoring="bce", percentile=80)
    params = det.get_params()
    assert params == {"model": model, "scoring": "bce", "percentile": 80, "contamination": None,
                      "num_samples": 1}
    det.fit(x_small)
    twin = clone(det)
    assert twin is not det and twin.model is model  # clone shares the trained model
    assert not hasattr(twin, "threshold_")  # and is not fitted
    assert twin.set_params(percentile=50) is twin and twin.percentile == 50
    twin.fit(x_small)
    assert twin.threshold_ < det.threshold_
    twin.set_params(scoring="nope")
    with pytest.raises(ValueError, match="scoring"):
        twin.fit(x_small)


def test_not_fitted_error_before_fit(model, x_small):
    det = AnomalyDetector(model)
    for call in (det.predict, det.predict_proba):
        with pytest.raises(NotFittedError, match="not fitted"):
            call(x_small)
    with pytest.raises(NotFittedError):
        det.save("never.keras")
    assert not os.path.exists("never.keras")


def test_score_is_deprecated_but_still_gives_per_sample_scores(model, x_small):
    det = AnomalyDetector(model).fit(x_small)
    with pytest.warns(FutureWarning, match="decision_function"):
        old = det.score(x_small[:3])
    np.testing.assert_allclose(old, det.decision_function(x_small[:3]))
    with pytest.warns(FutureWarning, match="scoring="):
        assert AnomalyDetector(model, score="bce").scoring == "bce"
    with pytest.raises(TypeError, match="precentile"):
        AnomalyDetector(model, precentile=3)


def test_save_and_load_in_one_file(model, x_small, tmp_path):
    det = AnomalyDetector(model, scoring="bce", contamination=0.2).fit(x_small)
    path = str(tmp_path / "detector.keras")
    assert det.save(path) == path
    assert [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")] == []
    back = AnomalyDetector.load(path)
    assert back.threshold_ == det.threshold_ and back.scoring_ == "bce" and back.contamination == 0.2
    np.testing.assert_allclose(back.decision_function(x_small[:8]), det.decision_function(x_small[:8]),
                               rtol=1e-5)
    np.testing.assert_array_equal(back.predict(x_small), det.predict(x_small))
    # The same file is an ordinary Keras model file.
    plain = keras.models.load_model(path)
    np.testing.assert_allclose(plain.reconstruct(x_small[:2]), model.reconstruct(x_small[:2]), rtol=1e-5)


def test_load_refuses_plain_models_and_broken_files(model, tmp_path):
    plain = str(tmp_path / "plain.keras")
    model.save(plain)
    with pytest.raises(ValueError, match="without a fitted detector"):
        AnomalyDetector.load(plain)
    truncated = tmp_path / "cut.keras"
    truncated.write_bytes(open(plain, "rb").read()[:500])
    with pytest.raises(ValueError, match="not a readable detector file"):
        AnomalyDetector.load(str(truncated))
    with pytest.raises(FileNotFoundError, match="No detector file"):
        AnomalyDetector.load(str(tmp_path / "missing.keras"))


def test_a_failed_save_keeps_the_old_file(model, x_small, tmp_path):
    det = AnomalyDetector(model).fit(x_small)
    path = tmp_path / "d.keras"
    det.save(str(path))
    before = path.read_bytes()
    det.threshold_ = float("nan")
    with pytest.raises(ValueError):
        det._set_fitted(det.threshold_, det.decision_scores_)
    broken = clone(det).fit(x_small)
    broken._settings = lambda: {"threshold": object()}  # not JSON: fails before any file is written
    with pytest.raises(TypeError):
        broken.save(str(path))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["d.keras"]
    with zipfile.ZipFile(path) as z:
        assert "keras_ae_detector.json" in z.namelist()


# ---- tabular data ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def cancer():
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    benign = rng.permutation(np.flatnonzero(y == 1))  # benign (1) is the normal class
    train, held = benign[:200], benign[200:]
    x_eval = np.concatenate([x[held], x[y == 0]])
    is_anomaly = np.r_[np.zeros(len(held)), np.ones(int((y == 0).sum()))]
    return x[train], x_eval, is_anomaly


@pytest.mark.slow  # moved to the slow lane (.ci/run runs it) to keep the default run under 10 minutes
def test_tabular_detector_ranks_malignant_tumours_above_benign(cancer):
    from sklearn.metrics import roc_auc_score

    x_train, x_eval, is_anomaly = cancer
    assert np.abs(x_train).max() > 100  # raw features, far outside [0, 1]: standardized inside
    det = TabularDetector(epochs=60, random_state=0).fit(x_train)
    assert det.model.output_activation == "linear" and det.model.input_range is None
    assert det.model.latent_dim == default_tabular_architecture(30)[1] < 30
    auroc = roc_auc_score(is_anomaly, det.decision_function(x_eval))
    assert auroc > 0.8, auroc  # a random score gives 0.5
    assert det.score_map(x_eval[:4]).shape == (4, 30)
    assert det.lambdas_ is None and det.scoring_ == "knn+forest" and det.reference_.shape == (200, 30)
    power = TabularDetector(preprocessing="power", scoring="mse+mahalanobis", epochs=5, random_state=0).fit(x_train)
    assert power.lambdas_.shape == (30,) and power.reference_ is None
    plain = TabularDetector(preprocessing="standard", scoring="mse", epochs=20, random_state=0).fit(x_train)
    np.testing.assert_allclose(plain.mean_, x_train.mean(0))
    assert plain.lambdas_ is None
    np.testing.assert_allclose(plain.decision_function(x_eval[:5]),
                               plain.model.reconstruction_error(plain._standardize(x_eval[:5]), "mse"), rtol=1e-5)


def test_tabular_detector_saves_its_scaling(cancer, tmp_path):
    x_train, x_eval, _ = cancer
    det = TabularDetector(epochs=np.int64(5), random_state=np.int64(1)).fit(x_train)  # numpy values save too
    det.save(str(tmp_path / "t.keras"))
    back = TabularDetector.load(str(tmp_path / "t.keras"))
    assert isinstance(back, TabularDetector)
    np.testing.assert_allclose(back.decision_function(x_eval[:9]), det.decision_function(x_eval[:9]),
                               rtol=1e-5)
    assert back.threshold_ == det.threshold_
    assert isinstance(AnomalyDetector.load(str(tmp_path / "t.keras")), TabularDetector)
    assert clone(det).get_params() == det.get_params()
    assert back.get_params() == det.get_params() and back.epochs == 5 and back.random_state == 1


def _mean_knn(reference, query, k, leave_out_self=False):
    """Brute force: the mean distance of each query row to its k nearest reference rows (itself left out)."""
    d = np.sqrt(((query[:, None, :].astype("float64") - reference[None].astype("float64")) ** 2).sum(-1))
    if leave_out_self:
        np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, :k].mean(axis=1)


def test_tabular_default_score_is_the_knn_distance_plus_twice_the_isolation_forest():
    """The default score: kNN distance of the standardized row + 2 x scikit-learn's IsolationForest score, each
    divided by its interquartile range over the training rows (each left out of its own neighbours)."""
    from sklearn.ensemble import IsolationForest

    rng = np.random.default_rng(0)
    x, x_new = rng.normal(size=(40, 4)) * [1, 10, 100, 0.1], rng.normal(size=(7, 4)) * [1, 10, 100, 0.1]
    det = TabularDetector(epochs=1, patience=1, hidden_units=(4,), n_neighbors=3, random_state=4).fit(x)
    assert det.scoring_ == "knn+forest" and det.code_reference_ is None
    z, z_new = det._standardize(x), det._standardize(x_new)
    forest = IsolationForest(random_state=4).fit(z)
    knn_train, forest_train = _mean_knn(z, z, 3, True), -forest.score_samples(z)
    iqr = [np.subtract(*np.percentile(t, [75, 25])) for t in (knn_train, forest_train)]
    np.testing.assert_allclose(det.score_scales_, [iqr[0], iqr[1] / 2], rtol=1e-6)
    np.testing.assert_allclose(det.decision_scores_, knn_train / iqr[0] + 2 * forest_train / iqr[1], rtol=1e-5)
    expected = _mean_knn(z, z_new, 3) / iqr[0] - 2 * forest.score_samples(z_new) / iqr[1]
    np.testing.assert_allclose(det.decision_function(x_new), expected, rtol=1e-5)
    graph = det.scoring_model()(x_new.astype("float32"))  # the exportable graph: the same score
    np.testing.assert_allclose(keras.ops.convert_to_numpy(graph["score"]), expected, rtol=1e-4)


def test_tabular_score_is_the_knn_distance_plus_the_code_distance():
    """The former default: kNN distance of the standardized row + kNN distance of its code, each divided by its
    median over the training rows, each training row left out of its own neighbours (so the threshold is set
    on scores like those of new rows)."""
    rng = np.random.default_rng(0)
    x, x_new = rng.normal(size=(40, 4)) * [1, 10, 100, 0.1], rng.normal(size=(7, 4)) * [1, 10, 100, 0.1]
    det = TabularDetector(epochs=2, patience=1, hidden_units=(4,), n_neighbors=3, scoring="knn+code").fit(x)
    z, z_new = det._standardize(x), det._standardize(x_new)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    codes, codes_new = np.asarray(det.model_.encode(z)), np.asarray(det.model_.encode(z_new))
    knn_train, code_train = _mean_knn(z, z, 3, True), _mean_knn(codes, codes, 3, True)
    np.testing.assert_allclose(det.score_scales_, [np.median(knn_train), np.median(code_train)], rtol=1e-5)
    np.testing.assert_allclose(det.decision_scores_, knn_train / det.score_scales_[0]
                               + code_train / det.score_scales_[1], rtol=1e-5)
    expected = _mean_knn(z, z_new, 3) / det.score_scales_[0] + _mean_knn(codes, codes_new, 3) / det.score_scales_[1]
    np.testing.assert_allclose(det.decision_function(x_new), expected, rtol=1e-5)
    # The exportable graph (keras_ae.export) computes the same score.
    graph = det.scoring_model()(x_new.astype("float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(graph["score"]), expected, rtol=1e-4)
    mse = TabularDetector(epochs=2, patience=1, hidden_units=(4,), scoring="knn+mse").fit(x)
    z = mse._standardize(x_new)
    np.testing.assert_allclose(mse.decision_function(x_new), _mean_knn(mse.reference_, z, 5) / mse.score_scales_[0]
                               + mse.model_.reconstruction_error(z, "mse") / mse.score_scales_[1], rtol=1e-5)
    both = TabularDetector(epochs=1, patience=1, hidden_units=(4,), scoring="knn+code+forest").fit(x)
    z = both._standardize(x_new)
    codes_new = np.asarray(both.model_.encode(z))
    terms = [_mean_knn(both.reference_, z, 5), _mean_knn(both.code_reference_, codes_new, 5), both.forest_.score(z)]
    expected = sum(t / s for t, s in zip(terms, both.score_scales_))
    np.testing.assert_allclose(both.decision_function(x_new), expected, rtol=1e-5)
    graph = both.scoring_model()(x_new.astype("float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(graph["score"]), expected, rtol=1e-4)
    with pytest.raises(ValueError, match="`n_neighbors` must be smaller than the number of training samples"):
        TabularDetector(epochs=1, n_neighbors=40).fit(x)


def test_tabular_contamination_leaves_the_top_rows_out_of_the_reference():
    """PyOD's use: 10% of the training rows are anomalies. With contamination=0.1 the rows scored in the top 10%
    leave the kNN reference, and the threshold is the 90th percentile; None keeps every row."""
    rng = np.random.default_rng(0)
    normal, far = rng.normal(size=(54, 4)), rng.normal(size=(6, 4)) + 8.0
    x = np.concatenate([normal, far])
    kept = TabularDetector(epochs=2, patience=1, hidden_units=(4,)).fit(x)
    assert len(kept.reference_) == 60
    det = TabularDetector(epochs=2, patience=1, hidden_units=(4,), contamination=0.1).fit(x)
    assert len(det.reference_) == 54
    z_far = det._standardize(far)
    assert not any(np.any(np.all(np.isclose(det.reference_, row, atol=1e-6), axis=1)) for row in z_far)
    assert det.threshold_ == pytest.approx(np.percentile(det.decision_scores_, 90))
    assert det.labels_[-6:].tolist() == [1] * 6 and det.labels_[:54].sum() == 0
    # The far rows are no longer each other's neighbours: they score higher than with the whole reference.
    assert det.decision_scores_[-6:].min() / np.median(det.decision_scores_[:54]) > (
        kept.decision_scores_[-6:].min() / np.median(kept.decision_scores_[:54]))


def test_tabular_training_shows_progress(capsys):
    """verbose=2 (what `keras-ae train --data t.csv` passes when stdout is not a terminal): a line per epoch."""
    x = np.random.default_rng(0).normal(size=(30, 4))
    TabularDetector(epochs=2, patience=1, hidden_units=(4,), verbose=2).fit(x)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "val_loss" in out
    quiet = TabularDetector(epochs=2, patience=1, hidden_units=(4,), validation_fraction=0).fit(x)
    assert "Epoch" not in capsys.readouterr().out
    # validation_fraction=0 (`keras-ae train --validation-split 0`): no row held out, early stopping on the loss
    assert "val_loss" not in quiet.history_ and len(quiet.history_["loss"]) == 2


def test_tabular_detector_errors(cancer):
    x_train, _, _ = cancer
    with pytest.raises(NotFittedError):
        TabularDetector().decision_function(x_train)
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_features\)"):
        TabularDetector().fit(x_train[:, 0])
    bad = x_train.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="1 NaN"):
        TabularDetector().fit(bad)
    with pytest.raises(ValueError, match="at least 10"):
        TabularDetector().fit(x_train[:5])
    with pytest.raises(ValueError, match="validation_fraction"):
        TabularDetector(validation_fraction=0.9)
    with pytest.raises(ValueError, match="preprocessing"):
        TabularDetector(preprocessing="quantile")
    with pytest.raises(ValueError, match="scoring"):
        TabularDetector(scoring="nll")
    det = TabularDetector(epochs=2).fit(x_train)
    with pytest.raises(ValueError, match="must have 30 features"):
        det.decision_function(x_train[:, :10])
    with warnings.catch_warnings():
        # Nothing of keras-ae's or scikit-learn's (e.g. feature names); the backends' own numpy-2
        # DeprecationWarnings are not ours to fail on.
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("error", FutureWarning)
        det.predict(x_train[:3])


# ---- RestorationDetector: restoring rotated images of the normal class ------------------------------

@pytest.fixture(scope="module")
def restoration(mnist_sample):
    from keras_ae.anomaly import RestorationDetector

    (x, y), _ = mnist_sample
    return RestorationDetector(hidden_units=(128,), latent_dim=16, epochs=4, random_state=0).fit(x[y == 7])


def test_restoration_detector_ranks_other_digits_above_the_normal_one(restoration, mnist_sample):
    _, (xt, yt) = mnist_sample
    report = restoration.evaluate(xt, (yt != 7).astype(int))
    assert report["auroc"] > 0.85, report  # 0.91 on TF, JAX and PyTorch with these 4 epochs (0.90 squared error)
    assert restoration.rotation_medians_.shape == (4,) and restoration.image_shape_ == (28, 28, 1)
    # The three input forms of the same images score the same.
    flat = restoration.decision_function(xt[:20])
    np.testing.assert_allclose(restoration.decision_function(xt[:20].reshape(-1, 28, 28)), flat, rtol=1e-6)
    np.testing.assert_allclose(restoration.decision_function(xt[:20].reshape(-1, 28, 28, 1)), flat, rtol=1e-6)
    assert restoration.score_map(xt[:3]).shape == (3, 28, 28, 1)


def test_restoration_detector_saves_and_loads(restoration, mnist_sample, tmp_path):
    from keras_ae.anomaly import RestorationDetector

    _, (xt, _) = mnist_sample
    path = restoration.save(str(tmp_path / "restore.keras"))
    back = AnomalyDetector.load(path)
    assert type(back) is RestorationDetector and back.threshold_ == restoration.threshold_
    # It reports the settings it was trained with, not the defaults, so `clone` refits the same detector.
    assert back.get_params() == {**restoration.get_params(), "verbose": 0}
    assert back.get_params()["hidden_units"] == (128,) and back.get_params()["epochs"] == 4
    np.testing.assert_allclose(back.decision_function(xt[:50]), restoration.decision_function(xt[:50]), rtol=1e-5)
    with pytest.raises(ValueError, match="holds a RestorationDetector, not a TabularDetector"):
        TabularDetector.load(path)


def test_restoration_detector_smoothing(restoration, mnist_sample, tmp_path):
    """The score smooths the error map with a Gaussian before squaring it; 0 scores the raw error,
    and the setting survives saving (a detector saved before it existed loads with 0)."""
    from scipy.ndimage import gaussian_filter

    _, (xt, _) = mnist_sample
    images = xt[:8].reshape(-1, 28, 28, 1)
    raw = restoration.model.reconstruct(xt[:8]).reshape(images.shape) - images
    expected = gaussian_filter(raw, sigma=(0, restoration.smoothing, restoration.smoothing, 0)) ** 2
    np.testing.assert_allclose(restoration.score_map(xt[:8]), expected, rtol=1e-5, atol=1e-9)
    assert restoration.smoothing == 1.0
    unsmoothed = clone(restoration).set_params(smoothing=0.0)
    unsmoothed.model, unsmoothed.image_shape_ = restoration.model, restoration.image_shape_
    np.testing.assert_allclose(unsmoothed.score_map(xt[:8]), raw ** 2, rtol=1e-6)
    assert not np.allclose(unsmoothed._rotation_errors(images), restoration._rotation_errors(images))
    with pytest.raises(ValueError, match=r"smoothing.*Received: smoothing=-1"):
        type(restoration)(smoothing=-1)

    back = AnomalyDetector.load(restoration.save(str(tmp_path / "smooth.keras")))
    assert back.smoothing == 1.0
    settings = restoration._settings()
    del settings["restoration"]["smoothing"]
    assert type(restoration)._from_settings(restoration.model, settings).smoothing == 0.0


def test_restoration_detector_cosine_and_squared_error(restoration, mnist_sample, tmp_path):
    """error="cosine" (the default) scores one minus the cosine similarity of the smoothed upright and
    restored images, per rotation; error="squared" the mean of the smoothed error map squared. Both survive
    saving, and a detector saved before `error` existed loads with the squared error."""
    from scipy.ndimage import gaussian_filter

    _, (xt, yt) = mnist_sample
    images = xt[:8].reshape(-1, 28, 28, 1)
    assert restoration.error == "cosine"
    errors = restoration._rotation_errors(images)
    smooth = lambda a: gaussian_filter(a, sigma=(0, 1.0, 1.0, 0)).reshape(len(a), -1)  # noqa: E731
    squared = copy.copy(restoration).set_params(error="squared")  # the fitted model, compared another way
    squared_errors = squared._rotation_errors(images)
    for k in range(4):
        restored = restoration.model.reconstruct(np.rot90(images, k, axes=(1, 2)).reshape(8, -1))
        u, r = smooth(images), smooth(restored.reshape(images.shape))
        expected = 1 - np.sum(u * r, 1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(r, axis=1))
        np.testing.assert_allclose(errors[k], expected, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(squared_errors[k], np.mean((r - u) ** 2, axis=1), rtol=1e-4, atol=1e-9)
    assert np.all(errors >= -1e-12)
    # A restoration twice as bold is no error at all for the cosine, a large one for the squared error.
    bolder = copy.copy(restoration)
    bolder._restored = lambda im, k=0: 2 * im
    np.testing.assert_allclose(bolder._rotation_errors(images), 0, atol=1e-9)
    bolder.error = "squared"
    np.testing.assert_allclose(bolder._rotation_errors(images), np.mean(smooth(images) ** 2, axis=1)[None].repeat(4, 0),
                               rtol=1e-4)
    with pytest.raises(ValueError, match=r"`error` must be one of \('cosine', 'squared'\). Received: error='l1'"):
        type(restoration)(error="l1")
    with pytest.raises(ValueError, match=r"Received: error='l1'"):  # set_params does not check; scoring does
        copy.copy(restoration).set_params(error="l1").decision_function(xt[:2])
    with pytest.raises(ValueError, match=r"Received: error='l1'"):  # nor does saving write a file load rejects
        copy.copy(restoration).set_params(error="l1").save(str(tmp_path / "l1.keras"))
    assert not os.path.exists(tmp_path / "l1.keras")

    squared.rotation_medians_ = np.median(squared_errors, axis=1)
    squared._fit_threshold(squared._raw_scores(xt[:50]))
    back = AnomalyDetector.load(squared.save(str(tmp_path / "squared.keras")))
    assert back.error == "squared"
    assert AnomalyDetector.load(restoration.save(str(tmp_path / "cosine.keras"))).error == "cosine"
    np.testing.assert_allclose(back.decision_function(xt[:20]), squared.decision_function(xt[:20]), rtol=1e-5)
    settings = restoration._settings()
    del settings["restoration"]["error"]
    assert type(restoration)._from_settings(restoration.model, settings).error == "squared"


def test_restoration_detector_errors(restoration):
    from keras_ae.anomaly import RestorationDetector

    with pytest.raises(NotFittedError):
        RestorationDetector().decision_function(np.zeros((2, 784), "float32"))
    with pytest.raises(ValueError, match=r"square images.*Received: shape=\(2, 10, 12\)"):
        restoration.decision_function(np.zeros((2, 10, 12), "float32"))
    with pytest.raises(ValueError, match=r"images of shape \(28, 28, 1\), as in fit. Received: \(16, 16, 1\)"):
        restoration.decision_function(np.zeros((2, 256), "float32"))
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        restoration.decision_function(np.full((2, 784), 255.0, "float32"))
    with pytest.raises(ValueError, match="NaN"):
        restoration.decision_function(np.full((2, 784), np.nan, "float32"))
    with pytest.raises(ValueError, match="at least 20 normal images"):
        RestorationDetector(epochs=1).fit(np.zeros((5, 784), "float32"))
    with pytest.raises(ValueError, match="calibration_fraction"):
        RestorationDetector(calibration_fraction=0.9)
    assert clone(restoration).get_params() == restoration.get_params()
