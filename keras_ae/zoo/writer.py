"""The zoo's writer: an entry's weights and manifest as one atomic update, and the metric definitions."""

import datetime
import json
import os
import re

from keras_ae._io import check_finite_weights, clean_stale_temporaries, write_json_atomic
from keras_ae.zoo.index import _manifest_path, zoo_dir
from keras_ae.zoo.manifest import (
    METRIC_DEFINITIONS, METRICS_FILE, WEIGHTS_SUFFIX, ZooError, read_manifest, read_metric_definitions,
    sha256_of, signature)


def sign_manifest(name, directory=None):
    """Write the signature into an existing entry's manifest (atomically); return it.

    For entries written before manifests were signed: it trusts the config and
    the weights hash as they stand. `save_entry` signs every new entry.
    """
    path = os.path.join(directory, name + ".json") if directory else _manifest_path(name)
    entry = read_manifest(path)
    entry["signature"] = signature(entry["config"], entry["weights"]["sha256"])
    write_json_atomic(path, entry)
    return entry["signature"]


def write_metric_definitions(directory=None):
    """Write `metrics.json` (METRIC_DEFINITIONS) into the zoo folder, if it differs."""
    directory = directory or zoo_dir()
    if read_metric_definitions(directory) != METRIC_DEFINITIONS:
        os.makedirs(directory, exist_ok=True)
        write_json_atomic(os.path.join(directory, METRICS_FILE), {"metric_definitions": METRIC_DEFINITIONS})


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

    import keras

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
            old_file = read_manifest(manifest)["weights"]["file"]
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
