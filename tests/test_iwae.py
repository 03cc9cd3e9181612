"""The importance-weighted autoencoder (IWAE): its k-sample bound, on the current backend.

The statistical tests compare means of many independent draws. Each draw is a
row of one big batch (the inputs repeated), so one forward pass gives them all,
and every tolerance is a number of standard errors estimated from the draws
themselves. The seeds are fixed, so a run is deterministic on each backend; the
margins make the assertions hold for any seed too (5 standard errors: a false
failure about once in 1.7 million runs). The differences they must detect
(the bound for several k, against the ELBO) were 10 to 30 standard errors on
each backend for several seeds.
"""

import os
import re

import keras
import numpy as np
import pytest
from keras import ops

import keras_ae
from keras_ae.models.vae import gaussian_kl

CONFIG = dict(hidden_units=(32,), latent_dim=2, seed=1)


def mean_and_se(draws):
    """Mean of the draws and its standard error (across inputs too: an overestimate, so conservative)."""
    draws = np.asarray(draws, "float64").ravel()
    return draws.mean(), draws.std(ddof=1) / np.sqrt(draws.size)


def with_weights(cls, source, **kwargs):
    """A fresh model of `cls` (same architecture) holding `source`'s weights."""
    model = cls(**CONFIG, **kwargs)
    model.set_weights(source.get_weights())
    return model


def poor_proposal(model):
    """Widen and shift q(z|x) (variance x e^2, mean + 1) so it is a poor proposal for p(z|x):
    the ELBO is then several nats below log p(x), and the importance-weighted bound visibly tighter."""
    z_log_var, z_mean = model.encoder.get_layer("z_log_var"), model.encoder.get_layer("z_mean")
    z_log_var.bias.assign(z_log_var.bias + 2.0)
    z_mean.bias.assign(z_mean.bias + 1.0)
    return model


def training_bound(model, x, reps):
    """The bound the training loss computes (minus the per-sample loss), `(reps, len(x))` draws."""
    parts = model(ops.convert_to_tensor(np.tile(x, (reps, 1))), training=True)
    per_sample = model.negative_bound(parts, *model.elbo_loss_terms(parts))
    return -ops.convert_to_numpy(per_sample).reshape(reps, len(x))


@pytest.fixture
def x16(x_small):
    return x_small[:16]


def test_the_bound_rises_with_k_towards_the_log_likelihood(x16):
    keras.utils.set_random_seed(0)
    base = poor_proposal(keras_ae.IWAE(num_samples=1, **CONFIG))
    # Draws of the 1-, 5- and 50-sample bounds: 1600, 960 and 96 (4800 decodes for the last two).
    draws = {k: training_bound(with_weights(keras_ae.IWAE, base, num_samples=k), x16, reps)
             for k, reps in ((1, 100), (5, 60), (50, 6))}
    means = {k: mean_and_se(d) for k, d in draws.items()}
    (b1, se1), (b5, se5), (b50, se50) = means[1], means[5], means[50]
    # E[L_1] <= E[L_5] <= E[L_50] <= log p(x) (Burda et al., Theorem 1); here about -555, -545, -543.5.
    assert b5 - b1 > 5 * np.hypot(se1, se5), means
    assert b50 - b5 > 5 * np.hypot(se5, se50), means
    # log_likelihood with 2100 samples estimates the 2100-sample bound, the tightest here. (Chunks
    # of 300 decode 4800 rows at a time, as above: JAX compiles its eager ops once per shape.)
    # Compared input by input, so the spread of log p(x) across inputs does not widen the margin.
    log_px = base.log_likelihood(x16, num_samples=2100, chunk=300, seed=0)
    gap50, se_gap50 = mean_and_se(log_px - draws[50].mean(axis=0))
    gap1, se_gap1 = mean_and_se(log_px - draws[1].mean(axis=0))
    assert gap50 > -5 * se_gap50, (gap50, se_gap50)
    assert gap1 > 5 * se_gap1 and gap1 > gap50, (gap1, se_gap1, gap50)


def test_one_sample_is_the_negative_elbo_in_expectation(x16):
    keras.utils.set_random_seed(0)
    iwae = poor_proposal(keras_ae.IWAE(num_samples=1, **CONFIG))
    vae = with_weights(keras_ae.VAE, iwae)
    x = ops.convert_to_tensor(np.tile(x16, (100, 1)))
    parts = iwae(x, training=True)
    rec, kl = (ops.convert_to_numpy(t) for t in iwae.elbo_loss_terms(parts))
    loss = ops.convert_to_numpy(iwae.negative_bound(parts, rec, kl))
    sampled_kl = ops.convert_to_numpy(parts["log_qz"] - parts["log_pz"])[0]
    # For the draw it made: with k = 1, logsumexp - log k is the one log weight, so the loss is the
    # negative ELBO with a one-draw KL, log q(z|x) - log p(z), where the VAE uses the closed form.
    np.testing.assert_allclose(loss, rec + sampled_kl, rtol=1e-5)
    np.testing.assert_allclose(kl, ops.convert_to_numpy(gaussian_kl(parts["z_mean"], parts["z_log_var"])))
    # The one-draw KL has the closed form as its mean (1600 draws; 5 standard errors, see the top).
    # The margin is small against the KL itself, so a wrong sign or factor in a density would show.
    mean, se = mean_and_se(sampled_kl - kl)
    assert abs(mean) < 5 * se < 0.5 * kl.mean(), (mean, se, kl.mean())
    # And the loss matches the VAE's (its own class and code) on the same weights, in expectation.
    vae_parts = vae(x, training=True)
    vae_loss = ops.convert_to_numpy(vae.negative_bound(vae_parts, *vae.elbo_loss_terms(vae_parts)))
    (a, se_a), (b, se_b) = mean_and_se(loss), mean_and_se(vae_loss)
    assert abs(a - b) < 5 * np.hypot(se_a, se_b), (a, b, se_a, se_b)
    # ... while a 5-sample bound on the same weights is many standard errors lower.
    tighter, se_t = mean_and_se(-training_bound(with_weights(keras_ae.IWAE, iwae, num_samples=5), x16, 60))
    assert a - tighter > 5 * np.hypot(se_a, se_t), (a, tighter)


def test_evaluate_reports_the_k_sample_bound(x16):
    keras.utils.set_random_seed(0)
    model = poor_proposal(keras_ae.IWAE(num_samples=5, **CONFIG))
    model.compile(optimizer="adam")
    x = np.tile(x16, (20, 1))
    result = model.evaluate(x, batch_size=len(x), verbose=0, return_dict=True)
    assert set(result) == {"loss", "reconstruction_loss", "kl_loss"}
    # log_likelihood(num_samples=5) draws the same 5-sample bound, with the model's other noise.
    bound, se = mean_and_se(model.log_likelihood(x, num_samples=5, batch_size=len(x), seed=0))
    assert abs(result["loss"] + bound) < 5 * se * np.sqrt(2), (result, bound, se)
    # Not the ELBO: that is several nats (tens of standard errors) worse.
    elbo, elbo_se = mean_and_se(model.elbo(x, seed=0))
    assert result["loss"] < -elbo - 5 * np.hypot(se, elbo_se), (result, elbo)
    np.testing.assert_allclose(result["kl_loss"], np.mean(ops.convert_to_numpy(
        gaussian_kl(*model.encoder(x16)))), rtol=1e-4)


def test_one_encoder_pass_one_decoder_pass_and_the_loss_is_a_weighted_mean(x16):
    model = keras_ae.IWAE(num_samples=4, **CONFIG)
    shapes = {"encoder": [], "decoder": []}

    def spy(part, seen):
        call = part.call
        part.call = lambda inputs, *args, **kw: seen.append(tuple(inputs.shape)) or call(inputs, *args, **kw)

    for name, seen in shapes.items():
        spy(getattr(model, name), seen)
    parts = model(ops.convert_to_tensor(x16), training=True)
    # The encoder runs once on the batch; its output is repeated k times, decoded in one pass.
    assert shapes == {"encoder": [(16, 784)], "decoder": [(4 * 16, 2)]}
    assert tuple(parts["reconstruction"].shape) == (4 * 16, 784)
    for key in ("log_px", "log_pz", "log_qz"):
        assert tuple(parts[key].shape) == (4, 16), key
    # The loss: the per-sample negative bound, weighed by sample_weight, over the batch size.
    per_sample = ops.convert_to_numpy(model.negative_bound(parts, *model.elbo_loss_terms(parts)))
    log_w = ops.convert_to_numpy(parts["log_px"] + parts["log_pz"] - parts["log_qz"]).astype("float64")
    np.testing.assert_allclose(per_sample, np.log(4) - np.logaddexp.reduce(log_w, axis=0), rtol=1e-5)
    weights = np.linspace(0.0, 2.0, 16).astype("float32")
    loss = model.compute_loss(x=x16, y_pred=parts, sample_weight=weights)
    np.testing.assert_allclose(ops.convert_to_numpy(loss), np.sum(weights * per_sample) / 16, rtol=1e-5)


def test_training_lowers_the_loss_and_a_saved_model_keeps_num_samples(x_small, tmp_path):
    keras.utils.set_random_seed(0)
    model = keras_ae.IWAE(num_samples=3, **CONFIG)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = model.evaluate(x_small, batch_size=64, verbose=0, return_dict=True)["loss"]
    history = model.fit(x_small, epochs=4, batch_size=16, verbose=0)
    assert set(history.history) == {"loss", "reconstruction_loss", "kl_loss"}
    after = model.evaluate(x_small, batch_size=64, verbose=0, return_dict=True)["loss"]
    # From about 544 nats (uniform pixels) to about 310 on these 64 digits on every backend: the
    # margins are a few times smaller than the drop, and much larger than the sampling noise.
    assert history.history["loss"][-1] < history.history["loss"][0] - 50, history.history["loss"]
    assert after < before - 100, (before, after)
    path = os.path.join(tmp_path, "iwae.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is keras_ae.IWAE and loaded.num_samples == 3
    assert loaded.get_config() == model.get_config()
    np.testing.assert_allclose(loaded.predict(x_small, verbose=0), model.predict(x_small, verbose=0),
                               rtol=0, atol=1e-6)
    np.testing.assert_allclose(loaded.encode(x_small), model.encode(x_small), rtol=0, atol=1e-6)
    # The compiled state came back too: it goes on training on its own bound.
    assert np.isfinite(loaded.fit(x_small, epochs=1, batch_size=32, verbose=0).history["loss"][0])


@pytest.mark.parametrize("bad", [0, -3, 2.5, "5", True, None])
def test_bad_num_samples_is_refused(bad):
    expected = r"`num_samples` must be a positive integer\. Received: num_samples="
    with pytest.raises(ValueError, match=expected + re.escape(repr(bad))):
        keras_ae.IWAE(num_samples=bad)


def test_config_defaults_and_registry():
    model = keras_ae.IWAE(num_samples=np.int64(7), **CONFIG)
    assert model.num_samples == 7 and type(model.num_samples) is int
    config = model.get_config()
    assert config["num_samples"] == 7
    assert keras_ae.IWAE.from_config(config).num_samples == 7
    default = keras_ae.IWAE()
    assert default.num_samples == 5 and default.latent_dim == keras_ae.VAE().latent_dim
    assert default.reconstruction_loss == "bce" and default.hidden_units == (512,)
    assert isinstance(keras_ae.get_model("iwae", num_samples=2), keras_ae.IWAE)
    assert isinstance(default, keras_ae.VAE) and default.generative
    with pytest.raises(ValueError, match="num_samples=0"):
        keras_ae.get_model("iwae", num_samples=0)
    with pytest.raises(TypeError, match="Did you mean 'num_samples'"):
        keras_ae.IWAE(num_sample=3)
