"""CIFAR-10 (Krizhevsky 2009): 50,000 training and 10,000 test images, 32x32 RGB, 10 classes.

`load_cifar10` looks, in this order (`keras_ae.data.find_data`), at:

1. the `path=` argument;
2. the `KERAS_AE_CIFAR10` environment variable;
3. the Keras cache: `$KERAS_HOME/datasets/cifar-10-batches-py/` (Keras 2), then
   `$KERAS_HOME/datasets/cifar-10-batches-py-target/` (where Keras 3's
   `keras.datasets.cifar10.load_data()` extracts it);
4. a download, only when `download=True` (or `$KERAS_AE_DOWNLOAD=1`), of
   `cifar-10-python.tar.gz` from the CIFAR page through `keras.utils.get_file`
   with its sha256, into the same place Keras 3 puts it.

A path may be any of these layouts:

- Keras's `cifar-10-batches-py/` folder (`data_batch_1` ... `data_batch_5`,
  `test_batch`), or a folder holding it: **the original pixels**;
- the downloaded `cifar-10-python.tar.gz` (read in place, nothing extracted):
  **the original pixels**;
- a folder `train/CLASS/*.jpg|png` + `test/CLASS/*.jpg|png`, or a zip of one
  (with or without one top folder). JPEG copies are lossy: `describe_source(source,
  CIFAR10)` says "JPEG images ... not the original pixels" for them, so a figure
  measured on one can say so.

The batch files are pickles. They are read with an unpickler that builds only
numpy arrays and dtypes and refuses anything else (a tampered file cannot run
code); labels outside 0-9 and class folders that are not one of the ten names
are errors naming the file.
"""

import logging
import os
import pickle
import tarfile
import zipfile

import numpy as np

from keras_ae._validation import check_choice
from keras_ae.data import _archive
from keras_ae.data.mnist import DataSource, find_data, keras_cache_path

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy 1.x
    from numpy.core.multiarray import _reconstruct

logger = logging.getLogger("keras_ae")

ENV_PATH = "KERAS_AE_CIFAR10"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"  # as in keras.datasets.cifar10
BATCH_DIR = "cifar-10-batches-py"
KERAS3_DIR = "cifar-10-batches-py-target"  # keras.datasets.cifar10's get_file(fname=...) in Keras 3
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
BATCHES = TRAIN_BATCHES + ("test_batch",)

# Everything a CIFAR-10 batch file (a pickled dict of a uint8 array and a list of ints) asks for: the
# array and its dtype, under numpy 1's and numpy 2's module names.
_ALLOWED = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
}


class _Refused(pickle.UnpicklingError):
    pass


class BatchUnpickler(pickle.Unpickler):
    """Unpickles a CIFAR-10 batch file: only numpy arrays and dtypes are built; any other global is refused."""

    def __init__(self, file, where):
        super().__init__(file, encoding="bytes")  # the files were written by Python 2
        self.where = where

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        raise _Refused(f"{self.where}: refusing to unpickle {module}.{name}; a CIFAR-10 batch file holds only "
                       "a dict of a numpy array and a list of labels, so the file is corrupt or malicious")

    def persistent_load(self, pid):
        raise _Refused(f"{self.where}: refusing a persistent id in a CIFAR-10 batch file")


def read_batch(file, where):
    """Read one batch file (an open binary file) into uint8 images `(n, 32, 32, 3)` and int64 labels `(n,)`."""
    try:
        d = BatchUnpickler(file, where).load()
    except _Refused as e:
        raise ValueError(str(e)) from None
    except Exception as e:  # truncated, not a pickle ...
        raise ValueError(f"{where} is not a CIFAR-10 batch file (a pickled dict): {type(e).__name__}: "
                         f"{e}") from None
    if not isinstance(d, dict):
        raise ValueError(f"{where}: expected a pickled dict. Received: {type(d).__name__}")
    d = {k.decode("latin-1") if isinstance(k, bytes) else k: v for k, v in d.items()}
    data = d.get("data")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        received = (f"shape {data.shape}, dtype {data.dtype}" if isinstance(data, np.ndarray)
                    else type(data).__name__)
        raise ValueError(f"{where}: expected 'data' as a uint8 array of shape (n, 3072). Received: {received}")
    if "labels" not in d:
        raise ValueError(f"{where}: expected a 'labels' list. Received keys: {sorted(d)}")
    y = _archive.check_labels(d["labels"], len(data), where)
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), y


def _join(parts, where):
    missing = [name for name in BATCHES if name not in parts]
    if missing:
        raise ValueError(f"{where} is not a complete CIFAR-10 batch set: expected {list(BATCHES)}; "
                         f"missing {missing}")
    # One copy: the channel-last views of the five batches are written straight into the result.
    x_train = np.concatenate([parts[name][0] for name in TRAIN_BATCHES])
    y_train = np.concatenate([parts[name][1] for name in TRAIN_BATCHES])
    x_test = np.ascontiguousarray(parts["test_batch"][0])
    return (x_train, y_train), (x_test, parts["test_batch"][1])


def _read_batch_folder(folder):
    parts = {}
    for name in BATCHES:
        file = os.path.join(folder, name)
        if os.path.isfile(file):
            with open(file, "rb") as f:
                parts[name] = read_batch(f, file)
    return _join(parts, folder)


def _read_tar(path):
    parts = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:  # in order: a .tar.gz is read once, front to back
                base = member.name.rsplit("/", 1)[-1]
                if member.isfile() and base in BATCHES and not _archive.is_hidden(member.name):
                    with tar.extractfile(member) as f:
                        parts[base] = read_batch(f, f"{member.name} in {path}")
    except ValueError:
        raise
    except Exception as e:  # tarfile.ReadError, EOFError, zlib.error: a truncated download
        raise ValueError(f"Could not read {path} as cifar-10-python.tar.gz: {type(e).__name__}: {e}") from None
    return _join(parts, path)


def _has_splits(names):
    return any(n.startswith("train/") for n in names) and any(n.startswith("test/") for n in names)


def _image_names(tree, split):
    """The images of `split` as (class index, name), checked and sorted by class, then file name."""
    found = []
    for name in tree.names:
        if not name.startswith(split + "/") or not name.lower().endswith(_archive.IMAGE_SUFFIXES):
            continue
        parts = name.split("/")
        if len(parts) != 3:
            raise ValueError(f"{tree.where(name)}: expected images at {split}/CLASS/IMAGE, one folder per class")
        if parts[1] not in CIFAR10_CLASSES:
            raise ValueError(f"{tree.where(name)}: the class folder {parts[1]!r} is not a CIFAR-10 class"
                             f"{_archive.did_you_mean(parts[1], CIFAR10_CLASSES)} Expected one of "
                             f"{list(CIFAR10_CLASSES)}")
        found.append((CIFAR10_CLASSES.index(parts[1]), name))
    if not found:
        raise ValueError(f"{tree.where(split)}: no images (expected {split}/CLASS/*.jpg or *.png)")
    return sorted(found, key=lambda item: (item[0], _archive.natural_key(item[1])))


def _read_image_tree(path):
    with _archive.Tree(path) as tree:
        if not tree.find_root(_has_splits):
            tops = sorted({n.split("/", 1)[0] for n in tree.all_names})[:10]
            raise ValueError(f"{path} is not a CIFAR-10 image folder: expected train/CLASS/*.jpg and "
                             f"test/CLASS/*.jpg (or one top folder holding them). Received top-level "
                             f"entries: {tops}")
        out = []
        for split in ("train", "test"):
            names = _image_names(tree, split)
            x = np.empty((len(names), 32, 32, 3), np.uint8)  # filled in place, one image at a time
            for i, (_, name) in enumerate(names):
                _archive.decode_into(x[i], tree.read(name), tree.where(name))
            out.append((x, np.array([label for label, _ in names], "int64")))
    return tuple(out)


def _kind(path):
    """"batches", "tar" or "images": which layout `path` is in."""
    if os.path.isdir(path):
        if any(os.path.isfile(os.path.join(path, name)) for name in BATCHES) or \
                os.path.isdir(os.path.join(path, BATCH_DIR)):
            return "batches"
        return "images"
    if zipfile.is_zipfile(path):
        return "images"
    if tarfile.is_tarfile(path):
        return "tar"
    raise ValueError(f"Could not read CIFAR-10 from {path}: expected a cifar-10-batches-py folder, "
                     "cifar-10-python.tar.gz, or a folder or zip of train/CLASS and test/CLASS images")


def read_cifar10(path):
    """Read CIFAR-10 from any layout of the module docstring: `((x_train, y_train), (x_test, y_test))`,
    uint8 images `(n, 32, 32, 3)` and int64 labels 0-9 (`CIFAR10_CLASSES` order)."""
    path = os.fspath(path)
    kind = _kind(path)
    if kind == "batches":
        inner = os.path.join(path, BATCH_DIR)
        return _read_batch_folder(inner if os.path.isdir(inner) else path)
    return _read_tar(path) if kind == "tar" else _read_image_tree(path)


def _layout(path):
    kind = _kind(path)
    if kind == "batches":
        return "cifar-10-batches-py (the original pixels)"
    if kind == "tar":
        return "cifar-10-python.tar.gz (the original pixels)"
    with _archive.Tree(path) as tree:
        suffixes = {os.path.splitext(n)[1].lower() for n in tree.names}
    if suffixes & {".jpg", ".jpeg"}:
        return ("CIFAR-10 as JPEG images (train/CLASS, test/CLASS folder or zip layout): lossy copies, "
                "not the original pixels")
    return "CIFAR-10 as PNG images (train/CLASS, test/CLASS folder or zip layout): lossless, pixels as stored"


def _download():
    """Fetch cifar-10-python.tar.gz (sha256-checked) where Keras 3 keeps it, extracted; read the batches."""
    home = os.path.dirname(os.path.dirname(keras_cache_path(BATCH_DIR)))
    folder = _archive.get_file(fname=KERAS3_DIR, origin=ORIGIN, extract=True, file_hash=SHA256,
                               cache_dir=home, cache_subdir="datasets")
    return read_cifar10(folder)


CIFAR10 = DataSource(
    name="CIFAR-10", env_path=ENV_PATH, cache_name=BATCH_DIR, cache_alternatives=(KERAS3_DIR,),
    read=read_cifar10, download=lambda: _download(), layout=_layout,
    download_name="cifar-10-python.tar.gz (the original pixels)",
    cache_hint="Keras's cifar-10-batches-py folder")


def load_cifar10(path=None, dtype="float32", download=None, return_source=False):
    """Load CIFAR-10: 50,000 training and 10,000 test images, 32x32 RGB, in 10 classes.

    Args:
        path: a `cifar-10-batches-py` folder, `cifar-10-python.tar.gz`, or a
            folder or zip of `train/CLASS/*.jpg|png` and `test/CLASS/*.jpg|png`;
            when `None`, the search order of the module docstring.
        dtype: `"float32"` for values in [0, 1] or `"uint8"` for the pixels 0-255.
        download: allow the (sha256-checked) download; `None` reads `$KERAS_AE_DOWNLOAD`.
        return_source: also return where the data came from; `describe_source(source,
            CIFAR10)` says whether those were the original pixels or JPEG copies.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: images `(n, 32, 32, 3)`, int64
        labels `(n,)` in `CIFAR10_CLASSES` order, and the source if asked.
        The batch layouts keep the official order; image folders come sorted by
        class, then file name (shuffle before training on a slice).

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras_ae.data.load_cifar10(dtype="uint8")
    ```
    """
    check_choice("dtype", dtype, ("float32", "uint8"))
    ((xtr, ytr), (xte, yte)), source = find_data(CIFAR10, path, download)
    logger.info("CIFAR-10 source: %s", source)
    out = ((_archive.convert(xtr, dtype), ytr), (_archive.convert(xte, dtype), yte))
    return (out, source) if return_source else out
