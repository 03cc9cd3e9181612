"""`keras-ae train --backend auto`: the backend the speed benchmark measured fastest for a variant, chosen
without Keras.

Keras reads `KERAS_BACKEND` once, when it is imported, so the choice has to be made before any
model class can be imported. The choice comes from `keras_ae/fastest_backends.json`, which the speed
benchmark writes (`keras_ae.backend_table`; never hand-written): the installed backend with the most
training samples/s for the variant. A variant the table does not name keeps Keras's default (TensorFlow).
What a variant is (`image_input`, `generative`) lives on its class; this module reads those class
attributes from the source of `keras_ae/models/` with `ast`, following each class's bases inside the
package, so the class stays the one place the fact lives. A test checks that what is read here equals
the imported classes' attributes for every registered variant.
"""

import ast
import functools
import importlib.util
import os

from keras_ae.backend_table import BACKENDS, TABLE_PATH, fastest_backend

FACTS = ("image_input", "generative")


def _models_dir():
    spec = importlib.util.find_spec("keras_ae")
    return os.path.join(os.path.dirname(spec.origin), "models")


def _base_name(node):
    return node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)


@functools.lru_cache(maxsize=1)
def _classes():
    """`(classes, variants)`: class name -> (base names, literal facts); variant name -> class name."""
    classes, variants = {}, {}
    folder = _models_dir()
    for filename in sorted(os.listdir(folder)):
        if not filename.endswith(".py"):
            continue
        with open(os.path.join(folder, filename), encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename)
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            facts = {}
            for item in node.body:
                if isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name) \
                        and item.targets[0].id in FACTS and isinstance(item.value, ast.Constant):
                    facts[item.targets[0].id] = item.value.value
            classes[node.name] = ([_base_name(b) for b in node.bases], facts)
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and _base_name(deco.func) == "register_variant" and deco.args \
                        and isinstance(deco.args[0], ast.Constant):
                    variants[deco.args[0].value] = node.name
    return classes, variants


def _fact(class_name, fact):
    classes, _ = _classes()
    if class_name not in classes:
        return None
    bases, facts = classes[class_name]
    if fact in facts:
        return facts[fact]
    for base in bases:  # left to right, depth first: Python's MRO for these single-root hierarchies
        found = _fact(base, fact)
        if found is not None:
            return found
    return None


def variants():
    """The registered variant names, as the source declares them."""
    return sorted(_classes()[1])


def variant_fact(variant, fact):
    """A class fact (`image_input`, `generative`) of a registered variant, or None."""
    if fact not in FACTS:
        raise ValueError(f"`fact` must be one of {FACTS}. Received: fact={fact!r}")
    class_name = _classes()[1].get(variant)
    return None if class_name is None else _fact(class_name, fact)


def looks_convolutional(variant):
    """Whether `variant`'s class takes images (`image_input`), without importing Keras."""
    return bool(variant_fact(variant, "image_input"))


def installed_backends():
    """The Keras backends importable here (TensorFlow always: keras-ae requires it)."""
    return tuple(b for b in BACKENDS if b == "tensorflow" or importlib.util.find_spec(b) is not None)


def choose(variant, data=None, table=TABLE_PATH):
    """The backend for `keras-ae train VARIANT --data DATA` when none is set: of the installed backends, the
    one the speed benchmark's `table` measured fastest for `variant` (default: the dense `undercomplete`), or
    None (Keras's default) when that is TensorFlow or the table does not name the variant. A folder of images
    with no variant trains the default dense model on images, so it keeps Keras's default too."""
    if variant is None and data and os.path.isdir(data):
        return None
    wanted = fastest_backend(variant or "undercomplete", installed_backends(), table)
    return wanted if wanted and wanted != "tensorflow" else None
