"""Zoo authenticity (issue 36, item 10): entries signed with an Ed25519 key, loaded with trusted public keys.

The sha256 signature catches an accidental or uninformed edit; these tests are the attacks it does not
catch (an edited config or swapped weights with the signature recomputed), refused once keys are trusted.
"""

import json
import os
import shutil

import numpy as np
import pytest

from keras_ae import zoo
from keras_ae.zoo import keys
from model_check import small_model

SHIPPED = "undercomplete.mnist_z2"


@pytest.fixture
def key_pair(tmp_path):
    """A fresh signing key in a PEM file (mode 600), and its public half."""
    path = tmp_path / "keys" / "signing.pem"
    public = keys.generate_signing_key(str(path))
    return str(path), public


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch):
    """A copy of one shipped entry in a zoo folder of its own (so no key is trusted by default)."""
    folder = tmp_path / "zoo"
    folder.mkdir()
    entry = json.loads(open(os.path.join(zoo.zoo_dir(), SHIPPED + ".json"), encoding="utf-8").read())
    for f in (SHIPPED + ".json", entry["weights"]["file"]):
        shutil.copy(os.path.join(zoo.zoo_dir(), f), folder / f)
    monkeypatch.setenv(zoo.ENV_ZOO, str(folder))
    monkeypatch.delenv(keys.ENV_TRUSTED_KEYS, raising=False)
    return folder


def edit(folder, name, change):
    path = folder / f"{name}.json"
    entry = json.loads(path.read_text())
    change(entry)
    path.write_text(json.dumps(entry))
    zoo.sign_manifest(name, directory=str(folder))  # the attacker recomputes the sha256 signature


def test_the_shipped_zoo_is_signed_with_the_project_key():
    assert len(zoo.list_models()) >= 14
    assert keys.default_trusted_keys(zoo.zoo_dir()) == [keys.PROJECT_PUBLIC_KEY]
    for name in zoo.list_models():  # the default for the package's own zoo: the project key
        zoo.info(name)
        zoo.info(name, trusted_keys=[keys.PROJECT_PUBLIC_KEY])


@pytest.mark.parametrize("attack", ["activation", "weights"])
def test_a_recomputed_signature_is_refused_with_the_project_key(attack, shipped_copy):
    """The issue's repro: relu -> tanh, or other weights, then the signature recomputed; accepted 3 of 3 times."""
    project = [keys.PROJECT_PUBLIC_KEY]
    zoo.load(SHIPPED, trusted_keys=project)  # the copy as shipped: signed by the project key
    if attack == "activation":
        edit(shipped_copy, SHIPPED, lambda e: e["config"]["config"].update(activation="tanh"))
    else:
        model = zoo.load(SHIPPED)
        model.set_weights([w * 0.5 for w in model.get_weights()])
        weights = shipped_copy / zoo.info(SHIPPED)["weights"]["file"]
        os.chmod(weights, 0o644)
        model.save_weights(str(weights))
        edit(shipped_copy, SHIPPED, lambda e: e["weights"].update(
            sha256=zoo.sha256_of(str(weights)), size=os.path.getsize(weights)))
    zoo.load(SHIPPED)  # the sha256 signature alone accepts it: it protects integrity, not authenticity
    for call in (zoo.load, zoo.info, zoo.build):
        with pytest.raises(zoo.ZooError, match=r"zoo/undercomplete\.mnist_z2\.json.*Ed25519 signature by key "
                                               rf"{keys.key_id(keys.PROJECT_PUBLIC_KEY)} does not verify"):
            call(SHIPPED, trusted_keys=project)


def test_an_entry_not_signed_by_a_trusted_key_is_refused(shipped_copy, key_pair, monkeypatch):
    pem, public = key_pair
    with pytest.raises(zoo.ZooError, match=r"undercomplete\.mnist_z2\.json .*is not signed by a trusted key "
                                           rf"\(trusted: {keys.key_id(public)}; signed by: "
                                           rf"{keys.key_id(keys.PROJECT_PUBLIC_KEY)}\)"):
        zoo.load(SHIPPED, trusted_keys=[public])
    zoo.sign_manifest(SHIPPED, directory=str(shipped_copy), signing_key=pem)  # a second signature, the user's
    zoo.load(SHIPPED, trusted_keys=[public])
    zoo.load(SHIPPED, trusted_keys=[keys.PROJECT_PUBLIC_KEY])
    # The environment variable: public key files (or base64 keys), separated like PATH.
    pub_file = shipped_copy.parent / "trusted.pub"
    pub_file.write_text(keys.public_key_pem(public))
    monkeypatch.setenv(keys.ENV_TRUSTED_KEYS, str(pub_file))
    zoo.info(SHIPPED)
    edit(shipped_copy, SHIPPED, lambda e: e["config"]["config"].update(latent_dim=3))
    with pytest.raises(zoo.ZooError, match="does not verify"):
        zoo.info(SHIPPED)
    monkeypatch.setenv(keys.ENV_TRUSTED_KEYS, "not-a-key")
    with pytest.raises(ValueError, match=rf"{keys.ENV_TRUSTED_KEYS}: 'not-a-key' is not"):
        zoo.info(SHIPPED)


def test_a_signed_entry_copied_under_another_name_is_refused(shipped_copy):
    """The key signs the entry's name too: a signed entry cannot stand in for another."""
    shutil.copy(shipped_copy / f"{SHIPPED}.json", shipped_copy / "vae.mnist_z2.json")
    zoo.load("vae.mnist_z2")  # its sha256 signature holds: it binds config and weights, not the name
    with pytest.raises(zoo.ZooError, match=r"vae\.mnist_z2\.json.*does not verify"):
        zoo.load("vae.mnist_z2", trusted_keys=[keys.PROJECT_PUBLIC_KEY])


def test_save_entry_signs_from_a_key_file(tmp_path, key_pair, monkeypatch, x_small):
    pem, public = key_pair
    folder = tmp_path / "zoo"
    monkeypatch.setenv(zoo.ENV_ZOO, str(folder))
    monkeypatch.delenv(keys.ENV_TRUSTED_KEYS, raising=False)
    assert oct(os.stat(pem).st_mode & 0o777) == "0o600"
    model = small_model("undercomplete")
    zoo.save_entry("undercomplete.tiny", model, {}, directory=str(folder), signing_key=pem)
    np.testing.assert_array_equal(zoo.load("undercomplete.tiny", trusted_keys=[public]).predict(x_small, verbose=0),
                                  model.predict(x_small, verbose=0))
    monkeypatch.setenv(keys.ENV_SIGNING_KEY, pem)  # as `python -m keras_ae.zoo_train` is given the key
    zoo.save_entry("undercomplete.env", model, {}, directory=str(folder))
    zoo.info("undercomplete.env", trusted_keys=[public])
    monkeypatch.delenv(keys.ENV_SIGNING_KEY)
    zoo.save_entry("undercomplete.plain", model, {}, directory=str(folder))
    zoo.load("undercomplete.plain")  # no key trusted outside the package's zoo: the sha256 check only
    with pytest.raises(zoo.ZooError, match=r"undercomplete\.plain\.json .*is not signed by a trusted key.*"
                                           r"signed by: none"):
        zoo.load("undercomplete.plain", trusted_keys=[public])
    with pytest.raises(ValueError, match="Cannot read the signing key"):
        zoo.save_entry("undercomplete.bad", model, {}, directory=str(folder), signing_key=str(tmp_path / "none.pem"))
    assert not any(n.startswith("undercomplete.bad") for n in os.listdir(folder))


def test_sampler_is_covered_by_the_key(tmp_path, key_pair, monkeypatch, x_small):
    from keras_ae.samplers import GaussianSampler

    pem, public = key_pair
    folder = tmp_path / "zoo"
    monkeypatch.setenv(zoo.ENV_ZOO, str(folder))
    model = small_model("undercomplete")
    zoo.save_entry("e", model, {}, directory=str(folder), sampler=GaussianSampler().fit(model, x_small),
                   signing_key=pem)
    zoo.load_sampler("e", trusted_keys=[public])
    other = GaussianSampler().fit(model, x_small[:32])
    sampler_file = folder / zoo.info("e")["sampler"]["file"]
    os.chmod(sampler_file, 0o644)
    os.remove(sampler_file)
    other.save(str(sampler_file))
    edit(folder, "e", lambda e: e["sampler"].update(sha256=zoo.sha256_of(str(sampler_file)),
                                                    size=os.path.getsize(sampler_file)))
    zoo.load_sampler("e")
    with pytest.raises(zoo.ZooError, match="does not verify"):
        zoo.load_sampler("e", trusted_keys=[public])


def test_signing_refuses_an_entry_whose_sha256_signature_fails(shipped_copy, key_pair):
    pem, _ = key_pair
    path = shipped_copy / f"{SHIPPED}.json"
    entry = json.loads(path.read_text())
    entry["config"]["config"]["activation"] = "tanh"
    path.write_text(json.dumps(entry))  # edited, and not re-signed: the key must not bless it
    with pytest.raises(zoo.ZooError, match="fails its signature check"):
        zoo.sign_manifest(SHIPPED, directory=str(shipped_copy), signing_key=pem)
    assert json.loads(path.read_text()) == entry


def test_the_signing_command(shipped_copy, tmp_path, capsys):
    from keras_ae.zoo import sign

    pem = str(tmp_path / "k" / "zoo.pem")
    sign.main(["generate", pem])
    public = capsys.readouterr().out.split("its public key: ")[1].split()[0]
    assert oct(os.stat(pem).st_mode & 0o777) == "0o600"
    with pytest.raises(FileExistsError):
        sign.main(["generate", pem])  # never over an existing key
    sign.main(["all", "--key", pem, "--zoo", str(shipped_copy)])
    assert capsys.readouterr().out == f"signed {SHIPPED}\n"
    zoo.load(SHIPPED, trusted_keys=[public])
    assert [r["key_id"] for r in zoo.info(SHIPPED)["key_signatures"]] == [keys.key_id(keys.PROJECT_PUBLIC_KEY),
                                                                          keys.key_id(public)]
