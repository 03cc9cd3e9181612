"""Development experiments for TabularDetector's score (issue 37): every variant scored from one fit per split.

Only development splits (`tabular_data.DEV_TABLES`, seeds 100 and 101, MNIST's
training rows), in both protocols of `benchmarks.tabular`. Each task fits one
`TabularDetector` (the settings given, `contamination=0.1` in the contaminated
protocol) and one scikit-learn `IsolationForest` on its standardized rows, then
saves every term of every candidate score, for the scored rows and for the
training rows that normalize it (the kNN reference, each row left out of its
own neighbours), in one `.npz` per task. `report` combines them offline:

    python -m benchmarks.tabular_variants collect --out DIR   # resumable: done tasks are kept
    python -m benchmarks.tabular_variants report --out DIR
    python -m benchmarks.tabular_variants time --epochs 40 20  # fit seconds on 10,000 rows

The terms: `knn{k}` the mean distance to the k nearest reference rows
(standardized features), `knn5th` the 5th distance (the benchmark's kNN),
`code{k}` the same in the code space, `if` IsolationForest's `-score_samples`
(fitted on all training rows; `if_kept` on the kNN reference only), `mse` the
reconstruction error, `*_all` (contaminated only) kNN against every training
row (no trimming). Normalizations: `med` (each term over its training median),
`rz` ((t - median) / IQR) and `rank` (the fraction of training values below).
"""

import argparse
import os
import time

import numpy as np

from benchmarks import tabular_data

PROTOCOLS = ("semi_supervised", "contaminated")
KS = (1, 5, 10, 20)


def _nearest(ref, query, kmax, place=None):
    """`(n, kmax)` sorted distances of `query` rows to their nearest `ref` rows; `place[i]` (or -1) is row i's
    index in `ref`, left out of its own neighbours."""
    from sklearn.neighbors import NearestNeighbors

    ref, query = np.asarray(ref, "float64"), np.asarray(query, "float64")
    kmax = min(kmax, len(ref) - 1)
    nn = NearestNeighbors().fit(ref)
    if place is None:
        return nn.kneighbors(query, kmax)[0]
    dist, idx = nn.kneighbors(query, kmax + 1)
    drop = idx == np.asarray(place)[:, None]
    drop[~drop.any(axis=1), -1] = True
    return dist[~drop].reshape(len(query), kmax)


def _knn_terms(prefix, ref, query, place, out):
    d = _nearest(ref, query, max(KS), place)
    for k in KS:
        out[f"{prefix}{k}"] = d[:, :k].mean(axis=1)
    if prefix == "knn":
        out["knn5th"] = d[:, 4]


def task_terms(x_train, x_eval, seed, contaminated, **settings):
    """`(eval terms, training terms, info)` of one task (see the module)."""
    from sklearn.ensemble import IsolationForest

    from keras_ae.anomaly import TabularDetector

    start = time.perf_counter()
    det = TabularDetector(random_state=seed, contamination=0.1 if contaminated else None, **settings).fit(x_train)
    fit_seconds = time.perf_counter() - start
    z_train, z_eval = det._standardize(x_train), det._standardize(x_eval)
    c_train = np.asarray(det.model_.encode(z_train), "float64")
    c_eval = c_train if contaminated else np.asarray(det.model_.encode(z_eval), "float64")
    # The reference rows the detector kept (contamination trims them): find their places among the training rows.
    ref = np.asarray(det.reference_, "float32")
    kept, j = [], 0  # the reference keeps the training rows' order: match it as a subsequence
    for i, row in enumerate(z_train):
        if j < len(ref) and np.array_equal(row, ref[j]):
            kept.append(i)
            j += 1
    assert j == len(ref), "the detector's reference rows are not a subsequence of its training rows"
    kept = np.asarray(kept)
    place_train = np.full(len(z_train), -1)
    place_train[kept] = np.arange(len(kept))
    ev, tr = {}, {}
    _knn_terms("knn", z_train[kept], z_eval, place_train if contaminated else None, ev)
    _knn_terms("code", c_train[kept], c_eval, place_train if contaminated else None, ev)
    _knn_terms("knn", z_train[kept], z_train[kept], np.arange(len(kept)), tr)
    _knn_terms("code", c_train[kept], c_train[kept], np.arange(len(kept)), tr)
    if contaminated:  # kNN against every training row, no trimming
        everyone = np.arange(len(z_train))
        for prefix, rows in (("knn", z_train), ("code", c_train)):
            e, t = {}, {}
            _knn_terms(prefix, rows, rows, everyone, e)
            for key in list(e):
                ev[key + "_all"] = e[key]
                tr[key + "_all"] = e[key]
    forest_start = time.perf_counter()
    forest = IsolationForest(random_state=seed).fit(z_train)
    forest_seconds = time.perf_counter() - forest_start
    ev["if"], tr["if"] = -forest.score_samples(z_eval), -forest.score_samples(z_train[kept])
    if contaminated:
        kept_forest = IsolationForest(random_state=seed).fit(z_train[kept])
        ev["if_kept"], tr["if_kept"] = -kept_forest.score_samples(z_eval), -kept_forest.score_samples(z_train[kept])
    ev["mse"] = np.asarray(det.model_.reconstruction_error(z_eval, metric="mse"), "float64")
    tr["mse"] = np.asarray(det.model_.reconstruction_error(z_train[kept], metric="mse"), "float64")
    info = {"fit_seconds": fit_seconds, "forest_seconds": forest_seconds, "epochs": len(det.history_["loss"]),
            "detector": det.decision_function(x_eval) if not contaminated else det.decision_scores_}
    return ev, tr, info


def collect(out, log=print, tables=tabular_data.DEV_TABLES, seeds=tabular_data.DEV_SEEDS, **settings):
    """Fit every development task of both protocols; one `.npz` of terms per task in `out` (kept if there)."""
    os.makedirs(out, exist_ok=True)
    for protocol in PROTOCOLS:
        for name in tables:
            for task, x_train, x_eval, labels in tabular_data.tasks(name, seeds, "dev", protocol == "contaminated"):
                path = os.path.join(out, f"{protocol}-{name}-{task['normal_class']}-{task['seed']}.npz")
                if os.path.isfile(path):
                    continue
                ev, tr, info = task_terms(x_train, x_eval, task["seed"], protocol == "contaminated", **settings)
                arrays = {f"eval_{k}": v for k, v in ev.items()}
                arrays.update({f"train_{k}": v for k, v in tr.items()})
                arrays.update({"labels": labels, "eval_detector": info["detector"],
                               "fit_seconds": info["fit_seconds"], "forest_seconds": info["forest_seconds"],
                               "epochs": info["epochs"]})
                tmp = path + ".tmp.npz"
                np.savez(tmp, **arrays)
                os.replace(tmp, path)
                log(f"{protocol} {name} class {task['normal_class']} seed {task['seed']}: fit "
                    f"{info['fit_seconds']:.1f} s, {info['epochs']} epochs")


# ---- combining the terms offline ------------------------------------------------------------------------------
def _normalized(t, train, how):
    if how == "med":
        return t / max(float(np.median(train)), 1e-12)
    if how == "rz":
        q1, q2, q3 = np.percentile(train, [25, 50, 75])
        return (t - q2) / max(q3 - q1, 1e-12)
    return np.searchsorted(np.sort(train), t, side="left") / len(train)  # rank: the training values below


def combine(arrays, terms, how="med", weights=None):
    """The sum of `terms` (names), each normalized by `how` against its training values."""
    weights = weights or [1.0] * len(terms)
    return sum(w * _normalized(arrays[f"eval_{t}"], arrays[f"train_{t}"], how) for w, t in zip(weights, terms))


def variants(protocol):
    """`{label: (terms, how, weights)}`."""
    out = {}
    for k in KS:
        out[f"kNN (k={k})"] = (["knn%d" % k], "med", None)
    out["kNN (5th distance)"] = (["knn5th"], "med", None)
    out["code kNN (k=5)"] = (["code5"], "med", None)
    out["code kNN (k=1)"] = (["code1"], "med", None)
    out["IsolationForest"] = (["if"], "med", None)
    out["reconstruction error"] = (["mse"], "med", None)
    for how in ("med", "rz", "rank"):
        out[f"kNN + code kNN ({how})"] = (["knn5", "code5"], how, None)
        out[f"kNN + IF ({how})"] = (["knn5", "if"], how, None)
        out[f"kNN + code kNN + IF ({how})"] = (["knn5", "code5", "if"], how, None)
    out["code kNN + IF (med)"] = (["code5", "if"], "med", None)
    out["kNN + code kNN + 2 IF (med)"] = (["knn5", "code5", "if"], "med", [1.0, 1.0, 2.0])
    out["kNN + code kNN + IF + mse (med)"] = (["knn5", "code5", "if", "mse"], "med", None)
    out["kNN (k=1) + code kNN (k=1) + IF (med)"] = (["knn1", "code1", "if"], "med", None)
    out["kNN (k=1) + IF (med)"] = (["knn1", "if"], "med", None)
    for k in (10, 20):
        out[f"kNN (k={k}) + code kNN (k={k}) + IF (med)"] = ([f"knn{k}", f"code{k}", "if"], "med", None)
        out[f"kNN (k={k}) + IF (med)"] = ([f"knn{k}", "if"], "med", None)
    for how in ("med", "rz"):
        out[f"kNN + IF + 1/2 code kNN ({how})"] = (["knn5", "if", "code5"], how, [1.0, 1.0, 0.5])
        out[f"kNN + IF + 1/4 code kNN ({how})"] = (["knn5", "if", "code5"], how, [1.0, 1.0, 0.25])
    for k in (1, 10, 20):
        out[f"kNN (k={k}) + IF (rz)"] = ([f"knn{k}", "if"], "rz", None)
    out["kNN + 2 IF (rz)"] = (["knn5", "if"], "rz", [1.0, 2.0])
    out["kNN + 1/2 IF (rz)"] = (["knn5", "if"], "rz", [1.0, 0.5])
    out["kNN + 2 IF (med)"] = (["knn5", "if"], "med", [1.0, 2.0])
    out["kNN + 3 IF (rz)"] = (["knn5", "if"], "rz", [1.0, 3.0])
    for k in (1, 20):
        out[f"kNN (k={k}) + 2 IF (rz)"] = ([f"knn{k}", "if"], "rz", [1.0, 2.0])
    for w, text in ((0.25, "1/4"), (0.5, "1/2"), (1.0, "1")):
        out[f"kNN + 2 IF + {text} code kNN (rz)"] = (["knn5", "if", "code5"], "rz", [1.0, 2.0, w])
    if protocol == "contaminated":
        out["kNN + IF, untrimmed (rz)"] = (["knn5_all", "if"], "rz", None)
        out["kNN (k=20) + IF, untrimmed (rz)"] = (["knn20_all", "if"], "rz", None)
        out["kNN (5th, untrimmed)"] = (["knn5th_all"], "med", None)
        out["kNN (k=5, untrimmed)"] = (["knn5_all"], "med", None)
        out["kNN + code kNN, untrimmed (med)"] = (["knn5_all", "code5_all"], "med", None)
        out["kNN + code kNN + IF, untrimmed (med)"] = (["knn5_all", "code5_all", "if"], "med", None)
        out["kNN + code kNN + IF on the kept rows (med)"] = (["knn5", "code5", "if_kept"], "med", None)
        out["IsolationForest on the kept rows"] = (["if_kept"], "med", None)
    return out


def report(out, log=print, tables=tabular_data.DEV_TABLES):
    """Mean AUROC per data set (the mean of its tasks) and over data sets, of every variant, per protocol;
    the markdown tables, best first, are returned (and logged)."""
    from sklearn.metrics import roc_auc_score

    lines = []
    for protocol in PROTOCOLS:
        per = {}  # variant -> dataset -> [auroc]
        seconds, epochs = [], []
        names = []
        for name in tables:
            files = sorted(f for f in os.listdir(out) if f.startswith(f"{protocol}-{name}-") and f.endswith(".npz")
                           and ".tmp" not in f)
            if files:
                names.append(name)
            for f in files:
                with np.load(os.path.join(out, f)) as d:
                    arrays = dict(d)
                seconds.append(float(arrays["fit_seconds"]))
                epochs.append(int(arrays["epochs"]))
                labels = arrays["labels"]
                per.setdefault("TabularDetector as fitted (scoring in use)", {}).setdefault(name, []).append(
                    roc_auc_score(labels, arrays["eval_detector"]))
                for label, (terms, how, weights) in variants(protocol).items():
                    per.setdefault(label, {}).setdefault(name, []).append(
                        roc_auc_score(labels, combine(arrays, terms, how, weights)))
        if not names:
            continue
        rows = []
        for label, by in per.items():
            means = [float(np.mean(by[n])) for n in names]
            rows.append((float(np.mean(means)), label, means))
        rows.sort(key=lambda r: -r[0])
        tasks = sum(len(v) for v in per[rows[0][1]].values())
        lines += [f"{protocol} ({tasks} tasks; detector fit {np.mean(seconds):.1f} s on average, "
                  f"{np.mean(epochs):.0f} epochs)", "",
                  "| variant | mean AUROC | " + " | ".join(names) + " |",
                  "|---|---:|" + "---:|" * len(names)]
        lines += [f"| {label} | {m:.4f} | " + " | ".join(f"{v:.3f}" for v in means) + " |" for m, label, means in rows]
        lines.append("")
    for line in lines:
        log(line)
    return lines


def fit_seconds(log=print, epochs=(40, 20)):
    """`TabularDetector(epochs=e).fit` seconds on the fit-time tables of `benchmarks.tabular.fit_times` (10,000
    MNIST rows: 784 pixels, 20 principal components), split into training and calibration, after a warm-up fit
    in the same process (so JAX's compilation for the shape is not counted)."""
    from sklearn.decomposition import PCA

    from keras_ae.anomaly import TabularDetector

    with np.load(tabular_data._digits_path("mnist")) as d:
        x = d["x_train"][10000:20000].reshape(10000, -1).astype("float64") / 255.0
    out = {}
    for name, table in (("mnist_pixels", x), ("mnist_pca20", PCA(20, random_state=0).fit_transform(x))):
        TabularDetector(epochs=1).fit(table)  # the warm-up: JAX compiles for these shapes here
        for e in epochs:
            det, parts = TabularDetector(random_state=0, epochs=e), {}
            for hook in ("_fit_model", "_calibrate"):
                def timed(*args, _hook=getattr(det, hook), _name=hook):
                    start = time.perf_counter()
                    result = _hook(*args)
                    parts[_name] = time.perf_counter() - start
                    return result
                setattr(det, hook, timed)
            start = time.perf_counter()
            det.fit(table)
            out[(name, e)] = {"seconds": time.perf_counter() - start, "training": parts["_fit_model"],
                              "calibration": parts["_calibrate"], "epochs_run": len(det.history_["loss"])}
            log(f"{name} {table.shape}, epochs={e}: fit {out[(name, e)]['seconds']:.1f} s (training "
                f"{parts['_fit_model']:.1f} s, {out[(name, e)]['epochs_run']} epochs; calibration "
                f"{parts['_calibrate']:.1f} s)")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tabular_variants", description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["collect", "report", "time"])
    parser.add_argument("--out", help="the folder of the per-task .npz files (collect, report)")
    parser.add_argument("--tables", nargs="*", default=list(tabular_data.DEV_TABLES))
    parser.add_argument("--epochs", type=int, nargs="*", default=None,
                        help="TabularDetector's epochs (collect: one, default its own; time: several, default 40 20)")
    args = parser.parse_args(argv)
    if args.what == "time":
        fit_seconds(epochs=tuple(args.epochs or (40, 20)))
        return
    if not args.out:
        parser.error(f"{args.what} needs --out")
    if args.what == "collect":
        if args.epochs and len(args.epochs) > 1:
            parser.error(f"collect takes one --epochs. Received: {args.epochs}")
        settings = {"epochs": args.epochs[0]} if args.epochs else {}
        collect(args.out, tables=args.tables, **settings)
    else:
        report(args.out, tables=args.tables)


if __name__ == "__main__":
    main()
