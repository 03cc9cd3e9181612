"""`ReconstructionDetector`: scores samples by how badly a trained model reconstructs them.

`AnomalyDetector` is its former name, kept working as it was.
"""

import warnings

import numpy as np

from keras_ae._validation import check_choice
from keras_ae.anomaly.base import BaseDetector, register_detector

__all__ = ["AnomalyDetector", "ReconstructionDetector", "SCORES"]

SCORES = ("mse", "bce", "neg_elbo")
UINT8_CHUNK = 4096  # uint8 images are made float32 this many at a time (1.5 MB each at 32x32x3)


@register_detector
class ReconstructionDetector(BaseDetector):
    """Scores samples by how badly a trained autoencoder reconstructs them.

    Follows scikit-learn's estimator API (`fit` returns the detector,
    `get_params`/`set_params`, `clone`, `NotFittedError` before `fit`) and
    PyOD's detector attributes (`decision_scores_`, `labels_`, `threshold_`).
    The model is used as given: `fit` only calibrates the threshold, so train
    the model first (or load one from the zoo). `clone` shares the model.
    A bad setting is refused when the detector is made, and again by `fit`.

    Args:
        model: a trained keras-ae model (from `fit` or the zoo).
        scoring: `"mse"` (mean squared reconstruction error), `"bce"` (binary
            cross-entropy summed over values), `"neg_elbo"` (a VAE's negative
            ELBO), or `None` for `"neg_elbo"` with a VAE and `"mse"` otherwise.
        percentile: the threshold is this percentile of the scores of the
            normal data passed to `fit` (default 95).
        contamination: alternatively, the expected fraction of anomalies in
            the data passed to `fit`; the threshold is then the
            `1 - contamination` quantile. Overrides `percentile`; `"auto"`
            means `percentile`.
        num_samples: ELBO samples per input for `"neg_elbo"`.

    `fit`, `decision_function` and `predict` take uint8 images (pixels 0-255) for a model whose inputs lie in
    [0, 1]: they are divided by 255 as float32 `UINT8_CHUNK` images at a time, so scoring adds memory bounded
    by the chunk, not a float copy of the whole array (benchmarks/RESULTS.md, "Inference and FID throughput").

    Attributes (set by `fit`): those of `BaseDetector` (`threshold_`,
    `decision_scores_`, `labels_`, `scoring_`, `n_features_in_`).

    Example:

    ```python
    detector = ReconstructionDetector(keras_ae.zoo.load("undercomplete.mnist_z20")).fit(x_normal)
    is_anomaly = detector.predict(x_new)        # 1 = anomaly, 0 = normal
    ```
    """

    def __init__(self, model, scoring=None, percentile=95.0, contamination=None, num_samples=1, **kwargs):
        if "score" in kwargs:  # the keyword's name before 0.2
            warnings.warn(f"{type(self).__name__}(score=...) is deprecated: use scoring=...", FutureWarning,
                          stacklevel=2)
            scoring = kwargs.pop("score")
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s): {', '.join(kwargs)}")
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
        """The score in use (`scoring` resolved for the model), after checking every setting."""
        if not callable(getattr(self.model, "reconstruct", None)):
            raise ValueError(
                f"{type(self).__name__} needs a keras-ae model. Received: {type(self.model).__name__}"
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

    @property
    def takes_uint8(self):
        """Whether uint8 images (0-255) are scored as pixels / 255, a chunk at a time: a model on [0, 1] inputs."""
        return self.model.input_range == (0.0, 1.0)

    def _raw_scores(self, x):
        if isinstance(x, np.ndarray) and x.dtype == np.uint8 and x.ndim >= 2 and len(x) and self.takes_uint8:
            return np.concatenate([self._raw_scores(x[start:start + UINT8_CHUNK].astype("float32") / 255.0)
                                   for start in range(0, len(x), UINT8_CHUNK)])
        if self.score_kind == "neg_elbo":
            return np.asarray(-self.model.elbo(x, num_samples=self.num_samples), dtype="float64")
        metric = "mse" if self.score_kind == "mse" else "bce"
        return np.asarray(self.model.reconstruction_error(x, metric=metric), dtype="float64")

    def _score_graph(self, x):
        from keras_ae.anomaly import graph

        if self.score_kind == "neg_elbo":
            raise ValueError("A detector scoring by the -ELBO draws random codes, so it has no deterministic graph "
                             "to export. Received: scoring='neg_elbo'; fit one with scoring='mse' or 'bce' to "
                             "export it")
        per_sample = graph.mse_per_sample if self.score_kind == "mse" else graph.bce_per_sample
        return per_sample(x, graph.reconstruction(self.model, x))

    def score(self, x, y=None):
        """Deprecated: per-sample anomaly scores; use `decision_function` (same values).

        (On the detectors that train their own model, `score` is already
        scikit-learn's: the mean of `score_samples`.)
        """
        warnings.warn(f"{type(self).__name__}.score(x) is deprecated and will be removed: it returns per-sample "
                      "scores, which scikit-learn calls decision_function(x) (same values, higher = more "
                      "abnormal) or score_samples(x) (their opposite); it will become scikit-learn's score, "
                      "the mean of score_samples(x)", FutureWarning, stacklevel=2)
        return self.decision_function(x)

    def score_map(self, x):
        """Per-value squared error map, shaped like `x` (where the model went wrong)."""
        x = self.model.check_inputs(x)
        return (self.model.reconstruct(x) - x) ** 2

    def fit(self, X, y=None):
        """Set `threshold_` from the scores of (mostly) normal data; returns `self`.

        `y` is ignored (unsupervised, as in scikit-learn and PyOD).
        """
        self.scoring_ = self._check_params()
        self._fit_threshold(self._raw_scores(X))
        return self

    # ---- the detector file ----------------------------------------------------------------------------
    def _settings(self):
        return {**super()._settings(), "num_samples": int(self.num_samples)}

    @classmethod
    def _settings_fields(cls, settings):
        required, optional = super()._settings_fields(settings)
        return required + ["num_samples"], optional

    @classmethod
    def _check_settings(cls, reader, settings):
        super()._check_settings(reader, settings)
        reader.choice("scoring", settings["scoring"], SCORES)
        reader.integer("num_samples", settings["num_samples"], low=1)

    @classmethod
    def _check_model(cls, reader, settings, model):
        if not callable(getattr(model, "reconstruct", None)):
            raise ValueError(f"{reader.path}: the file's model is a {type(model).__name__}, not a keras-ae model")
        if settings["scoring"] == "neg_elbo" and not callable(getattr(model, "elbo", None)):
            reader.fail("scoring", f"'mse' or 'bce' for its {type(model).__name__} (not a VAE)", "neg_elbo")

    @classmethod
    def _from_settings(cls, model, settings):
        return cls(model, scoring=settings["scoring"], percentile=settings["percentile"],
                   contamination=settings["contamination"], num_samples=settings["num_samples"])


class _EveryDetector(type):
    """`isinstance(d, AnomalyDetector)` holds for every detector, as when `AnomalyDetector` was the root
    of the hierarchy (`TabularDetector` and `RestorationDetector` were its subclasses then)."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, BaseDetector)

    def __subclasscheck__(cls, sub):
        return isinstance(sub, type) and issubclass(sub, BaseDetector)


class AnomalyDetector(ReconstructionDetector, metaclass=_EveryDetector):
    """The former name of `ReconstructionDetector`, kept working exactly as before.

    `AnomalyDetector(model)` is a `ReconstructionDetector`; `AnomalyDetector.load`
    loads a detector of any kind, and every detector is an instance of it.
    """
