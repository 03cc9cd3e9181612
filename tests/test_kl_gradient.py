"""The VAE's `kl_gradient="path"` option (the "sticking the landing" estimator), on every backend."""

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.losses import gaussian_kl
from keras_ae.models.vae import path_gradient_kl


def value_and_grads(fn, *arrays):
    """`fn(*tensors)` (a scalar) and its gradients with respect to each input, as NumPy."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        xs = [tf.constant(a) for a in arrays]
        with tf.GradientTape() as tape:
            for x in xs:
                tape.watch(x)
            out = fn(*xs)
        return float(out), [g.numpy() for g in tape.gradient(out, xs)]
    if backend == "jax":
        import jax

        out, grads = jax.value_and_grad(fn, argnums=tuple(range(len(arrays))))(*arrays)
        return float(out), [np.asarray(g) for g in grads]
    import torch

    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    out.backward()
    return float(out.detach()), [x.grad.numpy() for x in xs]


def kl_of_draws(eps):
    """The summed KL of every draw `z = mean + std * eps`, estimated by `path_gradient_kl`."""
    def fn(mean, log_var):
        z = mean + keras.ops.exp(0.5 * log_var) * keras.ops.convert_to_tensor(eps)
        closed = gaussian_kl(mean, log_var)
        return keras.ops.sum(path_gradient_kl(z, mean, log_var, closed))
    return fn


def test_value_is_the_closed_form():
    rng = np.random.default_rng(0)
    mean, log_var = rng.normal(size=(6, 4)).astype("float32"), rng.normal(size=(6, 4)).astype("float32")
    z = mean + np.exp(0.5 * log_var) * rng.normal(size=(6, 4)).astype("float32")
    closed = gaussian_kl(mean, log_var)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(path_gradient_kl(z, mean, log_var, closed)),
                               keras.ops.convert_to_numpy(closed), rtol=1e-6)


def test_gradient_is_zero_when_q_is_the_prior():
    # Sticking the landing: at q = p(z) every draw's path gradient is exactly 0; the closed
    # form's is 0 too, while a score-function term would add noise around it.
    eps = np.random.default_rng(1).normal(size=(64, 3)).astype("float32")
    mean, log_var = np.zeros((64, 3), "float32"), np.zeros((64, 3), "float32")
    value, (g_mean, g_log_var) = value_and_grads(kl_of_draws(eps), mean, log_var)
    assert value == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(g_mean, 0.0, atol=1e-5)
    np.testing.assert_allclose(g_log_var, 0.0, atol=1e-5)


def test_gradient_is_unbiased():
    # The same q repeated over many draws: the path gradients average to the closed form's
    # gradient (mean, and (exp(log_var) - 1) / 2), within 5 standard errors.
    n = 20000
    mean_1 = np.array([0.7, -1.2, 0.1], "float32")
    log_var_1 = np.array([-1.5, 0.4, -0.3], "float32")
    mean, log_var = np.tile(mean_1, (n, 1)), np.tile(log_var_1, (n, 1))
    eps = np.random.default_rng(2).normal(size=(n, 3)).astype("float32")
    _, (g_mean, g_log_var) = value_and_grads(kl_of_draws(eps), mean, log_var)
    for per_draw, expected in ((g_mean, mean_1), (g_log_var, 0.5 * (np.exp(log_var_1) - 1.0))):
        se = per_draw.std(0) / np.sqrt(n)
        assert np.all(np.abs(per_draw.mean(0) - expected) < 5 * se + 1e-6), (per_draw.mean(0), expected)
    # And they do differ draw by draw (so the test above measures something).
    assert g_mean.std(0).min() > 0.1


def test_vae_trains_and_reports_the_same_loss_terms(x_small):
    model = keras_ae.VAE(hidden_units=(32,), latent_dim=2, seed=1, kl_gradient="path")
    model.compile(optimizer="adam")
    h = model.fit(x_small, epochs=2, batch_size=64, verbose=0, shuffle=False)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert h.history["loss"][-1] == pytest.approx(
        h.history["reconstruction_loss"][-1] + h.history["kl_loss"][-1], rel=1e-5)
    assert model.get_config()["kl_gradient"] == "path"
    again = keras_ae.VAE.from_config(model.get_config())
    assert again.kl_gradient == "path"


def test_conv_vae_takes_the_option():
    model = keras_ae.ConvVAE(**dict(keras_ae.ConvVAE.test_config, kl_gradient="path"))
    x = np.random.default_rng(0).random((4,) + tuple(model.sample_shape)).astype("float32")
    loss = model.compute_loss(x=x, y_pred=model(x, training=True))
    assert np.isfinite(float(keras.ops.convert_to_numpy(loss)))


def test_bad_values_are_refused():
    with pytest.raises(ValueError, match=r"kl_gradient must be one of .*Received: 'stl'"):
        keras_ae.VAE(kl_gradient="stl")
    with pytest.raises(ValueError, match="IWAE's bound has no separate KL term"):
        keras_ae.IWAE(kl_gradient="path")
