"""`TabularDetector`: an autoencoder anomaly detector for tables, trained by `fit`."""

import numpy as np

from keras_ae._validation import FLOAT32_MAX
from keras_ae.anomaly import trained as checks
from keras_ae.anomaly.base import register_detector
from keras_ae.anomaly.forest import PaddedForest
from keras_ae.anomaly.tabular_file import (FOREST_WEIGHT, TABULAR_PREPROCESSING, TABULAR_SCORES, TabularFile,
                                           score_terms, uses_forest, uses_reference)
from keras_ae.anomaly.trained import TrainedDetector

__all__ = ["TABULAR_PREPROCESSING", "TABULAR_SCORES", "TabularDetector", "default_tabular_architecture"]

MAX_REFERENCE = 20000  # reference rows kept at most (a random sample of larger training sets)
MIN_STEPS_PER_EPOCH = 25  # an epoch of a small table repeats its rows, so 20 epochs make 500 updates at least


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
class TabularDetector(TabularFile, TrainedDetector):
    """An autoencoder anomaly detector for tabular data, trained by `fit`.

    The recipe the `keras-ae train --data table.csv` default uses:

    - features standardized on the normal data (`preprocessing="standard"`;
      `"power"` makes them Gaussian-like first, with scikit-learn's
      Yeo-Johnson `PowerTransformer`);
    - a dense undercomplete autoencoder with a linear output and squared error,
      sized from the feature count (`default_tabular_architecture`), trained
      briefly: AdamW with weight decay, at most `epochs` epochs of at least
      25 updates each (a small table's rows are repeated), with early stopping
      on a held-out part of the normal data (the best weights are kept; with
      `validation_fraction=0`, on the training loss);
    - the score (`scoring="knn+forest"`): the mean distance of the
      standardized row to its `n_neighbors` nearest training rows, plus twice
      scikit-learn's `IsolationForest` score of it (`-score_samples`, the
      forest grown on the standardized training rows with `random_state`),
      each divided by its interquartile range over the training rows (each
      row left out of its own neighbours). Of the combinations tried on the
      development tables (benchmarks/tabular_dev.md), this one did best over
      clean and contaminated training rows together: the nearest-neighbour
      distance is the baseline that is hard to beat on tables, and the forest
      holds up where anomalies in the training rows cluster. The autoencoder is not in this
      score: it gives `score_map`, and the scores that use it.
      `"knn+code+forest"` adds the mean distance of the row's code to the
      nearest training codes (a third term, also over its interquartile
      range). The scores of earlier versions divide each term by its median:
      `"knn+code"` (the default before), `"knn+mse"` (the squared
      reconstruction error instead), and `"mse+mahalanobis"` and `"mse"`,
      which keep no training rows.

    With `contamination` a number `c` (the expected share of anomalies in the
    training data, as in PyOD), the share `c` of the training rows farthest
    from their `n_neighbors + c * n`-th nearest row (so that a cluster of
    anomalies does not hide itself) leave the reference of the kNN terms
    (the forest keeps every row), and the threshold is the `1 - c` quantile
    of the training scores. `None` or `"auto"` assume clean training data.
    `fit`'s `sample_weight` weighs the autoencoder's loss and the forest's
    subsamples (scikit-learn's `sample_weight`); rows weighed 0 leave the kNN
    reference and the forest.

    It follows scikit-learn's estimator checks (`n_features_in_`,
    `feature_names_in_`: a DataFrame whose columns differ from those of `fit`
    is refused), with the conventions of `BaseDetector` (0/1 labels).

    Args:
        hidden_units, latent_dim: the architecture; `None` sizes it from the
            number of features.
        preprocessing: `"standard"` or `"power"` (Yeo-Johnson, then standardize).
        scoring: `"knn+forest"`, `"knn+code+forest"`, `"knn+code"`,
            `"knn+mse"`, `"mse+mahalanobis"` or `"mse"`.
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
            the rest); 0 holds none out: the model trains on every row and
            stops early on its training loss.
        percentile, contamination: the threshold, as in `ReconstructionDetector`;
            a number `contamination` also trims the kNN reference (above).
        random_state: an integer seed of the split, of the weights and of the
            forest, or `None`.
        verbose: Keras's `verbose` for training (1: a progress bar, 2: one line
            per epoch).

    `preprocessing`, `scoring`, `validation_fraction`, `percentile` and
    `contamination` are refused at construction if bad; every setting is
    checked by `fit`, before any training.

    Attributes (set by `fit`): `model_` (also `model`), `lambdas_`
    (Yeo-Johnson, or `None`), `mean_`, `scale_`, `code_mean_`,
    `code_precision_`, `score_scales_` (what each term is divided by: its
    median, or its interquartile range, halved for the forest term),
    `reference_` (the kNN reference rows, standardized, float32; `None` for
    the scores without kNN), `code_reference_` (their codes, for the scores
    with a code term), `forest_` (a `keras_ae.anomaly.forest.PaddedForest`,
    for the scores with a forest; else `None`), `history_`,
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
        "patience": checks.non_negative_int, "validation_fraction": checks.fraction_or_zero,
        "percentile": checks.percentile, "contamination": checks.contamination,
        "random_state": checks.random_state, "verbose": checks.verbose,
    }
    _CHECKED_IN_INIT = ("preprocessing", "scoring", "validation_fraction", "percentile", "contamination")

    def __init__(self, hidden_units=None, latent_dim=None, preprocessing="standard", scoring="knn+forest",
                 n_neighbors=5, epochs=20, batch_size=None, learning_rate=1e-3, weight_decay=1e-4, patience=5,
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

    def _terms(self, z, self_index=None, forest=None):
        """The terms of the score of standardized rows `z` (float64 each, before dividing by `score_scales_`);
        `self_index`: each row's place in the reference (-1 if not there), to leave it out of its neighbours;
        `forest`: the forest term if already computed."""
        terms = []
        for term in score_terms(self.scoring):
            if term == "forest":
                terms.append(self.forest_.score(z) if forest is None else forest)
            elif term == "mse":
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
                     None if self.code_reference_ is None
                     else NearestNeighbors().fit(np.asarray(self.code_reference_, "float64")))
            self._nn = cache
        return cache[1:]

    def _raw_scores(self, x):
        self._check_params()  # NotFittedError before fit
        z = self._standardize(x)
        if self.scoring == "mse":
            return np.asarray(self.model_.reconstruction_error(z, metric="mse"), "float64")
        return self._combined(self._terms(z))

    def _combined(self, terms):
        return sum(t / s for t, s in zip(terms, self.score_scales_))

    def _training_scores(self, X, data):
        if not uses_reference(self.scoring):
            return self._raw_scores(X)
        return self._combined(data["terms"])  # computed by `_calibrate`

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
                      self.model_.encoder(z, training=False)),
                  "forest": lambda: self.forest_.graph(z)}
        if self.scoring == "mse":
            return graphs["mse"]()
        parts = [graphs[term]() / float(s) for term, s in zip(score_terms(self.scoring), self.score_scales_)]
        return sum(parts[1:], parts[0])

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
        if uses_reference(self.scoring) and int(self.n_neighbors) >= len(z):
            raise ValueError(f"`n_neighbors` must be smaller than the number of training samples ({len(z)}), "
                             f"each of which is compared with its nearest others. Received: "
                             f"n_neighbors={self.n_neighbors}")
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(z))
        n_val = max(1, int(round(self.validation_fraction * len(z)))) if self.validation_fraction else 0
        val, train = order[:n_val], order[n_val:]
        # The kNN reference: the training rows a weight keeps (all, or a random MAX_REFERENCE of them).
        candidates = np.flatnonzero(weights > 0) if weights is not None else np.arange(len(z))
        if len(candidates) > MAX_REFERENCE:
            candidates = np.sort(rng.choice(candidates, MAX_REFERENCE, replace=False))
        return {"z": z, "train": z[train], "val": z[val], "reference": candidates, "weights": weights,
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
        val = None if not len(data["val"]) else (data["val"], data["val"]) if data["w_val"] is None else (
            data["val"], data["val"], data["w_val"])
        stop = keras.callbacks.EarlyStopping("val_loss" if val else "loss", patience=self.patience,
                                             restore_best_weights=True)
        return fit_model(model, train, train, epochs=int(self.epochs),
                         optimizer=keras.optimizers.AdamW(self.learning_rate, weight_decay=self.weight_decay),
                         callbacks=[stop], what="TabularDetector training", validation_data=val,
                         batch_size=batch_size, shuffle=True, verbose=self.verbose, sample_weight=w_train)

    def _calibrate(self, data):
        z = data["z"]
        codes = np.asarray(self.model_.encode(z), "float64")
        self.code_mean_ = codes.mean(axis=0)
        cov = np.atleast_2d(np.cov(codes, rowvar=False))
        self.code_precision_ = np.linalg.pinv(cov + 1e-6 * np.eye(len(cov)))
        self.reference_ = self.code_reference_ = self.forest_ = None
        forest = None
        if uses_forest(self.scoring):  # on every training row: its subsamples make it robust to anomalies
            w = data["weights"]  # rows weighed 0 leave it, as they leave the kNN reference
            keep = slice(None) if w is None else w > 0
            w = None if w is None or np.ptp(w[keep]) == 0 else w[keep]  # equal weights are none (scikit-learn
            self.forest_ = PaddedForest.fit(z[keep], self.random_state, w)  # would draw other subsamples)
            forest = self.forest_.score(z)
        if not uses_reference(self.scoring):
            terms = (np.asarray(self.model_.reconstruction_error(z, metric="mse"), "float64"),
                     self._mahalanobis(codes))
            self.score_scales_ = tuple(max(float(np.median(t)), 1e-12) for t in terms)
            return
        kept = data["reference"]
        for trim in (False, True):
            self._set_reference(z[kept], codes[kept] if "code" in score_terms(self.scoring) else None)
            place = np.full(len(z), -1)
            place[kept] = np.arange(len(kept))
            data["terms"] = self._terms(z, place, forest)  # every training row's, each reference row left out
            self.score_scales_ = self._scales([t[kept] for t in data["terms"]])
            c = self.contamination
            if trim or c is None or isinstance(c, str) or len(kept) * (1 - c) <= int(self.n_neighbors) + 1:
                break
            # PyOD's contamination: the share `c` of the training rows farthest from the others leave the
            # reference (the autoencoder keeps its training). "Farthest" by the distance to the (k + c n)-th
            # nearest row: anomalies that cluster (up to c n of them) are each other's k nearest, not that many.
            deep = min(len(kept) - 1, int(self.n_neighbors) + int(np.ceil(float(c) * len(kept))))
            far = self._neighbours()[0].kneighbors(np.asarray(z[kept], "float64"), deep + 1)[0][:, -1]
            kept = kept[far <= np.quantile(far, 1.0 - float(c))]

    def _scales(self, terms):
        """What each term is divided by: its median on the reference rows, or, for the scores with a forest,
        its interquartile range (over `FOREST_WEIGHT` for the forest term)."""
        if not uses_forest(self.scoring):
            return tuple(max(float(np.median(t)), 1e-12) for t in terms)
        scales = []
        for name, t in zip(score_terms(self.scoring), terms):
            q1, q2, q3 = np.percentile(t, [25, 50, 75])
            # Tied training scores (duplicated rows) leave no spread between the quartiles: then the mean
            # absolute deviation, or the median itself
            spread = next((v for v in (q3 - q1, np.mean(np.abs(t - q2)), abs(q2)) if v > 1e-12), 1e-12)
            scales.append(float(spread) / (FOREST_WEIGHT if name == "forest" else 1.0))
        return tuple(scales)

    def _set_reference(self, reference, code_reference):
        self.reference_ = np.asarray(reference, "float32")
        self.code_reference_ = None if code_reference is None else np.asarray(code_reference, "float32")
        self.__dict__.pop("_nn", None)
