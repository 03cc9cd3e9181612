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
import re

import keras

from keras_ae._io import check_finite_weights, clean_stale_temporaries, sha256_file, write_json_atomic

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
    """Read and check one manifest; every problem is a `ZooError` that names the file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ZooError(f"Cannot read zoo manifest {path}: {e}") from None
    except UnicodeDecodeError as e:
        raise ZooError(f"Zoo manifest {path} is not UTF-8 text: {e.reason} at byte {e.start}") from None
    try:
        entry = json.loads(text)
    except json.JSONDecodeError as e:
        raise ZooError(
            f"Zoo manifest {path} does not parse: line {e.lineno}, column {e.colno}: {e.msg}"
        ) from None
    except RecursionError:
        raise ZooError(f"Zoo manifest {path} is nested too deeply to be a manifest") from None
    if not isinstance(entry, dict):
        raise ZooError(f"Zoo manifest {path} must hold a JSON object. Received: {type(entry).__name__}")
    for key in ("name", "config", "weights"):
        if key not in entry:
            raise ZooError(f"Zoo manifest {path} lacks the required field {key!r}")
    if not isinstance(entry["config"], dict):
        raise ZooError(f"Zoo manifest {path}: `config` must be an object. Received: "
                       f"{type(entry['config']).__name__}")
    w = entry["weights"]
    if not isinstance(w, dict):
        raise ZooError(f"Zoo manifest {path}: `weights` must be an object with file, sha256 and size. "
                       f"Received: {type(w).__name__}")
    for key in ("file", "sha256", "size"):
        if key not in w:
            raise ZooError(f"Zoo manifest {path}: weights lack the required field {key!r}")
    f = w["file"]
    if (not isinstance(f, str) or not f or os.path.basename(f) != f or f in (".", "..")
            or "/" in f or "\\" in f):
        raise ZooError(f"Zoo manifest {path}: weights.file must be a file name inside the zoo folder. "
                       f"Received: {f!r}")
    if not isinstance(w["sha256"], str) or len(w["sha256"]) != 64:
        raise ZooError(f"Zoo manifest {path}: weights.sha256 must be 64 hex digits. Received: {w['sha256']!r}")
    if isinstance(w["size"], bool) or not isinstance(w["size"], int) or w["size"] < 0:
        raise ZooError(f"Zoo manifest {path}: weights.size must be a whole number of bytes. "
                       f"Received: {w['size']!r}")
    return entry


def signature(config, weights_sha256):
    """The sha256 that binds an entry's model config to its weights.

    Any change to the config (an activation, a loss, the class) or to the
    weights changes it, so `load` refuses an entry whose manifest was edited.
    """
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((canonical + "\n" + weights_sha256).encode("utf-8")).hexdigest()


def sign_manifest(name, directory=None):
    """Write the signature into an existing entry's manifest (atomically); return it.

    For entries written before manifests were signed: it trusts the config and
    the weights hash as they stand. `save_entry` signs every new entry.
    """
    path = os.path.join(directory, name + ".json") if directory else _manifest_path(name)
    entry = _read_json(path)
    entry["signature"] = signature(entry["config"], entry["weights"]["sha256"])
    write_json_atomic(path, entry)
    return entry["signature"]


def _check_signature(name, entry, path):
    expected = signature(entry["config"], entry["weights"]["sha256"])
    actual = entry.get("signature")
    if actual != expected:
        raise ZooError(
            f"Zoo manifest {path} of {name!r} fails its signature check: its model config or weights "
            f"hash was changed after it was written (expected signature {expected}, recorded {actual})")


def _manifests(directory=None):
    directory = directory or zoo_dir()
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return {}
    return {n[:-5]: os.path.join(directory, n) for n in names if n.endswith(".json") and n != METRICS_FILE}


METRICS_FILE = "metrics.json"  # what each recorded metric means, defined once for every entry


def metric_definitions(directory=None):
    """`{metric or subset name: definition}`, from the zoo's `metrics.json` (empty if it has none)."""
    path = os.path.join(directory or zoo_dir(), METRICS_FILE)
    if not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            definitions = json.load(f)["metric_definitions"]
        if not isinstance(definitions, dict):
            raise TypeError(f"expected an object, got {type(definitions).__name__}")
    except (OSError, ValueError, KeyError, TypeError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ZooError(f"The zoo's metric definitions {path} are unreadable ({type(e).__name__}: {e}); "
                       "expected {\"metric_definitions\": {...}}") from None
    return definitions


def list_models(pattern="*"):
    """Names of zoo entries matching a shell-style `pattern`, e.g. `"*vae*"`."""
    if not isinstance(pattern, str):
        raise TypeError(f"`pattern` must be a string such as '*vae*'. Received: pattern={pattern!r}")
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
    """The metadata of a zoo entry, as a dict (with the zoo's metric definitions)."""
    path = _manifest_path(name)
    entry = _read_json(path)
    entry.setdefault("metric_definitions", metric_definitions(os.path.dirname(path)))
    return entry


sha256_of = sha256_file  # the sha256 hex digest of a file


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
    manifest = _manifest_path(name)
    w = _read_json(manifest)["weights"]
    path = os.path.join(os.path.dirname(manifest), w["file"])
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


def build(name, /, **overrides):
    """Build the architecture of zoo model `name`, with fresh weights (nothing is loaded).

    `overrides` replace entries of the recorded config, e.g. `dtype="mixed_float16"`.
    """
    path = _manifest_path(name)
    entry = _read_json(path)  # the model needs its manifest only, not the metric definitions
    _check_signature(name, entry, path)
    config = json.loads(json.dumps(entry["config"]))
    unknown = sorted(set(overrides) - set(config.get("config", {})) - {"name", "dtype", "trainable"})
    if unknown:
        raise ValueError(f"{name!r} has no setting {', '.join(map(repr, unknown))} to override. "
                         f"Its settings: {', '.join(sorted(config.get('config', {})))}")
    config.setdefault("config", {}).update(overrides)
    try:
        return keras.saving.deserialize_keras_object(config)
    except Exception as e:
        what = f" with {overrides}" if overrides else ""
        raise ZooError(f"The config of zoo model {name!r}{what} does not build a model: {e}") from None


def load(name, /, download=False, **overrides):
    """Build the zoo model `name` and load its verified weights.

    Args:
        name: a name from `list_models()`.
        download: allow fetching weights that are not shipped (see `weights_path`).
        **overrides: settings that do not change the weights' shapes, e.g.
            `dtype="mixed_float16"` or `name="my_vae"`. The recorded metrics
            were measured without them.

    Returns:
        A keras-ae model, ready for `encode`, `decode`, `predict` or more `fit`.
    """
    model = build(name, **overrides)
    path = weights_path(name, download=download)
    try:
        model.load_weights(path)
    except Exception as e:
        if overrides:
            raise ValueError(f"The overrides {overrides} change the shapes of {name!r}'s weights, so its "
                             f"weights cannot be loaded: {e}") from None
        raise ZooError(f"Weights file {path} does not fit the model of {name!r}: {e}") from None
    try:
        check_finite_weights(model, f"zoo model {name!r}")
    except ValueError as e:
        raise ZooError(str(e)) from None
    return model


def _backend_version(backend):
    import importlib

    return str(getattr(importlib.import_module(backend), "__version__", "unknown"))


def save_entry(name, model, metadata, directory=None):
    """Write an entry's weights and manifest for a trained model, as one atomic update.

    The weights go to a new, content-addressed file `NAME.<sha12>.weights.h5`;
    then the manifest `NAME.json` is replaced atomically; only then is the
    previous weights file removed. A failure at any point (including a
    metadata value that is not JSON, or a kill) leaves the old entry or the new
    one, both loadable, and no stray file. Non-finite weights are refused.
    Returns the manifest dict.
    """
    import tempfile

    import keras_ae

    check_finite_weights(model, f"model for zoo entry {name!r}")
    directory = directory or zoo_dir()
    os.makedirs(directory, exist_ok=True)
    clean_stale_temporaries(directory)
    backend = keras.backend.backend()
    manifest = os.path.join(directory, name + ".json")
    old_file = None
    if os.path.exists(manifest):
        try:
            old_file = _read_json(manifest)["weights"]["file"]
        except ZooError:
            old_file = None
    # An uncompiled copy, so the file holds the model's weights only, not the optimizer's.
    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)
    entry = {
        "name": name,
        "variant": getattr(model, "variant", type(model).__name__),
        **metadata,
        "params": int(model.count_params()),
        "config": config,
        "weights": {"file": None, "sha256": "0" * 64, "size": 0},
        "signature": None,
        "versions": {"keras": keras.__version__, "backend": backend,
                     backend: _backend_version(backend), "keras_ae": keras_ae.__version__},
        "date": datetime.date.today().isoformat(),
    }
    json.dumps(entry)  # a metadata value that is not JSON fails here, before any file is written
    clean = keras.saving.deserialize_keras_object(config)
    clean.set_weights(model.get_weights())
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".tmp-{os.getpid()}-", suffix=WEIGHTS_SUFFIX)
    os.close(fd)
    final = None
    try:
        clean.save_weights(tmp)
        sha = sha256_of(tmp)
        wfile = f"{name}.{sha[:12]}{WEIGHTS_SUFFIX}"
        final = os.path.join(directory, wfile)
        entry["weights"] = {"file": wfile, "sha256": sha, "size": os.path.getsize(tmp)}
        entry["signature"] = signature(config, sha)
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
        write_json_atomic(manifest, entry)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        if final and final != (os.path.join(directory, old_file) if old_file else None) \
                and os.path.exists(final):
            os.remove(final)
        raise
    # The previous weights, and any left unreferenced by an update that was killed.
    stale = re.compile(re.escape(name) + r"\.([0-9a-f]{12}\.)?weights\.h5$")
    for other in os.listdir(directory):
        if other != wfile and (other == old_file or stale.match(other)):
            os.remove(os.path.join(directory, other))
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
            nll = next((key for key in m if key.startswith("nll_k")), None)
            if nll:
                metric = f"NLL {_fmt(m[nll])} nats (k = {nll[len('nll_k'):]}); " + metric
        else:
            metric = f"squared error {_fmt(m.get('squared_error'))}"
            pca = m.get("pca_squared_error")
            base = f"PCA {_fmt(pca)}" if pca else "PCA exact (code ≥ input)"
            ratio = f"{pca / m['squared_error']:.2f}×" if pca else ""
            if "noisy_squared_error" in m:
                metric += f"; from noisy input {_fmt(m['noisy_squared_error'])}"
        rows.append(f"| `{name}` | {entry.get('params', 0):,} | {metric} | {base} | {ratio} |")
    return "\n".join(rows)
