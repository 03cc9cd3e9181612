"""The `--images` part: the zoo's entries beyond MNIST on their data sets' test splits (issue 35).

    python -m benchmarks --images --no-fid                       # squared error, PSNR, -ELBO against PCA
    python -m benchmarks --images --datasets celeba,cifar10      # the same plus FID, two data sets
    python -m benchmarks --images --fid-samples 10000            # every data set, FID included (hours)
    python -m benchmarks --images --datasets mnist --record-in-zoo  # and write each FID into its manifest

1. Every shipped zoo entry whose data set is Fashion-MNIST, CIFAR-10 or CelebA, on that data set's
   test split: squared error per image and PSNR (`keras_ae.zoo.images`), next to PCA with as many
   components as the code, fitted on the training split; for a VAE also -ELBO and bits/dim.
2. FID of every VAE among them, and of MNIST's `conv_vae.mnist_z16`: `--fid-samples` images drawn
   with the prior and with the entry's shipped sampler (a VAE without one gets pythae's
   `GaussianMixtureSampler` setting, 10 components, fitted here to its training codes), against
   the test split, and for CelebA against its first 10,000 training faces as well.

The reference statistics (mean and covariance of a real image set's features) take minutes per
1,000 images on a small CPU, so they are cached as `keras_ae.fid` statistics files, named by the
data set file's sha256, the split and the count, in `--fid-cache` (default `fid_stats` in the
Keras cache folder, `$KERAS_HOME` or `~/.keras`, under `keras_ae`).

Data is found as a user's machine finds it (`keras_ae.data.load_dataset`: the loaders' environment
variables, then Keras's cache); without the variable, the project's shared data folder beside the
repository is used when it is there. Results name the data by its layout and sha256, never a path.

`features` (a `Features`: a name, and a function from uint8 images to feature rows) is the one
hook tests use to replace the Inception network with something cheap; the harness is the same.
"""

import contextlib
import dataclasses
import hashlib
import os
import re
import time
from typing import Callable

import numpy as np

from benchmarks.report_images import FID_TARGETS, INCEPTION_FEATURES, TITLES, pca_targets
from keras_ae import zoo
from keras_ae.zoo import images as zoo_images

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_DATA = os.path.join(HERE, "..", "..", "shared", "data")
# The loader's environment variable and the shared folder's file, per data set.
DATA_FILES = {"fashion_mnist": ("KERAS_AE_FASHION_MNIST", "fashion_mnist.npz"),
              "cifar10": ("KERAS_AE_CIFAR10", "cifar10_jpeg.zip"),
              "celeba": ("KERAS_AE_CELEBA", "celeba_hq_64.zip"),
              "mnist": ("KERAS_AE_MNIST", "mnist.npz")}
DATASETS = tuple(DATA_FILES)  # the order of RESULTS.md's sections
MNIST_FID_ENTRY = "conv_vae.mnist_z16"  # the only MNIST entry in this part: its FID
FID_SEED = 0
GMM = dict(kind="gmm", n_components=10)  # pythae's GaussianMixtureSampler default, for a VAE that ships none
# The reference image sets FID compares with: (key, split, how many; None = the whole split).
REFERENCES = {"celeba": (("test", "test", None), ("train", "train", 10000))}
QUICK = {"n_train": 1000, "n_test": 100, "fid_samples": 100}  # --quick: checks the harness only

@dataclasses.dataclass(frozen=True)
class Features:
    """What FID compares: `fn(images, verbose)` maps uint8 images `(n, h, w, c)` to `(n, d)` feature rows.

    `name` goes into the cached statistics' file names, so statistics of other features never mix.
    """

    name: str
    fn: Callable


def _inception(images, verbose=0):
    from keras_ae import fid

    return fid.inception_features(images, verbose=verbose)


INCEPTION = Features(INCEPTION_FEATURES, _inception)


def default_cache_dir():
    """`fid_stats` under `keras_ae` in the Keras cache folder (`$KERAS_HOME`, else `~/.keras`)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "keras_ae", "fid_stats")


# ## Data

@contextlib.contextmanager
def _shared_fallback(dataset):
    """Set the loader's variable to the shared folder's copy while loading, if it is unset and the copy is there."""
    env, file = {**DATA_FILES, "mnist": ("KERAS_AE_MNIST", "mnist.npz")}[dataset]
    shared = os.path.normpath(os.path.join(SHARED_DATA, file))
    if os.environ.get(env) or not os.path.exists(shared):
        yield
        return
    os.environ[env] = shared
    try:
        yield
    finally:
        os.environ.pop(env, None)


def load_data(dataset):
    """`(x_train, x_test, source, info)`: uint8 images as `keras_ae.zoo.images.load_images` gives them."""
    with _shared_fallback(dataset):
        return zoo_images.load_images(dataset)


def data_record(dataset, source, info, n_train, n_test):
    """What results.json says about the data: name, title, layout and sha256 (no path), licence, counts."""
    described = info.describe(source)
    jpeg = "JPEG" in described or "lossy" in described
    # The shared CIFAR-10 is a JPEG copy; the real pickled batches, read the same way, are plain CIFAR-10.
    title = "CIFAR-10" if dataset == "cifar10" and not jpeg else TITLES.get(dataset, dataset)
    return {"name": dataset, "title": title, "source": described, "licence": info.licence, "jpeg": jpeg,
            "train_images": int(n_train), "test_images": int(n_test)}


def data_digest(described):
    """The sha256 a data record names (a file's, or a folder's), else a digest of the record itself."""
    found = re.search(r"sha256 ([0-9a-f]{64})", described)
    return found.group(1) if found else hashlib.sha256(described.encode()).hexdigest()


def as_float(x):
    return x.astype("float32") / 255.0 if x.dtype == np.uint8 else np.asarray(x, "float32")


# ## Entries

def _measured_here(cls):
    """Whether this part measures a model class: not a conditional one, one that decodes from its code, and
    not a VQ-VAE, whose code is a grid of indices (no PCA of its size: `python -m benchmarks --vq` measures it
    against the conv AE with the same code bits)."""
    from keras_ae.models.vqvae import VQVAE

    return not getattr(cls, "conditional", False) and getattr(cls, "decodes_from_code_alone", True) \
        and not issubclass(cls, VQVAE)


def entries_on(dataset):
    """The shipped zoo entries trained on `dataset`, by their manifests' data set.

    Conditional entries (`cvae.*`) are left out: they decode under a class label, and
    `python -m benchmarks --conditional` measures them. So are colorization entries
    (`conv_colorization.*`): their decoder needs the image's luminance, and their manifest
    records them against their own baselines (`keras_ae.zoo.colorization`).
    """
    from keras_ae.zoo.index import entry_dataset

    return [name for name in zoo.list_models() if entry_dataset(zoo.info(name))[0] == dataset
            and _measured_here(zoo.model_class(name))]


def expected_entries(dataset):
    """The zoo recipes on `dataset` (experiments left out): name, whether it is a VAE, its code size.

    An expected entry the zoo does not ship yet is reported as not trained yet, not left out.
    """
    from keras_ae.models.registry import VARIANTS
    from keras_ae.zoo.recipes import RECIPES

    out = []
    for name, recipe in RECIPES.items():
        if recipe.get("dataset", "mnist") != dataset or recipe.get("experiment") \
                or not _measured_here(VARIANTS[recipe["variant"]]):
            continue
        out.append({"name": name, "generative": bool(VARIANTS[recipe["variant"]].generative),
                    "code_size": recipe["kwargs"].get("latent_dim")})
    return out


def _weights(name):
    return zoo.info(name)["weights"]["sha256"][:12]


# ## 1. Against PCA

def measure_reconstruction(dataset, x_train, x_test, log):
    """Each entry on `dataset` on `x_test` against PCA at its code size (fitted on `x_train`; uint8 or float).

    Returns `{"n_test", "pca_train", "rows"}`; a recipe the zoo does not ship yet is a row with
    `trained: False`. `ratio` is the model's squared error over PCA's.
    """
    x_test = as_float(x_test)
    shipped = entries_on(dataset)
    expected = {e["name"]: e for e in expected_entries(dataset)}
    rows, pca = [], {}
    for name in sorted(set(shipped) | set(expected)):
        if name not in shipped:
            e = expected[name]
            rows.append({**e, "trained": False, "targets": pca_targets(dataset, e["generative"], e["code_size"])})
            log(f"{name}: not trained yet")
            continue
        model = zoo.load(name)
        k = int(model.code_size)
        start = time.time()
        row = {"name": name, "trained": True, "weights": _weights(name),
               "generative": bool(getattr(model, "generative", False)), "code_size": k,
               **zoo_images.measure_images(model, None, x_test, pca=False)}
        if k not in pca:
            log(f"PCA-{k} on {len(x_train)} training images")
            recon = zoo_images.pca_reconstruction(as_float(x_train), x_test, k)
            pca[k] = {"pca_squared_error": float(np.mean(np.sum(np.square(x_test - recon).reshape(len(x_test), -1),
                                                                axis=1))),
                      "pca_psnr_db": float(np.mean(zoo_images.psnr_per_image(x_test, recon)))}
        row.update({key: round(v, 4) for key, v in pca[k].items()})
        row["ratio"] = round(row["squared_error"] / pca[k]["pca_squared_error"], 4)
        row["targets"] = pca_targets(dataset, row["generative"], k)
        row["seconds"] = round(time.time() - start, 1)
        rows.append(row)
        log(f"{name}: squared error {row['squared_error']:.3f}, PCA-{k} {row['pca_squared_error']:.3f}, "
            f"ratio {row['ratio']:.3f}" + (f", -ELBO {row['neg_elbo']:.1f}" if "neg_elbo" in row else ""))
    return {"n_test": int(len(x_test)), "pca_train": int(len(x_train)), "rows": rows}


# ## 2. FID

def feature_statistics(images, features, log, what):
    """`(mu, sigma)` of `features` of uint8 `images`, with progress."""
    start = time.time()
    log(f"features of {what} ({len(images):,} images, {features.name})")
    feats = np.asarray(features.fn(images, verbose=1), "float64")
    log(f"features of {what}: {time.time() - start:.0f} s")
    return feats.mean(axis=0), np.cov(feats, rowvar=False)


def reference_statistics(images, key, cache_dir, features, log):
    """The statistics of a real image set, read from `cache_dir` when there, else computed and saved.

    `key` names the set (data set, split, count, data sha256); the file is `KEY.FEATURES.npz` in
    keras_ae.fid's statistics format. Returns `(mu, sigma, cached)`.
    """
    from keras_ae import fid

    path = os.path.join(cache_dir, f"{key}.{features.name}.npz")
    if os.path.exists(path):
        mu, sigma = fid.load_statistics(path)
        log(f"reference statistics {key}: cached")
        return mu, sigma, True
    mu, sigma = feature_statistics(images, features, log, key)
    os.makedirs(cache_dir, exist_ok=True)
    fid.save_statistics(path, mu, sigma, num_images=len(images))
    log(f"reference statistics {key}: saved in the cache")
    return mu, sigma, False


def to_uint8(x):
    """Decoded images (floats, about [0, 1]) as the 8-bit pixels a saved image would hold: clipped, rounded."""
    return np.round(np.clip(np.asarray(x, "float32"), 0.0, 1.0) * 255.0).astype(np.uint8)


def samplers_for(name, model, x_train, log):
    """The samplers an entry is measured with: `(key, label, sampler)`; `None` is the prior."""
    from keras_ae.samplers import get_sampler
    from keras_ae.zoo.recipe_sampler import fit_recipe_sampler

    out = [("prior", "prior N(0, I)", None)]
    recorded = zoo.info(name).get("sampler")
    if recorded:
        sampler = zoo.load_sampler(name, model=model)
        how = "shipped with the entry"
    else:
        log(f"{name}: no shipped sampler; fitting a {GMM['n_components']}-component GMM to "
            f"{len(x_train):,} training codes")
        sampler = fit_recipe_sampler(get_sampler(GMM["kind"], **{k: v for k, v in GMM.items() if k != "kind"}),
                                     model, x_train)
        how = "fitted here to the training codes, pythae's GaussianMixtureSampler setting"
    config = sampler.get_config()
    size = f", {config['n_components']} components" if "n_components" in config else ""
    out.append((sampler.kind, f"{sampler.kind.upper() if sampler.kind == 'gmm' else sampler.kind}{size} ({how})",
                sampler))
    return out


def measure_fid(dataset, x_train, x_test, digest, n_samples, cache_dir, features, log):
    """FID of each VAE on `dataset` (MNIST: `MNIST_FID_ENTRY`) with each of its samplers, per reference set.

    Returns `{"samples", "seed", "features", "references", "rows", "targets"}`; a recipe not shipped
    yet is a row with `trained: False`.
    """
    from keras_ae import fid

    references = []
    for key, split, count in REFERENCES.get(dataset, (("test", "test", None),)):
        pool = x_test if split == "test" else x_train
        count = len(pool) if count is None else min(count, len(pool))
        noun = "faces" if dataset == "celeba" else "images"
        label = f"the {count:,} test {noun}" if split == "test" else f"the first {count:,} training {noun}"
        stats_key = f"{dataset}.{split}-first{count}.{digest[:16]}"
        mu, sigma, cached = reference_statistics(pool[:count], stats_key, cache_dir, features, log)
        references.append({"key": key, "split": split, "count": count, "label": label, "cached": cached,
                           "stats": (mu, sigma)})
    if dataset == "mnist":
        expected = [{"name": MNIST_FID_ENTRY, "generative": True}]
    else:
        expected = [e for e in expected_entries(dataset) if e["generative"]]
    shipped = [n for n in entries_on(dataset) if dataset != "mnist" or n == MNIST_FID_ENTRY]
    rows = []
    for name in sorted(set(shipped) | {e["name"] for e in expected}):
        if name not in shipped:
            rows.append({"name": name, "trained": False})
            log(f"{name}: not trained yet")
            continue
        if not zoo.model_class(name).generative:
            continue
        model = zoo.load(name)
        row = {"name": name, "trained": True, "weights": _weights(name), "samplers": []}
        for key, label, sampler in samplers_for(name, model, x_train, log):
            start = time.time()
            log(f"{name}: {n_samples:,} samples, {label}")
            x = model.sample(n_samples, seed=FID_SEED, sampler=sampler)
            x = to_uint8(x).reshape((n_samples,) + x_test.shape[1:])
            mu, sigma = feature_statistics(x, features, log, f"{name} {key} samples")
            scores = {r["key"]: round(fid.frechet_distance(mu, sigma, *r["stats"]), 3) for r in references}
            row["samplers"].append({"sampler": key, "label": label, "fid": scores,
                                    "seconds": round(time.time() - start, 1)})
            log(f"{name} {key}: FID " + ", ".join(f"{v:.2f} against {k}" for k, v in scores.items()))
        rows.append(row)
    return {"samples": int(n_samples), "seed": FID_SEED, "features": features.name,
            "references": [{k: v for k, v in r.items() if k != "stats"} for r in references], "rows": rows,
            **({"targets": FID_TARGETS[dataset]} if dataset in FID_TARGETS else {})}


def fid_metrics(fid_record):
    """`{entry: {metric: value}}`: a data set's FID rows as the manifest metrics `fid_<sampler>` (against the
    test split) and `fid_<sampler>_train10k` (against the first 10,000 training images), plus `fid_samples`."""
    out = {}
    for row in fid_record.get("rows", []):
        if not row.get("trained"):
            continue
        metrics = {"fid_samples": int(fid_record["samples"])}
        for s in row["samplers"]:
            for ref in fid_record["references"]:
                count = ref["count"]
                suffix = ("" if ref["split"] == "test" else
                          f"_{ref['split']}" + (f"{count // 1000}k" if count % 1000 == 0 else str(count)))
                metrics[f"fid_{s['sampler']}{suffix}"] = float(s["fid"][ref["key"]])
        out[row["name"]] = metrics
    return out


def record_in_zoo(images_part, log, directory=None):
    """Write each measured FID into its entry's manifest (`keras_ae.zoo.writer.record_metrics`, part `test`).

    Only figures of the Inception features count: a run with other features (tests) is refused. A metric
    without a definition in METRIC_DEFINITIONS is left out, and said."""
    from keras_ae.zoo.manifest import METRIC_DEFINITIONS
    from keras_ae.zoo.writer import record_metrics

    written = {}
    for dataset, record in images_part["datasets"].items():
        if "fid" not in record:
            continue
        if record["fid"]["features"] != INCEPTION.name:
            raise ValueError(f"--record-in-zoo records FID of the Inception features only. Received: features "
                             f"{record['fid']['features']!r} for {dataset}")
        for name, metrics in fid_metrics(record["fid"]).items():
            unknown = sorted(set(metrics) - set(METRIC_DEFINITIONS))
            if unknown:
                log(f"{name}: not recorded in the zoo (no definition): {', '.join(unknown)}")
            kept = {k: v for k, v in metrics.items() if k in METRIC_DEFINITIONS}
            written[name] = record_metrics(name, kept, directory=directory)
            log(f"{name}: recorded in its manifest: " + ", ".join(f"{k} {v:g}" for k, v in kept.items()))
    return written


# ## The part

def run_images(datasets, log, fid=True, fid_samples=10000, cache_dir=None, features=INCEPTION, quick=False,
               load=load_data):
    """Measure each data set of `datasets`; results.json's `images` part: `{"datasets": {name: {...}}}`.

    Each data set's record has `data` (name, title, sha256, licence), and the parts that ran:
    `reconstruction` (not for MNIST, whose entries `--quality` measures) and `fid` (unless `fid=False`).
    `load(name)` gives `(x_train, x_test, source, info)` (default: `load_data`). `quick` measures on
    a slice, to check the harness. `features` is FID's feature extractor (`Features`).
    """
    cache_dir = cache_dir or default_cache_dir()
    if quick:
        fid_samples = min(fid_samples, QUICK["fid_samples"])
    out = {}
    for dataset in datasets:
        if dataset == "mnist" and not fid:
            log("mnist: only FID is measured here (--quality measures the MNIST entries); skipped with --no-fid")
            continue
        x_train, x_test, source, info = load(dataset)
        if quick:
            x_train, x_test = x_train[:QUICK["n_train"]], x_test[:QUICK["n_test"]]
        record = {"data": data_record(dataset, source, info, len(x_train), len(x_test))}
        log(f"data: {record['data']['title']}, {len(x_train):,} train / {len(x_test):,} test, "
            f"{record['data']['source']}")
        if dataset != "mnist":
            record["reconstruction"] = measure_reconstruction(dataset, x_train, x_test, log)
        if fid:
            record["fid"] = measure_fid(dataset, x_train, x_test, data_digest(record["data"]["source"]),
                                        fid_samples, cache_dir, features, log)
        out[dataset] = record
    return {"datasets": out}
