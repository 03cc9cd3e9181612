"""Anomaly detection, latent-space tools, and VAE likelihoods."""

import math

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import latent
from keras_ae.anomaly import AnomalyDetector, one_class_mnist
from model_check import small_model


@pytest.fixture(scope="module")
def trained_ae(mnist_sample):
    """A small autoencoder trained on the digit 1 only."""
    (x, y), _ = mnist_sample
    keras.utils.set_random_seed(0)
    model = keras_ae.UndercompleteAutoencoder(hidden_units=(64,), latent_dim=8)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    model.fit(x[y == 1], epochs=15, batch_size=32, verbose=0)
    return model


# ---- anomaly detection ---------------------------------------------------------------

def test_detector_flags_other_digits(trained_ae, mnist_sample):
    (x, y), (xt, yt) = mnist_sample
    det = AnomalyDetector(trained_ae, percentile=95).fit(x[y == 1])
    assert det.threshold_ == pytest.approx(np.percentile(det.decision_function(x[y == 1]), 95))
    is_anomaly = (yt != 1).astype(int)
    report = det.evaluate(xt, is_anomaly)
    assert report["auroc"] > 0.95 and 0 < report["f1"] <= 1 and report["average_precision"] > 0.9
    pred = det.predict(xt)
    assert set(np.unique(pred)) <= {0, 1}
    assert pred[yt == 1].mean() < 0.2 and pred[yt != 1].mean() > 0.8
    assert det.score_map(xt[:3]).shape == (3, 784)


def test_contamination_sets_the_quantile(trained_ae, x_small):
    det = AnomalyDetector(trained_ae, contamination=0.1).fit(x_small)
    assert np.mean(det.decision_function(x_small) > det.threshold_) == pytest.approx(0.1, abs=0.02)


def test_detector_errors(trained_ae, x_small):
    det = AnomalyDetector(trained_ae)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted"):
        det.predict(x_small)
    with pytest.raises(ValueError, match="empty batch"):
        det.fit(np.zeros((0, 784), "float32"))
    with pytest.raises(ValueError, match="finite"):
        det.fit(np.full((3, 784), np.nan, "float32"))
    with pytest.raises(ValueError, match="needs a keras-ae model"):
        AnomalyDetector(object())
    with pytest.raises(ValueError, match="needs a VAE"):
        AnomalyDetector(trained_ae, scoring="neg_elbo")
    det.fit(x_small)
    with pytest.raises(ValueError, match="both 0"):
        det.evaluate(x_small, np.zeros(len(x_small)))


def test_vae_scores_by_negative_elbo(x_small):
    vae = small_model("vae")
    det = AnomalyDetector(vae, num_samples=5)
    assert det.score_kind == "neg_elbo"
    assert det.fit(x_small).decision_function(x_small[:4]).shape == (4,)


def test_one_class_protocol_runs(mnist_sample):
    res = one_class_mnist(lambda: keras_ae.UndercompleteAutoencoder(hidden_units=(32,), latent_dim=8),
                          mnist_sample, digits=[0, 1], epochs=10, batch_size=32, progress=False)
    assert set(res["auroc"]) == {0, 1}
    assert res["mean_auroc"] == pytest.approx(np.mean(list(res["auroc"].values())))
    assert res["auroc"][1] > 0.8


# ---- latent tools ---------------------------------------------------------------------

def test_interpolation_ends_at_both_codes(trained_ae, x_small):
    images, alphas = latent.interpolate(trained_ae, x_small[0], x_small[1], steps=5)
    assert images.shape == (5, 784) and alphas.tolist() == [0, 0.25, 0.5, 0.75, 1]
    np.testing.assert_allclose(images[0], trained_ae.reconstruct(x_small[:1])[0], atol=1e-5)
    np.testing.assert_allclose(images[-1], trained_ae.reconstruct(x_small[1:2])[0], atol=1e-5)
    za, zb = trained_ae.encode(x_small[:2])
    mid = trained_ae.decode(((za + zb) / 2)[None])[0]
    np.testing.assert_allclose(images[2], mid, atol=1e-5)
    s_images, _ = latent.interpolate(trained_ae, x_small[0], x_small[1], steps=5, method="slerp")
    np.testing.assert_allclose(s_images[0], images[0], atol=1e-5)


def test_slerp_keeps_norm():
    a, b = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    mid = latent.slerp(a, b, 0.5)
    assert np.linalg.norm(mid) == pytest.approx(1.0)
    np.testing.assert_allclose(latent.slerp(a, a, 0.3), a)


def test_attribute_vector_and_apply(trained_ae, x_small):
    v = latent.attribute_vector(trained_ae, x_small[:10], x_small[10:20])
    codes = trained_ae.encode(x_small[:20])
    np.testing.assert_allclose(v, codes[:10].mean(0) - codes[10:].mean(0), rtol=1e-5, atol=1e-6)
    out = latent.apply_attribute(trained_ae, x_small[:3], v, alphas=(0, 1))
    assert out.shape == (3, 2, 784)
    np.testing.assert_allclose(out[:, 0], trained_ae.reconstruct(x_small[:3]), atol=1e-5)
    with pytest.raises(ValueError, match="code size"):
        latent.apply_attribute(trained_ae, x_small[:3], np.zeros(3))


def test_traversal_grid(trained_ae):
    images, axis = latent.traversal_grid(trained_ae, dims=(0, 3), n=4)
    assert images.shape == (16, 784) and len(axis) == 4
    with pytest.raises(ValueError, match="two different code dimensions"):
        latent.traversal_grid(trained_ae, dims=(0, 0))


def test_retrieval_by_code_vs_pixels(trained_ae, mnist_sample):
    (x, y), (xt, yt) = mnist_sample
    res = latent.retrieval_comparison(trained_ae, x[:1000], y[:1000], xt[:100], yt[:100], k=5)
    assert 0 <= res["code_precision"] <= 1 and res["pixel_precision"] > 0.5
    idx = latent.nearest_neighbours(x[:50], x[:3], k=1)
    assert idx.ravel().tolist() == [0, 1, 2]
    assert latent.precision_at_k(np.array([[0, 1]]), np.array([5, 6]), np.array([5])) == 0.5


def test_compression_curve(mnist_sample):
    (x, _), (xt, _) = mnist_sample
    rows = latent.compression_curve(lambda k: keras_ae.UndercompleteAutoencoder(hidden_units=(32,), latent_dim=k),
                                    x[:500], xt[:100], code_sizes=(2, 8), epochs=1)
    assert [r["code_size"] for r in rows] == [2, 8]
    assert rows[0]["pca"] > rows[1]["pca"] > 0


def test_latent_tools_reject_wrong_models(x_small):
    with pytest.raises(ValueError, match="Expected a keras-ae model"):
        latent.interpolate(object(), x_small[0], x_small[1])
    with pytest.raises(ValueError, match="steps"):
        latent.interpolate(small_model("vae"), x_small[0], x_small[1], steps=1)


# ---- VAE likelihood ------------------------------------------------------------------------
# These tests compare Monte Carlo estimates with the quantities they estimate, so every tolerance
# is a multiple of the estimator's measured standard error (SE). The random streams differ per
# backend, so a margin that happens to hold for one backend's draws proves nothing elsewhere.

def tiny_vae(seed):
    """A VAE on 4 binary pixels with a 1-D latent and fixed weights: the same model on every backend.

    q(z|x) has variance 0.75 for every x. With a variance below 1/2 the Gaussian q has lighter tails
    than the prior, the importance weights p(x, z) / q(z|x) have infinite variance, and the
    importance-sampled estimate has no finite SE: trained copies of this model had posterior standard
    deviations down to 0.43, and estimates off by up to 0.16 nats at k = 20000.
    `seed` seeds the sampling noise only.
    """
    vae = keras_ae.VAE(input_shape=(4,), hidden_units=(8,), latent_dim=1, seed=seed)
    vae(np.zeros((1, 4), "float32"))
    rng = np.random.default_rng(0)
    scale = {"encoder_dense_0/kernel": 1.0, "z_mean/kernel": 0.7, "decoder_dense_0/kernel": 1.0,
             "decoder_dense_0/bias": 1.0, "reconstruction/kernel": 1.0}
    for w in vae.encoder.weights + vae.decoder.weights:
        value = scale.get(w.path, 0.0) * rng.standard_normal(w.shape)
        if w.path == "z_log_var/bias":
            value = value + math.log(0.75)
        w.assign(value.astype("float32"))
    return vae


def quadrature(vae, x):
    """Per input, by quadrature over a 1-D latent: `(log_px, elbo, elbo_sd, weight_var)`.

    `elbo_sd` is the standard deviation of one draw of `vae.elbo` (log p(x|z) at z ~ q(z|x), minus
    the closed-form KL) and `weight_var` the relative variance Var_q(w) / p(x)^2 of the importance
    weight w = p(x, z) / q(z|x): the mean of n ELBO draws has a SE of elbo_sd / sqrt(n) nats, the
    log-likelihood estimate from k samples one of about sqrt(weight_var / k) nats.
    """
    z = np.linspace(-12, 12, 24001)
    probs = vae.decoder.predict(z[:, None].astype("float32"), batch_size=4096, verbose=0).astype("float64")
    probs = np.clip(probs, 1e-7, 1 - 1e-7)
    log_prior = -0.5 * (z ** 2 + math.log(2 * math.pi))
    z_mean, z_log_var = (v[:, 0].astype("float64") for v in vae.encode_distribution(x))
    rows = []
    for xi, mean, log_var in zip(x, z_mean, z_log_var):
        log_lik = (xi * np.log(probs) + (1 - xi) * np.log(1 - probs)).sum(1)
        log_joint = log_lik + log_prior
        m = log_joint.max()
        log_px = m + math.log(np.trapezoid(np.exp(log_joint - m), z))
        log_q = -0.5 * ((z - mean) ** 2 / math.exp(log_var) + log_var + math.log(2 * math.pi))
        q = np.exp(log_q)
        rec = np.trapezoid(q * log_lik, z)
        kl = -0.5 * (1 + log_var - mean ** 2 - math.exp(log_var))
        rec_var = np.trapezoid(q * (log_lik - rec) ** 2, z)
        weight_var = np.trapezoid(np.exp(2 * (log_joint - log_px) - log_q), z) - 1
        rows.append((log_px, rec - kl, math.sqrt(rec_var), weight_var))
    return tuple(np.array(column) for column in zip(*rows))


def test_log_likelihood_matches_brute_force_on_a_tiny_model(seed=0):
    keras.utils.set_random_seed(seed)
    vae = tiny_vae(seed)
    x = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 1, 1], [0, 1, 0, 0]], "float32")
    log_px, elbo, elbo_sd, weight_var = quadrature(vae, x)
    # Here log p(x) - ELBO is 0.2 to 3.5 nats, weight_var 0.19 to 4.5 and elbo_sd 0.8 to 2.9.
    assert np.all(elbo < log_px)
    # Tolerances: 5 SE, plus 1e-3 nats for float32 arithmetic. Over 30 runs per backend the errors
    # divided by their SE had mean 0 and sd 0.8-1.2 on TensorFlow, JAX and PyTorch (max 3.5);
    # 16,000 simulated k = 20000 estimates were normal, none beyond 5 SE.
    k = 20000
    estimate = vae.log_likelihood(x, num_samples=k, batch_size=4)  # passes of 2048 samples, the last partial
    np.testing.assert_array_less(np.abs(estimate - log_px), 5 * np.sqrt(weight_var / k) + 1e-3)
    # 4000 draws per input: 10 copies of each, 400 draws each (so noise repeated across the draws of
    # one call would leave about 10 independent draws, and errors of 0.3-0.9 nats).
    draws = vae.elbo(np.repeat(x, 10, 0), num_samples=400).reshape(4, 10).mean(1)
    np.testing.assert_array_less(np.abs(draws - elbo), 5 * elbo_sd / math.sqrt(4000) + 1e-3)


def test_log_likelihood_bounds_the_elbo_and_grows_with_k(x_small, seed=0):
    keras.utils.set_random_seed(seed)
    vae = keras_ae.VAE(hidden_units=(32,), latent_dim=4, seed=seed)
    vae.compile(optimizer="adam")
    vae.fit(x_small, epochs=5, batch_size=16, verbose=0)
    x = x_small[:16]
    # Every number below is a mean over these 16 images; repeating an image gives it independent draws.
    # Measured on 3 trained models per backend (TensorFlow, JAX, PyTorch), 6 repeats each: one draw of
    # the k = 1 estimate has a SD of 17-26 nats per image (one draw of the ELBO: 23-31), so one k = 1
    # call over the 16 images has a SE of 4-6 nats.
    many = np.repeat(x, 400, 0)
    elbo = vae.elbo(many, num_samples=4, batch_size=1600).mean()
    k1 = vae.log_likelihood(many, num_samples=1, batch_size=1600).mean()
    # k = 1 is an unbiased ELBO draw (with the KL sampled): k1 - elbo had a SD of 0.2-0.5 nats here.
    assert k1 == pytest.approx(elbo, abs=2.5)
    estimates = [vae.log_likelihood(np.repeat(x, 10, 0), num_samples=k).mean() for k in (10, 100, 1000)]
    # E[estimate] grows with k towards log p(x) (Burda et al.). The steps ELBO -> 10 -> 100 -> 1000 were
    # at least 17.8, 6.3 and 2.1 nats, each at least 7 times the SD of its difference (0.1-1.0 nats).
    assert elbo < estimates[0] < estimates[1] < estimates[2]
    assert estimates[-1] > elbo + 10  # measured: 26 to 53 nats
