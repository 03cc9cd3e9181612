"""One-class detection on real images: the Ruff et al. (2018) protocol on Fashion-MNIST and CIFAR-10.

    KERAS_BACKEND=jax python -m benchmarks --quality --parts one_class_images --datasets fashion_mnist,cifar10
    KERAS_BACKEND=jax python -m benchmarks.one_class_images --dataset cifar10 --out DEV.json   # choosing settings

As for MNIST (`--parts one_class`, `one_class_knn`): each class is normal in turn, a detector is trained
on that class's training images only, and the AUROC is measured on the whole test set with the other
nine classes as anomalies. Three detectors per class: the plain autoencoder (a dense
`UndercompleteAutoencoder` scored by its reconstruction error, `ReconstructionDetector`), the
`RestorationDetector` (turns rotated normal images upright), and the nearest-neighbour baseline with no
training (`benchmarks.quality.knn_cosine_distance`).

Every setting in `CHOSEN` was picked on held-out *training* images only: `python -m
benchmarks.one_class_images` (this module's `main`) splits each class's training images 80/20, trains
every variant of `AE_VARIANTS`, `RESTORATION_SCORINGS` and `KNN_VARIANTS` on the 80%, and measures the
AUROC on the held-out 20% against 9,000 training images of the other classes (the test protocol's
proportions). Its output files are kept beside this module (`one_class_images_dev_NAME.json`), and
RESULTS.md lists what they tried. The benchmark then measures the chosen settings once on test.

Data: each loader's variable (KERAS_AE_FASHION_MNIST, KERAS_AE_CIFAR10), else ../shared/data/ beside the
repository, else Keras's cache (as `--images`). The CIFAR-10 found there may be a JPEG copy: the record
says which copy was read.
"""

import argparse
import copy
import json
import os
import sys
import time

import numpy as np

DATASETS = ("fashion_mnist", "cifar10")
HERE = os.path.dirname(os.path.abspath(__file__))

# The variants tried on held-out training images. The plain autoencoder: MNIST's (256-64-16) and a wider one,
# binary cross-entropy, Adam 1e-3, batch 128, scored by the mean squared reconstruction error.
AE_VARIANTS = {"ae": {"hidden_units": (256, 64), "latent_dim": 16},
               "ae_wide": {"hidden_units": (512, 256, 128), "latent_dim": 32}}
AE_EPOCHS = 30
# RestorationDetector() as chosen on MNIST (512-256-128-32, 15 epochs over the 4 rotations), scored each way:
# (error, smoothing in px). Scoring does not change the training, so one trained restorer gives them all.
RESTORATION_SCORINGS = [(error, sigma) for error in ("cosine", "squared") for sigma in (0.0, 1.0, 2.0)]
# The nearest-neighbour baseline: (sigma, k).
KNN_VARIANTS = [(sigma, k) for sigma in (0.0, 1.0, 2.0) for k in (1, 3, 5)]

# The settings chosen on held-out training images (the highest mean AUROC of each family in
# one_class_images_dev_NAME.json). CIFAR-10's are MNIST's choices, not re-chosen (compute; see
# report_one_class_images.SELECTION_NOTES).
CHOSEN = {
    "fashion_mnist": {"ae": "ae", "restoration": ("squared", 1.0), "knn": (2.0, 5)},
    "cifar10": {"ae": "ae", "restoration": ("cosine", 1.0), "knn": (1.0, 3)},
}

# Published mean AUROC on the same protocol, checked at the source (see report_one_class_images.ANCHOR_SOURCES).
ANCHORS = {"fashion_mnist": {}, "cifar10": {}}
PER_CLASS_ANCHORS = {"fashion_mnist": {}, "cifar10": {}}
TARGETS = {"fashion_mnist": 0.950, "cifar10": 0.870}  # issue 38


def ae_name(name):
    s = AE_VARIANTS[name]
    return f"UndercompleteAutoencoder(hidden_units={s['hidden_units']}, latent_dim={s['latent_dim']}, bce)"


def restore_name(error, sigma):
    return f"restore_{error}{sigma:g}"


def knn_name(sigma, k):
    return f"knn_s{sigma:g}_k{k}"


def dev_file(dataset, folder=HERE):
    return os.path.join(folder, f"one_class_images_dev_{dataset}.json")


def load(dataset, quick=False):
    """`((x, y), (xt, yt), image_shape, class_names, source record)`: float32 images in [0, 1], `(n, h, w, c)`.

    `quick`: the first 600 training and 300 test images of each split, to check the harness."""
    from benchmarks.images import _shared_fallback
    from keras_ae.data import DATASETS as INFO, load_dataset

    with _shared_fallback(dataset):
        (x, y), (xt, yt), source = load_dataset(dataset)
    if quick:
        x, y, xt, yt = x[:600], y[:600], xt[:300], yt[:300]
    info = INFO[dataset]
    return ((np.asarray(x, "float32"), np.asarray(y)), (np.asarray(xt, "float32"), np.asarray(yt)),
            tuple(info.image_shape), list(info.class_names), info.describe(source))


def split(data, label, mode, n_others=9000):
    """`(x_normal, x_eval, is_anomaly)`. `mode="test"`: the protocol (the class's training images, the whole
    test set); `"validate"`: the class's training images 80/20, the 20% against `n_others` training images of
    the other classes (seeded by the label)."""
    (x, y), (xt, yt) = data
    if mode == "test":
        return x[y == label], xt, (yt != label).astype(int)
    rng = np.random.default_rng(label)
    normal = x[y == label][rng.permutation(int(np.sum(y == label)))]
    n_val = len(normal) // 5
    others = x[y != label]
    others = others[rng.choice(len(others), min(n_others, len(others)), replace=False)]
    return (normal[n_val:], np.concatenate([normal[:n_val], others]),
            np.r_[np.zeros(n_val, int), np.ones(len(others), int)])


def ae_scores(x_normal, x_eval, names, epochs, label):
    """{variant: scores on x_eval} of the plain autoencoders `names` (flat input, reconstruction error)."""
    import keras

    from keras_ae.anomaly import ReconstructionDetector
    from keras_ae.models import UndercompleteAutoencoder
    from keras_ae.training import fit_model

    flat, flat_eval = x_normal.reshape(len(x_normal), -1), x_eval.reshape(len(x_eval), -1)
    out = {}
    for name in names:
        keras.utils.set_random_seed(int(label))  # before the model is built: its weights are seeded too
        model = UndercompleteAutoencoder(input_shape=(flat.shape[1],), reconstruction_loss="bce", **AE_VARIANTS[name])
        fit_model(model, flat, flat, epochs=epochs, optimizer=keras.optimizers.Adam(1e-3), batch_size=128,
                  verbose=0, what=f"one-class training on class {label}")
        out[name] = ReconstructionDetector(model).fit(flat).decision_function(flat_eval)
    return out


def restoration_scores(x_normal, x_eval, scorings, epochs, label):
    """{restore_ERRORSIGMA: scores on x_eval} of one trained `RestorationDetector`, scored each way of
    `scorings` ((error, smoothing) pairs), each calibrated on the detector's own held-out normal images as its
    `fit` would (the training does not depend on the scoring)."""
    from keras_ae.anomaly import RestorationDetector

    error, sigma = scorings[0]
    det = RestorationDetector(epochs=epochs, error=error, smoothing=sigma, random_state=int(label)).fit(x_normal)
    out = {restore_name(error, sigma): det.decision_function(x_eval)}
    calibration = det._calibration_split(det._images(x_normal))[0]
    for error, sigma in scorings[1:]:
        variant = copy.copy(det).set_params(error=error, smoothing=sigma)
        variant._calibrate({"images": x_normal, "calibration": calibration})
        out[restore_name(error, sigma)] = variant.decision_function(x_eval)
    return out


def knn_scores(x_normal, x_eval, variants, image_shape):
    from benchmarks.quality import knn_cosine_distance

    return {knn_name(sigma, k): knn_cosine_distance(x_normal, x_eval, k=k, sigma=sigma, image_shape=image_shape)
            for sigma, k in variants}


def measure(data, image_shape, labels, mode, ae_variants, scorings, knn_variants, epochs, log):
    """{"auroc": {score name: {label: AUROC}}, "seconds": {family: total seconds}} over `labels`."""
    from sklearn.metrics import roc_auc_score

    auroc, seconds = {}, {"ae": 0.0, "restoration": 0.0, "knn": 0.0}
    for label in labels:
        x_normal, x_eval, is_anomaly = split(data, label, mode)
        scores = {}
        for family, run in (("ae", lambda: ae_scores(x_normal, x_eval, ae_variants, epochs["ae"], label)),
                             ("restoration", lambda: restoration_scores(x_normal, x_eval, scorings,
                                                                        epochs["restoration"], label)),
                             ("knn", lambda: knn_scores(x_normal, x_eval, knn_variants, image_shape))):
            if family == "ae" and not ae_variants or family == "restoration" and not scorings \
                    or family == "knn" and not knn_variants:
                continue
            start = time.time()
            scores.update(run())
            seconds[family] += time.time() - start
        for name, s in scores.items():
            auroc.setdefault(name, {})[str(label)] = float(roc_auc_score(is_anomaly, s))
        log(f"class {label} ({len(x_normal)} normal training images): "
            + ", ".join(f"{k} {v[str(label)]:.4f}" for k, v in auroc.items()))
    return {"auroc": auroc, "seconds": seconds}


def mean(table):
    return float(np.mean(list(table.values())))


def one_class_images(dataset, log, quick=False, classes_arg=None):
    """The test measurement of `CHOSEN[dataset]`: one record for results.json's `one_class_images`.

    `classes_arg`: the normal classes to run (default all; `report_one_class_images.merge_one_class_images` joins
    runs of some classes each, made with the same settings)."""
    import keras

    data = load(dataset, quick)
    (x, y), (xt, yt), image_shape, classes, source = data
    only, chosen = classes_arg, CHOSEN[dataset]
    epochs = {"ae": 1 if quick else AE_EPOCHS, "restoration": 1 if quick else 15}
    labels = [0, 1] if quick else list(range(len(classes)))
    if only is not None:
        unknown = sorted(set(only) - set(range(len(classes))))
        if unknown:
            raise ValueError(f"{dataset} has classes 0-{len(classes) - 1}. Received: {unknown}")
        labels = [label for label in labels if label in set(only)]
    log(f"one-class {dataset}: {len(x)} training / {len(xt)} test images, {source}")
    got = measure(((x, y), (xt, yt)), image_shape, labels, "test", [chosen["ae"]], [chosen["restoration"]],
                  [chosen["knn"]], epochs, log)
    a = got["auroc"]
    ae_key, rest_key, knn_key = chosen["ae"], restore_name(*chosen["restoration"]), knn_name(*chosen["knn"])
    sigma, k = chosen["knn"]
    record = {
        "dataset": dataset, "data_source": source, "classes": classes, "backend": keras.backend.backend(),
        "ae": {"model": ae_name(ae_key), "epochs": epochs["ae"], "auroc": a[ae_key], "mean_auroc": mean(a[ae_key]),
               "seconds": got["seconds"]["ae"]},
        "restoration": {"model": "RestorationDetector(epochs={}, error={!r}, smoothing={:g})".format(
            epochs["restoration"], *chosen["restoration"]), "epochs": epochs["restoration"],
            "error": chosen["restoration"][0], "smoothing": chosen["restoration"][1], "auroc": a[rest_key],
            "mean_auroc": mean(a[rest_key]), "seconds": got["seconds"]["restoration"]},
        "knn": {"model": f"cosine distance to the {k} nearest normal training images, pixels blurred by a "
                         f"Gaussian of {sigma:g} px", "k": k, "sigma": sigma, "auroc": a[knn_key],
                "mean_auroc": mean(a[knn_key]), "seconds": got["seconds"]["knn"]},
        "target": TARGETS[dataset],
    }
    for family in ("ae", "restoration", "knn"):
        log(f"one-class {dataset} {family} mean AUROC {record[family]['mean_auroc']:.4f} "
            f"({record[family]['seconds']:.0f} s)")
    return record


def run_one_class_images(datasets, log, quick=False, classes=None):
    """`{"datasets": {name: record}}` for results.json's quality part `one_class_images`."""
    return {"datasets": {name: one_class_images(name, log, quick, classes) for name in datasets}}


def shown_command(argv):
    """The command as the dev file records it, without the `--out` path (a path of this machine)."""
    shown = []
    for i, arg in enumerate(argv):
        if arg == "--out" or arg.startswith("--out=") or (i and argv[i - 1] == "--out"):
            continue
        shown.append(arg)
    return " ".join(["python -m benchmarks.one_class_images", *shown])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=DATASETS, required=True)
    p.add_argument("--families", default="ae,restoration,knn", help="comma-separated: ae, restoration, knn")
    p.add_argument("--classes", default=None, help="comma-separated labels (default: all ten)")
    p.add_argument("--restoration-epochs", type=int, default=15)
    p.add_argument("--quick", action="store_true", help="tiny sizes, to check the harness runs")
    p.add_argument("--out", default=None, help="a JSON file for the held-out AUROCs (default: print only)")
    args = p.parse_args(argv)
    families = args.families.split(",")
    start = time.time()

    def log(msg):
        print(f"[{time.time() - start:7.1f}s] {msg}", flush=True)

    import keras

    (x, y), (xt, yt), image_shape, classes, source = load(args.dataset, args.quick)
    labels = [int(c) for c in args.classes.split(",")] if args.classes else list(range(len(classes)))
    epochs = {"ae": 1 if args.quick else AE_EPOCHS, "restoration": 1 if args.quick else args.restoration_epochs}
    got = measure(((x, y), (xt, yt)), image_shape, labels, "validate",
                  list(AE_VARIANTS) if "ae" in families else [],
                  RESTORATION_SCORINGS if "restoration" in families else [],
                  KNN_VARIANTS if "knn" in families else [], epochs, log)
    means = {name: mean(table) for name, table in got["auroc"].items()}
    log("held-out means: " + ", ".join(f"{k} {v:.4f}" for k, v in means.items()))
    if args.out:
        from keras_ae._io import write_json_atomic

        command = shown_command(argv if argv is not None else sys.argv[1:])
        record = {"dataset": args.dataset, "data_source": source, "split": "validate", "epochs": epochs,
                  "backend": keras.backend.backend(), "commands": [command], "per_class": got["auroc"],
                  "mean": means, "seconds": {k: v for k, v in got["seconds"].items() if v}}
        if os.path.exists(args.out):  # a run of other families (or classes) joins the record of the runs before
            with open(args.out, encoding="utf-8") as f:
                record = merge_dev(json.load(f), record)
        write_json_atomic(args.out, record)


def merge_dev(old, new):
    """Two held-out records of one data set as one: the new run's variants replace the old's, class by class;
    each variant's mean is over the classes it was run on."""
    if (old.get("dataset"), old.get("split")) != (new["dataset"], new["split"]):
        raise ValueError(f"cannot join held-out records of {old.get('dataset')!r} and {new['dataset']!r}")
    per_class = {k: dict(v) for k, v in old["per_class"].items()}
    for name, table in new["per_class"].items():
        per_class.setdefault(name, {}).update(table)
    commands = (old.get("commands") or [old["command"]]) + new["commands"]  # "command": a record of one run
    old = {k: v for k, v in old.items() if k != "command"}
    return {**old, "epochs": {**old.get("epochs", {}), **new["epochs"]}, "commands": commands, "per_class": per_class,
            "mean": {name: mean(table) for name, table in per_class.items()},
            "seconds": {**old.get("seconds", {}), **new["seconds"]}}


if __name__ == "__main__":
    main()
