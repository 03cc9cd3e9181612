"""`BaseDetector`: the threshold, the labels, the evaluation and the detector file.

Conventions, shared by every detector (PyOD's `BaseDetector`,
`pyod/models/base.py`, is the anchor; scikit-learn's `base.py` and
`utils/estimator_checks.py` for the estimator API):

- `decision_function(X)`: higher is more abnormal (PyOD). `score_samples(X)` is
  its opposite (scikit-learn's outlier detectors: lower is more abnormal).
- `predict(X)`: 1 = anomaly, 0 = normal (PyOD's labels). The detectors are not
  scikit-learn `OutlierMixin`s, whose `predict` gives -1/+1.
- `score(X, y=None)`: one number, the mean of `score_samples(X)` (higher means
  `X` looks more normal), so `GridSearchCV` and pipelines can rank settings,
  as with scikit-learn's `GaussianMixture.score`.
- NaN scores: a NaN score is never "normal". `fit` refuses data with a NaN or
  infinite score, and `decision_function` (so `predict`, `predict_proba`,
  `score_samples`, `score` and `evaluate` as well) refuses any NaN score with a
  `ValueError` that says how many samples and which one first. An infinite
  score is an anomaly.
- Values beyond float32: a sample with a finite value the model cannot
  compute in float32 (|v| > 3.4e38, in float64 data) scores `+inf`, an
  anomaly, with a `BeyondFloat32Warning` that counts such samples; the rest
  of the batch is scored as usual. (`ReconstructionDetector.fit` refuses such
  data, and `keras-ae train` such files.)
- The threshold: the `percentile` of the scores of the (normal) data passed to
  `fit`, or, with `contamination`, their `1 - contamination` quantile;
  `contamination="auto"` means "use `percentile`".
- The detector file is a `.keras` model file with a settings member; it records
  the detector's `kind`. Loading checks the settings' structure, types and
  shapes and the weights' finiteness, and refuses a file that fails with one
  `ValueError` naming the file and the field.
"""

import json
import os
import warnings
import zipfile

import numpy as np
from sklearn.base import BaseEstimator

from keras_ae._validation import beyond_float32_rows, check_float, is_dataset, to_numpy
from keras_ae.anomaly._schema import SettingsReader

__all__ = ["BaseDetector", "BeyondFloat32Warning", "DETECTORS", "describe_detector_file", "register_detector"]

SETTINGS_MEMBER = "keras_ae_detector.json"  # the detector's settings, inside the model's .keras zip
FORMAT = 4  # the newest format read; 1: before the file recorded its `kind` (still read, see `legacy_kind`);
# 3: a file with members beside the settings (a TabularDetector's kNN reference rows); 4: a TabularDetector's
# isolation forest too (keras_ae/anomaly/tabular_file.py); others still write 2

DETECTORS = {}  # kind (the class name written in a detector file) -> class


class BeyondFloat32Warning(UserWarning):
    """Samples with values beyond float32's range were scored `+inf` (anomalies), not computed."""


def register_detector(cls):
    """Class decorator: register a detector class under its name, the `kind` its files record."""
    cls._kind = cls.__name__
    DETECTORS[cls.__name__] = cls
    return cls


def legacy_kind(reader, settings):
    """The kind of a detector file written before files recorded it (format 1, no `"kind"` field).

    Those files told the kinds apart by their sections only: a `"tabular"`
    section for a `TabularDetector`, a `"restoration"` one for a
    `RestorationDetector`, neither for a `ReconstructionDetector` (then named
    `AnomalyDetector`). This is the one place a kind is read from the keys.
    """
    sections = [key for key in ("tabular", "restoration") if key in settings]
    if len(sections) > 1:
        raise ValueError(f"{reader.path}: settings fields {sections} belong to different kinds of detector; "
                         "a file holds one")
    return {"tabular": "TabularDetector", "restoration": "RestorationDetector"}.get(
        sections[0] if sections else None, "ReconstructionDetector")


def read_settings(filepath):
    """The parsed settings member of the detector file `filepath`, or `None` if the zip has none."""
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"No detector file at {filepath!r}")
    try:
        with zipfile.ZipFile(filepath) as z:
            if SETTINGS_MEMBER not in z.namelist():
                return None
            text = z.read(SETTINGS_MEMBER)
        return json.loads(text)
    except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError, OSError) as e:
        raise ValueError(f"{filepath!r} is not a readable detector file (expected a .keras zip "
                         f"written by a detector's save): {e}") from None


def detector_kind(reader, settings):
    """The registered class of a detector file's (already parsed) settings."""
    reader.object(None, settings)
    fmt = reader.integer("format", settings.get("format"), low=1) if "format" in settings else None
    if fmt is None:
        raise ValueError(f"{reader.path}: settings field 'format' is missing")
    if fmt > FORMAT:
        raise ValueError(f"{reader.path}: settings format {fmt} was written by a newer keras-ae (this one reads "
                         f"formats up to {FORMAT}); upgrade keras-ae to load it")
    if fmt == 1 and "kind" not in settings:
        return DETECTORS[legacy_kind(reader, settings)]
    if "kind" not in settings:
        raise ValueError(f"{reader.path}: settings field 'kind' is missing")
    return DETECTORS[reader.choice("kind", settings["kind"], DETECTORS)]


def describe_detector_file(path):
    """What the detector file `path` holds, read from its settings (no weights are loaded).

    Returns:
        `None` for a file that holds no detector settings (a plain model file,
        or not a zip at all: Keras's own loader then says what it is), else a
        dict with `kind` (the detector's class name), `scoring`, `threshold`,
        `percentile`, `contamination` and `format`.

    Raises:
        FileNotFoundError: if there is no file at `path`.
        ValueError: naming the file and the field, if the settings are
            unreadable or fail the structure and type checks of `load`.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No detector file at {path!r}")
    if not zipfile.is_zipfile(path):
        return None
    settings = read_settings(path)
    if settings is None:
        return None
    reader = SettingsReader(path)
    kind = detector_kind(reader, settings)
    kind._check_settings(reader, settings)
    return {"kind": kind.__name__, "scoring": settings["scoring"], "threshold": float(settings["threshold"]),
            "percentile": float(settings["percentile"]), "contamination": settings["contamination"],
            "format": int(settings["format"])}


def _rows(X, keep):
    """The samples `keep` (a boolean mask) of `X`; a pandas DataFrame stays one (its column names are checked)."""
    if (type(X).__module__ or "").startswith("pandas"):
        return X.iloc[np.flatnonzero(keep)]
    return np.asarray(to_numpy(X))[keep]


class BaseDetector(BaseEstimator):
    """The part every keras-ae anomaly detector shares (see the module's conventions).

    A subclass gives `_raw_scores(X)` (a float64 score per sample, higher is
    more abnormal), `fit`, `_check_params()` (the score in use, or an error),
    and, for its file, `_settings()`, `_check_settings`, `_check_model` and
    `_from_settings`.

    Attributes (set by `fit`, and by `load`):
        threshold_: scores above it are anomalies.
        decision_scores_: the scores of the data passed to `fit`.
        labels_: `predict` on that data (1 = anomaly).
        scoring_: the score used.
        n_features_in_: the number of values in one sample.
    """

    _kind = None  # set by `register_detector`

    # ---- the threshold --------------------------------------------------------------------------------
    def _check_threshold_settings(self):
        check_float("percentile", self.percentile, 0.0, 100.0)
        c = self.contamination
        if c is not None and not (isinstance(c, str) and c == "auto"):
            if isinstance(c, str):
                raise ValueError(f"`contamination` must be None, 'auto' or a number in (0, 0.5]. "
                                 f"Received: contamination={c!r}")
            check_float("contamination", c, 0.0, 0.5, low_inclusive=False)

    def _threshold_percentile(self):
        """The percentile of the normal scores the threshold sits at."""
        c = self.contamination
        if c is None or isinstance(c, str):  # None or "auto": `percentile`
            return float(self.percentile)
        return 100.0 * (1.0 - float(c))

    def _fit_threshold(self, scores):
        """`threshold_` at the `percentile` (or `1 - contamination` quantile) of normal data's scores."""
        scores = np.asarray(scores, dtype="float64")
        if not np.all(np.isfinite(scores)):
            raise ValueError(
                f"The model gives {int(np.size(scores) - np.count_nonzero(np.isfinite(scores)))} NaN or "
                "infinite score(s) on the data passed to fit, so no threshold can be set: "
                "is the model diverged?")
        self._check_threshold_settings()
        self._set_fitted(float(np.percentile(scores, self._threshold_percentile())), scores)

    def _set_fitted(self, threshold, scores):
        if not np.isfinite(threshold):
            raise ValueError(f"The threshold must be a finite number. Received: {threshold!r}")
        self.threshold_ = float(threshold)
        self.decision_scores_ = np.asarray(scores, dtype="float64")
        self.labels_ = (self.decision_scores_ > self.threshold_).astype("int64")
        self.n_features_in_ = int(np.prod(self.model.sample_shape))

    def __sklearn_is_fitted__(self):
        return hasattr(self, "threshold_")

    def _check_fitted(self):
        from sklearn.exceptions import NotFittedError

        if not hasattr(self, "threshold_"):
            name = type(self).__name__
            raise NotFittedError(f"This {name} is not fitted yet: call fit(x_normal) first, or "
                                 f"{name}.load(path) for a saved one")

    @property
    def train_scores_(self):
        """The scores of the data passed to `fit` (an older name of `decision_scores_`)."""
        self._check_fitted()
        return self.decision_scores_

    # ---- scores and labels ----------------------------------------------------------------------------
    @property
    def score_kind(self):
        """The score in use (`scoring` resolved for the model, or the detector's own score)."""
        return self._check_params()

    def _checked_scores(self, scores):
        """`scores` as float64, refused if any is NaN (a NaN is neither normal nor an anomaly)."""
        scores = np.asarray(scores, dtype="float64")
        nan = np.isnan(scores)
        if nan.any():
            raise ValueError(
                f"{type(self).__name__} gives a NaN score for {int(nan.sum())} of {scores.size} sample(s) "
                f"(the first at index {int(np.flatnonzero(nan.ravel())[0])}): a NaN score is neither normal nor "
                "an anomaly, so no label is given. Is the model diverged, or are those inputs far outside the "
                "range of the training data?")
        return scores

    def decision_function(self, X):
        """Per-sample anomaly score, shape `(n,)`; higher is more abnormal (PyOD).

        A sample with a finite value beyond float32's range scores `+inf`,
        with a `BeyondFloat32Warning`. Raises `ValueError` if any score is NaN.
        """
        beyond = self._beyond_float32(X)
        if beyond is None or not beyond.any():
            return self._checked_scores(self._raw_scores(X))
        scores = np.full(len(beyond), np.inf)
        if not beyond.all():
            scores[~beyond] = self._raw_scores(_rows(X, ~beyond))
        warnings.warn(f"{int(beyond.sum())} of {len(beyond)} sample(s) hold values beyond the float32 range "
                      f"(|v| > 3.4e38; the first at index {int(np.argmax(beyond))}), which the model cannot "
                      "compute in: scored +inf, as anomalies", BeyondFloat32Warning, stacklevel=2)
        return self._checked_scores(scores)

    def _beyond_float32(self, X):
        """A boolean per sample: whether it holds a value the model cannot compute in float32 (a finite one
        beyond float32's range); `None` for data that cannot hold one (float32, integers, data sets)."""
        if X is None or is_dataset(X):
            return None
        try:
            arr = np.asarray(to_numpy(X))
        except (TypeError, ValueError):
            return None  # the score's own checks say what is wrong
        return beyond_float32_rows(arr) if arr.ndim >= 1 else None

    def score_samples(self, X):
        """The opposite of `decision_function`: lower is more abnormal (scikit-learn)."""
        return -self.decision_function(X)

    def score(self, X, y=None):
        """The mean of `score_samples(X)`: higher when `X` looks more normal (`y` is ignored).

        One number, as scikit-learn's model selection needs (e.g. `GridSearchCV`
        without a `scoring`, on held-out normal data).
        """
        return float(np.mean(self.score_samples(X)))

    def predict(self, X):
        """1 for an anomaly (score above `threshold_`), 0 for normal (PyOD's labels)."""
        self._check_fitted()
        return (self.decision_function(X) > self.threshold_).astype("int64")

    def fit_predict(self, X, y=None, **fit_params):
        """`fit(X)`, then the labels of `X` (1 = anomaly)."""
        return self.fit(X, y, **fit_params).labels_

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

    # ---- the exportable score -------------------------------------------------------------------------
    def scoring_model(self):
        """The fitted detector as a functional `keras.Model`: raw input `x` -> `{"score", "threshold"}`.

        `score` is `decision_function(x)` and `threshold` is `threshold_`,
        repeated per sample (so `label = score > threshold`), both float32 of
        shape `(batch,)`: every step of the score (a fitted transform of the
        input, a median, a reference set) is in the graph, as Keras ops, so
        `keras_ae.export.export(detector, path, part="detector")` writes the
        whole detector for any backend. The input is float32, shaped as
        `input_shape` says; values beyond float32's range (which
        `decision_function` scores `+inf`) are not checked in the graph.

        Raises:
            NotFittedError: before `fit`.
            ValueError: for a score that cannot be a deterministic graph (the
                -ELBO, which draws samples).
        """
        import keras
        from keras import ops

        self._check_fitted()
        self._check_params()
        inp = keras.Input(self._score_input_shape(), name="x")
        score = ops.cast(self._score_graph(inp), "float32")
        threshold = ops.full_like(score, self.threshold_)
        return keras.Model(inp, {"score": score, "threshold": threshold}, name=f"{self._kind.lower()}_scorer")

    def _score_input_shape(self):
        """The shape of one sample of the scoring model's input (hook)."""
        return tuple(self.model.sample_shape)

    def _score_graph(self, x):
        """The score of the symbolic input `x` in Keras ops, shape `(batch,)` (hook; see `keras_ae.anomaly.graph`)."""
        raise NotImplementedError(f"{type(self).__name__} has no exportable score graph")

    # ---- the detector file ----------------------------------------------------------------------------
    def _settings(self):
        c = self.contamination
        return {"format": self._file_format(), "kind": self._kind, "scoring": self.scoring_,
                "percentile": float(self.percentile),
                "contamination": c if c is None or isinstance(c, str) else float(c),
                "threshold": self.threshold_, "decision_scores": [float(s) for s in self.decision_scores_]}

    def _file_format(self):
        """The format this detector's file is written in (hook): 2, or 3 for one with `_members`."""
        return 2

    def _members(self):
        """`{name: bytes}`: files the detector file holds beside the model and the settings (hook)."""
        return {}

    def _read_members(self, archive, reader):
        """Restore what `_members` wrote from the open zip `archive`; `reader` names the file in errors (hook)."""

    @classmethod
    def _settings_fields(cls, settings):
        """`(required, optional)` top-level fields of this kind's file."""
        required = ["format", "scoring", "percentile", "contamination", "threshold", "decision_scores"]
        return required + (["kind"] if settings.get("format", 1) >= 2 else []), []

    @classmethod
    def _check_settings(cls, reader, settings):
        """Check the settings' structure, types and shapes (without the model)."""
        required, optional = cls._settings_fields(settings)
        reader.keys(None, settings, required, optional, owner=f"a {cls._kind} file")
        reader.number("percentile", settings["percentile"], 0.0, 100.0)
        c = settings["contamination"]
        if isinstance(c, str) and c != "auto":
            reader.fail("contamination", "null, 'auto' or a number in (0, 0.5]", c)
        if c is not None and not isinstance(c, str):
            reader.number("contamination", c, 0.0, 0.5, low_inclusive=False)
        reader.number("threshold", settings["threshold"])
        reader.array("decision_scores", settings["decision_scores"], (None,))

    @classmethod
    def _check_model(cls, reader, settings, model):
        """Check that the settings fit the file's model (shapes); subclasses add their checks."""

    @classmethod
    def _from_settings(cls, model, settings):
        raise NotImplementedError

    def save(self, filepath):
        """Save the model and the fitted detector in one `.keras` file, atomically.

        The file is an ordinary `.keras` model file (`keras.models.load_model`
        reads the model) with the detector's settings added; `load(filepath)`
        restores both. Returns the path.
        """
        from keras_ae._io import atomic_write, check_finite_weights, check_output_path

        self._check_fitted()
        path = check_output_path(filepath, (".keras",), what="detector file")
        check_finite_weights(self.model)
        settings = self._settings()
        text = json.dumps(settings, allow_nan=False)
        type(self)._check_settings(SettingsReader(path), json.loads(text))  # never write what load refuses
        members = self._members()

        def write(tmp):
            self.model.save(tmp)
            with zipfile.ZipFile(tmp, "a") as z:
                z.writestr(SETTINGS_MEMBER, text)
                for name, data in members.items():
                    z.writestr(name, data)

        return atomic_write(path, write)

    @classmethod
    def load(cls, filepath):
        """Load a detector written by `save`: the model, and the fitted threshold.

        `BaseDetector.load` (and `AnomalyDetector.load`) load a detector of any
        kind; a subclass's `load` refuses a file of another kind.

        Raises:
            FileNotFoundError: if there is no file at `filepath`.
            ValueError: naming the file (and the field or weight) if it holds
                no detector, or settings that fail their checks, or a NaN or
                infinite weight.
        """
        import keras

        import keras_ae.models  # noqa: F401  (registers the model classes with Keras)
        from keras_ae._io import check_finite_weights

        filepath = os.fspath(filepath)
        settings = read_settings(filepath)
        if settings is None:
            raise ValueError(f"{filepath!r} is a model file without a fitted detector: load it with "
                             "keras.models.load_model and fit a detector on normal data")
        reader = SettingsReader(filepath)
        kind = detector_kind(reader, settings)
        if not issubclass(kind, cls):
            raise ValueError(f"{filepath!r} holds a {kind.__name__}, not a {cls.__name__}")
        target = cls if issubclass(cls, kind) else kind
        target._check_settings(reader, settings)
        model = keras.models.load_model(filepath)
        check_finite_weights(model, f"detector file {filepath!r}")
        target._check_model(reader, settings, model)
        detector = target._from_settings(model, settings)
        with zipfile.ZipFile(filepath) as archive:
            detector._read_members(archive, reader)
        detector.scoring_ = detector._check_params()
        detector._set_fitted(float(settings["threshold"]), settings["decision_scores"])
        return detector
