"""The pretrained zoo: list, describe and load autoencoders by name, offline.

Each entry is two files in the zoo folder: `NAME.json` (the model config and
honest metadata: data set, preprocessing, the command that retrains it, and
the metrics measured on the test set) and `NAME.weights.h5`. Every weights
file is checked against the sha256 and size in its JSON before it is loaded.

The zoo folder is the installed `keras_ae_zoo` package (the repository's
`zoo/` folder), or `$KERAS_AE_ZOO` when that is set.

Example:

```python
import keras_ae.zoo as zoo
zoo.list_models("vae*")
model = zoo.load("vae.mnist_z2")
```
"""

import datetime
import difflib
import fnmatch
import hashlib
import importlib.resources
import json
import os

import keras

from keras_ae._io import atomic_write, write_json_atomic

ENV_ZOO = "KERAS_AE_ZOO"
WEIGHTS_SUFFIX = ".weights.h5"


class ZooError(ValueError):
    """A zoo entry is unknown, malformed, or its weights fail their check."""


def zoo_dir():
    """The folder the zoo is read from."""
    env = os.environ.get(ENV_ZOO)
    if env:
        return env
    return str(importlib.resources.files("keras_ae_zoo"))


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ZooError(f"Cannot read zoo manifest {path}: {e}") from None
    try:
        entry = json.loads(text)
    except json.JSONDecodeError as e:
        raise ZooError(
            f"Zoo manifest {path} does not parse: line {e.lineno}, column {e.colno}: {e.msg}"
        ) from None
    for key in ("name", "config", "weights"):
        if not isinstance(entry, dict) or key not in entry:
            raise ZooError(f"Zoo manifest {path} lacks the required field {key!r}")
    for key in ("file", "sha256", "size"):
        if key not in entry["weights"]:
            raise ZooError(f"Zoo manifest {path}: weights lack the required field {key!r}")
    return entry


def _manifests(directory=None):
    directory = directory or zoo_dir()
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return {}
    return {n[:-5]: os.path.join(directory, n) for n in names if n.endswith(".json")}


def list_models(pattern="*"):
    """Names of zoo entries matching a shell-style `pattern`, e.g. `"*vae*"`."""
    return [n for n in _manifests() if fnmatch.fnmatch(n, pattern)]


def _manifest_path(name):
    manifests = _manifests()
    if name not in manifests:
        close = difflib.get_close_matches(str(name), list(manifests), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ZooError(
            f"Unknown zoo model {name!r}.{hint} Available: {', '.join(manifests) or 'none'}"
        )
    return manifests[name]


def info(name):
    """The metadata of a zoo entry, as a dict."""
    return _read_json(_manifest_path(name))


def sha256_of(path, chunk=1 << 20):
    """The sha256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def verify_file(path, sha256, size=None):
    """Raise `ZooError` unless the file at `path` has this size and sha256."""
    if not os.path.exists(path):
        raise ZooError(f"Weights file {path} is missing (expected sha256 {sha256})")
    actual_size = os.path.getsize(path)
    if size is not None and actual_size != size:
        raise ZooError(
            f"Weights file {path} is {actual_size} bytes, expected {size} "
            f"(truncated or replaced?); expected sha256 {sha256}"
        )
    actual = sha256_of(path)
    if actual != sha256:
        raise ZooError(
            f"Weights file {path} fails its hash check: expected sha256 {sha256}, got {actual}"
        )


def weights_path(name, download=False):
    """Return the verified path of an entry's weights file.

    A file missing from the zoo folder is fetched from the entry's `url`
    into the Keras cache (never into the package), checked against its
    sha256, only when `download=True`.
    """
    entry = info(name)
    w = entry["weights"]
    path = os.path.join(os.path.dirname(_manifest_path(name)), w["file"])
    if not os.path.exists(path) and w.get("url"):
        if not download:
            raise ZooError(
                f"Weights of {name!r} are not in the zoo folder; they can be fetched from "
                f"{w['url']}: call load({name!r}, download=True)"
            )
        cache = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
        os.makedirs(cache, exist_ok=True)  # else get_file silently falls back to /tmp/.keras
        path = keras.utils.get_file(
            fname=w["file"], origin=w["url"], file_hash=w["sha256"], hash_algorithm="sha256",
            cache_dir=cache,
            cache_subdir=os.path.join("keras_ae", "zoo"),
        )
    verify_file(path, w["sha256"], w.get("size"))
    return path


def load(name, download=False):
    """Build the zoo model `name` and load its verified weights.

    Args:
        name: a name from `list_models()`.
        download: allow fetching weights that are not shipped (see `weights_path`).

    Returns:
        A keras-ae model, ready for `encode`, `decode`, `predict` or more `fit`.
    """
    entry = info(name)
    path = weights_path(name, download=download)
    model = keras.saving.deserialize_keras_object(entry["config"])
    try:
        model.load_weights(path)
    except Exception as e:
        raise ZooError(f"Weights file {path} does not fit the model of {name!r}: {e}") from None
    return model


def _backend_version(backend):
    import importlib

    return str(getattr(importlib.import_module(backend), "__version__", "unknown"))


def save_entry(name, model, metadata, directory=None):
    """Write `NAME.weights.h5` and `NAME.json` for a trained model, atomically.

    The weights are written first, so a manifest never names a file that is
    not complete. Returns the manifest dict.
    """
    import keras_ae

    directory = directory or zoo_dir()
    os.makedirs(directory, exist_ok=True)
    backend = keras.backend.backend()
    wfile = name + WEIGHTS_SUFFIX
    wpath = os.path.join(directory, wfile)
    # An uncompiled copy, so the file holds the model's weights only, not the optimizer's.
    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)
    clean = keras.saving.deserialize_keras_object(config)
    clean.set_weights(model.get_weights())
    atomic_write(wpath, clean.save_weights)
    entry = {
        "name": name,
        "variant": getattr(model, "variant", type(model).__name__),
        **metadata,
        "params": int(model.count_params()),
        "config": config,
        "weights": {"file": wfile, "sha256": sha256_of(wpath), "size": os.path.getsize(wpath)},
        "versions": {"keras": keras.__version__, "backend": backend,
                     backend: _backend_version(backend),
                     "keras_ae": keras_ae.__version__},
        "date": datetime.date.today().isoformat(),
    }
    write_json_atomic(os.path.join(directory, name + ".json"), entry)
    return entry


def _fmt(value):
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def markdown_table(pattern="*"):
    """A Markdown table of the zoo entries and their recorded test metrics."""
    rows = ["| name | params | test metric (10k MNIST test set) | baseline | ratio |",
            "|---|---:|---|---|---:|"]
    for name in list_models(pattern):
        entry = info(name)
        m = entry.get("metrics", {}).get("test", {})
        if "neg_elbo" in m:
            metric, base, ratio = f"−ELBO {_fmt(m['neg_elbo'])} nats", "", ""
        else:
            metric = f"squared error {_fmt(m.get('squared_error'))}"
            pca = m.get("pca_squared_error")
            base = f"PCA {_fmt(pca)}" if pca else "PCA exact (code ≥ input)"
            ratio = f"{pca / m['squared_error']:.2f}×" if pca else ""
            if "noisy_squared_error" in m:
                metric += f"; from noisy input {_fmt(m['noisy_squared_error'])}"
        rows.append(f"| `{name}` | {entry.get('params', 0):,} | {metric} | {base} | {ratio} |")
    return "\n".join(rows)
