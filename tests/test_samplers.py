"""Samplers (keras_ae/samplers.py): fit on small models' codes, seeded draws, files checked field by field."""

import json
import os
import re

import numpy as np
import pytest

import keras_ae
from keras_ae import samplers
from keras_ae.samplers import (GaussianMixtureSampler, GaussianSampler, NormalSampler, NotFittedError, get_sampler,
                               list_samplers, load_sampler)


@pytest.fixture(scope="module")
def x16():
    return np.random.default_rng(0).uniform(size=(200, 16)).astype("float32")


@pytest.fixture(scope="module")
def vae():
    return keras_ae.VAE(input_shape=(16,), hidden_units=(8,), latent_dim=2, seed=0)


@pytest.fixture(scope="module")
def ae():
    return keras_ae.UndercompleteAutoencoder(input_shape=(16,), hidden_units=(8,), latent_dim=3)


@pytest.fixture(scope="module")
def fitted_gmm(vae, x16):
    return GaussianMixtureSampler(n_components=3).fit(vae, x16)


def _codes(seed=0, n=3000):
    """Two correlated, anisotropic clusters with weights 0.3 / 0.7: a transposed Cholesky factor, unused
    weights or a lost mean would all show in the statistics."""
    rng = np.random.default_rng(seed)
    a = rng.multivariate_normal([-4.0, 1.0, 0.0], [[2.0, 1.2, 0.0], [1.2, 1.0, 0.3], [0.0, 0.3, 0.5]], int(0.3 * n))
    b = rng.multivariate_normal([3.0, -2.0, 1.0], [[0.5, -0.4, 0.0], [-0.4, 1.5, 0.0], [0.0, 0.0, 0.2]], n - len(a))
    return np.concatenate([a, b])


def _assert_same_moments(draws, codes):
    scale = np.sqrt(np.trace(np.cov(codes, rowvar=False)))
    np.testing.assert_allclose(draws.mean(0), codes.mean(0), atol=0.05 * scale)
    np.testing.assert_allclose(np.cov(draws, rowvar=False), np.cov(codes, rowvar=False), atol=0.05 * scale ** 2)


# ---- the registry ----------------------------------------------------------------------

def test_registry_names_and_did_you_mean():
    assert list_samplers() == ["code_prior", "gaussian", "gmm", "normal"]  # code_prior: a VQ-VAE's prior
    assert type(get_sampler("gmm", n_components=4)) is GaussianMixtureSampler
    with pytest.raises(ValueError, match="Did you mean 'gmm'"):
        get_sampler("gmn")
    built = NormalSampler(temperature=0.5)
    assert get_sampler(built) is built
    with pytest.raises(ValueError, match="temperature"):
        get_sampler(built, temperature=2.0)
    with pytest.raises(TypeError, match="Sampler"):
        get_sampler(3)
    with pytest.raises(ValueError, match="already registered"):
        samplers.register_sampler("gmm")(type("Other", (samplers.Sampler,), {}))
    with pytest.raises(ValueError, match="n_components"):
        get_sampler("gmm", n_components=0)


def test_package_face_exports_the_samplers():
    assert keras_ae.get_sampler is get_sampler and keras_ae.load_sampler is load_sampler
    assert keras_ae.samplers.GaussianMixtureSampler is GaussianMixtureSampler


# ---- fitting and drawing -----------------------------------------------------------------

@pytest.mark.parametrize("which", ["vae", "ae"])
def test_gmm_fits_the_models_codes_and_draws_by_seed(which, request, x16):
    model = request.getfixturevalue(which)
    d = model.code_size
    sampler = GaussianMixtureSampler(n_components=3).fit(model, x16, batch_size=200)
    assert sampler.code_size_ == d and sampler.n_fit_ == len(x16) and sampler.model is model
    # fitted to model.encode's output: a VAE's posterior means
    direct = GaussianMixtureSampler(n_components=3).fit_codes(model.encode(x16))
    np.testing.assert_allclose(sampler.means_, direct.means_, rtol=1e-6, atol=1e-8)
    z = sampler.sample_codes(50, seed=1)
    assert z.shape == (50, d) and z.dtype == np.float32
    np.testing.assert_array_equal(z, sampler.sample_codes(50, seed=1))
    assert not np.allclose(z, sampler.sample_codes(50, seed=2))
    images = sampler.sample(6, seed=3, batch_size=3)
    assert images.shape == (6, 16)
    np.testing.assert_allclose(images, sampler.sample(6, seed=3), rtol=1e-5, atol=1e-6)  # batch_size aside
    np.testing.assert_allclose(images, model.decode(sampler.sample_codes(6, seed=3)), rtol=1e-5, atol=1e-6)


def test_gmm_draws_have_the_training_codes_moments_and_weights():
    codes = _codes()
    sampler = GaussianMixtureSampler(n_components=2).fit_codes(codes)
    assert sampler.covariances_.shape == (2, 3, 3)
    np.testing.assert_allclose(np.sort(sampler.weights_), [0.3, 0.7], atol=0.01)
    draws = sampler.sample_codes(20000, seed=0).astype("float64")
    _assert_same_moments(draws, codes)
    left = draws[:, 0] < 0  # the clusters are far apart along the first axis
    assert abs(left.mean() - 0.3) < 0.02
    for side in (True, False):  # each cluster's shape, which the overall moments hide behind the gap
        _assert_same_moments(draws[left == side], codes[(codes[:, 0] < 0) == side])


def test_gmm_moments_on_a_models_codes(ae, x16):
    codes = ae.encode(x16).astype("float64")
    draws = GaussianMixtureSampler(n_components=4).fit_codes(codes).sample_codes(20000, seed=5)
    _assert_same_moments(draws.astype("float64"), codes)


@pytest.mark.parametrize("covariance_type", ["diag", "tied", "spherical"])
def test_gmm_other_covariance_types_are_stored_full(covariance_type):
    codes = _codes(n=600)
    sampler = GaussianMixtureSampler(n_components=2, covariance_type=covariance_type).fit_codes(codes)
    assert sampler.covariances_.shape == (2, 3, 3)
    draws = sampler.sample_codes(20000, seed=0).astype("float64")
    np.testing.assert_allclose(draws.mean(0), codes.mean(0), atol=0.1)


def test_gmm_fit_is_seeded_and_drops_to_the_number_of_codes():
    codes = _codes(n=300)
    a, b = (GaussianMixtureSampler(n_components=3, seed=3).fit_codes(codes) for _ in range(2))
    np.testing.assert_array_equal(a.means_, b.means_)
    with pytest.warns(UserWarning, match="fitting 4 components"):
        few = GaussianMixtureSampler(n_components=6).fit_codes(codes[:4])
    assert few.weights_.shape == (4,) and few.get_config()["n_components"] == 6


def test_gaussian_sampler_fits_mean_and_covariance(ae, x16):
    sampler = GaussianSampler().fit(ae, x16)
    codes = ae.encode(x16).astype("float64")
    np.testing.assert_allclose(sampler.means_[0], codes.mean(0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(sampler.covariances_[0], np.cov(codes, rowvar=False, bias=True) + 1e-6 * np.eye(3),
                               rtol=1e-6, atol=1e-9)
    _assert_same_moments(sampler.sample_codes(20000, seed=0).astype("float64"), codes)
    assert sampler.sample(6, seed=0).shape == (6, 16)


def test_normal_sampler_is_the_prior_and_needs_no_data(vae, ae):
    sampler = NormalSampler(temperature=0.5)
    with pytest.raises(NotFittedError, match="attach"):
        sampler.sample_codes(3)
    images = sampler.sample(6, seed=0, model=vae)  # the code size is the model's
    np.testing.assert_array_equal(images, vae.sample(6, temperature=0.5, seed=0))  # the VAE's own prior draws
    z = NormalSampler(temperature=0.5).fit(vae).sample_codes(20000, seed=1)
    assert z.shape == (20000, 2) and abs(z.std() - 0.5) < 0.01 and abs(z.mean()) < 0.01
    with pytest.warns(UserWarning, match="gaussian"):
        NormalSampler().sample(6, seed=0, model=ae)


def test_use_before_fit_and_bad_arguments_are_clear(vae, x16):
    sampler = GaussianMixtureSampler()
    with pytest.raises(NotFittedError, match="not fitted"):
        sampler.sample_codes(3)
    with pytest.raises(ValueError, match="no model"):
        sampler.sample(3)
    with pytest.raises(NotFittedError, match="not fitted"):
        sampler.sample(3, model=vae)
    with pytest.raises(NotFittedError):
        sampler.save("never.npz")
    with pytest.raises(ValueError, match="x=None"):
        sampler.fit(vae)
    with pytest.raises(ValueError, match="finite"):
        sampler.fit_codes(np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="shape"):
        sampler.fit_codes(np.zeros(5))
    fitted = GaussianSampler().fit(vae, x16)
    with pytest.raises(ValueError, match="`n`"):
        fitted.sample_codes(0)
    with pytest.raises(ValueError, match="seed"):
        fitted.sample_codes(2, seed=-1)


class _LinearModel:
    """Not a Keras model: anything with encode, decode and latent_dim can be sampled from."""

    latent_dim = 2

    def encode(self, x, batch_size=256):
        return np.asarray(x)[:, :2] * 2.0

    def decode(self, z, batch_size=256):
        return np.repeat(np.asarray(z), 2, axis=1)


class _SpatialModel(_LinearModel):
    code_shape = (4, 4, 2)


class _ColorizationLike(_LinearModel):
    decodes_from_code_alone = False


def test_any_model_with_a_flat_code_works_others_are_refused(vae):
    sampler = GaussianMixtureSampler(n_components=2).fit(_LinearModel(), _codes(n=300))
    assert sampler.sample(3, seed=0).shape == (3, 4)
    with pytest.raises(ValueError, match=r"flat code.*\(4, 4, 2\)"):
        GaussianSampler().fit(_SpatialModel(), _codes(n=50))
    with pytest.raises(ValueError, match="input together"):
        NormalSampler().attach(_ColorizationLike())
    with pytest.raises(TypeError, match="encode"):
        NormalSampler().attach(object())
    with pytest.raises(ValueError, match="size 3.*VAE has codes of size 2"):
        GaussianSampler().fit_codes(_codes(n=50)).sample(2, model=vae)


def test_a_spatial_keras_ae_code_is_refused():
    model = keras_ae.ConvolutionalAutoencoder(input_shape=(8, 8, 1), filters=(2,), latent_filters=2, latent_dim=None)
    with pytest.raises(ValueError, match=r"flat code.*\(4, 4, 2\)"):
        NormalSampler().attach(model)


# ---- files -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["gmm", "gaussian", "normal"])
def test_save_and_load_give_identical_samples(name, vae, x16, tmp_path):
    sampler = get_sampler(name).fit(vae, x16)
    path = tmp_path / f"{name}.npz"
    assert sampler.save(str(path)) == str(path)
    assert os.listdir(tmp_path) == [path.name]  # written atomically: no temporary left
    loaded = load_sampler(path, model=vae)
    assert type(loaded) is type(sampler) and loaded.get_config() == sampler.get_config()
    assert loaded.model is vae and loaded.code_size_ == 2 and loaded.n_fit_ == sampler.n_fit_
    np.testing.assert_array_equal(loaded.sample_codes(30, seed=4), sampler.sample_codes(30, seed=4))
    np.testing.assert_array_equal(loaded.sample(6, seed=4), sampler.sample(6, seed=4))
    with np.load(path, allow_pickle=False) as data:  # no pickle anywhere in the file
        assert json.loads(str(data["metadata"]))["kind"] == name


def test_save_refuses_a_bad_path(fitted_gmm, tmp_path):
    with pytest.raises(ValueError, match=r"\.npz"):
        fitted_gmm.save(str(tmp_path / "sampler.pkl"))


def _write(path, meta, arrays):
    """An .npz like Sampler.save writes, from metadata (a dict, a raw string, or None for none) and arrays."""
    if meta is not None:
        arrays = {**arrays, "metadata": np.array(meta if isinstance(meta, str) else json.dumps(meta))}
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def _set(meta, arrays, **changes):
    return meta, {**arrays, **changes}


def _asymmetric(c):
    c = c.copy()
    c[0, 0, 1] += 1.0
    return c


def _indefinite(c):
    c = c.copy()
    c[0] = np.diag([1.0, -1.0])
    return c


TAMPERED = {
    "unknown kind": (lambda m, a: ({**m, "kind": "gmmm"}, a), r"field 'kind'.*Did you mean 'gmm'"),
    "missing array": (lambda m, a: (m, {k: v for k, v in a.items() if k != "covariances"}),
                      "array 'covariances' is missing"),
    "unexpected array": (lambda m, a: _set(m, a, extra=np.zeros(2)), "array 'extra' is unexpected"),
    "means shape": (lambda m, a: _set(m, a, means=np.zeros((3, 3))),
                    r"array 'covariances' must have shape \(3, 3, 3\)"),
    "covariances shape": (lambda m, a: _set(m, a, covariances=np.zeros((3, 2, 3))),
                          r"array 'covariances' must have shape \(3, 2, 2\)"),
    "weights shape": (lambda m, a: _set(m, a, weights=np.full(4, 0.25)), r"array 'weights' must have shape \(3,\)"),
    "weights sum": (lambda m, a: _set(m, a, weights=a["weights"] * 1.5), "'weights' must be >= 0 and sum to 1"),
    "negative weight": (lambda m, a: _set(m, a, weights=np.array([-0.2, 0.6, 0.6])), "'weights' must be >= 0"),
    "NaN mean": (lambda m, a: _set(m, a, means=np.where(np.eye(3, 2) > 0, np.nan, a["means"])),
                 "array 'means' holds NaN"),
    "infinite covariance": (lambda m, a: _set(m, a, covariances=a["covariances"] * np.inf), "'covariances' holds NaN"),
    "asymmetric covariance": (lambda m, a: _set(m, a, covariances=_asymmetric(a["covariances"])),
                              r"'covariances'\[0\] is not symmetric"),
    "indefinite covariance": (lambda m, a: _set(m, a, covariances=_indefinite(a["covariances"])),
                              "not positive definite"),
    "text weights": (lambda m, a: _set(m, a, weights=np.array(["a", "b", "c"])), "'weights' must hold real numbers"),
    "pickled array": (lambda m, a: _set(m, a, weights=np.array([{}, {}, {}], dtype=object)), "pickle"),
    "code size": (lambda m, a: ({**m, "code_size": 5}, a), "field 'code_size' is 5"),
    "bad config": (lambda m, a: ({**m, "config": {**m["config"], "n_components": 0}}, a), "field 'config'"),
    "unknown setting": (lambda m, a: ({**m, "config": {"n_component": 3}}, a), "field 'config'.*n_component"),
    "format": (lambda m, a: ({**m, "format": 99}, a), "field 'format'"),
    "missing field": (lambda m, a: ({k: v for k, v in m.items() if k != "n_fit"}, a), "field 'n_fit' is missing"),
    "no metadata": (lambda m, a: (None, a), "field 'metadata'"),
    "metadata not JSON": (lambda m, a: ("{kind: gmm", a), "not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_a_tampered_file_is_refused_naming_file_and_field(case, fitted_gmm, tmp_path):
    good = fitted_gmm.save(str(tmp_path / "good.npz"))
    with np.load(good) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays.pop("metadata")))
    edit, message = TAMPERED[case]
    bad = _write(str(tmp_path / "bad.npz"), *edit(meta, arrays))
    with pytest.raises(ValueError, match=message) as info:
        load_sampler(bad)
    assert re.escape(bad) in re.escape(str(info.value))


def test_a_file_for_another_model_or_not_a_sampler_is_refused(fitted_gmm, ae, tmp_path):
    path = fitted_gmm.save(str(tmp_path / "gmm.npz"))
    with pytest.raises(ValueError, match=r"gmm\.npz.*field 'code_size'.*size 2.*size 3"):
        load_sampler(path, model=ae)
    with pytest.raises(ValueError, match="size 2.*size 3"):
        load_sampler(path).check_model(ae)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="junk.npz.*not a sampler file"):
        load_sampler(junk)
    with pytest.raises(FileNotFoundError):
        load_sampler(tmp_path / "missing.npz")


# ---- BaseVAE.sample(sampler=...) ---------------------------------------------------------

def test_vae_sample_decodes_a_fitted_samplers_codes(vae, fitted_gmm):
    images = vae.sample(8, seed=3, sampler=fitted_gmm)
    assert images.shape == (8, 16)
    np.testing.assert_array_equal(images, vae.sample(8, seed=3, sampler=fitted_gmm))  # same seed, same images
    assert np.abs(images - vae.sample(8, seed=4, sampler=fitted_gmm)).max() > 1e-3
    np.testing.assert_allclose(images, vae.decode(fitted_gmm.sample_codes(8, seed=3)), rtol=1e-5, atol=1e-6)
    prior = vae.sample(8, seed=3)  # sampler=None: the prior, as before
    assert np.abs(images - prior).max() > 1e-3


def test_vae_sample_by_name_only_for_the_prior(vae):
    # "normal" needs no fit: the prior's own draws, bit for bit, at any temperature
    np.testing.assert_array_equal(vae.sample(5, seed=2, sampler="normal"), vae.sample(5, seed=2))
    np.testing.assert_array_equal(vae.sample(5, temperature=0.5, seed=2, sampler="normal"),
                                  vae.sample(5, temperature=0.5, seed=2))
    with pytest.raises(ValueError, match=re.escape("fitted to this model's codes first: `sampler = "
                                                   "keras_ae.samplers.get_sampler('gmm').fit(model, x_train)`")):
        vae.sample(5, sampler="gmm")
    with pytest.raises(ValueError, match="Did you mean 'gmm'"):
        vae.sample(5, sampler="gmn")
    with pytest.raises(TypeError, match="Received: sampler=3"):
        vae.sample(5, sampler=3)


def test_vae_sample_temperature_is_the_priors_only(vae, fitted_gmm):
    with pytest.raises(ValueError, match=r"GaussianMixtureSampler draws from the density it fitted.*"
                                         r"Received: temperature=0.5"):
        vae.sample(5, temperature=0.5, sampler=fitted_gmm)
    cold = NormalSampler(temperature=0.5)  # a NormalSampler carries its own temperature
    np.testing.assert_array_equal(vae.sample(5, seed=1, sampler=cold), vae.sample(5, temperature=0.5, seed=1))
    with pytest.raises(ValueError, match="size 3.*VAE has codes of size 2"):
        vae.sample(2, sampler=GaussianSampler().fit_codes(_codes(n=50)))
