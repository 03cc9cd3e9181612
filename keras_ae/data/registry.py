"""The image data sets keras-ae loads, in one table, and one way to load any of them.

| name            | images       | targets              | licence                                            |
|-----------------|--------------|----------------------|----------------------------------------------------|
| `mnist`         | 28x28x1      | 10 classes           | CC BY-SA 3.0                                       |
| `fashion_mnist` | 28x28x1      | 10 classes           | MIT (Zalando SE)                                   |
| `cifar10`       | 32x32x3      | 10 classes           | none stated; cite Krizhevsky 2009                  |
| `celeba`        | 64x64x3      | 40 bool attributes   | non-commercial research and education only         |

**Licence: CelebA / CelebA-HQ are for non-commercial research and education only.**

`DATASETS[name]` is a `DatasetInfo`: the facts about one data set (its loader,
image shape, classes or attributes, licence, description, and whether the copy
found by default may be lossy). `load_dataset(name, **kwargs)` calls the loader
and returns `(x_train, targets_train), (x_test, targets_test), source` for
every data set alike.
"""

import dataclasses
from typing import Callable, Optional

from keras_ae.data import _archive
from keras_ae.data.celeba import CELEBA, CELEBA_ATTRIBUTES, LICENCE as CELEBA_LICENCE, load_celeba
from keras_ae.data.cifar10 import CIFAR10, CIFAR10_CLASSES, load_cifar10
from keras_ae.data.fashion_mnist import FASHION_MNIST, FASHION_MNIST_CLASSES, load_fashion_mnist
from keras_ae.data.mnist import MNIST, DataSource, describe_source, load_mnist


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What one data set is.

    Attributes:
        name: its name in `DATASETS`.
        loader: the `load_*` function.
        image_shape: one image's shape, `(height, width, channels)`.
        class_names: the class names, label `i` is `class_names[i]` (None for attributes).
        attribute_names: the attribute names, in their usual order (None for classes).
        licence: the terms of use, in one line.
        description: what it is, in one line.
        default_may_be_lossy: whether the copy the loader finds by default (its Keras
            cache or download) may be a lossy (JPEG) copy rather than the original pixels.
        source: the `DataSource` its loader searches with (for `describe`).
        load_defaults: the keyword arguments `load_dataset` passes unless told otherwise.
    """

    name: str
    loader: Callable
    image_shape: tuple
    class_names: Optional[tuple]
    attribute_names: Optional[tuple]
    licence: str
    description: str
    default_may_be_lossy: bool
    source: DataSource
    load_defaults: dict = dataclasses.field(default_factory=dict)

    @property
    def num_classes(self):
        return None if self.class_names is None else len(self.class_names)

    def describe(self, source):
        """The loader's `source` string as a record without machine paths (layout and sha256)."""
        return describe_source(source, self.source)


DATASETS = {info.name: info for info in (
    DatasetInfo(
        "mnist", load_mnist, (28, 28, 1), tuple(str(d) for d in range(10)), None,
        "CC BY-SA 3.0 (LeCun, Cortes & Burges)",
        "Handwritten digits: 60,000 training and 10,000 test images, 28x28 grey, 10 classes.",
        False, MNIST, {"shape": "image"}),
    DatasetInfo(
        "fashion_mnist", load_fashion_mnist, (28, 28, 1), FASHION_MNIST_CLASSES, None,
        "MIT (Zalando SE)",
        "Zalando's clothes: 60,000 training and 10,000 test images, 28x28 grey, 10 classes.",
        False, FASHION_MNIST),
    DatasetInfo(
        "cifar10", load_cifar10, (32, 32, 3), CIFAR10_CLASSES, None,
        "No licence stated by its authors; cite Krizhevsky 2009",
        "Small photos: 50,000 training and 10,000 test images, 32x32 RGB, 10 classes "
        "(a JPEG folder or zip is lossy: describe() says which copy was read).",
        False, CIFAR10),
    DatasetInfo(
        "celeba", load_celeba, (64, 64, 3), None, CELEBA_ATTRIBUTES,
        CELEBA_LICENCE,
        "CelebA-HQ faces at 64x64 RGB (JPEG): 27,000 training and 3,000 test images, 40 bool attributes.",
        True, CELEBA),
)}


def _info(name):
    key = str(name).strip().lower().replace("-", "_")
    if key not in DATASETS:
        raise ValueError(f"Unknown data set {name!r}{_archive.did_you_mean(key, DATASETS)} Known: "
                         f"{', '.join(DATASETS)}")
    return DATASETS[key]


def load_dataset(name, **kwargs):
    """Load any data set of `DATASETS` the same way.

    Args:
        name: a key of `DATASETS` (`"mnist"`, `"fashion_mnist"`, `"cifar10"`,
            `"celeba"`; `-` for `_` and any case are accepted).
        **kwargs: the loader's own arguments (`path`, `dtype`, `download`, ...);
            images come as `(n, *image_shape)` (MNIST too, unless `shape="flat"`).

    Returns:
        `(x_train, targets_train), (x_test, targets_test), source`: targets are
        int64 labels, or for CelebA a dict attribute name -> bool array; `source`
        says where the data came from (`DATASETS[name].describe(source)` makes a
        record of it without machine paths).

    Example:

    ```python
    (x_train, y_train), (x_test, y_test), source = keras_ae.data.load_dataset("cifar10")
    print(keras_ae.data.DATASETS["cifar10"].describe(source))
    ```
    """
    info = _info(name)
    if "return_source" in kwargs:
        raise TypeError("load_dataset always returns the source; do not pass return_source=")
    if kwargs.get("split", "both") != "both":
        raise ValueError(f"load_dataset returns both splits. Received: split={kwargs['split']!r}; call "
                         f"{info.loader.__name__} for one")
    (train, test), source = info.loader(**{**info.load_defaults, **kwargs}, return_source=True)
    return train, test, source
