"""The zoo's index: list, describe, build and load entries by name.

Names are `arch.tag` (`vae.mnist_z2`: the variant, then what it was trained
on) and `list_models` takes a shell-style pattern, as timm's registry does
(`timm/models/_registry.py`: `list_models` with `fnmatch`, `split_model_name_tag`).
Each call lists the folder once and reads each manifest it needs once; the
manifests themselves are cached by file stamp (`manifest.read_manifest`), so
repeated calls do not read them again. Keras is imported only to build a model.
"""

import difflib
import fnmatch
import importlib.resources
import json
import os

from keras_ae.zoo import keys
from keras_ae.zoo.manifest import (
    METRICS_FILE, ZooError, check_signature, read_manifest, read_metric_definitions, verify_file)

ENV_ZOO = "KERAS_AE_ZOO"


def zoo_dir():
    """The folder the zoo is read from."""
    env = os.environ.get(ENV_ZOO)
    if env:
        return env
    return str(importlib.resources.files("keras_ae_zoo"))


def _manifests(directory=None):
    directory = directory or zoo_dir()
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return {}
    return {n[:-5]: os.path.join(directory, n) for n in names if n.endswith(".json") and n != METRICS_FILE}


def metric_definitions(directory=None):
    """`{metric or subset name: definition}`, from the zoo's `metrics.json` (empty if it has none)."""
    return read_metric_definitions(directory or zoo_dir())


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


def _entry(name):
    """`(manifest path, manifest dict)` of entry `name`: one folder listing, one (cached) read."""
    path = _manifest_path(name)
    return path, read_manifest(path)


def check_entry(name, path, entry, trusted_keys=None):
    """Raise `ZooError` naming `path` unless entry `name`'s signatures hold.

    Its sha256 signature always; and with trusted keys (`trusted_keys`, else
    `$KERAS_AE_TRUSTED_KEYS`, else the project key for the package's own zoo:
    `keras_ae.zoo.keys`), a key signature by one of them.
    """
    check_signature(name, entry, path)
    trusted = keys.resolve(trusted_keys, os.path.dirname(path))
    if trusted is not None:
        keys.check(name, entry, path, trusted)


def info(name, trusted_keys=None):
    """The metadata of a zoo entry, as a dict (with the zoo's metric definitions), once its signatures hold.

    `trusted_keys`: public keys (see `keras_ae.zoo.keys.public_key`) one of which must have signed it;
    by default `$KERAS_AE_TRUSTED_KEYS`, else the project key for the package's own zoo, else none.
    """
    path, entry = _entry(name)
    check_entry(name, path, entry, trusted_keys)
    entry.setdefault("metric_definitions", metric_definitions(os.path.dirname(path)))
    return entry


def model_class(name, trusted_keys=None):
    """The registered Keras class that zoo entry `name` builds, from its signed config; builds nothing.

    The check KerasHub's `from_preset` makes before loading (`check_config_class`
    in `keras_hub/src/utils/preset_utils.py`). Returns `None` if no class is
    registered under the config's name (then `build` and `load` fail, naming it).
    """
    import keras

    from keras_ae import register_with_keras

    register_with_keras()
    path, entry = _entry(name)
    check_entry(name, path, entry, trusted_keys)
    config = entry["config"]
    registered = config.get("registered_name") or config.get("class_name")
    return keras.saving.get_registered_object(registered) if isinstance(registered, str) else None


def _weights_file(name, manifest, entry, download):
    w = entry["weights"]
    path = os.path.join(os.path.dirname(manifest), w["file"])
    if not os.path.exists(path) and w.get("url"):
        if not download:
            raise ZooError(
                f"Weights of {name!r} are not in the zoo folder; they can be fetched from "
                f"{w['url']}: call load({name!r}, download=True)"
            )
        import keras

        cache = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
        os.makedirs(cache, exist_ok=True)  # else get_file silently falls back to /tmp/.keras
        path = keras.utils.get_file(
            fname=w["file"], origin=w["url"], file_hash=w["sha256"], hash_algorithm="sha256",
            cache_dir=cache,
            cache_subdir=os.path.join("keras_ae", "zoo"),
        )
    verify_file(path, w["sha256"], w.get("size"))
    return path


def weights_path(name, download=False, trusted_keys=None):
    """Return the verified path of an entry's weights file.

    A file missing from the zoo folder is fetched from the entry's `url`
    into the Keras cache (never into the package), checked against its
    sha256, only when `download=True`. The entry's signatures are checked first (`check_entry`).
    """
    manifest, entry = _entry(name)
    check_entry(name, manifest, entry, trusted_keys)
    return _weights_file(name, manifest, entry, download)


def _build(name, manifest, entry, overrides, trusted_keys):
    import keras

    from keras_ae import register_with_keras

    register_with_keras()
    check_entry(name, manifest, entry, trusted_keys)
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


def build(name, /, trusted_keys=None, **overrides):
    """Build the architecture of zoo model `name`, with fresh weights (nothing is loaded).

    `overrides` replace entries of the recorded config, e.g. `dtype="mixed_float16"`.
    `trusted_keys` as for `load`.
    """
    return _build(name, *_entry(name), overrides, trusted_keys)  # the model needs its manifest only


def _load_weights(model, path):
    model.load_weights(path)


def load(name, /, download=False, trusted_keys=None, **overrides):
    """Build the zoo model `name` and load its verified weights.

    Args:
        name: a name from `list_models()`.
        download: allow fetching weights that are not shipped (see `weights_path`).
        trusted_keys: Ed25519 public keys (base64 text, PEM text or file, or
            `Ed25519PublicKey`s) one of which must have signed the entry
            (`keras_ae.zoo.keys`). Default: those in `$KERAS_AE_TRUSTED_KEYS`,
            else the project's key for the package's own zoo, else none (the
            sha256 signature and hashes are checked either way).
        **overrides: settings that do not change the weights' shapes, e.g.
            `dtype="mixed_float16"` or `name="my_vae"`. The recorded metrics
            were measured without them.

    Returns:
        A keras-ae model, ready for `encode`, `decode`, `predict` or more `fit`.
    """
    manifest, entry = _entry(name)  # read once, for the model and for its weights
    model = load_entry(name, manifest, entry, lambda: _weights_file(name, manifest, entry, download),
                       overrides, trusted_keys)
    if entry.get("sampler", {}).get("kind") == "code_prior":  # a VQ-VAE: its shipped prior becomes model.prior
        load_sampler(name, model=model, trusted_keys=trusted_keys)
    return model


def load_entry(name, manifest, entry, weights_file, overrides, trusted_keys):
    """Build entry `name` from its manifest dict and load the verified file `weights_file()` returns.

    `zoo.load` and the preset loader (`keras_ae.zoo.preset`) share it: the signatures are checked,
    the model built, then the weights fetched and checked, so a refused file loads nothing.
    """
    from keras_ae._io import check_finite_weights

    model = _build(name, manifest, entry, overrides, trusted_keys)
    path = weights_file()
    try:
        _load_weights(model, path)
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


def _sampler_file(name, manifest, entry, trusted_keys=None):
    check_entry(name, manifest, entry, trusted_keys)  # it binds the sampler's hash to the config and the weights
    record = entry.get("sampler")
    if record is None:
        raise ZooError(f"Zoo entry {name!r} has no sampler: its manifest {manifest} records none. Fit one to the "
                       f"model's codes: `keras_ae.samplers.get_sampler('gmm').fit(keras_ae.zoo.load({name!r}), "
                       "x_train)`; to ship it, pass it to zoo.save_entry(..., sampler=...) or give the entry's "
                       "recipe a `sampler` key")
    path = os.path.join(os.path.dirname(manifest), record["file"])
    verify_file(path, record["sha256"], record["size"], what="Sampler file")
    return path


def sampler_path(name, trusted_keys=None):
    """Return the verified path of an entry's sampler file: signature, size and sha256 checked, nothing read.

    Raises a `ZooError` if the entry has no sampler or the file fails a check.
    """
    return _sampler_file(name, *_entry(name), trusted_keys)


def load_sampler(name, /, model=None, trusted_keys=None):
    """The sampler shipped with zoo entry `name`, checked, with a model to decode with.

    Args:
        name: a name from `list_models()`.
        model: the model to decode with; by default the entry's own (`load(name)`). Its code
            size must be the sampler's.
        trusted_keys: as for `load`.

    Returns:
        A fitted `keras_ae.samplers.Sampler`: `sampler.sample(16, seed=0)` decodes 16 new codes,
        and for a VAE `model.sample(16, sampler=sampler, seed=0)` does the same.

    Raises a `ZooError` naming the file if the entry has no sampler, its manifest fails its
    signature, the file fails its size or sha256 check (before it is read), or its content fails
    `keras_ae.samplers.load_sampler`'s checks.

    Example:

    ```python
    vae = zoo.load("resnet_vae.cifar10_z128")
    images = vae.sample(16, sampler=zoo.load_sampler("resnet_vae.cifar10_z128", model=vae), seed=0)
    ```
    """
    from keras_ae import samplers

    manifest, entry = _entry(name)
    path = _sampler_file(name, manifest, entry, trusted_keys)
    if model is None:
        model = load(name, trusted_keys=trusted_keys)
    try:
        sampler = samplers.load_sampler(path, model=model)
    except (OSError, ValueError) as e:  # the samplers' errors name the file and the field
        raise ZooError(f"Sampler file {path} of zoo entry {name!r} is refused: {e}") from None
    if sampler.kind != entry["sampler"]["kind"]:
        raise ZooError(f"Sampler file {path} of zoo entry {name!r} holds a {sampler.kind!r} sampler, but its "
                       f"manifest {manifest} records sampler.kind {entry['sampler']['kind']!r}")
    return sampler


def _fmt(value):
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _datasets():
    # Imported when a listing needs it: keras_ae.data imports Keras (its training pipelines).
    from keras_ae.data.registry import DATASETS

    return DATASETS


def entry_dataset(entry):
    """`(dataset, licence)` of a manifest dict, for listings.

    `dataset` is the `keras_ae.data.DATASETS` key of its `dataset.name` (older
    MNIST manifests record `"MNIST"`; display names such as `"CIFAR-10"` match
    too), else the name as recorded, else None. `licence` is the manifest's
    top-level `licence`, else its `dataset.licence`, else that data set's
    licence in `DATASETS`, else None.
    """
    datasets = _datasets()
    record = entry.get("dataset") if isinstance(entry.get("dataset"), dict) else {}
    raw = record.get("name")
    key = None
    if isinstance(raw, str) and raw.strip():
        def norm(text):
            return text.strip().lower().replace("-", "_")

        aliases = {norm(alias): k for k, info in datasets.items() for alias in (k, info.source.name)}
        key = aliases.get(norm(raw), raw)
    licence = entry.get("licence") or record.get("licence")
    if not licence and key in datasets:
        licence = datasets[key].licence
    return key, (licence or None)


def _mnist_row(name, entry):
    m = entry.get("metrics", {}).get("test", {})
    if "neg_elbo" in m:
        metric, base, ratio = f"−ELBO {_fmt(m['neg_elbo'])} nats", "", ""
        nll = next((key for key in m if key.startswith("nll_k")), None)
        if nll:
            metric = f"NLL {_fmt(m[nll])} nats (k = {nll[len('nll_k'):]}); " + metric
        fids = [f"{_fmt(m[k])} ({label})" for k, label in (("fid_gmm", "GMM"), ("fid_prior", "prior")) if k in m]
        if fids:
            metric += "; FID " + ", ".join(fids)
    elif "code_bits" in m:  # a VQ-VAE: its code's bits and its prior's, no PCA of as many components
        metric = (f"squared error {_fmt(m.get('squared_error'))} with a {m['code_bits']:.0f}-bit code, "
                  f"{m['codebook_usage']:.0%} of the codebook in use"
                  + (f"; prior {_fmt(m['prior_bits_per_code'])} bits/code" if "prior_bits_per_code" in m else ""))
        base, ratio = "", ""
    else:
        metric = f"squared error {_fmt(m.get('squared_error'))}"
        pca = m.get("pca_squared_error")
        base = f"PCA {_fmt(pca)}" if pca else "PCA exact (code ≥ input)"
        ratio = f"{pca / m['squared_error']:.2f}×" if pca else ""
        if "noisy_squared_error" in m:
            metric += f"; from noisy input {_fmt(m['noisy_squared_error'])}"
    return f"| `{name}` | {entry.get('params', 0):,} | {metric} | {base} | {ratio} |"


def _mnist_table(entries):
    """MNIST's table, in the columns it has always had (README's zoo table)."""
    rows = ["| name | params | test metric (10k MNIST test set) | baseline | ratio |", "|---|---:|---|---|---:|"]
    return "\n".join(rows + [_mnist_row(name, entry) for name, entry in entries])


def _ratio(m):
    se, pca = m.get("squared_error"), m.get("pca_squared_error")
    return f"{pca / se:.2f}×" if se and pca else ""


# The image data sets' columns (keras_ae.zoo.images.measure_images): header, alignment, cell from the
# test metrics. A column no entry of the table has a value for is left out (no VAE: no −ELBO).
_IMAGE_COLUMNS = (
    ("squared error", "---:", lambda m: _fmt(m["squared_error"]) if "squared_error" in m else ""),
    ("PSNR (dB)", "---:", lambda m: _fmt(m["psnr_db"]) if "psnr_db" in m else ""),
    ("PCA squared error", "---:", lambda m: _fmt(m["pca_squared_error"]) if "pca_squared_error" in m else ""),
    ("PCA PSNR (dB)", "---:", lambda m: _fmt(m["pca_psnr_db"]) if "pca_psnr_db" in m else ""),
    ("ratio", "---:", _ratio),
    ("−ELBO (nats)", "---:", lambda m: _fmt(m["neg_elbo"]) if "neg_elbo" in m else ""),
    ("bits/dim", "---:", lambda m: f"{m['bits_per_dim']:.3f}" if "bits_per_dim" in m else ""),
    ("decoder σ", "---:", lambda m: f"{m['decoder_scale']:.3g}" if "decoder_scale" in m else ""),
    ("FID, prior", "---:", lambda m: _fmt(m["fid_prior"]) if "fid_prior" in m else ""),
    ("FID, GMM", "---:", lambda m: _fmt(m["fid_gmm"]) if "fid_gmm" in m else ""),
)


# A colorization entry's columns (keras_ae.zoo.colorization): its error beside the gray copy's and the
# mean colour's, and its ratio to the better of the two (below 1: better than both).
_COLOUR_COLUMNS = (
    ("squared error", "---:", lambda m: _fmt(m["squared_error"]) if "squared_error" in m else ""),
    ("PSNR (dB)", "---:", lambda m: _fmt(m["psnr_db"]) if "psnr_db" in m else ""),
    ("gray copy squared error", "---:", lambda m: _fmt(m["gray_squared_error"]) if "gray_squared_error" in m else ""),
    ("gray copy PSNR (dB)", "---:", lambda m: _fmt(m["gray_psnr_db"]) if "gray_psnr_db" in m else ""),
    ("mean colour squared error", "---:",
     lambda m: _fmt(m["mean_colour_squared_error"]) if "mean_colour_squared_error" in m else ""),
    ("mean colour PSNR (dB)", "---:", lambda m: _fmt(m["mean_colour_psnr_db"]) if "mean_colour_psnr_db" in m else ""),
    ("model / better baseline", "---:", lambda m: f"{m['colour_ratio']:.2f}×" if "colour_ratio" in m else ""),
)


def _is_colorization(entry):
    return "gray_squared_error" in entry.get("metrics", {}).get("test", {})


def _image_table(entries, all_columns=_IMAGE_COLUMNS):
    """A table of image entries' test metrics: squared error and PSNR beside PCA's, a VAE's −ELBO."""
    metrics = [entry.get("metrics", {}).get("test", {}) for _, entry in entries]
    columns = [c for c in all_columns if any(c[2](m) for m in metrics)]
    counts = {m.get("n_test") for m in metrics} - {None}
    if len(counts) == 1:
        n = counts.pop()
        test = f" ({n // 1000}k test images)" if n % 1000 == 0 else f" ({n:,} test images)"
        if columns:
            columns[0] = (columns[0][0] + test, *columns[0][1:])
    rows = ["| " + " | ".join(["name", "params", *(c[0] for c in columns)]) + " |",
            "|" + "|".join(["---", "---:", *(c[1] for c in columns)]) + "|"]
    for (name, entry), m in zip(entries, metrics):
        cells = [f"`{name}`", f"{entry.get('params', 0):,}", *(c[2](m) for c in columns)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def markdown_table(pattern="*"):
    """Markdown tables of the zoo entries and their recorded test metrics, one per data set.

    Each table is under a `###` heading naming its data set, with the data
    set's licence below it (`entry_dataset`). MNIST's table keeps its columns
    (one test metric, the PCA baseline, the ratio); the other image data sets'
    show the squared error and PSNR beside PCA's with as many components as
    the code, and for VAEs the −ELBO, bits per dimension and decoder scale, and FID (10,000
    samples from the prior and from the Gaussian mixture, against the test split) where
    `python -m benchmarks --images --record-in-zoo` has measured it. Colorization
    entries get a table of their own below it: their error beside the gray copy's and the
    mean colour's (`keras_ae.zoo.colorization`).
    """
    groups = {}
    for name in list_models(pattern):
        _, entry = _entry(name)
        key, licence = entry_dataset(entry)
        groups.setdefault(key, []).append((name, entry, licence))
    datasets = _datasets()
    order = [k for k in datasets if k in groups] + sorted((k for k in groups if k not in datasets), key=str)
    blocks = []
    for key in order:
        title = datasets[key].source.name if key in datasets else (key or "Data set not recorded")
        licences = list(dict.fromkeys(lic for _, _, lic in groups[key] if lic))
        entries = [(name, entry) for name, entry, _ in groups[key] if not _is_colorization(entry)]
        colour = [(name, entry) for name, entry, _ in groups[key] if _is_colorization(entry)]
        tables = [_mnist_table(entries) if key == "mnist" else _image_table(entries)] if entries else []
        if colour:
            tables += ["Colorization (luminance in, colour out), against the gray copy and the training set's "
                       "mean colour added to the luminance:", _image_table(colour, _COLOUR_COLUMNS)]
        blocks.append("\n\n".join([f"### {title}", *([f"Licence: {'; '.join(licences)}"] if licences else []),
                                     *tables]))
    return "\n\n".join(blocks)


def presets_of(cls):
    """Names of the entries whose variant (the `arch` of `arch.tag`) is `cls` or a subclass; reads no manifest."""
    classes, variants = [cls], set()
    while classes:  # the registered variants at or below `cls` (`register_variant` sets `variant` on each)
        c = classes.pop()
        variants.update([c.__dict__["variant"]] if isinstance(c.__dict__.get("variant"), str) else [])
        classes.extend(c.__subclasses__())
    return [n for n in list_models() if n.split(".", 1)[0] in variants]
