"""The one-class MNIST protocol of Ruff et al. (2018), Deep SVDD."""

import numpy as np

__all__ = ["one_class_mnist"]


def one_class_mnist(build_model, data, digits=range(10), epochs=10, batch_size=128, verbose=0,
                    progress=True):
    """The one-class MNIST protocol of Ruff et al. (2018), Deep SVDD.

    For each digit, train a fresh model only on that digit's training images,
    then score the whole test set with the other nine digits as anomalies.

    Args:
        build_model: a function returning a fresh, uncompiled keras-ae model
            (trained here with Adam by `keras_ae.training.fit_model`, then
            scored by `ReconstructionDetector`), or an unfitted detector that
            trains itself in `fit`, such as `RestorationDetector` (then
            `epochs` and `batch_size` are its own).
        data: `((x_train, y_train), (x_test, y_test))`, e.g. from `load_mnist()`.
        digits: the normal classes to run.
        epochs, batch_size: training settings per digit.
        progress: print one line per digit.

    Returns:
        `{"auroc": {digit: value}, "mean_auroc": value}`.
    """
    import keras

    from keras_ae.anomaly.base import BaseDetector
    from keras_ae.anomaly.reconstruction import ReconstructionDetector
    from keras_ae.datasets import one_class_split
    from keras_ae.training import fit_model

    (x_train, y_train), (x_test, y_test) = data
    aurocs = {}
    for digit in digits:
        x_normal, x_eval, is_anomaly = one_class_split(x_train, y_train, x_test, y_test, digit)
        keras.utils.set_random_seed(int(digit))  # before the model is built: its weights are seeded too
        model = build_model()
        if isinstance(model, BaseDetector):
            detector = model.fit(x_normal)
        else:
            x_normal = x_normal.reshape((-1,) + tuple(model.sample_shape))
            x_eval = x_eval.reshape((-1,) + tuple(model.sample_shape))
            fit_model(model, x_normal, x_normal, epochs=epochs, optimizer=keras.optimizers.Adam(1e-3),
                      what=f"one-class training on digit {digit}", batch_size=batch_size, verbose=verbose)
            detector = ReconstructionDetector(model).fit(x_normal)
        aurocs[int(digit)] = detector.evaluate(x_eval, is_anomaly)["auroc"]
        if progress:
            print(f"digit {digit}: AUROC {aurocs[int(digit)]:.4f} ({len(x_normal)} training images)",
                  flush=True)
    return {"auroc": aurocs, "mean_auroc": float(np.mean(list(aurocs.values())))}
