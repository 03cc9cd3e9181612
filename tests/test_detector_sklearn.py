"""The detectors against scikit-learn's contract: `check_estimator` on `TabularDetector`, settings checked
in `fit`, feature names, a numeric `score`, `sample_weight`, and the NaN policy."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from keras_ae.anomaly import AnomalyDetector, BaseDetector, ReconstructionDetector, TabularDetector
from model_check import small_model


def tiny(**kw):
    """A TabularDetector that trains in a moment (scikit-learn's checks fit it dozens of times)."""
    return TabularDetector(**{"epochs": 2, "patience": 1, "hidden_units": (4,), **kw})


EXPECTED_FAILURES = {
    "check_do_not_raise_errors_in_init_or_set_params":
        "a bad preprocessing, scoring, validation_fraction, percentile or contamination is refused at "
        "construction too, as before (tests/test_detector.py keeps that contract); fit checks every setting",
    "check_sample_weight_equivalence_on_dense_data":
        "mini-batch training: a weight of 2 is not the same as a repeated row (other batches, other steps)",
    "check_methods_subset_invariance":
        "a float32 model: scoring a subset rounds differently from the whole batch, by about 1e-7 relative, "
        "more than the check's rtol=1e-7",
}


@pytest.mark.slow  # about 80 s on TensorFlow: 48 checks, most of them train a model
@parametrize_with_checks([tiny()], expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_tabular_detector_passes_sklearn_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", [
    checks.check_no_attributes_set_in_init, checks.check_get_params_invariance, checks.check_fit_score_takes_y,
    checks.check_n_features_in_after_fitting, checks.check_dataframe_column_names_consistency,
    checks.check_fit2d_1sample, checks.check_fit2d_1feature, checks.check_fit2d_predict1d,
    checks.check_estimators_empty_data_messages, checks.check_complex_data, checks.check_dtype_object,
    checks.check_estimator_sparse_array, checks.check_estimators_nan_inf, checks.check_pipeline_consistency,
    checks.check_fit_check_is_fitted, checks.check_sample_weights_shape,
], ids=lambda c: c.__name__)
def test_tabular_detector_passes_the_main_sklearn_checks(check):
    """The checks the issue found failing, in the default run (the whole suite above is marked slow)."""
    check("TabularDetector", tiny())


def test_predict_gives_pyod_labels_and_is_no_outlier_mixin():
    from sklearn.base import OutlierMixin

    assert not issubclass(TabularDetector, OutlierMixin) and not issubclass(ReconstructionDetector, OutlierMixin)
    x = np.random.default_rng(0).normal(size=(40, 4))
    labels = tiny().fit(x).predict(x)
    assert set(np.unique(labels)) <= {0, 1}


# ---- settings are checked in fit, before any training --------------------------------------------------------

@pytest.mark.parametrize("setting, value", [
    ("epochs", 0), ("epochs", -3), ("epochs", 2.5), ("batch_size", 0), ("batch_size", -1),
    ("random_state", "abc"), ("random_state", -1), ("random_state", 1.5), ("patience", -1),
    ("learning_rate", 0), ("hidden_units", "wide"), ("latent_dim", 0), ("verbose", 7),
])
def test_bad_settings_are_refused_in_fit_before_training(setting, value, monkeypatch):
    import keras_ae.training

    def never(*args, **kwargs):
        raise AssertionError("trained before checking the settings")

    monkeypatch.setattr(keras_ae.training, "fit_model", never)
    det = TabularDetector(**{setting: value})  # scikit-learn's convention: __init__ only stores them
    with pytest.raises(ValueError, match=rf"`{setting}`.*Received: {setting}="):
        det.fit(np.random.default_rng(0).normal(size=(30, 4)))
    assert not hasattr(det, "threshold_") and not hasattr(det, "model_")


def test_random_state_none_and_numpy_integers_are_accepted():
    x = np.random.default_rng(0).normal(size=(30, 4))
    assert tiny(random_state=None).fit(x).threshold_ > 0
    assert tiny(random_state=np.int32(3), batch_size=np.int64(8)).fit(x).threshold_ > 0


# ---- fitted attributes, feature names, sample weights -----------------------------------------------------------

def test_model_is_a_fitted_attribute_with_the_old_name_kept():
    det = tiny()
    assert "model" not in det.get_params() and not hasattr(det, "model")
    with pytest.raises(NotFittedError):
        det.predict(np.zeros((3, 4)))
    det.fit(np.random.default_rng(0).normal(size=(30, 4)))
    assert det.model is det.model_ and det.n_features_in_ == 4


def test_feature_names_are_checked_as_in_sklearn(tmp_path):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.lognormal(size=(40, 4)), columns=["area", "count", "depth", "width"])
    det = tiny().fit(frame)
    np.testing.assert_array_equal(det.feature_names_in_, ["area", "count", "depth", "width"])
    scores = det.decision_function(frame)
    reordered = frame[["count", "area", "depth", "width"]]
    with pytest.raises(ValueError, match="feature names"):
        det.decision_function(reordered)
    with pytest.raises(ValueError, match="feature names"):
        det.predict(reordered)
    back = TabularDetector.load(det.save(str(tmp_path / "names.keras")))
    np.testing.assert_array_equal(back.feature_names_in_, det.feature_names_in_)
    np.testing.assert_allclose(back.decision_function(frame), scores, rtol=1e-5)
    with pytest.raises(ValueError, match="feature names"):
        back.decision_function(reordered)


def test_sample_weight_weighs_the_training():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4))
    # A score with the autoencoder in it: the default's forest grows on all 40 rows (its subsamples hold 256)
    # whatever their weights, and its kNN reference is every row of positive weight.
    plain = tiny(epochs=5, scoring="knn+code+forest").fit(x)
    np.testing.assert_allclose(tiny(epochs=5, scoring="knn+code+forest").fit(x, sample_weight=np.ones(40))
                               .decision_function(x), plain.decision_function(x), rtol=1e-4)
    weights = np.r_[np.full(20, 10.0), np.full(20, 0.1)]
    weighted = tiny(epochs=5, scoring="knn+code+forest").fit(x, sample_weight=weights)
    assert not np.allclose(weighted.decision_function(x), plain.decision_function(x))
    with pytest.raises(ValueError, match=r"one weight per sample, shape \(40,\)"):
        tiny().fit(x, sample_weight=np.ones(39))
    with pytest.raises(ValueError, match="not all zero"):
        tiny().fit(x, sample_weight=np.zeros(40))


def test_contamination_auto_means_the_percentile():
    x = np.random.default_rng(0).normal(size=(40, 4))
    a = tiny(contamination="auto", percentile=80).fit(x)
    assert a.threshold_ == pytest.approx(np.percentile(a.decision_scores_, 80))
    with pytest.raises(ValueError, match="contamination"):
        TabularDetector(contamination="sometimes")


# ---- score(X, y=None) is a number: model selection works ---------------------------------------------------------

def test_score_is_a_number_and_grid_search_runs():
    from sklearn.model_selection import GridSearchCV

    x = np.random.default_rng(0).normal(size=(60, 4))
    det = tiny().fit(x)
    assert isinstance(det.score(x), float) and det.score(x) == pytest.approx(np.mean(det.score_samples(x)))
    search = GridSearchCV(tiny(), {"preprocessing": ["power", "standard"]}, cv=2).fit(x)
    assert search.best_params_["preprocessing"] in ("power", "standard")


def test_reconstruction_score_keeps_its_deprecated_per_sample_form(x_small):
    det = ReconstructionDetector(small_model("undercomplete")).fit(x_small)
    with pytest.warns(FutureWarning, match="mean of score_samples"):
        assert det.score(x_small[:4]).shape == (4,)


# ---- a NaN score is never normal ----------------------------------------------------------------------------------

def _poison(model):
    weights = model.get_weights()
    weights[-1] = np.full_like(weights[-1], np.nan)  # the output bias: every output is NaN
    model.set_weights(weights)


def test_a_nan_score_is_refused_not_called_normal(x_small):
    """Fitted on a sound model whose weights then turn NaN: `predict` used to call every sample normal."""
    det = AnomalyDetector(small_model("undercomplete")).fit(x_small)
    _poison(det.model)
    for method in (det.predict, det.decision_function, det.predict_proba, det.score_samples):
        with pytest.raises(ValueError, match=r"NaN score for 64 of 64 sample\(s\) \(the first at index 0\)"):
            method(x_small)
    with pytest.raises(ValueError, match="NaN score"):
        det.evaluate(x_small, np.r_[np.zeros(32), np.ones(32)])


def test_a_nan_score_is_refused_by_a_trained_detector():
    x = np.random.default_rng(0).normal(size=(30, 4))
    for scoring in ("knn+code", "knn+mse", "mse+mahalanobis"):
        det = tiny(scoring=scoring).fit(x)
        _poison(det.model_)
        if scoring == "knn+code":  # its score never reads the decoder: NaN codes, from the encoder's weights
            det.model_.set_weights([np.full_like(w, np.nan) for w in det.model_.get_weights()])
        with pytest.raises(ValueError, match="TabularDetector gives a NaN score"):
            det.predict(x)


# ---- the hierarchy -------------------------------------------------------------------------------------------------

def test_anomaly_detector_is_still_the_name_every_detector_answers_to(x_small):
    det = AnomalyDetector(small_model("undercomplete"))
    assert isinstance(det, ReconstructionDetector) and isinstance(det, BaseDetector)
    assert isinstance(tiny(), AnomalyDetector) and issubclass(TabularDetector, AnomalyDetector)
    assert not isinstance(tiny(), ReconstructionDetector)
    assert det.score_kind == "mse"
