"""Samplers shipped with zoo entries: written, hashed and signed with the weights; every refusal names the file."""

import json
import os
import re

import numpy as np
import pytest

import keras_ae
from keras_ae import zoo
from keras_ae.samplers import GaussianMixtureSampler, GaussianSampler, NotFittedError
from keras_ae.models.registry import VARIANTS
from keras_ae.zoo.recipes import RECIPES

NAME = "vae.tiny"


@pytest.fixture(scope="module")
def x16():
    return np.random.default_rng(0).uniform(size=(120, 16)).astype("float32")


def _vae(latent_dim=2):
    return keras_ae.VAE(input_shape=(16,), hidden_units=(8,), latent_dim=latent_dim, seed=0)


@pytest.fixture
def vae_zoo(tmp_path, monkeypatch, x16):
    """A temporary zoo with one VAE entry and its Gaussian mixture sampler (test_zoo.py's `tmp_zoo` pattern)."""
    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path))
    model = _vae()
    sampler = GaussianMixtureSampler(n_components=3).fit(model, x16)
    zoo.save_entry(NAME, model, {"description": "test"}, directory=str(tmp_path), sampler=sampler)
    return tmp_path, model, sampler


def _edit_manifest(path, edit):
    m = path / f"{NAME}.json"
    entry = json.loads(m.read_text())
    edit(entry)
    m.write_text(json.dumps(entry))


def _sampler_file(path):
    return path / zoo.info(NAME)["sampler"]["file"]


def test_round_trip_info_and_files(vae_zoo):
    path, model, sampler = vae_zoo
    entry = zoo.info(NAME)
    record = entry["sampler"]
    assert set(record) == {"file", "sha256", "size", "kind"} and record["kind"] == "gmm"
    assert record["file"] == f"{NAME}.{record['sha256'][:12]}{zoo.SAMPLER_SUFFIX}"
    assert record["size"] == os.path.getsize(path / record["file"]) and zoo.sha256_of(path / record["file"]) == \
        record["sha256"]
    assert sorted(os.listdir(path)) == sorted([f"{NAME}.json", entry["weights"]["file"], record["file"]])
    # The signature binds the sampler's hash too; without one it is the signature of before.
    wsha = entry["weights"]["sha256"]
    assert entry["signature"] == zoo.signature(entry["config"], wsha, record["sha256"])
    assert entry["signature"] != zoo.signature(entry["config"], wsha)
    assert zoo.sampler_path(NAME) == str(path / record["file"])

    loaded = zoo.load_sampler(NAME)  # decodes with the entry's own model, loaded and checked
    assert type(loaded) is GaussianMixtureSampler and loaded.get_config() == sampler.get_config()
    assert loaded.model is not model and loaded.model.count_params() == model.count_params()
    np.testing.assert_array_equal(loaded.sample_codes(20, seed=1), sampler.sample_codes(20, seed=1))
    np.testing.assert_allclose(loaded.sample(6, seed=1), sampler.sample(6, seed=1), rtol=1e-6, atol=1e-7)
    mine = zoo.load_sampler(NAME, model=model)
    assert mine.model is model
    np.testing.assert_allclose(model.sample(6, seed=1, sampler=mine), sampler.sample(6, seed=1), rtol=1e-6,
                               atol=1e-7)


@pytest.mark.parametrize("damage, message", [
    ("flip", "fails its hash check: expected sha256 {sha}, got "),
    ("truncate", r"is 100 bytes, expected \d+ \(truncated or replaced\?\); expected sha256 {sha}"),
    ("remove", r"is missing \(expected sha256 {sha}\)"),
])
def test_a_damaged_sampler_file_is_refused_naming_it(vae_zoo, damage, message):
    path, _, _ = vae_zoo
    f = _sampler_file(path)
    sha = zoo.info(NAME)["sampler"]["sha256"]
    data = bytearray(f.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
        f.write_bytes(bytes(data))
    elif damage == "truncate":
        f.write_bytes(bytes(data[:100]))
    else:
        f.unlink()
    with pytest.raises(zoo.ZooError, match="Sampler file .*" + re.escape(f.name) + " " + message.format(sha=sha)):
        zoo.load_sampler(NAME)
    zoo.load(NAME)  # the model itself is unharmed: its weights pass their own check


def test_an_edited_sampler_hash_fails_the_signature_then_the_file_check(vae_zoo):
    path, model, _ = vae_zoo
    f = _sampler_file(path)
    _edit_manifest(path, lambda e: e["sampler"].update(sha256="0" * 64))
    for load in (zoo.load_sampler, zoo.load):  # the whole entry is refused: its manifest was edited
        with pytest.raises(zoo.ZooError, match=re.escape(f"{NAME}.json") + " of 'vae.tiny' fails its signature "
                                               "check: its model config, weights hash or sampler was changed"):
            load(NAME)
    zoo.sign_manifest(NAME, str(path))  # signed again as it stands: now the file's own hash refuses it
    with pytest.raises(zoo.ZooError, match=f"Sampler file .*{re.escape(f.name)} fails its hash check: "
                                           f"expected sha256 {'0' * 64}"):
        zoo.load_sampler(NAME, model=model)


def test_a_removed_or_relabelled_sampler_record_is_caught(vae_zoo):
    path, _, _ = vae_zoo
    _edit_manifest(path, lambda e: e.pop("sampler"))
    with pytest.raises(zoo.ZooError, match="fails its signature check"):
        zoo.load(NAME)
    _edit_manifest(path, lambda e: e.update(sampler=dict(file="x", sha256="0" * 64, size=1)))
    with pytest.raises(zoo.ZooError, match="sampler lacks the required field 'kind'"):
        zoo.info(NAME)
    _edit_manifest(path, lambda e: e.update(sampler=dict(file="../x.npz", sha256="0" * 64, size=1, kind="gmm")))
    with pytest.raises(zoo.ZooError, match=r"sampler\.file must be a file name inside the zoo folder"):
        zoo.info(NAME)


def test_a_file_that_passes_its_hash_is_still_checked_field_by_field(vae_zoo):
    path, model, sampler = vae_zoo
    f = _sampler_file(path)
    with np.load(f) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["weights"] = arrays["weights"] * 2.0
    bad = path / "bad.npz"
    with open(bad, "wb") as out:
        np.savez(out, **arrays)
    sha = zoo.sha256_of(bad)
    new = path / f"{NAME}.{sha[:12]}{zoo.SAMPLER_SUFFIX}"
    os.replace(bad, new)
    _edit_manifest(path, lambda e: e["sampler"].update(file=new.name, sha256=sha, size=os.path.getsize(new)))
    zoo.sign_manifest(NAME, str(path))
    with pytest.raises(zoo.ZooError, match=f"Sampler file .*{re.escape(new.name)} of zoo entry 'vae.tiny' is "
                                           "refused: .*array 'weights' must be >= 0 and sum to 1"):
        zoo.load_sampler(NAME, model=model)
    # A sampler of another kind under the recorded one, and a model of another code size.
    _edit_manifest(path, lambda e: e["sampler"].update(file=f.name, sha256=zoo.sha256_of(f),
                                                       size=os.path.getsize(f), kind="gaussian"))
    zoo.sign_manifest(NAME, str(path))
    with pytest.raises(zoo.ZooError, match="holds a 'gmm' sampler, but its manifest .* records sampler.kind "
                                           "'gaussian'"):
        zoo.load_sampler(NAME, model=model)
    with pytest.raises(zoo.ZooError, match=re.escape(f.name) + ".*field 'code_size'.*size 2.*size 3"):
        zoo.load_sampler(NAME, model=_vae(latent_dim=3))


def test_an_entry_without_a_sampler(tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path))
    model = _vae()
    entry = zoo.save_entry(NAME, model, {"description": "test"}, directory=str(tmp_path))
    assert "sampler" not in entry and not any(n.endswith(zoo.SAMPLER_SUFFIX) for n in os.listdir(tmp_path))
    # Signed as before samplers existed: the manifests written then stay valid.
    assert entry["signature"] == zoo.signature(entry["config"], entry["weights"]["sha256"])
    with pytest.raises(zoo.ZooError, match=r"Zoo entry 'vae.tiny' has no sampler: its manifest .*vae.tiny.json "
                                           r"records none.*get_sampler\('gmm'\)\.fit\("):
        zoo.load_sampler(NAME)
    zoo.load(NAME)


def test_updates_replace_and_remove_the_sampler_file(vae_zoo, x16):
    path, model, _ = vae_zoo
    first = _sampler_file(path).name
    other = GaussianSampler().fit(model, x16)
    entry = zoo.save_entry(NAME, model, {"description": "test"}, directory=str(path), sampler=other)
    assert entry["sampler"]["kind"] == "gaussian" and entry["sampler"]["file"] != first
    assert sorted(os.listdir(path)) == sorted([f"{NAME}.json", entry["weights"]["file"], entry["sampler"]["file"]])
    assert type(zoo.load_sampler(NAME, model=model)) is GaussianSampler
    # An update without a sampler removes the old one: it was fitted to the old weights' codes.
    entry = zoo.save_entry(NAME, model, {"description": "test"}, directory=str(path))
    assert sorted(os.listdir(path)) == sorted([f"{NAME}.json", entry["weights"]["file"]])


def test_a_failed_sampler_write_leaves_the_old_entry(vae_zoo, x16):
    path, model, sampler = vae_zoo
    before = sorted(os.listdir(path))
    manifest = (path / f"{NAME}.json").read_text()
    other = GaussianSampler().fit(model, x16)

    def broken(tmp):
        with open(tmp, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    other.save = broken
    changed = _vae()  # other weights: a new weights file is written before the sampler fails
    changed.set_weights([w + 1.0 for w in model.get_weights()])
    with pytest.raises(OSError, match="disk full"):
        zoo.save_entry(NAME, changed, {"description": "test"}, directory=str(path), sampler=other)
    assert sorted(os.listdir(path)) == before and (path / f"{NAME}.json").read_text() == manifest
    np.testing.assert_array_equal(zoo.load_sampler(NAME, model=model).means_, sampler.means_)


def test_a_sampler_that_does_not_fit_the_model_is_refused_before_any_file(tmp_path, x16):
    model = _vae()
    with pytest.raises(ValueError, match=r"sampler for zoo entry 'vae.tiny' does not fit its model.*size 3"):
        zoo.save_entry(NAME, model, {}, directory=str(tmp_path),
                       sampler=GaussianSampler().fit(_vae(latent_dim=3), x16))
    with pytest.raises(NotFittedError):
        zoo.save_entry(NAME, model, {}, directory=str(tmp_path), sampler=GaussianMixtureSampler())
    with pytest.raises(TypeError, match="must be a fitted keras_ae.samplers.Sampler. Received: 'gmm'"):
        zoo.save_entry(NAME, model, {}, directory=str(tmp_path), sampler="gmm")
    with pytest.raises(ValueError, match="save_entry's `sampler` argument"):
        zoo.save_entry(NAME, model, {"sampler": {"kind": "gmm"}}, directory=str(tmp_path))
    assert os.listdir(tmp_path) == []


# ---- a recipe's `sampler` key --------------------------------------------------------------

def test_the_image_recipes_ship_a_gmm_and_the_mnist_ones_do_not():
    for name, recipe in RECIPES.items():
        on_mnist = recipe.get("dataset", "mnist") == "mnist"
        if recipe["variant"] == "vqvae":  # a VQ-VAE ships its PixelCNN prior over the code grid
            assert recipe["sampler"]["kind"] == "code_prior", name
            continue
        if recipe.get("conditional"):  # a CVAE draws z from the prior under the labels asked: no sampler
            assert recipe.get("sampler") is None, name
            continue
        if not VARIANTS[recipe["variant"]].decodes_from_code_alone:  # colorization: its decoder needs the image
            assert recipe.get("sampler") is None, name
            continue
        assert recipe.get("sampler") == (None if on_mnist else {"kind": "gmm", "n_components": 10}), name


def test_encode_images_converts_uint8_a_chunk_at_a_time(monkeypatch):
    from keras_ae.zoo.recipe_sampler import encode_images

    model = _vae()
    x = (np.random.default_rng(1).random((50, 16)) * 255).astype("uint8")
    seen = []
    real = model.encode

    def recording(part, batch_size=256):
        seen.append((len(part), part.dtype))
        return real(part, batch_size=batch_size)

    monkeypatch.setattr(model, "encode", recording)
    codes = encode_images(model, x, chunk=20)
    assert seen == [(20, np.float32), (20, np.float32), (10, np.float32)]
    np.testing.assert_allclose(codes, real(x.astype("float32") / 255.0), rtol=1e-6, atol=1e-6)


@pytest.mark.slow  # out of the default run's 10-minute budget; .ci/run's slow block runs it
def test_an_image_recipe_with_a_sampler_ships_it(tmp_path, monkeypatch):
    """A recipe on CIFAR-10 (faked, as in test_zoo_images.py) with `sampler`: fitted to every training code."""
    from keras_ae.zoo import images, recipe_sampler
    from keras_ae.zoo import train as zoo_train
    from test_zoo_images import _fake_dataset

    monkeypatch.setattr(images, "load_images", lambda name: _fake_dataset(name))
    monkeypatch.setattr(images, "dataset_record", lambda info, source, n_train, n_test: {
        "name": info.name, "source": "fixture", "licence": info.licence, "train_images": n_train,
        "test_images": n_test})
    monkeypatch.setattr(recipe_sampler, "CHUNK", 40)  # 96 training images: three chunks
    name = "resnet.tiny_cifar"
    recipe = dict(variant="resnet", dataset="cifar10", description="tiny",
                  kwargs=dict(filters=[4, 8], blocks_per_stage=1, latent_dim=6), epochs=1, batch_size=32, lr=1e-3,
                  sampler=dict(kind="gmm", n_components=2))
    with monkeypatch.context() as m:  # a bad setting fails before any training
        m.setitem(zoo_train.RECIPES, name, dict(recipe, sampler=dict(kind="gmm", n_component=2)))
        m.setattr(zoo_train, "fit_model", lambda *a, **k: pytest.fail("trained before the sampler was checked"))
        with pytest.raises(ValueError, match=r"recipe's `sampler` .* does not build a sampler.*n_component"):
            zoo_train.train(name, work_dir=str(tmp_path / "runs"), out_dir=str(tmp_path / "zoo"), verbose=0)
    monkeypatch.setitem(zoo_train.RECIPES, name, recipe)
    entry = zoo_train.train(name, work_dir=str(tmp_path / "runs"), out_dir=str(tmp_path / "zoo"), verbose=0)
    assert entry["recipe"]["sampler"] == {"kind": "gmm", "n_components": 2}
    assert entry["sampler"]["kind"] == "gmm"
    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path / "zoo"))
    sampler = zoo.load_sampler(name)
    assert sampler.n_fit_ == 96 and sampler.code_size_ == 6
    model = sampler.model
    images_out = sampler.sample(4, seed=0)
    assert images_out.shape == (4, 32, 32, 3) and np.all(np.isfinite(images_out))
    x_train = _fake_dataset("cifar10")[0]
    refit = GaussianMixtureSampler(n_components=2).fit_codes(model.encode(x_train.astype("float32") / 255.0))
    np.testing.assert_allclose(np.sort(refit.weights_), np.sort(sampler.weights_), atol=1e-4)


@pytest.mark.slow  # out of the default run's 10-minute budget; .ci/run's slow block runs it
def test_the_sample_command_draws_with_the_shipped_sampler(vae_zoo, capsys):
    # `keras-ae sample` draws from the entry's sampler unless told `--sampler prior`; an entry without
    # one falls back to the prior, and `--sampler entry` on it is a one-line error.
    from unittest import mock

    from keras_ae import cli

    path, model, sampler = vae_zoo
    drawn = []
    original = keras_ae.VAE.sample

    def spy(self, n, temperature=1.0, seed=None, batch_size=256, sampler=None):
        drawn.append(sampler)
        return original(self, n, temperature=temperature, seed=seed, batch_size=batch_size, sampler=sampler)

    with mock.patch.object(keras_ae.VAE, "sample", spy):
        assert cli.main(["sample", NAME, "-n", "4", "--out", str(path / "a.png")]) == 0
        assert "4 samples from its gmm sampler" in capsys.readouterr().out
        assert cli.main(["sample", NAME, "-n", "4", "--sampler", "prior", "--out", str(path / "b.png")]) == 0
        assert "4 samples from the prior" in capsys.readouterr().out
    assert isinstance(drawn[0], GaussianMixtureSampler) and drawn[1] is None
    np.testing.assert_array_equal(drawn[0].sample_codes(5, seed=0), sampler.sample_codes(5, seed=0))
    zoo.save_entry("vae.plain", model, {"description": "test"}, directory=str(path))
    assert cli.main(["sample", "vae.plain", "-n", "2", "--out", str(path / "c.png")]) == 0
    assert "from the prior" in capsys.readouterr().out
    assert cli.main(["sample", "vae.plain", "--sampler", "entry", "--out", str(path / "d.png")]) != 0
    assert "vae.plain ships no sampler; use --sampler prior" in capsys.readouterr().err
    assert sorted(p.name for p in path.glob("*.png")) == ["a.png", "b.png", "c.png"]
