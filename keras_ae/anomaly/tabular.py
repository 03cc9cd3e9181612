"""`TabularDetector`: an autoencoder anomaly detector for tables, trained by `fit`."""

import numpy as np

from keras_ae._validation import FLOAT32_MAX
from keras_ae.anomaly import trained as checks
from keras_ae.anomaly._schema import said
from keras_ae.anomaly.base import register_detector
from keras_ae.anomaly.trained import TrainedDetector

__all__ = ["TABULAR_PREPROCESSING", "TABULAR_SCORES", "TabularDetector", "default_tabular_architecture"]

TABULAR_PREPROCESSING = ("power", "standard")
TABULAR_SCORES = ("mse+mahalanobis", "mse")
_TINY = float(np.finfo("float64").tiny)


def default_tabular_architecture(n_features):
    """`(hidden_units, latent_dim)` of `TabularDetector`'s model for `n_features` columns.

    One hidden layer twice as wide as the input (8 to 64 units) and a code of
    about a third of the input (1 to 16 values).
    """
    n = int(n_features)
    if n < 2:
        raise ValueError(f"An autoencoder needs at least 2 features to compress. Received: {n}")
    return (max(8, min(64, 2 * n)),), max(1, min(16, n // 3))


@register_detector
class TabularDetector(TrainedDetector):
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

    It follows scikit-learn's estimator checks (`n_features_in_`,
    `feature_names_in_`: a DataFrame whose columns differ from those of `fit`
    is refused), with the conventions of `BaseDetector` (0/1 labels).

    Args:
        hidden_units, latent_dim: the architecture; `None` sizes it from the
            number of features.
        preprocessing: `"power"` (Yeo-Johnson, then standardize) or `"standard"`.
        scoring: `"mse+mahalanobis"` or `"mse"`.
        epochs: the most epochs to train (a positive integer); early stopping
            usually ends sooner.
        batch_size: a positive integer, or `None` for 32.
        learning_rate, weight_decay: AdamW settings.
        patience: epochs without a better held-out loss before stopping.
        validation_fraction: the part of the normal data held out for early
            stopping (it is used for the threshold, with the rest).
        percentile, contamination: the threshold, as in `ReconstructionDetector`.
        random_state: an integer seed of the split and of the weights, or `None`.
        verbose: Keras's `verbose` for training.

    `preprocessing`, `scoring`, `validation_fraction`, `percentile` and
    `contamination` are refused at construction if bad; every setting is
    checked by `fit`, before any training.

    Attributes (set by `fit`): `model_` (also `model`), `lambdas_`
    (Yeo-Johnson, or `None`), `mean_`, `scale_`, `code_mean_`,
    `code_precision_`, `score_scales_`, `history_`, `feature_names_in_` (for a
    DataFrame with string column names), and those of `BaseDetector`.
    """

    _SECTION = "tabular"
    _PARAM_CHECKS = {
        "hidden_units": checks.units_or_none, "latent_dim": checks.positive_int_or_none,
        "preprocessing": checks.choice(TABULAR_PREPROCESSING), "scoring": checks.choice(TABULAR_SCORES),
        "epochs": checks.positive_int, "batch_size": checks.positive_int_or_none,
        "learning_rate": checks.positive_float, "weight_decay": checks.non_negative_float,
        "patience": checks.non_negative_int, "validation_fraction": checks.fraction,
        "percentile": checks.percentile, "contamination": checks.contamination,
        "random_state": checks.random_state, "verbose": checks.verbose,
    }
    _CHECKED_IN_INIT = ("preprocessing", "scoring", "validation_fraction", "percentile", "contamination")

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
        self._check_init()

    def _scoring_in_use(self):
        return self.scoring

    # ---- the data -----------------------------------------------------------------------------------------
    def _table(self, X, reset=False, name="X"):
        """`X` as a float64 `(n_samples, n_features)` table, checked as scikit-learn checks it."""
        from scipy.sparse import issparse
        from sklearn.utils.validation import validate_data

        from keras_ae._validation import to_numpy

        framed = (type(X).__module__ or "").startswith("pandas")  # scikit-learn checks its column names first
        if not (issparse(X) or framed):
            X = np.asarray(to_numpy(X, name))
            if X.ndim != 2 or X.dtype.kind in "USVMma":
                raise ValueError(f"`{name}` must be a table of numbers, shape (n_samples, n_features) with "
                                 f"n_samples >= 1 and n_features >= 2. Received: shape={X.shape}, dtype={X.dtype}"
                                 + (". Reshape your data: array.reshape(1, -1) for a single sample"
                                    if X.ndim == 1 else ""))
        n_in = getattr(self, "n_features_in_", None)
        if not reset and not framed and n_in is not None and np.ndim(X) == 2 and X.shape[1] != n_in:
            raise ValueError(f"`{name}` must have {n_in} features, as in fit. Received: {X.shape[1]} (X has "
                             f"{X.shape[1]} features, but {type(self).__name__} is expecting {n_in} features "
                             "as input)")
        x = validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite=False, ensure_min_features=2)
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
        x = self._table(X, reset=False, name=name)
        return ((self._power(x) - self.mean_) / self.scale_).astype("float32")

    def _mahalanobis(self, codes):
        d = np.asarray(codes, "float64") - self.code_mean_
        return np.einsum("ij,jk,ik->i", d, self.code_precision_, d)

    def _raw_scores(self, x):
        self._check_params()  # NotFittedError before fit
        z = self._standardize(x)
        mse = np.asarray(self.model_.reconstruction_error(z, metric="mse"), "float64")
        if self.scoring == "mse":
            return mse
        return mse / self.score_scales_[0] + self._mahalanobis(self.model_.encode(z)) / self.score_scales_[1]

    def _beyond_float32(self, X):
        # The model sees the transformed features: a row is beyond float32 when they are (a finite 1e300 after
        # Yeo-Johnson and standardizing), not when the raw value is (1e39 in a column whose scale is 1e38 is not).
        self._check_params()
        x = self._table(X)
        with np.errstate(over="ignore", invalid="ignore"):
            z = (self._power(x) - self.mean_) / self.scale_
        return (~np.isfinite(z) | (np.abs(z) > FLOAT32_MAX)).any(axis=1)

    def _score_graph(self, x):
        from keras_ae.anomaly import graph

        t = graph.yeo_johnson(x, self.lambdas_) if self.lambdas_ is not None else x
        z = (t - graph.constant(self.mean_)) / graph.constant(self.scale_)
        mse = graph.mse_per_sample(z, graph.reconstruction(self.model_, z))
        if self.scoring == "mse":
            return mse
        code = self.model_.encoder(z, training=False)
        return (mse / float(self.score_scales_[0])
                + graph.mahalanobis(code, self.code_mean_, self.code_precision_) / float(self.score_scales_[1]))

    def score_map(self, x):
        """Per-feature squared error of the transformed features (which feature was off)."""
        self._check_params()
        z = self._standardize(x)
        return (self.model_.reconstruct(z) - z) ** 2

    # ---- the hooks of `fit` -------------------------------------------------------------------------------
    def _prepare(self, X, sample_weight):
        x = self._table(X, reset=True)
        if len(x) < 10:
            raise ValueError(f"TabularDetector needs at least 10 normal samples. Received: {len(x)} sample(s)")
        weights = self._sample_weight(sample_weight, len(x))
        self.lambdas_ = None
        if self.preprocessing == "power":
            from sklearn.preprocessing import PowerTransformer

            self.lambdas_ = PowerTransformer(standardize=False).fit(x).lambdas_
        t = self._power(x)
        self.mean_ = t.mean(axis=0)
        scale = t.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)  # constant columns stay 0 after centring
        z = ((t - self.mean_) / self.scale_).astype("float32")
        order = np.random.default_rng(self.random_state).permutation(len(z))
        n_val = max(1, int(round(self.validation_fraction * len(z))))
        val, train = order[:n_val], order[n_val:]
        return {"z": z, "train": z[train], "val": z[val],
                "w_train": None if weights is None else weights[train],
                "w_val": None if weights is None else weights[val]}

    def _build_model(self, data):
        from keras_ae.models import UndercompleteAutoencoder

        n = data["z"].shape[1]
        hidden, latent = default_tabular_architecture(n)
        return UndercompleteAutoencoder(input_shape=(n,), hidden_units=self.hidden_units or hidden,
                                        latent_dim=self.latent_dim or latent, output_activation="linear")

    def _fit_model(self, model, data):
        import keras

        from keras_ae.training import fit_model

        val = (data["val"], data["val"]) if data["w_val"] is None else (data["val"], data["val"], data["w_val"])
        return fit_model(model, data["train"], data["train"], epochs=int(self.epochs),
                         optimizer=keras.optimizers.AdamW(self.learning_rate, weight_decay=self.weight_decay),
                         callbacks=[keras.callbacks.EarlyStopping(patience=self.patience, restore_best_weights=True)],
                         what="TabularDetector training", validation_data=val,
                         batch_size=int(self.batch_size or 32), shuffle=True, verbose=self.verbose,
                         sample_weight=data["w_train"])

    def _calibrate(self, data):
        z = data["z"]
        codes = np.asarray(self.model_.encode(z), "float64")
        self.code_mean_ = codes.mean(axis=0)
        cov = np.atleast_2d(np.cov(codes, rowvar=False))
        self.code_precision_ = np.linalg.pinv(cov + 1e-6 * np.eye(len(cov)))
        mse = np.asarray(self.model_.reconstruction_error(z, metric="mse"), "float64")
        self.score_scales_ = (max(float(np.median(mse)), 1e-12),
                              max(float(np.median(self._mahalanobis(codes))), 1e-12))

    # ---- the detector file --------------------------------------------------------------------------------
    def _section(self):
        section = {"preprocessing": self.preprocessing,
                   "lambdas": None if self.lambdas_ is None else [float(v) for v in self.lambdas_],
                   "mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
                   "code_mean": self.code_mean_.tolist(), "code_precision": self.code_precision_.tolist(),
                   "score_scales": [float(v) for v in self.score_scales_]}
        if hasattr(self, "feature_names_in_"):
            section["feature_names"] = [str(v) for v in self.feature_names_in_]
        return section

    @classmethod
    def _check_settings(cls, reader, settings):
        super()._check_settings(reader, settings)
        reader.choice("scoring", settings["scoring"], TABULAR_SCORES)
        t = reader.keys("tabular", settings["tabular"], ["preprocessing", "lambdas", "mean", "scale", "code_mean",
                                                         "code_precision", "score_scales"], ["feature_names"],
                        owner="the 'tabular' section of a TabularDetector file")
        preprocessing = reader.choice("tabular.preprocessing", t["preprocessing"], TABULAR_PREPROCESSING)
        n = len(reader.array("tabular.mean", t["mean"], (None,)))
        reader.array("tabular.scale", t["scale"], (n,), low=_TINY)
        if (t["lambdas"] is None) != (preprocessing == "standard"):
            reader.fail("tabular.lambdas", f"{'null' if preprocessing == 'standard' else 'a list'} with "
                        f"preprocessing {preprocessing!r}", t["lambdas"])
        if t["lambdas"] is not None:
            reader.array("tabular.lambdas", t["lambdas"], (n,))
        k = len(reader.array("tabular.code_mean", t["code_mean"], (None,)))
        reader.array("tabular.code_precision", t["code_precision"], (k, k))
        reader.array("tabular.score_scales", t["score_scales"], (2,), low=_TINY)
        names = t.get("feature_names")
        if names is not None and (not isinstance(names, list) or len(names) != n
                                  or not all(isinstance(v, str) for v in names)):
            reader.fail("tabular.feature_names", f"a list of {n} strings", names)

    @classmethod
    def _check_model(cls, reader, settings, model):
        t = settings["tabular"]
        shape = tuple(getattr(model, "sample_shape", ()))
        if shape != (len(t["mean"]),):
            reader.fail("tabular.mean", f"{int(np.prod(shape))} values, one per input of the file's model",
                        said(f"{len(t['mean'])} values"))
        if int(getattr(model, "latent_dim", -1)) != len(t["code_mean"]):
            reader.fail("tabular.code_mean", f"{getattr(model, 'latent_dim', '?')} values, one per code value of "
                        "the file's model", said(f"{len(t['code_mean'])} values"))

    @classmethod
    def _from_settings(cls, model, settings):
        t = settings["tabular"]
        detector = cls(**{**cls._params_from(settings), "preprocessing": t["preprocessing"],
                          "scoring": settings["scoring"], "percentile": settings["percentile"],
                          "contamination": settings["contamination"]})
        detector.model_ = model
        detector.lambdas_ = None if t.get("lambdas") is None else np.asarray(t["lambdas"], "float64")
        detector.mean_, detector.scale_ = np.asarray(t["mean"], "float64"), np.asarray(t["scale"], "float64")
        detector.code_mean_ = np.asarray(t["code_mean"], "float64")
        detector.code_precision_ = np.asarray(t["code_precision"], "float64")
        detector.score_scales_ = tuple(float(v) for v in t["score_scales"])
        if t.get("feature_names") is not None:
            detector.feature_names_in_ = np.asarray(t["feature_names"], dtype=object)
        return detector
