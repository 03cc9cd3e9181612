"""`TabularDetector`: an autoencoder anomaly detector for tables, trained by `fit`."""

import io

import numpy as np

from keras_ae._validation import FLOAT32_MAX
from keras_ae.anomaly import trained as checks
from keras_ae.anomaly._schema import said
from keras_ae.anomaly.base import register_detector
from keras_ae.anomaly.trained import TrainedDetector

__all__ = ["TABULAR_PREPROCESSING", "TABULAR_SCORES", "TabularDetector", "default_tabular_architecture"]

TABULAR_PREPROCESSING = ("power", "standard")
# knn: the mean distance to the k nearest training rows (standardized features); code: the same in the code
# space; mse: the squared reconstruction error; mahalanobis: the code's distance from the normal codes.
TABULAR_SCORES = ("knn+code", "knn+mse", "mse+mahalanobis", "mse")
REFERENCE_MEMBER = "keras_ae_detector_reference.npy"  # the kNN reference rows, beside the settings
MAX_REFERENCE = 20000  # reference rows kept at most (a random sample of larger training sets)
MIN_STEPS_PER_EPOCH = 25  # an epoch of a small table repeats its rows, so 40 epochs make 1000 updates at least
_TINY = float(np.finfo("float64").tiny)


def _uses_reference(scoring):
    return scoring.startswith("knn")


def _mean_knn(nn, query, k, self_index=None):
    """The mean distance of each `query` row to its `k` nearest rows of the fitted `NearestNeighbors` `nn`;
    a row whose `self_index` (its row in the reference, or -1) is given leaves itself out."""
    query = np.asarray(query, "float64")
    finite = np.isfinite(query).all(axis=1)
    if not finite.all():  # a diverged model's NaN code: a NaN score, which `decision_function` refuses
        out = np.full(len(query), np.nan)
        if finite.any():
            out[finite] = _mean_knn(nn, query[finite], k, None if self_index is None
                                    else np.asarray(self_index)[finite])
        return out
    if self_index is None:
        return nn.kneighbors(query, k)[0].mean(axis=1)
    dist, idx = nn.kneighbors(query, k + 1)
    drop = idx == np.asarray(self_index)[:, None]
    drop[~drop.any(axis=1), -1] = True  # not in the reference (or twins came first): the farthest goes
    return dist[~drop].reshape(len(query), k).mean(axis=1)


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

    - features standardized on the normal data (`preprocessing="standard"`;
      `"power"` makes them Gaussian-like first, with scikit-learn's
      Yeo-Johnson `PowerTransformer`);
    - a dense undercomplete autoencoder with a linear output and squared error,
      sized from the feature count (`default_tabular_architecture`), trained
      briefly: AdamW with weight decay, at most `epochs` epochs of at least
      25 updates each (a small table's rows are repeated), with early stopping
      on a held-out part of the normal data (the best weights are kept);
    - the score (`scoring="knn+code"`): the mean distance of the standardized
      row to its `n_neighbors` nearest training rows, plus the mean distance
      of its code to their nearest codes, each divided by its median over the
      training rows (each row left out of its own neighbours). The first term
      is the nearest-neighbour baseline that is hard to beat on tables; the
      code term adds what the autoencoder learned of the data's shape.
      `"knn+mse"` adds the squared reconstruction error instead; the former
      default, `"mse+mahalanobis"`, and `"mse"` keep no training rows.

    With `contamination` a number `c` (the expected share of anomalies in the
    training data, as in PyOD), the share `c` of the training rows farthest
    from their `n_neighbors + c * n`-th nearest row (so that a cluster of
    anomalies does not hide itself) leave the reference of the kNN terms, and
    the threshold is the `1 - c` quantile of the training scores. `None` or
    `"auto"` assume clean training data.

    It follows scikit-learn's estimator checks (`n_features_in_`,
    `feature_names_in_`: a DataFrame whose columns differ from those of `fit`
    is refused), with the conventions of `BaseDetector` (0/1 labels).

    Args:
        hidden_units, latent_dim: the architecture; `None` sizes it from the
            number of features.
        preprocessing: `"standard"` or `"power"` (Yeo-Johnson, then standardize).
        scoring: `"knn+code"`, `"knn+mse"`, `"mse+mahalanobis"` or `"mse"`.
        n_neighbors: the `k` of the kNN terms (a positive integer, fewer than
            the training rows).
        epochs: the most epochs to train (a positive integer); early stopping
            often ends sooner.
        batch_size: a positive integer, or `None` for an eighth of the
            training rows, between 32 and 256.
        learning_rate, weight_decay: AdamW settings.
        patience: epochs without a better held-out loss before stopping.
        validation_fraction: the part of the normal data held out for early
            stopping (it is in the kNN reference and sets the threshold, with
            the rest).
        percentile, contamination: the threshold, as in `ReconstructionDetector`;
            a number `contamination` also trims the kNN reference (above).
        random_state: an integer seed of the split and of the weights, or `None`.
        verbose: Keras's `verbose` for training (1: a progress bar, 2: one line
            per epoch).

    `preprocessing`, `scoring`, `validation_fraction`, `percentile` and
    `contamination` are refused at construction if bad; every setting is
    checked by `fit`, before any training.

    Attributes (set by `fit`): `model_` (also `model`), `lambdas_`
    (Yeo-Johnson, or `None`), `mean_`, `scale_`, `code_mean_`,
    `code_precision_`, `score_scales_` (the two terms' medians), `reference_`
    (the kNN reference rows, standardized, float32; `None` for the scores
    without kNN), `code_reference_` (their codes), `history_`,
    `feature_names_in_` (for a DataFrame with string column names), and those
    of `BaseDetector`. At most 20,000 reference rows are kept (a random sample).
    """

    _SECTION = "tabular"
    _PARAM_CHECKS = {
        "hidden_units": checks.units_or_none, "latent_dim": checks.positive_int_or_none,
        "preprocessing": checks.choice(TABULAR_PREPROCESSING), "scoring": checks.choice(TABULAR_SCORES),
        "n_neighbors": checks.positive_int,
        "epochs": checks.positive_int, "batch_size": checks.positive_int_or_none,
        "learning_rate": checks.positive_float, "weight_decay": checks.non_negative_float,
        "patience": checks.non_negative_int, "validation_fraction": checks.fraction,
        "percentile": checks.percentile, "contamination": checks.contamination,
        "random_state": checks.random_state, "verbose": checks.verbose,
    }
    _CHECKED_IN_INIT = ("preprocessing", "scoring", "validation_fraction", "percentile", "contamination")

    def __init__(self, hidden_units=None, latent_dim=None, preprocessing="standard", scoring="knn+code",
                 n_neighbors=5, epochs=40, batch_size=None, learning_rate=1e-3, weight_decay=1e-4, patience=5,
                 validation_fraction=0.2, percentile=95.0, contamination=None, random_state=0, verbose=0):
        self.hidden_units = hidden_units
        self.latent_dim = latent_dim
        self.preprocessing = preprocessing
        self.scoring = scoring
        self.n_neighbors = n_neighbors
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

    def _terms(self, z, self_index=None):
        """The two terms of the score of standardized rows `z` (float64 each, before dividing by their medians);
        `self_index`: each row's place in the reference (-1 if not there), to leave it out of its neighbours."""
        first, second = self.scoring.split("+")
        terms = []
        for term in (first, second):
            if term == "mse":
                terms.append(np.asarray(self.model_.reconstruction_error(z, metric="mse"), "float64"))
            elif term == "mahalanobis":
                terms.append(self._mahalanobis(self.model_.encode(z)))
            elif term == "knn":
                terms.append(_mean_knn(self._neighbours()[0], z, int(self.n_neighbors), self_index))
            else:  # code
                codes = np.asarray(self.model_.encode(z), "float64")
                terms.append(_mean_knn(self._neighbours()[1], codes, int(self.n_neighbors), self_index))
        return terms

    def _neighbours(self):
        """Fitted `NearestNeighbors` of `reference_` and of `code_reference_` (built once, then kept)."""
        cache = self.__dict__.get("_nn")
        if cache is None or cache[0] is not self.reference_:
            from sklearn.neighbors import NearestNeighbors

            cache = (self.reference_, NearestNeighbors().fit(np.asarray(self.reference_, "float64")),
                     NearestNeighbors().fit(np.asarray(self.code_reference_, "float64")))
            self._nn = cache
        return cache[1:]

    def _raw_scores(self, x):
        self._check_params()  # NotFittedError before fit
        z = self._standardize(x)
        if self.scoring == "mse":
            return np.asarray(self.model_.reconstruction_error(z, metric="mse"), "float64")
        a, b = self._terms(z)
        return a / self.score_scales_[0] + b / self.score_scales_[1]

    def _training_scores(self, X, data):
        if not _uses_reference(self.scoring):
            return self._raw_scores(X)
        a, b = data["terms"]  # computed by `_calibrate`
        return a / self.score_scales_[0] + b / self.score_scales_[1]

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
        k = int(self.n_neighbors)
        graphs = {"mse": lambda: graph.mse_per_sample(z, graph.reconstruction(self.model_, z)),
                  "mahalanobis": lambda: graph.mahalanobis(self.model_.encoder(z, training=False), self.code_mean_,
                                                           self.code_precision_),
                  "knn": lambda: graph.NearestNeighbourDistance(self.reference_, k, method="mean")(z),
                  "code": lambda: graph.NearestNeighbourDistance(self.code_reference_, k, method="mean")(
                      self.model_.encoder(z, training=False))}
        if self.scoring == "mse":
            return graphs["mse"]()
        first, second = self.scoring.split("+")
        return graphs[first]() / float(self.score_scales_[0]) + graphs[second]() / float(self.score_scales_[1])

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
        if _uses_reference(self.scoring) and int(self.n_neighbors) >= len(z):
            raise ValueError(f"`n_neighbors` must be smaller than the number of training samples ({len(z)}), "
                             f"each of which is compared with its nearest others. Received: "
                             f"n_neighbors={self.n_neighbors}")
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(z))
        n_val = max(1, int(round(self.validation_fraction * len(z))))
        val, train = order[:n_val], order[n_val:]
        # The kNN reference: the training rows a weight keeps (all, or a random MAX_REFERENCE of them).
        candidates = np.flatnonzero(weights > 0) if weights is not None else np.arange(len(z))
        if len(candidates) > MAX_REFERENCE:
            candidates = np.sort(rng.choice(candidates, MAX_REFERENCE, replace=False))
        return {"z": z, "train": z[train], "val": z[val], "reference": candidates,
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

        train, w_train = data["train"], data["w_train"]
        batch_size = int(self.batch_size or min(256, max(32, len(train) // 8)))
        repeats = -(-MIN_STEPS_PER_EPOCH * batch_size // len(train))  # a small table: its rows, several times
        if repeats > 1:
            train = np.tile(train, (repeats, 1))
            w_train = None if w_train is None else np.tile(w_train, repeats)
        val = (data["val"], data["val"]) if data["w_val"] is None else (data["val"], data["val"], data["w_val"])
        return fit_model(model, train, train, epochs=int(self.epochs),
                         optimizer=keras.optimizers.AdamW(self.learning_rate, weight_decay=self.weight_decay),
                         callbacks=[keras.callbacks.EarlyStopping(patience=self.patience, restore_best_weights=True)],
                         what="TabularDetector training", validation_data=val,
                         batch_size=batch_size, shuffle=True, verbose=self.verbose, sample_weight=w_train)

    def _calibrate(self, data):
        z = data["z"]
        codes = np.asarray(self.model_.encode(z), "float64")
        self.code_mean_ = codes.mean(axis=0)
        cov = np.atleast_2d(np.cov(codes, rowvar=False))
        self.code_precision_ = np.linalg.pinv(cov + 1e-6 * np.eye(len(cov)))
        self.reference_ = self.code_reference_ = None
        if not _uses_reference(self.scoring):
            terms = (np.asarray(self.model_.reconstruction_error(z, metric="mse"), "float64"),
                     self._mahalanobis(codes))
            self.score_scales_ = tuple(max(float(np.median(t)), 1e-12) for t in terms)
            return
        kept = data["reference"]
        for trim in (False, True):
            self._set_reference(z[kept], codes[kept].astype("float32"))
            place = np.full(len(z), -1)
            place[kept] = np.arange(len(kept))
            data["terms"] = self._terms(z, place)  # every training row's, each reference row left out
            terms = [t[kept] for t in data["terms"]]
            self.score_scales_ = tuple(max(float(np.median(t)), 1e-12) for t in terms)
            c = self.contamination
            if trim or c is None or isinstance(c, str) or len(kept) * (1 - c) <= int(self.n_neighbors) + 1:
                break
            # PyOD's contamination: the share `c` of the training rows farthest from the others leave the
            # reference (the autoencoder keeps its training). "Farthest" by the distance to the (k + c n)-th
            # nearest row: anomalies that cluster (up to c n of them) are each other's k nearest, not that many.
            deep = min(len(kept) - 1, int(self.n_neighbors) + int(np.ceil(float(c) * len(kept))))
            far = self._neighbours()[0].kneighbors(np.asarray(z[kept], "float64"), deep + 1)[0][:, -1]
            kept = kept[far <= np.quantile(far, 1.0 - float(c))]

    def _set_reference(self, reference, code_reference):
        self.reference_ = np.asarray(reference, "float32")
        self.code_reference_ = np.asarray(code_reference, "float32")
        self.__dict__.pop("_nn", None)

    def _file_format(self):
        return 3 if _uses_reference(self.scoring_) else 2

    def _members(self):
        if not _uses_reference(self.scoring_):
            return {}
        buffer = io.BytesIO()
        np.save(buffer, self.reference_, allow_pickle=False)
        return {REFERENCE_MEMBER: buffer.getvalue()}

    def _read_members(self, archive, reader):
        self.reference_ = self.code_reference_ = None
        if not _uses_reference(self.scoring):
            return
        n = int(self._reference_rows)
        what = f"a float32 array of shape ({n}, {len(self.mean_)}), finite"
        try:
            ref = np.load(io.BytesIO(archive.read(REFERENCE_MEMBER)), allow_pickle=False)
        except KeyError:
            raise ValueError(f"{reader.path}: the member {REFERENCE_MEMBER!r} (the kNN reference rows of scoring "
                             f"{self.scoring!r}) is missing") from None
        except (ValueError, OSError) as e:
            raise ValueError(f"{reader.path}: the member {REFERENCE_MEMBER!r} must be {what}: {e}") from None
        if ref.shape != (n, len(self.mean_)) or ref.dtype != np.float32 or not np.all(np.isfinite(ref)):
            raise ValueError(f"{reader.path}: the member {REFERENCE_MEMBER!r} must be {what}. Received: "
                             f"shape {ref.shape}, dtype {ref.dtype}"
                             + ("" if ref.dtype.kind != "f" or np.all(np.isfinite(ref)) else ", NaN or infinite"))
        self._set_reference(ref, self.model_.encode(ref))

    # ---- the detector file --------------------------------------------------------------------------------
    def _section(self):
        section = {"preprocessing": self.preprocessing,
                   "lambdas": None if self.lambdas_ is None else [float(v) for v in self.lambdas_],
                   "mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
                   "code_mean": self.code_mean_.tolist(), "code_precision": self.code_precision_.tolist(),
                   "score_scales": [float(v) for v in self.score_scales_]}
        if _uses_reference(self.scoring_):
            section["reference_rows"] = len(self.reference_)
        if hasattr(self, "feature_names_in_"):
            section["feature_names"] = [str(v) for v in self.feature_names_in_]
        return section

    @classmethod
    def _check_settings(cls, reader, settings):
        super()._check_settings(reader, settings)
        reader.choice("scoring", settings["scoring"], TABULAR_SCORES)
        t = reader.keys("tabular", settings["tabular"], ["preprocessing", "lambdas", "mean", "scale", "code_mean",
                                                         "code_precision", "score_scales"],
                        ["feature_names", "reference_rows"],
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
        if _uses_reference(settings["scoring"]):
            rows = t.get("reference_rows")
            if rows is None:
                reader.fail("tabular.reference_rows", f"the number of kNN reference rows with scoring "
                            f"{settings['scoring']!r}", said("nothing (the field is missing)"))
            k = settings.get("params", {}).get("n_neighbors", 5)
            reader.integer("tabular.reference_rows", rows, low=(k if isinstance(k, int) else 1) + 1)
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
        detector._reference_rows = t.get("reference_rows")  # the rows themselves: `_read_members`
        if t.get("feature_names") is not None:
            detector.feature_names_in_ = np.asarray(t["feature_names"], dtype=object)
        return detector
