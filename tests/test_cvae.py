"""The conditional VAE: labels in fit and in every verb, on the current backend."""

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.models.cvae import check_labels
from keras_ae.testing import small_inputs, small_model

# Fits that trace TensorFlow graphs are in the slow lane there (.ci/run runs it); the JAX and PyTorch
# blocks of .ci/run run them among their quick tests.
SLOW_ON_TF = pytest.mark.slow if keras.backend.backend() == "tensorflow" else pytest.mark.usefixtures()


def model_and_data(n=32):
    model = small_model("cvae")
    x = small_inputs(model, n=n)
    return model, x, (np.arange(n) % model.num_classes).astype("int32")


@SLOW_ON_TF
def test_one_hot_and_integer_labels_train_the_same():
    runs = []
    for one_hot in (False, True):
        keras.utils.set_random_seed(0)
        model, x, y = model_and_data()
        model.compile(optimizer=keras.optimizers.SGD(0.01))
        labels = np.eye(model.num_classes, dtype="float32")[y] if one_hot else y
        runs.append(model.fit(x, labels, epochs=1, batch_size=32, shuffle=False, verbose=0).history["loss"][0])
    assert runs[0] == pytest.approx(runs[1], rel=1e-5)


def test_fit_without_labels_says_how_to_pass_them():
    model, x, _ = model_and_data()
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match=r"fit\(x, y\).*integer class ids"):
        model.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="labels"):
        model.evaluate(x, verbose=0)
    with pytest.raises(ValueError, match="labels"):
        model.predict(x, verbose=0)


@pytest.mark.parametrize("labels, match", [
    (np.full(32, 3), r"\[0, 3\)"),
    (np.full(32, 0.5), "whole numbers"),
    (np.zeros(31, "int32"), "one label per sample"),
    (np.full((32, 3), 0.5), "one-hot"),
    (np.zeros((32, 4)), r"\(n, 3\)"),
])
def test_bad_labels_are_named(labels, match):
    model, x, _ = model_and_data()
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match=match):
        model.fit(x, labels, epochs=1, verbose=0)


def test_labels_change_the_code_and_the_decoding():
    model, x, y = model_and_data(n=6)
    assert np.abs(model.encode(x, np.zeros(6, "int32")) - model.encode(x, np.ones(6, "int32"))).max() > 1e-4
    a, b = model.sample(4, labels=0, seed=1), model.sample(4, labels=1, seed=1)
    assert a.shape == (4, 784) and np.abs(a - b).max() > 1e-4
    np.testing.assert_array_equal(model.sample(4, labels=0, seed=1), a)
    with pytest.raises(ValueError, match="labels"):
        model.sample(4)


def test_swap_keeps_the_code_and_changes_the_label():
    model, x, y = model_and_data(n=6)
    np.testing.assert_allclose(model.swap(x, y, y), model.reconstruct(x, y), atol=1e-6)
    z = model.encode(x, y)
    np.testing.assert_allclose(model.swap(x, y, 2), model.decode(z, np.full(6, 2)), atol=1e-6)
    np.testing.assert_allclose(model.predict((x, y), verbose=0), model.reconstruct(x, y), atol=1e-5)
    np.testing.assert_allclose(model.predict(x, y=y, verbose=0), model.reconstruct(x, y), atol=1e-5)
    assert model.reconstruction_error(x, y).shape == (6,)
    elbo = model.elbo(x, y, num_samples=2, seed=0)
    assert elbo.shape == (6,) and np.all(np.isfinite(elbo)) and np.all(elbo < 0)


@SLOW_ON_TF
def test_a_data_set_of_x_y_batches_trains():
    """Batches `(x, y)` from a PyDataset reach the step, which pairs them (JAX and PyTorch build on one first)."""
    model, x, y = model_and_data()

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return x[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16]

    model.compile(optimizer="adam")
    history = model.fit(Batches(), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])

    class Unlabelled(Batches):
        def __getitem__(self, i):
            return x[i * 16:(i + 1) * 16]

    with pytest.raises(ValueError, match="labels"):
        _fit(Unlabelled())


def _fit(data):
    model = small_model("cvae")
    model.compile(optimizer="adam")
    return model.fit(data, epochs=1, verbose=0)


def test_check_labels_gives_one_hot_rows():
    np.testing.assert_array_equal(check_labels([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(check_labels(np.array([[1.0], [2.0]]), 3), [[0, 1, 0], [0, 0, 1]])
    soft = np.array([[0.5, 0.5, 0.0]], "float32")
    np.testing.assert_array_equal(check_labels(soft, 3), soft)


def test_registered_and_built_by_name():
    model = keras_ae.get_model("cvae", num_classes=4, hidden_units=(8,), latent_dim=2)
    assert isinstance(model, keras_ae.ConditionalVAE) and model.num_classes == 4
    assert isinstance(keras_ae.get_model("vqvae", **keras_ae.VQVAE.test_config), keras_ae.VQVAE)


@pytest.mark.slow
def test_samples_follow_the_requested_class(mnist_sample):
    """On the MNIST sample, a classifier fitted to the training images recognizes the requested digit
    in most conditional samples (well above the 10% of chance)."""
    from sklearn.linear_model import LogisticRegression

    (x, y), _ = mnist_sample
    keras.utils.set_random_seed(0)
    model = keras_ae.ConditionalVAE(num_classes=10, hidden_units=(256,), latent_dim=2, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    model.fit(x, y, epochs=30, batch_size=64, verbose=0)
    clf = LogisticRegression(max_iter=300).fit(x, y)
    wanted = np.repeat(np.arange(10), 20)
    samples = model.sample(200, labels=wanted, seed=0)
    assert np.mean(clf.predict(samples) == wanted) > 0.6
