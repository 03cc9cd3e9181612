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

def exact_log_px(vae, x):
    """log p(x) for a 1-D latent by quadrature over z."""
    z = np.linspace(-12, 12, 24001, dtype="float32")[:, None]
    probs = vae.decoder.predict(z, batch_size=4096, verbose=0).astype("float64")
    probs = np.clip(probs, 1e-7, 1 - 1e-7)
    log_prior = -0.5 * (z[:, 0].astype("float64") ** 2 + math.log(2 * math.pi))
    out = []
    for xi in x:
        log_lik = (xi * np.log(probs) + (1 - xi) * np.log(1 - probs)).sum(1)
        a = log_lik + log_prior
        m = a.max()
        out.append(m + math.log(np.trapezoid(np.exp(a - m), z[:, 0])))
    return np.array(out)


def test_log_likelihood_matches_brute_force_on_a_tiny_model():
    keras.utils.set_random_seed(0)
    x = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 1, 1], [0, 1, 0, 0]], "float32")
    vae = keras_ae.VAE(input_shape=(4,), hidden_units=(8,), latent_dim=1, seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    vae.fit(np.repeat(x, 64, 0), epochs=20, batch_size=32, verbose=0)
    exact = exact_log_px(vae, x)
    estimate = vae.log_likelihood(x, num_samples=20000)
    np.testing.assert_allclose(estimate, exact, atol=0.02)
    assert np.all(vae.elbo(x, num_samples=200) <= exact + 1e-3)


def test_log_likelihood_bounds_the_elbo_and_grows_with_k(x_small):
    keras.utils.set_random_seed(0)
    vae = keras_ae.VAE(hidden_units=(32,), latent_dim=4, seed=0)
    vae.compile(optimizer="adam")
    vae.fit(x_small, epochs=5, batch_size=16, verbose=0)
    x = x_small[:16]
    elbo = vae.elbo(x, num_samples=100).mean()
    estimates = [vae.log_likelihood(x, num_samples=k).mean() for k in (1, 10, 100, 1000)]
    assert estimates[0] == pytest.approx(elbo, abs=3.0)   # k = 1 is an ELBO draw
    assert all(e >= elbo - 0.5 for e in estimates[1:])
    assert all(b >= a - 0.2 for a, b in zip(estimates, estimates[1:]))
    assert estimates[-1] > elbo
