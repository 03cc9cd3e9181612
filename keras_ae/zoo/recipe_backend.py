"""The Keras backend a zoo recipe trains on (`recipe_backend`), read without importing Keras.

`python -m keras_ae.zoo_train NAME` starts a process on it when the current one differs, and the entry's
manifest records it in the command that retrains the entry.
"""

import importlib.util
import json
import os

from keras_ae.backend_table import BACKENDS, fastest_backend
from keras_ae.zoo.index import zoo_dir
from keras_ae.zoo.manifest import ZooError
from keras_ae.zoo.recipes import RECIPES


def recipe_backend(name):
    """The Keras backend recipe `name` trains on: its `backend` if it names one; else, for an entry the zoo
    ships, the backend its manifest says it was trained on (TensorFlow for the entries from before manifests
    recorded one), so that the recorded command reproduces it; else the installed backend the speed benchmark
    measured fastest for its variant (`keras_ae.backend_table`); else TensorFlow."""
    recipe = RECIPES[name]
    if recipe.get("backend"):
        return recipe["backend"]
    shipped = _shipped_backend(name)
    if shipped:
        return shipped
    installed = [b for b in BACKENDS if b == "tensorflow" or importlib.util.find_spec(b) is not None]
    return fastest_backend(recipe["variant"], available=installed) or "tensorflow"


def _shipped_backend(name):
    """The backend the zoo's entry `name` was trained on, or None if the zoo has no such entry."""
    path = os.path.join(zoo_dir(), name + ".json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        try:
            versions = json.load(f).get("versions") or {}
        except json.JSONDecodeError as e:
            raise ZooError(f"{path}: the manifest of {name!r} is not JSON ({e})") from None
    return versions.get("backend") or "tensorflow"
