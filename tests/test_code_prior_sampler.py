"""A VQ-VAE's prior as a zoo sampler (`code_prior`): its .npz file, the zoo entry that ships it, `keras-ae sample`."""

import json
import os

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import cli, samplers, zoo
from keras_ae.models.code_prior import CodePriorSampler

NAME = "vqvae.tiny"
PRIOR = dict(filters=4, num_layers=2, first_kernel_size=3, kernel_size=3, epochs=1, batch_size=16)
# Each builds Keras models and compiles the prior's steps: seconds on every backend (8 to 80 s on JAX here,
# with the machine loaded), so all are in the slow lane (.ci/run runs it on TensorFlow).
SLOW = pytest.mark.slow


def _vq():
    return keras_ae.VQVAE(input_shape=(4, 4, 1), filters=(4,), blocks_per_stage=0, num_codes=8, embedding_dim=3,
                          seed=1)


def _fitted(model, weights_dtype="float32", seed=0):
    """A sampler as `fit_codes` leaves it, with the prior's initial weights (no training: quick on every backend)."""
    keras.utils.set_random_seed(seed)
    s = CodePriorSampler(**PRIOR, weights_dtype=weights_dtype).attach(model)
    s._build()
    s._store(s.prior.get_weights())
    s.code_size_, s.n_fit_ = 4, 40
    return s.attach(model)


@pytest.fixture
def vq_zoo(unsigned_zoo):
    model = _vq()
    sampler = _fitted(model, "float16")
    zoo.save_entry(NAME, model, {"description": "test"}, directory=str(unsigned_zoo), sampler=sampler)
    return unsigned_zoo, model, sampler


def test_the_kind_registers_with_the_models_and_checks_its_settings():
    assert "code_prior" in samplers.list_samplers()
    s = samplers.get_sampler("code_prior", filters=4, num_layers=2)
    assert s.kind == "code_prior" and s.prior is None and s.grid_shape is None
    assert CodePriorSampler.from_config(s.get_config()).get_config() == s.get_config()
    with pytest.raises(ValueError, match="weights_dtype"):
        CodePriorSampler(weights_dtype="int8")
    with pytest.raises(samplers.NotFittedError, match="attach"):
        CodePriorSampler().fit_codes(np.zeros((4, 2, 2), "int32"))


def test_codebook_stats_and_code_bits():
    from keras_ae.zoo.vq import codebook_stats, code_bits

    usage, perplexity = codebook_stats(np.array([[0, 1], [2, 3]]), 8)
    assert usage == 0.5 and perplexity == pytest.approx(4.0)
    assert codebook_stats(np.zeros((3, 2, 2), "int32"), 4) == (0.25, pytest.approx(1.0))
    assert code_bits(type("M", (), {"code_shape": (14, 14), "num_codes": 32})()) == 980.0


@SLOW
def test_file_round_trip_keeps_the_prior(tmp_path):
    model = _vq()
    s = _fitted(model, "float16")
    assert model.prior is s.prior and s.code_size_ == 4
    s.save(tmp_path / "prior.npz")
    with np.load(tmp_path / "prior.npz", allow_pickle=False) as data:
        assert {data[k].dtype for k in data.files if k != "metadata"} == {np.dtype("float16")}
    back = samplers.load_sampler(tmp_path / "prior.npz", model=_vq())
    assert back.kind == "code_prior" and back.grid_shape == (2, 2) and back.num_codes == 8
    for a, b in zip(s.prior.get_weights(), back.prior.get_weights()):
        np.testing.assert_array_equal(a, b)
    codes = np.random.default_rng(0).integers(0, 8, (5, 2, 2))
    assert back.bits_per_code(codes) == pytest.approx(s.bits_per_code(codes), rel=1e-6)
    np.testing.assert_array_equal(back.sample_codes(3, seed=2), s.sample_codes(3, seed=2))
    assert back.sample(2, seed=0).shape == (2, 4, 4, 1)


@SLOW
def test_bad_files_and_models_are_refused(tmp_path):
    model = _vq()
    s = _fitted(model)
    s.save(tmp_path / "p.npz")
    with np.load(tmp_path / "p.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["weight_1"] = np.zeros((2, 2), "float32")
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"bad\.npz.*'weight_1'.*shape"):
        samplers.load_sampler(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="8 codes on a .2, 2. grid"):
        samplers.load_sampler(tmp_path / "p.npz", model=keras_ae.VQVAE(
            input_shape=(4, 4, 1), filters=(4,), blocks_per_stage=0, num_codes=16, embedding_dim=3))
    with pytest.raises(ValueError, match="grid of indices"):
        CodePriorSampler().attach(keras_ae.VAE(input_shape=(4,), hidden_units=(4,), latent_dim=2))
    with pytest.raises(TypeError, match="'code_prior' sampler"):
        model.sample(2, sampler=samplers.get_sampler("normal"))


@SLOW
def test_the_zoo_entry_ships_its_prior_hashed_and_signed(vq_zoo):
    path, model, sampler = vq_zoo
    entry = zoo.info(NAME)
    assert entry["sampler"]["kind"] == "code_prior"
    loaded = zoo.load(NAME)
    assert loaded.prior is not None  # load attaches the shipped prior: the entry generates as it is
    np.testing.assert_allclose(loaded.sample(3, seed=1), model.sample(3, seed=1), atol=1e-6)
    np.testing.assert_allclose(loaded.sample(3, seed=1, sampler=zoo.load_sampler(NAME, model=loaded)),
                               model.sample(3, seed=1), atol=1e-6)
    sampler_file = path / entry["sampler"]["file"]
    data = bytearray(sampler_file.read_bytes())
    data[-40] ^= 1
    sampler_file.write_bytes(bytes(data))
    with pytest.raises(zoo.ZooError, match=entry["sampler"]["file"].replace(".", r"\.")):
        zoo.load(NAME)


@SLOW
def test_the_signature_binds_the_prior(vq_zoo):
    path, _, _ = vq_zoo
    manifest = path / (NAME + ".json")
    entry = json.loads(manifest.read_text())
    entry["sampler"]["sha256"] = "0" * 64  # as if another prior had been put in its place
    manifest.write_text(json.dumps(entry))
    with pytest.raises(zoo.ZooError, match="signature"):
        zoo.load(NAME)


@SLOW
def test_keras_ae_sample_draws_from_the_shipped_prior(vq_zoo, tmp_path, capsys):
    out = tmp_path / "s.png"
    assert cli.main(["sample", NAME, "-n", "4", "--temperature", "0.7", "--out", str(out)]) == 0
    assert os.path.getsize(out) > 0
    assert "code_prior sampler" in capsys.readouterr().out


@SLOW
def test_fit_trains_the_prior_on_the_codes():
    model = _vq()
    x = np.random.default_rng(0).uniform(size=(48, 4, 4, 1)).astype("float32")
    s = CodePriorSampler(**{**PRIOR, "epochs": 3, "lr": 1e-2}).fit(model, x)
    codes = model.encode(x)
    assert s.n_fit_ == 48 and model.prior is s.prior
    assert s.bits_per_code(codes) < np.log2(8)  # below a uniform guess over the 8 codes
