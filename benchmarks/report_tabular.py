"""The tabular section of RESULTS.md: keras-ae's TabularDetector against IsolationForest."""

from benchmarks.report_format import _table, _verdict, made_by


def tabular_section(t, run=None):
    """Tabular anomaly detection: keras-ae's TabularDetector against IsolationForest. `run` says which
    command made it, and when."""
    rows = [[f"`{name}`", str(d["n_features"]), str(d["classes"]), str(d["tasks"]), f"{d['keras_ae']:.4f}",
             f"{d['isolation_forest']:.4f}", f"{d['keras_ae'] - d['isolation_forest']:+.4f}"]
            for name, d in t["per_dataset"].items()]
    m = t["mean"]
    rows.append(["**mean over all tasks**", "", "", str(t["tasks"]), f"**{m['keras_ae']:.4f}**",
                 f"**{m['isolation_forest']:.4f}**", f"{m['keras_ae'] - m['isolation_forest']:+.4f}"])
    met = m["keras_ae"] >= m["isolation_forest"]
    return [
        "## Tabular anomaly detection: TabularDetector against IsolationForest", "", made_by(run), "",
        "Data sets that ship with scikit-learn. Each class in turn is normal: both detectors train on a random "
        f"60% of its rows and rank the other 40% against every row of the other classes (AUROC), with seeds "
        f"{', '.join(map(str, t['seeds']))}, the same split for both. `keras_ae.anomaly.TabularDetector()` with "
        "its defaults (the `keras-ae train --data table.csv` recipe) against `sklearn.ensemble.IsolationForest()` "
        f"with its defaults. Keras backend: {t.get('backend', 'tensorflow')}; "
        f"{t['seconds'] / 60:.1f} min for all {t['tasks']} tasks.", "",
        _table(["data set", "features", "classes", "tasks", "TabularDetector AUROC", "IsolationForest AUROC",
                 "difference"], rows), "",
        f"TabularDetector ranks as well or better on {t['wins']} of {t['tasks']} tasks. "
        f"Target (mean AUROC at least IsolationForest's): {_verdict(met)} "
        f"({m['keras_ae']:.4f} against {m['isolation_forest']:.4f}).", "",
        "The recipe (power transform, and the code's Mahalanobis distance added to the squared error) was "
        "chosen among a few variants on other random splits (seeds 100 and 101) of these same data sets, where "
        "it came out slightly below IsolationForest; the two are level within the spread between splits, and "
        "the autoencoder's edge is on the wider tables (digits, breast cancer) and iris.", ""]

