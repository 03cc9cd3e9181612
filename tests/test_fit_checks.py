"""`fit` checks a data set's first batch as it checks arrays; `batch_size=0` and `add_noise(seed=-1)` are
refused with clear errors (issue 36, item 8). Runs on every backend; the `tf.data` cases where
TensorFlow is installed."""

import importlib.util

import keras
import numpy as np
import pytest

from keras_ae.data import add_noise, binarize
from model_check import small_model

needs_tf = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="tf.data needs TensorFlow")


class Batches(keras.utils.PyDataset):
    """A plain PyDataset of `(x, x)` batches, as a user writes one."""

    def __init__(self, x, batch_size=16, pairs=True):
        super().__init__()
        self.x, self.batch_size, self.pairs = x, batch_size, pairs

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        xb = self.x[i * self.batch_size:(i + 1) * self.batch_size]
        return (xb, xb) if self.pairs else xb


def _compiled():
    model = small_model("undercomplete")
    model.compile(optimizer="adam")
    return model


def _tf_dataset(x, pairs=True):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(x)
    return (ds.map(lambda b: (b, b)) if pairs else ds).batch(16)


@needs_tf
@pytest.mark.parametrize("pairs", [True, False], ids=["(x, x) batches", "x batches"])
def test_fit_on_a_tf_dataset_of_0_to_255_values_is_refused(x_small, pairs):
    data = _tf_dataset((x_small * 255).astype("float32"), pairs)
    with pytest.raises(ValueError, match=r"first batch.*must lie in \[0.0, 1.0\].*x / 255"):
        _compiled().fit(data, epochs=1, verbose=0)


@needs_tf
def test_fit_on_a_tf_dataset_with_nan_is_refused(x_small):
    x = x_small.copy()
    x[3, 7] = np.nan
    with pytest.raises(ValueError, match="first batch.*finite"):
        _compiled().fit(_tf_dataset(x), epochs=1, verbose=0)


@needs_tf
def test_fit_on_a_good_tf_dataset_trains(x_small):
    model = _compiled()
    history = model.fit(_tf_dataset(x_small), epochs=1, verbose=0,
                        validation_data=_tf_dataset(x_small[:32]))
    assert np.isfinite(history.history["loss"][0]) and "val_loss" in history.history


@needs_tf
def test_a_tf_validation_data_set_is_checked_too(x_small):
    with pytest.raises(ValueError, match=r"validation_data \(first batch"):
        _compiled().fit(x_small, epochs=1, verbose=0, validation_data=_tf_dataset(x_small * 255))


@pytest.mark.parametrize("pairs", [True, False], ids=["(x, x) batches", "x batches"])
def test_fit_on_a_pydataset_of_0_to_255_values_is_refused(x_small, pairs):
    with pytest.raises(ValueError, match=r"first batch.*must lie in \[0.0, 1.0\]"):
        _compiled().fit(Batches(x_small * 255, pairs=pairs), epochs=1, verbose=0)


def test_fit_on_a_good_pydataset_trains(x_small):
    history = _compiled().fit(Batches(x_small), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_keras_ae_pipelines_still_train(x_small):
    from keras_ae.data import training_dataset

    history = _compiled().fit(training_dataset(x_small, 16, seed=0), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


@pytest.mark.parametrize("call", ["fit", "evaluate", "predict"])
def test_batch_size_0_is_refused(x_small, call):
    model = _compiled()
    with pytest.raises(ValueError, match=r"`batch_size` must be a positive integer. Received: batch_size=0"):
        getattr(model, call)(x_small, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="batch_size=-2"):
        if call == "predict":
            model.predict(x_small, -2)
        else:
            getattr(model, call)(x_small, None, -2)


@pytest.mark.parametrize("function", [add_noise, binarize])
def test_a_negative_seed_is_refused_clearly(x_small, function):
    with pytest.raises(ValueError, match=r"`seed` must be None or an integer >= 0. Received: seed=-1"):
        function(x_small[:2], seed=-1)
    generator = np.random.default_rng(0)  # a Generator still works, as numpy's own functions take one
    assert function(x_small[:2], seed=generator).shape == (2, 784)
