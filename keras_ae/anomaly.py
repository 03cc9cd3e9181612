"""Anomaly detection with any keras-ae model, the scikit-learn and PyOD way.

Higher `decision_function` values mean more abnormal (PyOD); `score_samples`
is its opposite (scikit-learn's outlier detectors: lower is more abnormal).
The threshold is a fitted attribute, and `sklearn.base.clone` works.

Example:

```python
detector = keras_ae.anomaly.AnomalyDetector(keras_ae.zoo.load("undercomplete.mnist_z20"))
detector.fit(x_normal)                      # threshold_ = 95th percentile of the normal scores
scores = detector.decision_function(x_new)  # higher = more abnormal
is_anomaly = detector.predict(x_new)        # 1 = anomaly, 0 = normal
report = detector.evaluate(x_test, y_is_anomaly)   # AUROC, average precision, F1
detector.save("detector.keras")             # model and threshold in one file, written atomically
detector = AnomalyDetector.load("detector.keras")
```
"""

import json
import os
import warnings
import zipfile

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin

from keras_ae._validation import check_choice, check_float

SCORES = ("mse", "bce", "neg_elbo")
_MEMBER = "keras_ae_detector.json"  # the detector's settings, inside the model's .keras zip


class AnomalyDetector(OutlierMixin, BaseEstimator):
    """Scores samples by how badly a trained autoencoder reconstructs them.

    Follows scikit-learn's estimator API (`fit` returns the detector,
    `get_params`/`set_params`, `clone`, `NotFittedError` before `fit`) and
    PyOD's detector attributes (`decision_scores_`, `labels_`, `threshold_`).
    The model is used as given: `fit` only calibrates the threshold, so train
    the model first (or load one from the zoo). `clone` shares the model.

    Args:
        model: a trained keras-ae model (from `fit` or the zoo).
        scoring: `"mse"` (mean squared reconstruction error), `"bce"` (binary
            cross-entropy summed over values), `"neg_elbo"` (a VAE's negative
            ELBO), or `None` for `"neg_elbo"` with a VAE and `"mse"` otherwise.
        percentile: the threshold is this percentile of the scores of the
            normal data passed to `fit` (default 95).
        contamination: alternatively, the expected fraction of anomalies in
            the data passed to `fit`; the threshold is then the
            `1 - contamination` quantile. Overrides `percentile`.
        num_samples: ELBO samples per input for `"neg_elbo"`.

    Attributes (set by `fit`):
        threshold_: scores above it are anomalies.
        decision_scores_: the scores of the data passed to `fit`.
        labels_: `predict` on that data (1 = anomaly).
        scoring_: the score actually used.
        n_features_in_: the number of values in one sample.
    """

    def __init__(self, model, scoring=None, percentile=95.0, contamination=None, num_samples=1, **kwargs):
        if "score" in kwargs:  # the keyword's name before 0.2
            warnings.warn("AnomalyDetector(score=...) is deprecated: use scoring=...", FutureWarning,
                          stacklevel=2)
            scoring = kwargs.pop("score")
        if kwargs:
            raise TypeError(f"AnomalyDetector got unexpected keyword argument(s): {', '.join(kwargs)}")
        self.model = model
        self.scoring = scoring
        self.percentile = percentile
        self.contamination = contamination
        self.num_samples = num_samples
        self._check_params()  # fail early; fit checks again after set_params

    def __sklearn_clone__(self):
        # A clone shares the trained model (scikit-learn would deep-copy a Keras model).
        return type(self)(**self.get_params(deep=False))

    def _check_params(self):
        if not callable(getattr(self.model, "reconstruct", None)):
            raise ValueError(
                f"AnomalyDetector needs a keras-ae model. Received: {type(self.model).__name__}"
            )
        is_vae = callable(getattr(self.model, "elbo", None))
        scoring = check_choice("scoring", self.scoring or ("neg_elbo" if is_vae else "mse"), SCORES)
        if scoring == "neg_elbo" and not is_vae:
            raise ValueError(
                f"scoring='neg_elbo' needs a VAE. Received: {type(self.model).__name__}; use 'mse' or 'bce'"
            )
        self._check_threshold_settings()
        if isinstance(self.num_samples, bool) or not isinstance(self.num_samples, (int, np.integer)) \
                or self.num_samples < 1:
            raise ValueError(f"`num_samples` must be a positive integer. Received: {self.num_samples!r}")
        return scoring

    def _check_threshold_settings(self):
        check_float("percentile", self.percentile, 0.0, 100.0)
        if self.contamination is not None:
            check_float("contamination", self.contamination, 0.0, 0.5, low_inclusive=False)

    @property
    def score_kind(self):
        """The score in use (`scoring`, with `None` resolved for this model)."""
        return self._check_params()

    # ---- scores ---------------------------------------------------------------
    def _raw_scores(self, x):
        if self.score_kind == "neg_elbo":
            return np.asarray(-self.model.elbo(x, num_samples=self.num_samples), dtype="float64")
        metric = "mse" if self.score_kind == "mse" else "bce"
        return np.asarray(self.model.reconstruction_error(x, metric=metric), dtype="float64")

    def decision_function(self, X):
        """Per-sample anomaly score, shape `(n,)`; higher is more abnormal (PyOD)."""
        return self._raw_scores(X)

    def score_samples(self, X):
        """The opposite of `decision_function`: lower is more abnormal (scikit-learn)."""
        return -self._raw_scores(X)

    def score(self, x):
        """Deprecated: per-sample anomaly scores; use `decision_function` (same values)."""
        warnings.warn("AnomalyDetector.score(x) is deprecated and will be removed: it returns per-sample "
                      "scores, which scikit-learn calls decision_function(x) (same values, higher = more "
                      "abnormal) or score_samples(x) (their opposite)", FutureWarning, stacklevel=2)
        return self.decision_function(x)

    def score_map(self, x):
        """Per-value squared error map, shaped like `x` (where the model went wrong)."""
        x = self.model.check_inputs(x)
        return (self.model.reconstruct(x) - x) ** 2

    # ---- fitting and predicting ----------------------------------------------
    def fit(self, X, y=None):
        """Set `threshold_` from the scores of (mostly) normal data; returns `self`.

        `y` is ignored (unsupervised, as in scikit-learn and PyOD).
        """
        self.scoring_ = self._check_params()
        self._fit_threshold(self._raw_scores(X))
        return self

    def _fit_threshold(self, scores):
        """`threshold_` at the `percentile` (or `1 - contamination` quantile) of normal data's scores."""
        if not np.all(np.isfinite(scores)):
            raise ValueError(
                f"The model gives {int(np.size(scores) - np.count_nonzero(np.isfinite(scores)))} NaN or "
                "infinite score(s) on the data passed to fit, so no threshold can be set: "
                "is the model diverged?")
        q = 100.0 * (1.0 - self.contamination) if self.contamination is not None else self.percentile
        self._set_fitted(float(np.percentile(scores, q)), scores)

    def _set_fitted(self, threshold, scores):
        if not np.isfinite(threshold):
            raise ValueError(f"The threshold must be a finite number. Received: {threshold!r}")
        self.threshold_ = float(threshold)
        self.decision_scores_ = np.asarray(scores, dtype="float64")
        self.labels_ = (self.decision_scores_ > self.threshold_).astype("int64")
        self.n_features_in_ = int(np.prod(self.model.sample_shape))

    @property
    def train_scores_(self):
        """The scores of the data passed to `fit` (an older name of `decision_scores_`)."""
        self._check_fitted()
        return self.decision_scores_

    def _check_fitted(self):
        from sklearn.exceptions import NotFittedError

        if not hasattr(self, "threshold_"):
            raise NotFittedError("This AnomalyDetector is not fitted yet: call fit(x_normal) first, or "
                                 "AnomalyDetector.load(path) for a saved one")

    def predict(self, X):
        """1 for an anomaly (score above `threshold_`), 0 for normal (PyOD's labels)."""
        self._check_fitted()
        return (self.decision_function(X) > self.threshold_).astype("int64")

    def fit_predict(self, X, y=None):
        """`fit(X)`, then the labels of `X` (1 = anomaly)."""
        return self.fit(X).labels_

    def predict_proba(self, X):
        """`(n, 2)` probabilities of [normal, anomaly]: the score min-max scaled over the
        scores seen in `fit`, clipped to [0, 1] (PyOD's "linear" method)."""
        self._check_fitted()
        low, high = float(self.decision_scores_.min()), float(self.decision_scores_.max())
        p = np.clip((self.decision_function(X) - low) / max(high - low, 1e-12), 0.0, 1.0)
        return np.stack([1.0 - p, p], axis=1)

    def evaluate(self, x, y):
        """AUROC, average precision, and F1 at `threshold_` against labels `y` (1 = anomaly)."""
        from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

        self._check_fitted()
        y = np.asarray(y).astype("int64").ravel()
        if set(np.unique(y)) - {0, 1} or len(np.unique(y)) < 2:
            raise ValueError(f"`y` must hold both 0 (normal) and 1 (anomaly). Received values: {np.unique(y)}")
        scores = self.decision_function(x)
        if len(scores) != len(y):
            raise ValueError(f"`x` and `y` differ in length. Received: {len(scores)} and {len(y)}")
        return {
            "auroc": float(roc_auc_score(y, scores)),
            "average_precision": float(average_precision_score(y, scores)),
            "f1": float(f1_score(y, (scores > self.threshold_).astype("int64"))),
            "threshold": self.threshold_,
        }

    # ---- saving ----------------------------------------------------------------
    def _settings(self):
        return {"format": 1, "scoring": self.scoring_, "percentile": float(self.percentile),
                "contamination": None if self.contamination is None else float(self.contamination),
                "num_samples": int(self.num_samples), "threshold": self.threshold_,
                "decision_scores": [float(s) for s in self.decision_scores_]}

    def save(self, filepath):
        """Save the model and the fitted threshold in one `.keras` file, atomically.

        The file is an ordinary `.keras` model file (`keras.models.load_model`
        reads the model) with the detector's settings added;
        `AnomalyDetector.load(filepath)` restores both.
        """
        from keras_ae._io import atomic_write, check_finite_weights, check_output_path

        self._check_fitted()
        path = check_output_path(filepath, (".keras",), what="detector file")
        check_finite_weights(self.model)
        settings = json.dumps(self._settings())

        def write(tmp):
            self.model.save(tmp)
            with zipfile.ZipFile(tmp, "a") as z:
                z.writestr(_MEMBER, settings)

        return atomic_write(path, write)

    @classmethod
    def load(cls, filepath):
        """Load a detector written by `save`: the model, and the fitted threshold."""
        import keras

        import keras_ae  # noqa: F401  (registers the model classes with Keras)

        if not os.path.isfile(filepath):
            raise FileNotFoundError(f"No detector file at {filepath!r}")
        try:
            with zipfile.ZipFile(filepath) as z:
                settings = json.loads(z.read(_MEMBER))
        except KeyError:
            raise ValueError(f"{filepath!r} is a model file without a fitted detector: load it with "
                             "keras.models.load_model and fit an AnomalyDetector on normal data") from None
        except (zipfile.BadZipFile, json.JSONDecodeError, OSError) as e:
            raise ValueError(f"{filepath!r} is not a readable detector file (expected a .keras zip "
                             f"written by AnomalyDetector.save): {e}") from None
        kind = _detector_class(settings)
        if not issubclass(kind, cls):
            raise ValueError(f"{filepath!r} holds a {kind.__name__}, not a {cls.__name__}")
        detector = kind._from_settings(keras.models.load_model(filepath), settings)
        if settings.get("params"):  # written by a detector that trains its own model (older files: defaults)
            known = detector.get_params()
            detector.set_params(**{k: tuple(v) if isinstance(v, list) else v
                                   for k, v in settings["params"].items() if k in known and k != "scoring"})
        detector.scoring_ = detector._check_params()
        detector._set_fitted(settings["threshold"], settings["decision_scores"])
        return detector

    @classmethod
    def _from_settings(cls, model, settings):
        return cls(model, scoring=settings["scoring"], percentile=settings["percentile"],
                   contamination=settings["contamination"], num_samples=settings["num_samples"])


def _detector_class(settings):
    """The detector class a saved detector's settings belong to."""
    return next((k for key, k in (("tabular", TabularDetector), ("restoration", RestorationDetector))
                 if key in settings), AnomalyDetector)


def default_tabular_architecture(n_features):
    """`(hidden_units, latent_dim)` of `TabularDetector`'s model for `n_features` columns.

    One hidden layer twice as wide as the input (8 to 64 units) and a code of
    about a third of the input (1 to 16 values).
    """
    n = int(n_features)
    if n < 2:
        raise ValueError(f"An autoencoder needs at least 2 features to compress. Received: {n}")
    return (max(8, min(64, 2 * n)),), max(1, min(16, n // 3))


TABULAR_PREPROCESSING = ("power", "standard")
TABULAR_SCORES = ("mse+mahalanobis", "mse")


class _TrainedInFit(AnomalyDetector):
    """A detector that builds and trains its own model in `fit` (it takes no `model` argument)."""

    num_samples = 1

    def _settings(self):
        # The training settings too, so a loaded detector reports (and `clone` refits with) the ones it was
        # trained with, not the defaults.
        # `scoring` is saved as the one fit used (`scoring_`), and numpy values as plain ones.
        params = {k: np.asarray(v).tolist() if isinstance(v, (tuple, list, np.ndarray, np.generic)) else v
                  for k, v in self.get_params().items() if k not in ("verbose", "scoring")}
        return {**super()._settings(), "params": params}

    def _check_params(self):
        if not hasattr(self, "model"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"This {type(self).__name__} is not fitted yet: call fit(x_normal) first")
        return self._scoring_in_use()


class TabularDetector(_TrainedInFit):
    """An autoencoder anomaly detector for tabular data, trained by `fit`.

    The recipe the `keras-ae train --data table.csv` default uses:

    - features made Gaussian-like and standardized on the normal data
      (scikit-learn's Yeo-Johnson `PowerTransformer`; skewed columns such as
      areas and counts otherwise dominate the squared error);
    - a dense undercomplete autoencoder with a linear output and squared error,
      sized from the feature count (`default_tabular_architecture`);
    - AdamW with weight decay, and early stopping on a held-out part of the
      normal data (the best weights are kept);
    - the score: the squared error of the transformed features plus the
      Mahalanobis distance of the code from the normal codes, each divided by
      its median on the normal data (`scoring="mse+mahalanobis"`). A row can be
      rebuilt well and still sit far from the normal data in the code space;
      the second term sees that.

    Args:
        hidden_units, latent_dim: the architecture; `None` sizes it from the
            number of features.
        preprocessing: `"power"` (Yeo-Johnson, then standardize) or `"standard"`.
        scoring: `"mse+mahalanobis"` or `"mse"`.
        epochs: the most epochs to train; early stopping usually ends sooner.
        batch_size: `None` for 32.
        learning_rate, weight_decay: AdamW settings.
        patience: epochs without a better held-out loss before stopping.
        validation_fraction: the part of the normal data held out for early
            stopping (it is used for the threshold, with the rest).
        percentile, contamination: the threshold, as in `AnomalyDetector`.
        random_state: seed of the split and of the weights.
        verbose: Keras's `verbose` for training.

    Attributes (set by `fit`): `model`, `lambdas_` (Yeo-Johnson, or `None`),
    `mean_`, `scale_`, `history_`, and those of `AnomalyDetector`.
    """

    def __init__(self, hidden_units=None, latent_dim=None, preprocessing="power", scoring="mse+mahalanobis",
                 epochs=500, batch_size=None, learning_rate=1e-3, weight_decay=1e-4, patience=30,
                 validation_fraction=0.2, percentile=95.0, contamination=None, random_state=0, verbose=0):
        self.hidden_units = hidden_units
        self.latent_dim = latent_dim
        self.preprocessing = preprocessing
        self.scoring = scoring
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.percentile = percentile
        self.contamination = contamination
        self.random_state = random_state
        self.verbose = verbose
        self._check_settings()

    def _check_settings(self):
        check_choice("preprocessing", self.preprocessing, TABULAR_PREPROCESSING)
        check_choice("scoring", self.scoring, TABULAR_SCORES)
        check_float("validation_fraction", self.validation_fraction, 0.0, 0.5, low_inclusive=False)
        self._check_threshold_settings()

    def _scoring_in_use(self):
        return self.scoring

    @staticmethod
    def _table(X, name="X"):
        from keras_ae._validation import to_numpy

        x = np.asarray(to_numpy(X, name))
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] < 2 or not np.issubdtype(x.dtype, np.number):
            raise ValueError(f"`{name}` must be a table of numbers, shape (n_samples, n_features) with "
                             f"n_samples >= 1 and n_features >= 2. Received: shape={x.shape}, dtype={x.dtype}")
        x = x.astype("float64")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"`{name}` holds {int(np.size(x) - np.count_nonzero(np.isfinite(x)))} NaN or "
                             "infinite value(s); impute or drop them first")
        return x

    def _power(self, x):
        if self.lambdas_ is None:
            return x
        from sklearn.preprocessing import PowerTransformer

        pt = PowerTransformer(standardize=False)
        pt.lambdas_, pt.n_features_in_ = self.lambdas_, len(self.lambdas_)
        return pt.transform(x)

    def _standardize(self, X, name="X"):
        x = self._table(X, name)
        if x.shape[1] != len(self.mean_):
            raise ValueError(f"`{name}` must have {len(self.mean_)} features, as in fit. "
                             f"Received: {x.shape[1]}")
        return ((self._power(x) - self.mean_) / self.scale_).astype("float32")

    def _mahalanobis(self, codes):
        d = np.asarray(codes, "float64") - self.code_mean_
        return np.einsum("ij,jk,ik->i", d, self.code_precision_, d)

    def _raw_scores(self, x):
        self._check_params()  # NotFittedError before fit
        z = self._standardize(x)
        mse = np.asarray(self.model.reconstruction_error(z, metric="mse"), "float64")
        if self.scoring == "mse":
            return mse
        return mse / self.score_scales_[0] + self._mahalanobis(self.model.encode(z)) / self.score_scales_[1]

    def score_map(self, x):
        """Per-feature squared error of the transformed features (which feature was off)."""
        self._check_params()
        z = self._standardize(x)
        return (self.model.reconstruct(z) - z) ** 2

    def fit(self, X, y=None):
        """Transform, train the autoencoder on `X` (normal data), set the score's scales and the threshold."""
        import keras

        from keras_ae._io import check_history_finite
        from keras_ae.models import UndercompleteAutoencoder

        self._check_settings()
        x = self._table(X)
        if len(x) < 10:
            raise ValueError(f"TabularDetector needs at least 10 normal samples. Received: {len(x)}")
        self.lambdas_ = None
        if self.preprocessing == "power":
            from sklearn.preprocessing import PowerTransformer

            self.lambdas_ = PowerTransformer(standardize=False).fit(x).lambdas_
        t = self._power(x)
        self.mean_ = t.mean(axis=0)
        scale = t.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)  # constant columns stay 0 after centring
        z = ((t - self.mean_) / self.scale_).astype("float32")
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(z))
        n_val = max(1, int(round(self.validation_fraction * len(z))))
        val, train = z[order[:n_val]], z[order[n_val:]]
        hidden, latent = default_tabular_architecture(z.shape[1])
        keras.utils.set_random_seed(int(self.random_state))
        self.model = UndercompleteAutoencoder(
            input_shape=(z.shape[1],), hidden_units=self.hidden_units or hidden,
            latent_dim=self.latent_dim or latent, output_activation="linear")
        self.model.compile(optimizer=keras.optimizers.AdamW(self.learning_rate,
                                                            weight_decay=self.weight_decay))
        stop = keras.callbacks.EarlyStopping(patience=self.patience, restore_best_weights=True)
        history = self.model.fit(train, train, validation_data=(val, val), epochs=self.epochs,
                                 batch_size=self.batch_size or 32, shuffle=True, verbose=self.verbose,
                                 callbacks=[stop, keras.callbacks.TerminateOnNaN()])
        check_history_finite(history)
        self.history_ = history.history
        codes = np.asarray(self.model.encode(z), "float64")
        self.code_mean_ = codes.mean(axis=0)
        cov = np.atleast_2d(np.cov(codes, rowvar=False))
        self.code_precision_ = np.linalg.pinv(cov + 1e-6 * np.eye(len(cov)))
        mse = np.asarray(self.model.reconstruction_error(z, metric="mse"), "float64")
        self.score_scales_ = (max(float(np.median(mse)), 1e-12),
                              max(float(np.median(self._mahalanobis(codes))), 1e-12))
        self.scoring_ = self.scoring
        self._fit_threshold(self._raw_scores(x))
        return self

    def _settings(self):
        return {**super()._settings(), "tabular": {
            "preprocessing": self.preprocessing,
            "lambdas": None if self.lambdas_ is None else [float(v) for v in self.lambdas_],
            "mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
            "code_mean": self.code_mean_.tolist(), "code_precision": self.code_precision_.tolist(),
            "score_scales": list(self.score_scales_)}}

    @classmethod
    def _from_settings(cls, model, settings):
        t = settings["tabular"]
        detector = cls(preprocessing=t["preprocessing"], scoring=settings["scoring"],
                       percentile=settings["percentile"], contamination=settings["contamination"])
        detector.model = model
        detector.lambdas_ = None if t.get("lambdas") is None else np.asarray(t["lambdas"], "float64")
        detector.mean_, detector.scale_ = np.asarray(t["mean"], "float64"), np.asarray(t["scale"], "float64")
        detector.code_mean_ = np.asarray(t["code_mean"], "float64")
        detector.code_precision_ = np.asarray(t["code_precision"], "float64")
        detector.score_scales_ = tuple(t["score_scales"])
        return detector


class RestorationDetector(_TrainedInFit):
    """An image anomaly detector that learns to turn rotated normal images upright.

    Attribute restoration (ARNet, Fei et al. 2020) with an autoencoder: `fit`
    trains a dense autoencoder to map each normal image, rotated by 0, 90, 180
    or 270 degrees, back to the upright image. Putting an image back upright
    takes knowing what the normal class looks like, so an image of another
    kind is restored worse than by a plain reconstruction, which copies any
    shape it can. The score is the restoration error of each rotation (one
    minus the cosine similarity of the restored and the upright image, by
    default), divided by its median on held-out normal images (so a rotation
    the normal class looks alike under, as a 0 turned by 90 degrees, weighs no
    more than the others), averaged over the rotations. Both images are
    smoothed with a Gaussian first (`smoothing`), so a misplaced stroke counts
    more than pixel-level jitter along the edges of a well-restored one.

    It takes square images, `(n, side, side)` or `(n, side, side, channels)`,
    or flat rows whose length is `side * side` (one channel), in [0, 1].

    Args:
        hidden_units, latent_dim: the dense autoencoder.
        epochs: passes over the rotated copies (4 per image, so 15 epochs
            show each image 60 times).
        batch_size, learning_rate: Adam settings.
        smoothing: the standard deviation, in pixels, of the Gaussian the
            restored and the upright image are smoothed with before they are
            compared; 0 compares them as they are.
        error: how a restoration is compared with the upright image:
            `"cosine"` (one minus the cosine similarity of the two images,
            which does not count a restoration fainter or bolder than the
            input as an error) or `"squared"` (the mean squared difference).
            On held-out MNIST training images (one-class, all ten digits)
            `"cosine"` gave a mean AUROC of 0.984 against 0.976.
        calibration_fraction: the part of the normal images held out of
            training; the per-rotation medians come from it.
        percentile, contamination: the threshold, as in `AnomalyDetector`
            (set from the scores of all the images passed to `fit`).
        random_state: seed of the split and of the weights.
        verbose: Keras's `verbose` for training.

    Attributes (set by `fit`): `model`, `image_shape_`, `rotation_medians_`,
    `history_`, and those of `AnomalyDetector`.

    Example:

    ```python
    detector = keras_ae.anomaly.RestorationDetector().fit(x_normal)   # images of the normal class
    scores = detector.decision_function(x_new)                         # higher = more abnormal
    ```
    """

    ROTATIONS = 4

    ERRORS = ("cosine", "squared")

    def __init__(self, hidden_units=(512, 256, 128), latent_dim=32, epochs=15, batch_size=128,
                 learning_rate=1e-3, smoothing=1.0, error="cosine", calibration_fraction=0.1, percentile=95.0,
                 contamination=None, random_state=0, verbose=0):
        self.hidden_units = hidden_units
        self.latent_dim = latent_dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.smoothing = smoothing
        self.error = error
        self.calibration_fraction = calibration_fraction
        self.percentile = percentile
        self.contamination = contamination
        self.random_state = random_state
        self.verbose = verbose
        self._check_settings()

    def _check_settings(self):
        from keras_ae._validation import check_positive_int

        check_positive_int("epochs", self.epochs)
        check_positive_int("batch_size", self.batch_size)
        check_float("calibration_fraction", self.calibration_fraction, 0.0, 0.5, low_inclusive=False)
        check_float("smoothing", self.smoothing, 0.0, 10.0)
        self._check_error()
        self._check_threshold_settings()

    def _scoring_in_use(self):
        return "restoration"

    def _images(self, X, name="X"):
        """`X` as float32 `(n, side, side, channels)` images, checked."""
        from keras_ae._validation import to_numpy

        x = np.asarray(to_numpy(X, name))
        shape = x.shape
        if x.ndim == 2 and x.shape[1] > 0 and round(np.sqrt(x.shape[1])) ** 2 == x.shape[1]:
            side = int(round(np.sqrt(x.shape[1])))
            x = x.reshape(-1, side, side, 1)
        elif x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4 or x.shape[1] != x.shape[2] or len(x) == 0 or not np.issubdtype(x.dtype, np.number):
            raise ValueError(f"`{name}` must be square images, (n, side, side[, channels]), or flat rows of "
                             f"side * side values. Received: shape={shape}, dtype={x.dtype}")
        x = x.astype("float32")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"`{name}` holds {int(x.size - np.count_nonzero(np.isfinite(x)))} NaN or infinite "
                             "value(s)")
        if x.min() < 0 or x.max() > 1:
            raise ValueError(f"`{name}` must hold values in [0, 1]. Received: min {x.min():.4g}, "
                             f"max {x.max():.4g}")
        if hasattr(self, "image_shape_") and tuple(x.shape[1:]) != tuple(self.image_shape_):
            raise ValueError(f"`{name}` must be images of shape {tuple(self.image_shape_)}, as in fit. "
                             f"Received: {tuple(x.shape[1:])}")
        return x

    def _check_error(self):
        if self.error not in self.ERRORS:
            raise ValueError(f"`error` must be one of {self.ERRORS}. Received: error={self.error!r}")

    def _restored(self, images, k=0):
        """The restoration of `images` turned by `k` quarter turns, shaped like `images`."""
        flat = np.rot90(images, k, axes=(1, 2)).reshape(len(images), -1)
        return self.model.reconstruct(flat).reshape(images.shape)

    def _smoothed(self, images):
        if not self.smoothing:
            return images
        from scipy.ndimage import gaussian_filter

        return gaussian_filter(images, sigma=(0, self.smoothing, self.smoothing, 0))

    def _error_map(self, images, k=0):
        """The restoration error of `images` turned by `k` quarter turns: restored minus upright, smoothed."""
        return self._smoothed(self._restored(images, k) - images)

    def _rotation_errors(self, images):
        """`(ROTATIONS, n)` restoration errors of each rotation: the mean squared error per value, or one minus
        the cosine similarity of the (smoothed) restored and upright images (`error`)."""
        self._check_error()  # set_params does not check
        if self.error == "squared":
            return np.stack([np.mean(self._error_map(images, k).reshape(len(images), -1) ** 2, axis=1,
                                     dtype="float64") for k in range(self.ROTATIONS)])
        upright = self._smoothed(images).reshape(len(images), -1).astype("float64")
        norms = np.linalg.norm(upright, axis=1)
        errors = []
        for k in range(self.ROTATIONS):
            restored = self._smoothed(self._restored(images, k)).reshape(len(images), -1).astype("float64")
            cos = np.einsum("ij,ij->i", upright, restored) / np.maximum(norms * np.linalg.norm(restored, axis=1),
                                                                        1e-12)
            errors.append(1.0 - cos)
        return np.stack(errors)

    def _raw_scores(self, x):
        self._check_params()  # NotFittedError before fit
        errors = self._rotation_errors(self._images(x))
        return (errors / self.rotation_medians_[:, None]).mean(axis=0)

    def score_map(self, x):
        """Per-pixel squared error of restoring the upright image (rotation 0), smoothed as in the score,
        shaped like the images: where the restoration differs (with `error="cosine"` too, whose score is
        not a sum over this map)."""
        self._check_params()
        return self._error_map(self._images(x)) ** 2

    def _calibration_split(self, images):
        """`(calibration, train)`: the held-out part of the normal images (`calibration_fraction`, drawn with
        `random_state`) and the rest."""
        order = np.random.default_rng(self.random_state).permutation(len(images))
        n_cal = max(10, int(round(self.calibration_fraction * len(images))))
        return images[order[:n_cal]], images[order[n_cal:]]

    def fit(self, X, y=None):
        """Train the restoration autoencoder on `X` (normal images), calibrate the score and the threshold."""
        import keras

        from keras_ae._io import check_history_finite
        from keras_ae.models import UndercompleteAutoencoder

        self._check_settings()
        self.__dict__.pop("image_shape_", None)  # a refit may take images of another size
        images = self._images(X)
        if len(images) < 20:
            raise ValueError(f"RestorationDetector needs at least 20 normal images. Received: {len(images)}")
        calibration, train = self._calibration_split(images)
        rotated = np.concatenate([np.rot90(train, k, axes=(1, 2)) for k in range(self.ROTATIONS)])
        rotated = rotated.reshape(len(rotated), -1)
        upright = np.tile(train.reshape(len(train), -1), (self.ROTATIONS, 1))
        keras.utils.set_random_seed(int(self.random_state))
        self.model = UndercompleteAutoencoder(input_shape=(rotated.shape[1],), hidden_units=self.hidden_units,
                                              latent_dim=self.latent_dim, reconstruction_loss="bce")
        self.model.compile(optimizer=keras.optimizers.Adam(self.learning_rate))
        history = self.model.fit(rotated, upright, epochs=self.epochs, batch_size=self.batch_size, shuffle=True,
                                 verbose=self.verbose, callbacks=[keras.callbacks.TerminateOnNaN()])
        check_history_finite(history)
        self.history_ = history.history
        self.image_shape_ = tuple(int(d) for d in images.shape[1:])
        medians = np.median(self._rotation_errors(calibration), axis=1)
        self.rotation_medians_ = np.maximum(medians, 1e-12)
        self.scoring_ = "restoration"
        self._fit_threshold(self._raw_scores(images))
        return self

    def _settings(self):
        self._check_error()
        return {**super()._settings(), "restoration": {
            "image_shape": list(self.image_shape_), "rotation_medians": self.rotation_medians_.tolist(),
            "smoothing": float(self.smoothing), "error": self.error}}

    @classmethod
    def _from_settings(cls, model, settings):
        r = settings["restoration"]
        # Detectors saved before `smoothing` and `error` existed scored the raw squared error.
        detector = cls(percentile=settings["percentile"], contamination=settings["contamination"],
                       smoothing=r.get("smoothing", 0.0), error=r.get("error", "squared"))
        detector.model = model
        detector.image_shape_ = tuple(r["image_shape"])
        detector.rotation_medians_ = np.asarray(r["rotation_medians"], "float64")
        return detector


def one_class_mnist(build_model, data, digits=range(10), epochs=10, batch_size=128, verbose=0,
                    progress=True):
    """The one-class MNIST protocol of Ruff et al. (2018), Deep SVDD.

    For each digit, train a fresh model only on that digit's training images,
    then score the whole test set with the other nine digits as anomalies.

    Args:
        build_model: a function returning a fresh, uncompiled keras-ae model
            (trained here with Adam, then scored by `AnomalyDetector`), or an
            unfitted detector that trains itself in `fit`, such as
            `RestorationDetector` (then `epochs` and `batch_size` are its own).
        data: `((x_train, y_train), (x_test, y_test))`, e.g. from `load_mnist()`.
        digits: the normal classes to run.
        epochs, batch_size: training settings per digit.
        progress: print one line per digit.

    Returns:
        `{"auroc": {digit: value}, "mean_auroc": value}`.
    """
    import keras

    from keras_ae.datasets import one_class_split

    (x_train, y_train), (x_test, y_test) = data
    aurocs = {}
    for digit in digits:
        x_normal, x_eval, is_anomaly = one_class_split(x_train, y_train, x_test, y_test, digit)
        keras.utils.set_random_seed(int(digit))
        model = build_model()
        if isinstance(model, AnomalyDetector):
            detector = model.fit(x_normal)
        else:
            model.compile(optimizer=keras.optimizers.Adam(1e-3))
            x_normal = x_normal.reshape((-1,) + tuple(model.sample_shape))
            x_eval = x_eval.reshape((-1,) + tuple(model.sample_shape))
            model.fit(x_normal, x_normal, epochs=epochs, batch_size=batch_size, verbose=verbose)
            detector = AnomalyDetector(model).fit(x_normal)
        aurocs[int(digit)] = detector.evaluate(x_eval, is_anomaly)["auroc"]
        if progress:
            print(f"digit {digit}: AUROC {aurocs[int(digit)]:.4f} ({len(x_normal)} training images)",
                  flush=True)
    return {"auroc": aurocs, "mean_auroc": float(np.mean(list(aurocs.values())))}
