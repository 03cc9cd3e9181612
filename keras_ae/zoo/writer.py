"""The zoo's writer: an entry's weights, sampler and manifest as one atomic update, and the metric definitions."""

import datetime
import json
import os
import re

from keras_ae._io import check_finite_weights, clean_stale_temporaries, file_lock, write_json_atomic
from keras_ae.zoo import keys
from keras_ae.zoo.index import _manifest_path, zoo_dir
from keras_ae.zoo.manifest import (
    METRIC_DEFINITIONS, METRICS_FILE, SAMPLER_SUFFIX, WEIGHTS_SUFFIX, ZooError, check_signature, entry_signature,
    read_manifest, read_metric_definitions, sha256_of, verify_file)


FILE_FIELDS = ("weights", "sampler", "attributes")  # the manifest's records of the entry's files


def _signing_key(signing_key):
    """The private key to sign with: `signing_key`, else `$KERAS_AE_SIGNING_KEY`'s file, else None."""
    signing_key = signing_key or os.environ.get(keys.ENV_SIGNING_KEY) or None
    return None if signing_key is None else keys.load_signing_key(signing_key)


def sign_manifest(name, directory=None, signing_key=None):
    """Sign an existing entry's manifest (atomically); return its sha256 signature.

    Without a key: write the sha256 signature, for entries written before
    manifests were signed; it trusts the config, the weights hash and the
    sampler hash as they stand. With `signing_key` (an Ed25519 private key or
    the path of its PEM file; default `$KERAS_AE_SIGNING_KEY`): add that key's
    signature (`keras_ae.zoo.keys`), after checking the sha256 signature and
    the weights and sampler files against their hashes, so a key never signs
    an entry that was edited after it was written. `save_entry` signs every
    new entry.
    """
    path = os.path.join(directory, name + ".json") if directory else _manifest_path(name)
    key = _signing_key(signing_key)
    with file_lock(path):
        entry = read_manifest(path)
        if key is None:
            entry["signature"] = entry_signature(entry)
        else:
            check_signature(name, entry, path)
            for field in FILE_FIELDS:
                if field in entry:
                    what = field.capitalize() + " file"
                    record = entry[field]
                    verify_file(os.path.join(os.path.dirname(path), record["file"]), record["sha256"],
                                record["size"], what=what)
            keys.sign(name, entry, key)
        write_json_atomic(path, entry)
    return entry["signature"]


def record_metrics(name, metrics, part="test", directory=None):
    """Merge measured `metrics` into entry `name`'s manifest under `metrics[part]` (atomically, locked).

    For figures measured after an entry was written, such as FID (`python -m benchmarks --images
    --record-in-zoo`). Metrics are metadata, outside the signatures (`keras_ae.zoo.keys`), so no key is
    needed; the weights and signature are untouched. Every name must be defined in METRIC_DEFINITIONS
    and every value a finite number, so a manifest never holds a figure nobody can read.

    Returns the entry's `metrics[part]` as written.
    """
    import math

    undefined = sorted(set(metrics) - set(METRIC_DEFINITIONS))
    if undefined:
        raise ZooError(f"Metrics of {name!r} must be defined in keras_ae.zoo.manifest.METRIC_DEFINITIONS. "
                       f"Received undefined: {', '.join(undefined)}")
    bad = {k: v for k, v in metrics.items()
           if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)}
    if bad:
        raise ZooError(f"Metrics of {name!r} must be finite numbers. Received: {bad}")
    path = os.path.join(directory, name + ".json") if directory else _manifest_path(name)
    if not os.path.exists(path):
        raise ZooError(f"No zoo entry {name!r}: {path} does not exist")
    with file_lock(path):
        entry = read_manifest(path)
        check_signature(name, entry, path)
        entry.setdefault("metrics", {}).setdefault(part, {}).update(metrics)
        write_json_atomic(path, entry)
    return entry["metrics"][part]


def write_metric_definitions(directory=None):
    """Write `metrics.json` (METRIC_DEFINITIONS) into the zoo folder, if it differs.

    Definitions already in the file that this process does not know are kept, after its own: a training
    started before a new metric was defined must not drop that definition when it saves its entry hours
    later (its METRIC_DEFINITIONS were read when it started).
    """
    directory = directory or zoo_dir()
    on_disk = read_metric_definitions(directory)
    merged = {**METRIC_DEFINITIONS, **{k: v for k, v in on_disk.items() if k not in METRIC_DEFINITIONS}}
    if on_disk != merged:
        os.makedirs(directory, exist_ok=True)
        write_json_atomic(os.path.join(directory, METRICS_FILE), {"metric_definitions": merged})


def _backend_version(backend):
    import importlib

    return str(getattr(importlib.import_module(backend), "__version__", "unknown"))


def _check_sampler(name, model, sampler):
    """Refuse, before any file is written, a sampler that is not a fitted `Sampler` for `model`'s codes."""
    from keras_ae.samplers import Sampler

    if not isinstance(sampler, Sampler):
        raise TypeError(f"`sampler` for zoo entry {name!r} must be a fitted keras_ae.samplers.Sampler. "
                        f"Received: {sampler!r}")
    if sampler.needs_fit:
        sampler._require_fitted()
    try:
        sampler.check_model(model)
    except (TypeError, ValueError) as e:
        raise ValueError(f"The sampler for zoo entry {name!r} does not fit its model: {e}") from None


STORED_DTYPES = ("float32", "float16")


def round_weights(model, dtype):
    """Round `model`'s float32 weights through `dtype` in place, so it computes what its stored file will.

    A zoo entry stored in float16 (half the bytes of float32) is measured after this, so its recorded
    metrics are those of the weights it ships. An array with a value beyond float16's range (such as a
    batch norm's moving variance above 65504) is left, and stored, as float32 (`_fits`).
    """
    _check_stored_dtype(dtype)
    if dtype == "float32":
        return model
    model.set_weights([w.astype(dtype).astype(w.dtype) if _fits(w, dtype) else w for w in model.get_weights()])
    check_finite_weights(model, f"model rounded to {dtype}")
    return model


def _fits(w, dtype):
    """Whether the float32 array `w` is stored as `dtype`: all its values are within `dtype`'s finite range."""
    import numpy as np

    if w.dtype != np.float32:
        return False
    return not w.size or float(np.max(np.abs(w))) <= float(np.finfo(dtype).max)


def _check_stored_dtype(dtype):
    if dtype not in STORED_DTYPES:
        raise ValueError(f"A zoo entry's weights are stored as one of {STORED_DTYPES}. Received: {dtype!r}")


def _weights_writer(model, dtype):
    """A `write(path)` that saves `model`'s weights, its float32 arrays stored as `dtype` where they fit.

    Keras reads a float16 array back into its float32 variable on every backend. The model's weights
    must already be `dtype` values (`round_weights`), so the file holds exactly the model that was measured.
    """
    _check_stored_dtype(dtype)
    if dtype == "float32":
        return model.save_weights

    def write(path):
        import h5py
        import numpy as np

        for w in model.get_weights():
            if _fits(w, dtype) and not np.array_equal(w.astype(dtype).astype(w.dtype), w):
                raise ValueError(f"The weights are not {dtype} values: call round_weights(model, {dtype!r}) "
                                 "before measuring and saving, so the metrics are those of the stored weights")
        model.save_weights(path + ".f32.weights.h5")
        try:
            with h5py.File(path + ".f32.weights.h5", "r") as src, h5py.File(path, "w") as dst:
                def copy(a, b):
                    b.attrs.update(a.attrs)
                    for key, item in a.items():
                        if isinstance(item, h5py.Dataset):
                            data = item[()]
                            if _fits(np.asarray(data), dtype):
                                data = np.asarray(data).astype(dtype)
                            b.create_dataset(key, data=data)
                            b[key].attrs.update(item.attrs)
                        else:
                            copy(item, b.create_group(key))
                copy(src, dst)
        finally:
            os.remove(path + ".f32.weights.h5")

    return write


def _place(directory, name, suffix, write, created):
    """Write a content-addressed file `NAME.<sha12><suffix>` with `write(tmp)`; return its manifest record.

    The temporary file, then the final one, are added to `created` before they exist, so a caller
    that fails later can remove them.
    """
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".tmp-{os.getpid()}-", suffix=suffix)
    os.close(fd)
    created.append(tmp)
    write(tmp)
    sha = sha256_of(tmp)
    file = f"{name}.{sha[:12]}{suffix}"
    record = {"file": file, "sha256": sha, "size": os.path.getsize(tmp)}
    os.chmod(tmp, 0o644)
    created.append(os.path.join(directory, file))
    os.replace(tmp, created[-1])
    return record


def save_entry(name, model, metadata, directory=None, sampler=None, weights_dtype="float32", signing_key=None):
    """Write an entry's weights (and sampler) and manifest for a trained model, as one atomic update.

    The weights go to a new, content-addressed file `NAME.<sha12>.weights.h5`,
    a fitted `sampler` (`keras_ae.samplers`) to `NAME.<sha12>.sampler.npz`;
    then the manifest `NAME.json` is replaced atomically (its signature binds
    the config, the weights and the sampler); only then are the previous
    files removed. A failure at any point (including a metadata value that is
    not JSON, or a kill) leaves the old entry or the new one, both loadable,
    and no stray file. Non-finite weights are refused, and so is a sampler
    that is not fitted or not fitted to codes of this model's size.
    `weights_dtype="float16"` stores the float weights at half the bytes; the
    model must hold float16 values already (`round_weights`, before it is
    measured). `signing_key` (an Ed25519 private key, or the path of its
    PEM file; default `$KERAS_AE_SIGNING_KEY`, if set) adds a key signature
    (`keras_ae.zoo.keys`). Two processes writing one entry take turns: each
    holds an `fcntl.flock` lock on `.NAME.json.keras-ae.lock` in the zoo
    folder while it writes (`keras_ae._io.file_lock`). Returns the manifest dict.
    """
    check_finite_weights(model, f"model for zoo entry {name!r}")
    _check_stored_dtype(weights_dtype)
    if sampler is not None:
        _check_sampler(name, model, sampler)
    if "sampler" in metadata:
        raise ValueError(f"Zoo entry {name!r}: a sampler goes in save_entry's `sampler` argument (it is written, "
                         "hashed and signed), not in `metadata`")
    signer = _signing_key(signing_key)  # a key that cannot be read fails here, before any file is written
    directory = directory or zoo_dir()
    os.makedirs(directory, exist_ok=True)
    manifest = os.path.join(directory, name + ".json")
    with file_lock(manifest):  # another process writing this entry waits: its files are not taken for stale
        return _save_entry(name, model, metadata, directory, manifest, sampler, weights_dtype, signer)


def _save_entry(name, model, metadata, directory, manifest, sampler, weights_dtype, signer, stem=None):
    # `stem` names the files (`STEM.<sha12>.weights.h5`); a zoo entry's is its name, a preset folder's "model".
    import keras

    import keras_ae

    clean_stale_temporaries(directory)
    backend = keras.backend.backend()
    old_files = set()
    if os.path.exists(manifest):
        try:
            old = read_manifest(manifest)
            old_files = {os.path.join(directory, old[key]["file"]) for key in FILE_FIELDS if key in old}
        except ZooError:
            old_files = set()
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
    created = []  # new files, removed again if the update fails before the manifest is replaced
    try:
        stem = stem or name
        entry["weights"] = _place(directory, stem, WEIGHTS_SUFFIX, _weights_writer(clean, weights_dtype), created)
        if weights_dtype != "float32":
            entry["weights"]["dtype"] = weights_dtype
        if sampler is not None:
            entry["sampler"] = {**_place(directory, stem, SAMPLER_SUFFIX, sampler.save, created),
                                "kind": sampler.kind}
        entry["signature"] = entry_signature(entry)
        if signer is not None:
            keys.sign(name, entry, signer)
        write_json_atomic(manifest, entry)
    except BaseException:
        for path in created:  # a new file named like an old one holds the old one's bytes: it stays
            if path not in old_files and os.path.exists(path):
                os.remove(path)
        raise
    # The previous weights, sampler and attribute vectors (which belonged to the old weights), and any left
    # unreferenced by an update that was killed.
    current = {entry[key]["file"] for key in FILE_FIELDS if key in entry}
    stale = re.compile(re.escape(stem) + r"\.(([0-9a-f]{12}\.)?weights\.h5|[0-9a-f]{12}\.(sampler|attributes)\.npz)$")
    for other in os.listdir(directory):
        full = os.path.join(directory, other)
        if other not in current and (full in old_files or stale.match(other)):
            os.remove(full)
    return entry
