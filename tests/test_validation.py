"""Bad input raises a ValueError that says what was expected and what was received."""

import numpy as np
import pytest

import keras_ae
from model_check import small_model


@pytest.fixture(scope="module")
def model():
    return small_model("undercomplete")


@pytest.mark.parametrize(
    "x, message",
    [
        (np.zeros(784, "float32"), r"batch of samples with shape \(batch,\) \+ \(784,\). Received: shape=\(784,\)"),
        (np.zeros((2, 100), "float32"), r"wrong sample shape: expected \(batch,\) \+ \(784,\). Received: shape=\(2, 100\)"),
        (np.zeros((0, 784), "float32"), r"empty batch.*Received: shape=\(0, 784\)"),
        (np.full((2, 784), np.nan, "float32"), r"finite values. Received 1568 NaN"),
        (np.full((2, 784), 255, "uint8"), r"\[0.0, 1.0\] \(scale uint8 images with x / 255.0\). Received: min=255, max=255"),
        (np.array([["a"] * 784]), r"real numbers. Received: dtype=<U1"),
    ],
)
def test_bad_batches(model, x, message):
    for call in (model.encode, model.reconstruct, model.reconstruction_error, model.predict):
        with pytest.raises(ValueError, match=message):
            call(x)


def test_fit_checks_inputs_and_validation_data(model, x_small):
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="Received 1 NaN"):
        bad = x_small.copy()
        bad[3, 5] = np.nan
        model.fit(bad, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"validation_data\[0\]"):
        model.fit(x_small, x_small, validation_data=(x_small[:, :10], x_small[:, :10]), epochs=1, verbose=0)


def test_decode_checks_code_shape(model):
    with pytest.raises(ValueError, match=r"expected \(batch,\) \+ \(8,\). Received: shape=\(3, 4\)"):
        model.decode(np.zeros((3, 4)))


@pytest.mark.parametrize(
    "factory, message",
    [
        (lambda: keras_ae.UndercompleteAutoencoder(latent_dim=0), r"latent_dim=0"),
        (lambda: keras_ae.UndercompleteAutoencoder(latent_dim=800), r"latent_dim < input size 784"),
        (lambda: keras_ae.OvercompleteAutoencoder(latent_dim=100), r"latent_dim > input size 784"),
        (lambda: keras_ae.UndercompleteAutoencoder(hidden_units=(32, -1)), r"hidden_units=\(32, -1\)"),
        (lambda: keras_ae.UndercompleteAutoencoder(activation="nope"), r"activation='nope'"),
        (lambda: keras_ae.UndercompleteAutoencoder(reconstruction_loss="l7"), r"reconstruction_loss='l7'"),
        (lambda: keras_ae.DenoisingAutoencoder(noise_factor=-1), r"noise_factor=-1"),
        (lambda: keras_ae.DenoisingAutoencoder(noise="masking", noise_factor=1.5), r"noise_factor=1.5"),
        (lambda: keras_ae.DenoisingAutoencoder(noise="pink"), r"noise='pink'"),
        (lambda: keras_ae.SparseAutoencoder(rho=1.0), r"rho=1.0"),
        (lambda: keras_ae.ContractiveAutoencoder(lam=float("nan")), r"lam=nan"),
        (lambda: keras_ae.ContractiveAutoencoder(activation="gelu"), r"activation='gelu'"),
        (lambda: keras_ae.ConvolutionalAutoencoder(input_shape=(30, 30, 1)), r"divisible by 2\*\*len\(filters\) = 4.*\(30, 30, 1\)"),
        (lambda: keras_ae.ConvolutionalAutoencoder(input_shape=(784,)), r"\(height, width, channels\). Received: input_shape=\(784,\)"),
        (lambda: keras_ae.ConvVAE(input_shape=(28, 28)), r"\(height, width, channels\)"),
        (lambda: keras_ae.VAE(beta=-1), r"beta=-1"),
        (lambda: keras_ae.VAE(input_shape=()), r"input_shape=\(\)"),
    ],
)
def test_impossible_configurations(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_vae_sample_checks_arguments():
    vae = small_model("vae")
    with pytest.raises(ValueError, match="n=0"):
        vae.sample(0)
    with pytest.raises(ValueError, match="temperature=0"):
        vae.sample(2, temperature=0)
