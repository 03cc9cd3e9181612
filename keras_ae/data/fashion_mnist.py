"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017; Zalando SE, MIT licence), found offline first.

`load_fashion_mnist` looks, in this order (`keras_ae.data.find_data`), at:

1. the `path=` argument: an `.npz` in the `keras.datasets` layout (`x_train`,
   `y_train`, `x_test`, `y_test`), or a folder holding the four files
   `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
   `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`;
2. the `KERAS_AE_FASHION_MNIST` environment variable (either of those);
3. the Keras cache, `$KERAS_HOME/datasets/fashion-mnist/` (the four files, as
   `keras.datasets.fashion_mnist.load_data()` leaves them);
4. a download, only when `download=True` (or `$KERAS_AE_DOWNLOAD=1`), from
   Keras's mirror into that cache folder. Keras's own loader checks no hash,
   so each file goes through `keras.utils.get_file` with its sha256.

There is no offline stand-in: not finding it is a `FileNotFoundError` that
says where it looked.

Classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal,
6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot (`FASHION_MNIST_CLASSES`).
"""

import gzip
import logging
import os
import struct

import numpy as np

from keras_ae._validation import check_choice
from keras_ae.data import _archive
from keras_ae.data.mnist import DataSource, find_data, keras_cache_path, read_keras_npz

logger = logging.getLogger("keras_ae")

ENV_PATH = "KERAS_AE_FASHION_MNIST"
CACHE_DIR = "fashion-mnist"
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# file -> (array, sha256). The hashes are those of Zalando's published files (same sizes as Keras's mirror).
FILES = {
    "train-images-idx3-ubyte.gz": ("x_train", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
    "train-labels-idx1-ubyte.gz": ("y_train", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
    "t10k-images-idx3-ubyte.gz": ("x_test", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
    "t10k-labels-idx1-ubyte.gz": ("y_test", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
}
_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049  # the idx headers of uint8 image (3-D) and label (1-D) files


def read_idx_gz(path):
    """Read one gzipped idx file (images `(n, 28, 28)` or labels `(n,)`, uint8), or raise a `ValueError` naming it."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"Could not read {path}: not a complete gzip file ({type(e).__name__}: {e})") from None
    labels = os.path.basename(path).startswith(("train-labels", "t10k-labels"))
    header = 8 if labels else 16
    if len(raw) < header:
        raise ValueError(f"{path}: expected an idx file with a {header}-byte header. Received {len(raw)} bytes")
    magic, n = struct.unpack(">II", raw[:8])
    expected = _LABELS_MAGIC if labels else _IMAGES_MAGIC
    if magic != expected:
        raise ValueError(f"{path}: expected an idx {'label' if labels else 'image'} file (magic number "
                         f"{expected}). Received magic number {magic}")
    shape = (n,) if labels else (n, *struct.unpack(">II", raw[8:16]))
    if shape[1:] not in ((), (28, 28)) or len(raw) - header != int(np.prod(shape)):
        raise ValueError(f"{path}: expected {'n labels' if labels else 'n images of 28x28'} after the header. "
                         f"Received a header saying {shape} and {len(raw) - header} bytes of data")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape).copy()  # writable, as np.load gives


def read_fashion_mnist(path):
    """Read Fashion-MNIST from an `.npz` in the Keras layout or a folder of the four idx `.gz` files.

    Returns `((x_train, y_train), (x_test, y_test))`: uint8 images `(n, 28, 28)`
    and int64 labels 0-9; a `ValueError` names the file otherwise.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        missing = [name for name in FILES if not os.path.isfile(os.path.join(path, name))]
        if missing:
            raise ValueError(f"{path} is not a Fashion-MNIST folder: expected the files {list(FILES)}; "
                             f"missing {missing}")
        data = {key: read_idx_gz(os.path.join(path, name)) for name, (key, _) in FILES.items()}
        where = {key: os.path.join(path, name) for name, (key, _) in FILES.items()}
    else:
        (xtr, ytr), (xte, yte) = read_keras_npz(path, "Fashion-MNIST")
        data = dict(x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
        where = dict.fromkeys(data, path)
    for split in ("train", "test"):
        x = data[f"x_{split}"]
        if x.dtype != np.uint8:
            raise ValueError(f"{where[f'x_{split}']}: expected x_{split} as uint8 pixels 0-255. Received "
                             f"dtype {x.dtype}")
        data[f"y_{split}"] = _archive.check_labels(data[f"y_{split}"], len(x), where[f"y_{split}"],
                                                   f"y_{split} labels")
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def _layout(path):
    if os.path.isdir(path):
        return "Fashion-MNIST as the four idx .gz files (keras.datasets.fashion_mnist cache layout)"
    return "fashion_mnist.npz in the keras.datasets layout"


def _download():
    """Fetch the four files into the Keras cache folder, each checked against its sha256; read them."""
    folder = keras_cache_path(CACHE_DIR)
    for name, (_, sha256) in FILES.items():
        _archive.get_file(fname=name, origin=ORIGIN + name, file_hash=sha256,
                          cache_dir=os.path.dirname(folder), cache_subdir=CACHE_DIR)
    return read_fashion_mnist(folder)


FASHION_MNIST = DataSource(
    name="Fashion-MNIST", env_path=ENV_PATH, cache_name=CACHE_DIR, read=read_fashion_mnist,
    download=lambda: _download(), layout=_layout,
    download_name="Fashion-MNIST (the four idx .gz files from Keras's mirror, Zalando's sha256)",
    cache_hint=f"the four files {', '.join(FILES)}")


def load_fashion_mnist(path=None, shape="image", dtype="float32", download=None, return_source=False):
    """Load Fashion-MNIST: 60,000 training and 10,000 test images of clothes, 28x28 grey, 10 classes.

    Args:
        path: an `.npz` in the `keras.datasets` layout or a folder of the four
            idx `.gz` files; when `None`, the search order of the module docstring.
        shape: `"image"` for `(n, 28, 28, 1)` or `"flat"` for `(n, 784)`.
        dtype: `"float32"` for values in [0, 1] or `"uint8"` for the pixels 0-255.
        download: allow the (sha256-checked) download; `None` reads `$KERAS_AE_DOWNLOAD`.
        return_source: also return where the data came from (`describe_source(source,
            FASHION_MNIST)` turns it into a record without machine paths).

    Returns:
        `(x_train, y_train), (x_test, y_test)` with int64 labels 0-9
        (`FASHION_MNIST_CLASSES` names them), and the source if asked.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras_ae.data.load_fashion_mnist()
    ```
    """
    check_choice("shape", shape, ("image", "flat"))
    check_choice("dtype", dtype, ("float32", "uint8"))
    ((xtr, ytr), (xte, yte)), source = find_data(FASHION_MNIST, path, download)
    logger.info("Fashion-MNIST source: %s", source)
    new_shape = (-1, 784) if shape == "flat" else (-1, 28, 28, 1)
    out = ((_archive.convert(xtr.reshape(new_shape), dtype), ytr),
           (_archive.convert(xte.reshape(new_shape), dtype), yte))
    return (out, source) if return_source else out
