"""Attribute vectors shipped with zoo entries (the smile vector): computed, hashed, signed, checked on load."""

import json
import os

import numpy as np
import pytest

import keras_ae
from keras_ae import latent, zoo
from keras_ae.zoo.attributes import attribute_vectors

NAME = "vae.tiny_faces"


def _vae():
    return keras_ae.VAE(input_shape=(4, 4, 1), hidden_units=(8,), latent_dim=3, seed=0)


@pytest.fixture
def faces():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(40, 4, 4, 1)).astype("uint8")
    smiling = np.arange(40) % 2 == 0
    x[smiling, :2] = 255  # the "smile": a bright top half
    return x, {"Smiling": smiling, "Male": np.arange(40) < 10}


@pytest.fixture
def face_zoo(unsigned_zoo):
    model = _vae()
    zoo.save_entry(NAME, model, {"description": "test"}, directory=str(unsigned_zoo))
    return unsigned_zoo, model


def test_vectors_are_mean_code_differences(face_zoo, faces):
    _, model = face_zoo
    x, attrs = faces
    vectors, counts = attribute_vectors(model, x, attrs)
    expected = latent.attribute_vector(model, x[attrs["Smiling"]] / 255.0, x[~attrs["Smiling"]] / 255.0)
    np.testing.assert_allclose(vectors["Smiling"], expected, rtol=1e-4, atol=1e-5)
    assert counts == {"Smiling": [20, 20], "Male": [10, 30]}
    with pytest.raises(ValueError, match=r"Unknown attribute\(s\) \['Bald'\]"):
        attribute_vectors(model, x, attrs, ["Bald"])
    with pytest.raises(ValueError, match="needs images with it and without it"):
        attribute_vectors(model, x, {"Smiling": np.ones(40, bool)})


def test_round_trip_signature_and_files(face_zoo, faces):
    path, model = face_zoo
    vectors, counts = attribute_vectors(model, *faces)
    before = zoo.info(NAME)["signature"]
    entry = zoo.save_attributes(NAME, vectors, {"counts_with_without": counts})
    record = entry["attributes"]
    assert record["names"] == ["Smiling", "Male"] and record["metadata"]["counts_with_without"] == counts
    assert record["file"] == f"{NAME}.{record['sha256'][:12]}{zoo.ATTRIBUTES_SUFFIX}"
    assert entry["signature"] != before  # the vectors are bound to the entry
    loaded = zoo.load_attributes(NAME)
    assert list(loaded) == ["Smiling", "Male"]
    for k in loaded:
        assert loaded[k].dtype == np.float32
        np.testing.assert_array_equal(loaded[k], vectors[k])
    zoo.load(NAME)  # the entry still loads
    # Writing new vectors replaces the file and removes the old one.
    zoo.save_attributes(NAME, {"Smiling": vectors["Smiling"] * 2})
    files = sorted(os.listdir(path))
    assert sum(f.endswith(zoo.ATTRIBUTES_SUFFIX) for f in files) == 1
    np.testing.assert_array_equal(zoo.load_attributes(NAME)["Smiling"], vectors["Smiling"] * 2)


def test_a_tampered_attributes_file_or_record_is_refused_naming_it(face_zoo, faces):
    path, model = face_zoo
    zoo.save_attributes(NAME, attribute_vectors(model, *faces)[0])
    record = zoo.info(NAME)["attributes"]
    f = path / record["file"]
    data = bytearray(f.read_bytes())
    data[-20] ^= 1
    f.write_bytes(bytes(data))
    with pytest.raises(zoo.ZooError, match=rf"Attributes file .*{record['file']}.* fails its hash check"):
        zoo.load_attributes(NAME)
    m = path / f"{NAME}.json"
    entry = json.loads(m.read_text())
    entry["attributes"]["sha256"] = "0" * 64
    m.write_text(json.dumps(entry))
    with pytest.raises(zoo.ZooError, match="its model config, weights hash or attributes was changed"):
        zoo.load_attributes(NAME)
    entry["attributes"]["names"] = "Smiling"
    m.write_text(json.dumps(entry))
    with pytest.raises(zoo.ZooError, match=r"attributes.names must be a list of distinct attribute names"):
        zoo.info(NAME)


def test_refusals_before_any_file(face_zoo):
    path, _ = face_zoo
    listing = sorted(os.listdir(path))
    with pytest.raises(ValueError, match="must have 3 values"):
        zoo.save_attributes(NAME, {"Smiling": np.zeros(4)})
    with pytest.raises(ValueError, match="NaN or infinite"):
        zoo.save_attributes(NAME, {"Smiling": np.full(3, np.nan)})
    assert sorted(os.listdir(path)) == listing
    with pytest.raises(zoo.ZooError, match="has no attribute vectors"):
        zoo.load_attributes(NAME)


def test_a_retrained_entry_drops_the_old_models_vectors(face_zoo, faces):
    path, model = face_zoo
    zoo.save_attributes(NAME, attribute_vectors(model, *faces)[0])
    zoo.save_entry(NAME, _vae(), {"description": "retrained"}, directory=str(path))
    assert "attributes" not in zoo.info(NAME)
    assert not any(f.endswith(zoo.ATTRIBUTES_SUFFIX) for f in os.listdir(path))


def test_a_key_signature_is_renewed(face_zoo, faces, tmp_path_factory):
    path, model = face_zoo
    key_file = str(tmp_path_factory.mktemp("key") / "key.pem")
    public = zoo.generate_signing_key(key_file)
    zoo.sign_manifest(NAME, signing_key=key_file)
    zoo.save_attributes(NAME, attribute_vectors(model, *faces)[0], signing_key=key_file)
    zoo.load_attributes(NAME, trusted_keys=[public])
    zoo.save_attributes(NAME, {"Smiling": np.ones(3)})  # no key: the stale key signature goes
    with pytest.raises(zoo.ZooError):
        zoo.load_attributes(NAME, trusted_keys=[public])
