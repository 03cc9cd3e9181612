"""`keras-ae train cvae`: the class labels a conditional model trains on, their batches, and its saved file.

The labels come from a named data set with classes (mnist, fashion_mnist, cifar10) or from a `--data`
.npz file that holds them beside the images; every other source has none, and is refused before any
data is read. The model is saved alone (no anomaly detector: a conditional model scores an image only
with its label), for `keras-ae sample OUT.keras --labels K`.
"""

import os
import sys

import numpy as np

from keras_ae.cli.common import CLIError

# The label array of a .npz file, by the name of its image array (the names `load_user_data` reads
# the images from, in its order): keras.datasets' layout (x_train, y_train) among them.
NPZ_LABELS = {"x": "y", "x_train": "y_train", "data": "labels"}
NEEDS = ("'cvae' is conditional: it trains on images with their class labels, so --data must hold both: a "
         "data set with classes (mnist, fashion_mnist, cifar10), or a .npz file with integer labels beside "
         "the images (" + ", ".join(f"{y} beside {x}" for x, y in NPZ_LABELS.items()) + ")")


def label_source(data, dataset):
    """The name of the label array in the `--data` .npz file (None for a named data set); a CLIError, naming
    what was received, for a source without labels. Reads only the file's list of arrays."""
    if dataset is not None:
        from keras_ae.data import DATASETS

        info = DATASETS[dataset]
        if info.class_names is None:
            raise CLIError(f"{NEEDS}; received --data {dataset}, whose images have attributes "
                           f"({len(info.attribute_names or ())} of them), not classes")
        return None
    if os.path.isdir(data):
        raise CLIError(f"{NEEDS}; received --data {data}, a folder of images, which has no labels")
    if not data.lower().endswith(".npz"):
        raise CLIError(f"{NEEDS}; received --data {data}, a {os.path.splitext(data)[1] or 'suffix-less'} file, "
                       "which holds no labels")
    try:
        with np.load(data, allow_pickle=False) as f:
            names = list(f.files)
    except Exception as e:  # the image reader says the same, in its words; here first, before labels are sought
        raise CLIError(f"Could not read {data!r} as a .npz archive: {type(e).__name__}: {e}") from None
    image = next((k for k in NPZ_LABELS if k in names), None)
    if image is None or NPZ_LABELS[image] not in names:
        found = f"its image array {image!r} has no {NPZ_LABELS[image]!r} beside it" if image else \
            "it has no array named x, x_train or data"
        raise CLIError(f"{NEEDS}; received --data {data}, with the arrays {sorted(names)}: {found}")
    return NPZ_LABELS[image]


def read_labels(path, key, n):
    """The integer class ids `key` of the .npz file `path`, checked against its `n` images."""
    try:
        with np.load(path, allow_pickle=False) as f:
            y = f[key]
    except (ValueError, OSError) as e:  # an object array (pickled) or a damaged member
        raise CLIError(f"{path} ({key!r}): expected integer class ids, one per image; could not read them: "
                       f"{type(e).__name__}: {e}") from None
    return check_labels(y, n, f"{path} ({key!r})")


def check_labels(y, n, where, num_classes=None):
    """`y` as int64 class ids `(n,)` in [0, num_classes) (any number >= 0 when `num_classes` is None); a
    CLIError that names `where`, what is expected and what was received, otherwise."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != n:
        raise CLIError(f"{where}: expected one integer class id per image, shape ({n},); received shape {y.shape}"
                       + (" (one-hot rows? save their argmax(axis=1))" if y.ndim == 2 else ""))
    if y.dtype.kind not in "biuf":
        raise CLIError(f"{where}: expected integer class ids; received dtype {y.dtype}")
    if y.dtype.kind == "f" and not (np.all(np.isfinite(y)) and np.all(y == np.round(y))):
        bad = int(np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))[0])
        raise CLIError(f"{where}: expected integer class ids; received {float(y[bad]):g} for image {bad + 1}")
    y = y.astype("int64")
    high = None if num_classes is None else num_classes - 1
    bad = np.flatnonzero((y < 0) | (y > (high if high is not None else y.max())))
    if len(bad):
        expected = "0 or more" if high is None else f"0 to {high} (its {num_classes} classes)"
        raise CLIError(f"{where}: expected class ids from {expected}; received {y[bad[0]]} for image {bad[0] + 1} "
                       f"({len(bad)} label(s) out of range)")
    return y


def warn_if_classes_unseen(y, num_classes, where):
    """A warning line when some of the `num_classes` classes have no image in `y` (a stray large label makes
    `max + 1` classes, most of them never trained)."""
    unseen = num_classes - len(np.unique(y))
    if unseen:
        print(f"keras-ae: warning: {where}: the labels run from 0 to {num_classes - 1}, so the model has "
              f"{num_classes} classes, but {unseen} of them have no training image", file=sys.stderr)


def labelled_batches(x, y, num_classes, batch_size, shuffle=True, seed=None):
    """`(images, one-hot labels)` batches of `x` (uint8 served as float32 in [0, 1]) and its class ids `y`,
    each epoch's order a function of `(seed, epoch)`, as `training_dataset`'s: a resumed run sees the
    batches the uninterrupted one saw. A `keras.utils.PyDataset`, on every backend."""
    from keras_ae.data.pipelines import ArrayBatches

    class LabelledBatches(ArrayBatches):
        def __getitem__(self, i):
            xb, _ = super().__getitem__(i)
            part = slice(i * self.batch_size, (i + 1) * self.batch_size)
            order = self.order()
            ids = y[part] if order is None else y[np.sort(order[part])]  # the indices of `xb`
            return xb, np.eye(num_classes, dtype="float32")[ids]

    return LabelledBatches(x, batch_size, shuffle=shuffle, seed=seed)


def save(model, out):
    """Save the trained conditional model alone, atomically (`BaseAutoencoder.save`)."""
    model.save(out)


def report(model, out, data, where):
    """The line `keras-ae train cvae` ends with: the file, its classes, the loss on `data` and the next step."""
    loss = model.evaluate(data, verbose=0, return_dict=True)["loss"]
    print(f"Saved {out}: a {type(model).__name__} of {model.num_classes} classes (no anomaly detector: a "
          f"conditional model scores an image only with its label); {where} loss {loss:.6g} (negative ELBO, "
          f"nats per image, one draw of z). Draw a class: keras-ae sample {out} --labels 3")
