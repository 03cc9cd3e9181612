"""Splits of a labelled data set for the experiments: the one-class anomaly protocol."""

import numpy as np


def one_class_split(x_train, y_train, x_test, y_test, normal_class):
    """The one-class protocol of Ruff et al. (2018).

    Returns:
        `(x_train_normal, x_test, is_anomaly)`: the training images of
        `normal_class` only, the whole test set, and its labels with 1 for
        every test image of another class.
    """
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if normal_class not in set(np.unique(y_train).tolist()):
        raise ValueError(
            f"`normal_class` must be one of the training labels {sorted(set(y_train.tolist()))}. "
            f"Received: normal_class={normal_class!r}"
        )
    return (np.asarray(x_train)[y_train == normal_class], np.asarray(x_test),
            (y_test != normal_class).astype("int64"))
