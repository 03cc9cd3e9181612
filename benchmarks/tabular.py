"""Tabular anomaly detection: keras-ae's TabularDetector against scikit-learn's IsolationForest.

Data sets that ship with scikit-learn (no download). Each class in turn is the
normal class: the detectors train on a random 60% of its rows, and are scored on
the other 40% (normal) plus every row of the other classes (anomalies), by AUROC.
Both detectors see the same split; each split is repeated with several seeds.
"""

import time

import numpy as np

DATASETS = ("breast_cancer", "wine", "iris", "digits")


def load(name):
    import sklearn.datasets

    data = getattr(sklearn.datasets, f"load_{name}")()
    return data.data.astype("float64"), data.target


def one_class_splits(x, y, seeds):
    """Yield `(normal_class, seed, x_train, x_eval, is_anomaly)` for every class and seed."""
    for c in np.unique(y):
        normal = np.flatnonzero(y == c)
        for seed in seeds:
            order = np.random.default_rng([int(seed), int(c)]).permutation(normal)
            n_train = int(round(0.6 * len(order)))
            train, held = order[:n_train], order[n_train:]
            others = np.flatnonzero(y != c)
            eval_idx = np.concatenate([held, others])
            yield int(c), int(seed), x[train], x[eval_idx], np.r_[np.zeros(len(held)), np.ones(len(others))]


def run_tabular(log, quick=False, datasets=DATASETS, seeds=(0, 1, 2)):
    """AUROC of both detectors on every (data set, normal class, seed); means per data set."""
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score

    from keras_ae.anomaly import TabularDetector

    if quick:
        datasets, seeds = datasets[:1], seeds[:1]
    rows, start = [], time.time()
    for name in datasets:
        x, y = load(name)
        for c, seed, x_train, x_eval, is_anomaly in one_class_splits(x, y, seeds):
            det = TabularDetector(random_state=seed, epochs=20 if quick else 500).fit(x_train)
            forest = IsolationForest(random_state=seed).fit(x_train)
            row = {"dataset": name, "normal_class": c, "seed": seed, "n_train": len(x_train),
                   "n_features": x.shape[1], "epochs_run": len(det.history_["loss"]),
                   "keras_ae": float(roc_auc_score(is_anomaly, det.decision_function(x_eval))),
                   "isolation_forest": float(roc_auc_score(is_anomaly, -forest.score_samples(x_eval)))}
            rows.append(row)
            log(f"tabular {name} class {c} seed {seed}: TabularDetector {row['keras_ae']:.4f}, "
                f"IsolationForest {row['isolation_forest']:.4f} ({row['epochs_run']} epochs)")
    per_dataset = {}
    for name in datasets:
        sel = [r for r in rows if r["dataset"] == name]
        per_dataset[name] = {k: float(np.mean([r[k] for r in sel])) for k in ("keras_ae", "isolation_forest")}
        per_dataset[name].update(tasks=len(sel), n_features=sel[0]["n_features"],
                                 classes=len({r["normal_class"] for r in sel}))
    import keras

    return {"rows": rows, "per_dataset": per_dataset, "seeds": list(seeds), "backend": keras.backend.backend(),
            "mean": {k: float(np.mean([r[k] for r in rows])) for k in ("keras_ae", "isolation_forest")},
            "wins": int(sum(r["keras_ae"] >= r["isolation_forest"] for r in rows)), "tasks": len(rows),
            "seconds": time.time() - start}
