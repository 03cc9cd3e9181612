"""`TrainedDetector`: the template of a detector that builds and trains its own model in `fit`.

`fit` is written once, here; a detector fills in the hooks:

- `_prepare(X, sample_weight)`: check the data (and fit any preprocessing);
  returns what the other hooks need;
- `_build_model(data)`: a fresh, uncompiled keras-ae model;
- `_fit_model(model, data)`: train it with `keras_ae.training.fit_model`
  (the guards, the finite check); returns the `History`;
- `_calibrate(data)`: the fitted state the score needs besides the model.

The settings are checked in `fit` (scikit-learn's convention), before any
training, from one table (`_PARAM_CHECKS`) that `load` checks a file's saved
settings with too.
"""

import numpy as np

from keras_ae._validation import check_choice, check_float, check_positive_int, check_units
from keras_ae.anomaly.base import BaseDetector

__all__ = ["TrainedDetector"]


# ---- checks of one setting: `check(name, value)` raises a `ValueError` naming it -------------------------
def positive_int(name, value):
    check_positive_int(name, value)


def positive_int_or_none(name, value):
    check_positive_int(name, value, allow_none=True)


def non_negative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"`{name}` must be an integer >= 0. Received: {name}={value!r}")


def units(name, value):
    check_units(name, value)


def units_or_none(name, value):
    if value is not None:
        units(name, value)


def positive_float(name, value):
    check_float(name, value, 0.0, None, low_inclusive=False)


def non_negative_float(name, value):
    check_float(name, value, 0.0, None)


def fraction(name, value):
    check_float(name, value, 0.0, 0.5, low_inclusive=False)


def fraction_or_zero(name, value):
    check_float(name, value, 0.0, 0.5)


def percentile(name, value):
    check_float(name, value, 0.0, 100.0)


def contamination(name, value):
    if value is None or (isinstance(value, str) and value == "auto"):
        return
    if isinstance(value, str):
        raise ValueError(f"`{name}` must be None, 'auto' or a number in (0, 0.5]. Received: {name}={value!r}")
    fraction(name, value)


def random_state(name, value):
    # An integer seed (or None): Keras seeds its weights and draws with an int, and the split uses the same one.
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < 2 ** 32:
        raise ValueError(f"`{name}` must be None or an integer in [0, 2**32). Received: {name}={value!r}")


def verbose(name, value):
    is_int = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ((is_int and value in (0, 1, 2)) or (isinstance(value, str) and value == "auto")):
        raise ValueError(f"`{name}` must be 0, 1, 2 or 'auto' (Keras's fit verbosity). Received: {name}={value!r}")


def choice(choices):
    def check(name, value):
        check_choice(name, value, choices)

    return check


class TrainedDetector(BaseDetector):
    """A detector that builds and trains its own model in `fit` (it takes no `model` argument).

    The model is the fitted attribute `model_` (`model` reads and sets it too,
    as before). `fit(X, y=None, sample_weight=None)` checks every setting
    first, then calls the hooks (see the module). `clone` gives an unfitted
    detector with the same settings; a loaded one reports the settings it was
    trained with.

    Attributes (set by `fit`): `model_`, `history_` (the training's
    `History.history`), and those of `BaseDetector`.
    """

    _SECTION = None  # the name of the settings section holding the fitted state (besides the model)
    _PARAM_CHECKS = {}  # setting -> check(name, value); run by `fit`, and on the settings a file saved
    _CHECKED_IN_INIT = ()  # settings also refused at construction (what earlier versions did)

    def _check_init(self):
        for name in self._CHECKED_IN_INIT:
            self._PARAM_CHECKS[name](name, getattr(self, name))

    def _validate_params(self):
        for name, check in self._PARAM_CHECKS.items():
            check(name, getattr(self, name))

    @property
    def model(self):
        """The trained model (`model_`); an `AttributeError` before `fit`."""
        try:
            return self.__dict__["model_"]
        except KeyError:
            raise AttributeError(f"This {type(self).__name__} has no model yet: call fit(x_normal) first") from None

    @model.setter
    def model(self, value):
        self.model_ = value

    def _check_params(self):
        if "model_" not in self.__dict__:
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"This {type(self).__name__} is not fitted yet: call fit(x_normal) first")
        return self._scoring_in_use()

    def _scoring_in_use(self):
        raise NotImplementedError

    # ---- the template -------------------------------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None):
        """Train the model on `X` (normal data), calibrate the score, and set the threshold; returns `self`.

        Args:
            X: the normal data.
            y: ignored (unsupervised, as in scikit-learn and PyOD).
            sample_weight: optional, one non-negative weight per sample of `X`;
                it weighs each sample's training loss (the threshold is the
                unweighted percentile of the scores).
        """
        import keras

        self._validate_params()  # every setting, before any work
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)  # a refit starts unfitted (and stays so if it fails)
        data = self._prepare(X, sample_weight)
        if self.random_state is not None:
            keras.utils.set_random_seed(int(self.random_state))  # before the model is built: its weights too
        model = self._build_model(data)
        self.history_ = self._fit_model(model, data).history
        self.model_ = model
        self._calibrate(data)
        self.scoring_ = self._scoring_in_use()
        self._fit_threshold(self._training_scores(X, data))
        return self

    def _training_scores(self, X, data):
        """The scores of the data passed to `fit`, which set the threshold (hook: a score that compares a
        row with the training rows leaves the row itself out)."""
        return self._raw_scores(X)

    def _prepare(self, X, sample_weight):
        raise NotImplementedError

    def _build_model(self, data):
        raise NotImplementedError

    def _fit_model(self, model, data):
        raise NotImplementedError

    def _calibrate(self, data):
        raise NotImplementedError

    @staticmethod
    def _sample_weight(sample_weight, n):
        """`sample_weight` as float64 `(n,)`, checked (`None` stays `None`)."""
        if sample_weight is None:
            return None
        w = np.asarray(sample_weight, dtype="float64")
        if w.shape != (n,):
            raise ValueError(f"`sample_weight` must have one weight per sample, shape ({n},). "
                             f"Received: shape={w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
            raise ValueError("`sample_weight` must hold finite weights >= 0, not all zero")
        return w

    # ---- the detector file --------------------------------------------------------------------------------
    def _settings(self):
        # The training settings too, so a loaded detector reports (and `clone` refits with) the ones it was
        # trained with, not the defaults. `scoring` is saved as the one fit used (`scoring_`), numpy values
        # as plain ones.
        params = {k: np.asarray(v).tolist() if isinstance(v, (tuple, list, np.ndarray, np.generic)) else v
                  for k, v in self.get_params().items() if k not in ("verbose", "scoring")}
        return {**super()._settings(), "params": params, self._SECTION: self._section()}

    def _section(self):
        raise NotImplementedError

    @classmethod
    def _settings_fields(cls, settings):
        required, optional = super()._settings_fields(settings)
        # Format 1 files may lack `params` (then: the defaults) and carry a `num_samples` of 1.
        if settings.get("format", 1) >= 2:
            return required + ["params", cls._SECTION], optional
        return required + [cls._SECTION], optional + ["params", "num_samples"]

    @classmethod
    def _check_settings(cls, reader, settings):
        super()._check_settings(reader, settings)
        reader.object(cls._SECTION, settings[cls._SECTION])
        params = reader.object("params", settings.get("params", {}))
        known = cls._get_param_names()
        for name, value in params.items():
            if name not in known or name in ("verbose", "scoring"):
                raise ValueError(f"{reader.path}: settings field {'params.' + name!r} is not a saved setting of "
                                 f"a {cls.__name__} (those: {sorted(set(known) - {'verbose', 'scoring'})})")
            try:
                cls._PARAM_CHECKS.get(name, lambda n, v: None)(name, _from_json(value))
            except ValueError as e:
                raise ValueError(f"{reader.path}: settings field {'params.' + name!r} is invalid: {e}") from None

    @classmethod
    def _params_from(cls, settings):
        """The saved training settings as constructor arguments (lists as tuples)."""
        return {k: _from_json(v) for k, v in settings.get("params", {}).items()}


def _from_json(value):
    return tuple(value) if isinstance(value, list) else value
