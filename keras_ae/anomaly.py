"""Anomaly detection with any keras-ae model (PyOD / alibi-detect conventions).

Higher scores mean more abnormal, and the threshold is a fitted attribute.

Example:

```python
detector = keras_ae.anomaly.AnomalyDetector(keras_ae.zoo.load("undercomplete.mnist_z20"))
detector.fit(x_normal)                 # sets threshold_ at the 95th percentile of normal scores
is_anomaly = detector.predict(x_new)   # 1 = anomaly
report = detector.evaluate(x_test, y_is_anomaly)   # AUROC, average precision, F1
```
"""

import numpy as np

from keras_ae._validation import check_choice, check_float

SCORES = ("mse", "bce", "neg_elbo")


class AnomalyDetector:
    """Scores samples by how badly a trained autoencoder reconstructs them.

    Args:
        model: a trained keras-ae model (from `fit` or the zoo).
        score: `"mse"` (mean squared reconstruction error), `"bce"` (binary
            cross-entropy summed over values), `"neg_elbo"` (a VAE's negative
            ELBO), or `None` for `"neg_elbo"` with a VAE and `"mse"` otherwise.
        percentile: the threshold is this percentile of the scores of the
            normal data passed to `fit` (default 95).
        contamination: alternatively, the expected fraction of anomalies in
            the data passed to `fit`; the threshold is then the
            `1 - contamination` quantile. Overrides `percentile`.
        num_samples: ELBO samples per input for `"neg_elbo"`.

    Attributes:
        threshold_: the fitted threshold (set by `fit`).
    """

    def __init__(self, model, score=None, percentile=95.0, contamination=None, num_samples=1):
        if not callable(getattr(model, "reconstruct", None)):
            raise ValueError(
                f"AnomalyDetector needs a keras-ae model. Received: {type(model).__name__}"
            )
        is_vae = callable(getattr(model, "elbo", None))
        self.model = model
        self.score_kind = check_choice("score", score or ("neg_elbo" if is_vae else "mse"), SCORES)
        if self.score_kind == "neg_elbo" and not is_vae:
            raise ValueError(
                f"score='neg_elbo' needs a VAE. Received: {type(model).__name__}; use 'mse' or 'bce'"
            )
        self.percentile = check_float("percentile", percentile, 0.0, 100.0)
        self.contamination = (None if contamination is None else
                              check_float("contamination", contamination, 0.0, 0.5, low_inclusive=False))
        self.num_samples = num_samples
        self.threshold_ = None

    def score(self, x):
        """Per-sample anomaly score, shape `(n,)`; higher is more abnormal."""
        if self.score_kind == "neg_elbo":
            return -self.model.elbo(x, num_samples=self.num_samples)
        metric = "mse" if self.score_kind == "mse" else "bce"
        return self.model.reconstruction_error(x, metric=metric)

    def score_map(self, x):
        """Per-value squared error map, shaped like `x` (where the model went wrong)."""
        x = self.model.check_inputs(x)
        return (self.model.reconstruct(x) - x) ** 2

    def fit(self, x_normal):
        """Set `threshold_` from the scores of (mostly) normal data; returns `self`."""
        scores = self.score(x_normal)
        q = 100.0 * (1.0 - self.contamination) if self.contamination is not None else self.percentile
        if not np.all(np.isfinite(scores)):
            raise ValueError(
                f"The model gives {int(np.size(scores) - np.count_nonzero(np.isfinite(scores)))} NaN or "
                "infinite score(s) on `x_normal`, so no threshold can be set: is the model diverged?")
        self.threshold_ = float(np.percentile(scores, q))
        self.train_scores_ = scores
        return self

    def _check_fitted(self):
        if self.threshold_ is None:
            raise RuntimeError("This AnomalyDetector is not fitted yet: call fit(x_normal) before predict")

    def predict(self, x):
        """1 for an anomaly (score above `threshold_`), 0 for normal."""
        self._check_fitted()
        return (self.score(x) > self.threshold_).astype("int64")

    def evaluate(self, x, y):
        """AUROC, average precision, and F1 at `threshold_` against labels `y` (1 = anomaly)."""
        from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

        self._check_fitted()
        y = np.asarray(y).astype("int64").ravel()
        if set(np.unique(y)) - {0, 1} or len(np.unique(y)) < 2:
            raise ValueError(f"`y` must hold both 0 (normal) and 1 (anomaly). Received values: {np.unique(y)}")
        scores = self.score(x)
        if len(scores) != len(y):
            raise ValueError(f"`x` and `y` differ in length. Received: {len(scores)} and {len(y)}")
        return {
            "auroc": float(roc_auc_score(y, scores)),
            "average_precision": float(average_precision_score(y, scores)),
            "f1": float(f1_score(y, (scores > self.threshold_).astype("int64"))),
            "threshold": self.threshold_,
        }


def one_class_mnist(build_model, data, digits=range(10), epochs=10, batch_size=128, verbose=0,
                    progress=True):
    """The one-class MNIST protocol of Ruff et al. (2018), Deep SVDD.

    For each digit, train a fresh model only on that digit's training images,
    then score the whole test set with the other nine digits as anomalies.

    Args:
        build_model: a function returning a fresh, uncompiled keras-ae model.
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
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        x_normal = x_normal.reshape((-1,) + tuple(model.sample_shape))
        model.fit(x_normal, x_normal, epochs=epochs, batch_size=batch_size, verbose=verbose)
        detector = AnomalyDetector(model).fit(x_normal)
        aurocs[int(digit)] = detector.evaluate(x_eval.reshape((-1,) + tuple(model.sample_shape)),
                                               is_anomaly)["auroc"]
        if progress:
            print(f"digit {digit}: AUROC {aurocs[int(digit)]:.4f} ({len(x_normal)} training images)",
                  flush=True)
    return {"auroc": aurocs, "mean_auroc": float(np.mean(list(aurocs.values())))}
