"""Presets that travel (issue 37, item 2): save_to_preset, and from_preset / get_model from a folder, a URL
(an HTTP server on 127.0.0.1 that the test starts, and file://), and hf:// offline from a cache the test fills.
"""

import functools
import http.server
import json
import os
import re
import shutil
import socket
import sys
import threading
import types

import numpy as np
import pytest

import keras_ae
from keras_ae.zoo import index, keys
from keras_ae.zoo.manifest import ZooError
from keras_ae.zoo.preset import PRESET_FILE, Preset

# conftest's autouse fixture refuses every connection; the HTTP tests allow the loopback host only.
_REAL_CONNECT, _REAL_CREATE = socket.socket.connect, socket.create_connection
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")


def _model():
    model = keras_ae.VAE(input_shape=(16,), latent_dim=2, hidden_units=(8,), name="tiny_vae")
    model(np.zeros((1, 16), "float32"))
    return model


X = np.random.default_rng(0).random((4, 16)).astype("float32")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny VAE and the preset folder it was saved to (copy it before changing it)."""
    model = _model()
    folder = tmp_path_factory.mktemp("presets") / "tiny"
    model.save_to_preset(str(folder), metadata={"description": "a tiny VAE"})
    return model, folder


@pytest.fixture
def copy(saved, tmp_path):
    """A copy of the saved preset folder to change."""
    return shutil.copytree(saved[1], tmp_path / "tiny")


@pytest.fixture(autouse=True)
def _own_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv(keys.ENV_TRUSTED_KEYS, raising=False)
    monkeypatch.delenv(keys.ENV_SIGNING_KEY, raising=False)


def _weights(folder):
    return json.loads((folder / PRESET_FILE).read_text())["weights"]["file"]


def _count_weight_loads(monkeypatch):
    calls = []
    real = index._load_weights
    monkeypatch.setattr(index, "_load_weights", lambda model, path: (calls.append(path), real(model, path)))
    return calls


def _same(a, b):
    np.testing.assert_allclose(a.encode(X), b.encode(X), rtol=1e-6, atol=1e-6)


# ---- a folder -----------------------------------------------------------------------------------

def test_round_trip_through_a_folder(saved, monkeypatch):
    model, folder = saved
    weights = _weights(folder)
    assert sorted(os.listdir(folder)) == sorted([PRESET_FILE, weights])
    assert re.fullmatch(r"model\.[0-9a-f]{12}\.weights\.h5", weights)
    entry = json.loads((folder / PRESET_FILE).read_text())
    assert entry["name"] == "tiny_vae" and entry["description"] == "a tiny VAE" and "versions" in entry
    assert entry["weights"]["size"] == os.path.getsize(folder / weights) and keys.FIELD not in entry
    loaded = keras_ae.VAE.from_preset(str(folder))
    assert type(loaded) is keras_ae.VAE
    _same(model, loaded)
    _same(model, keras_ae.get_model(folder, pretrained=True))  # a pathlib.Path too
    assert Preset(str(folder / PRESET_FILE)).entry == entry  # the manifest's own path names the folder too
    monkeypatch.chdir(folder.parent)
    assert isinstance(keras_ae.BaseAutoencoder.from_preset("tiny"), keras_ae.VAE)  # a folder's bare name
    fresh = keras_ae.get_model("./tiny")  # the architecture only
    assert fresh.count_params() == model.count_params() and not np.allclose(fresh.encode(X), model.encode(X))


def test_another_class_is_refused_before_the_weights_are_read(copy, monkeypatch):
    os.remove(copy / _weights(copy))  # so reading them would fail differently
    with pytest.raises(ValueError, match=r"is a VAE, not a ConvVAE: load it with keras_ae.VAE.from_preset"):
        keras_ae.ConvVAE.from_preset(str(copy))


def test_a_tampered_weights_file_is_refused_naming_it(copy, monkeypatch):
    loads = _count_weight_loads(monkeypatch)
    path = copy / _weights(copy)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    path.write_bytes(bytes(data))
    with pytest.raises(ZooError, match=re.escape(str(path)) + ".*fails its hash check"):
        keras_ae.VAE.from_preset(str(copy))
    path.write_bytes(bytes(data[:-10]))
    with pytest.raises(ZooError, match=re.escape(str(path)) + ".*bytes, expected"):
        keras_ae.get_model(str(copy), pretrained=True)
    assert loads == []


def test_an_edited_config_is_refused_naming_the_manifest(copy, monkeypatch):
    loads = _count_weight_loads(monkeypatch)
    manifest = copy / PRESET_FILE
    entry = json.loads(manifest.read_text())
    entry["config"]["config"]["activation"] = "tanh"
    manifest.write_text(json.dumps(entry))
    with pytest.raises(ZooError, match=re.escape(str(manifest)) + ".*fails its signature check"):
        keras_ae.VAE.from_preset(str(copy))
    assert loads == []


def test_save_writes_only_into_a_new_empty_or_preset_folder(saved, tmp_path):
    model, _ = saved
    other = tmp_path / "notes"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"not empty and is not a keras-ae preset folder.*notes.txt"):
        model.save_to_preset(str(other))
    assert os.listdir(other) == ["notes.txt"] and (other / "notes.txt").read_text() == "mine"
    (other / PRESET_FILE).write_text("{}")
    with pytest.raises(ValueError, match="not a keras-ae preset.*refusing to overwrite"):
        model.save_to_preset(str(other))
    assert (other / PRESET_FILE).read_text() == "{}"
    with pytest.raises(ValueError, match="is a file"):
        model.save_to_preset(str(other / "notes.txt"))
    with pytest.raises(ValueError, match="name"):
        model.save_to_preset(str(tmp_path / "x"), name="../escape")
    with pytest.raises(ValueError, match="may not set config"):
        model.save_to_preset(str(tmp_path / "y"), metadata={"config": {}})


def test_saving_again_replaces_the_preset_and_removes_only_its_old_weights(saved, copy):
    model, _ = saved
    old = _weights(copy)
    (copy / "README.md").write_text("a model card the user added")
    changed = _model()
    changed.set_weights([w + 0.5 for w in model.get_weights()])
    with pytest.raises(ValueError, match="overwrite=False"):
        changed.save_to_preset(str(copy), overwrite=False)
    changed.save_to_preset(str(copy))
    new = _weights(copy)
    assert new != old and sorted(os.listdir(copy)) == sorted([PRESET_FILE, new, "README.md"])
    _same(changed, keras_ae.VAE.from_preset(str(copy)))


def test_keys_sign_a_preset_and_trusted_keys_check_it(tmp_path, monkeypatch):
    pem = str(tmp_path / "keys" / "me.pem")
    public = keys.generate_signing_key(pem)
    other = keys.generate_signing_key(str(tmp_path / "keys" / "other.pem"))
    model = _model()
    signed, unsigned = tmp_path / "signed", tmp_path / "unsigned"
    entry = model.save_to_preset(str(signed), signing_key=pem)
    assert [r["key_id"] for r in entry[keys.FIELD]] == [keys.key_id(public)]
    model.save_to_preset(str(unsigned))
    _same(model, keras_ae.VAE.from_preset(str(signed), trusted_keys=[public]))
    Preset(str(unsigned))  # no keys asked for: the hashes are checked, and it passes
    with pytest.raises(ZooError, match="not signed by a trusted key"):
        keras_ae.VAE.from_preset(str(signed), trusted_keys=[other])
    with pytest.raises(ZooError, match=re.escape(str(unsigned / PRESET_FILE)) + ".*not signed by a trusted key"):
        keras_ae.get_model(str(unsigned), pretrained=True, trusted_keys=public)
    monkeypatch.setenv(keys.ENV_TRUSTED_KEYS, public)
    assert Preset(str(signed)).name == "tiny_vae"
    with pytest.raises(ZooError, match="not signed by a trusted key"):
        keras_ae.VAE.from_preset(str(unsigned))


def test_bad_locations_are_clear(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="No preset folder at"):
        keras_ae.VAE.from_preset(str(tmp_path / "nowhere"))
    with pytest.raises(ZooError, match="not a keras-ae preset folder: it has no preset.json"):
        keras_ae.VAE.from_preset(str(tmp_path))
    with pytest.raises(ValueError, match="Unknown preset scheme s3://"):
        keras_ae.VAE.from_preset("s3://bucket/tiny")
    with pytest.raises(ValueError, match="https:// .*Received: 'http://example.org/tiny'"):
        keras_ae.VAE.from_preset("http://example.org/tiny")  # refused before any connection
    with pytest.raises(TypeError, match="zoo name"):
        keras_ae.VAE.from_preset(3)
    with pytest.raises(ZooError, match=r"Unknown zoo model 'my_vae'.*Or give a preset folder \('./my_vae'\)"):
        keras_ae.VAE.from_preset("my_vae")  # no folder of that name here either
    with pytest.raises(ValueError, match=r"Unknown variant 'my_vae'.*or a preset folder \('./NAME'\)"):
        keras_ae.get_model("my_vae")


# ---- a URL ----------------------------------------------------------------------------------------

@pytest.fixture
def serve(monkeypatch):
    """Start an HTTP server on 127.0.0.1 for a folder; return (base URL, list of requested paths)."""
    def connect(sock, address):
        if address[0] not in _LOOPBACK:
            raise RuntimeError(f"tests connect to the loopback host only, not {address}")
        return _REAL_CONNECT(sock, address)

    def create(address, *args, **kwargs):
        if address[0] not in _LOOPBACK:
            raise RuntimeError(f"tests connect to the loopback host only, not {address}")
        return _REAL_CREATE(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    servers = []

    def start(folder):
        requests = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                requests.append(self.path)

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                 functools.partial(Handler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", requests

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_round_trip_through_a_localhost_url_and_its_cache(saved, serve, tmp_path):
    model, folder = saved
    base, requests = serve(folder.parent)
    _same(model, keras_ae.VAE.from_preset(f"{base}/tiny"))
    assert sorted(requests) == sorted([f"/tiny/{PRESET_FILE}", f"/tiny/{_weights(folder)}"])
    (cache,) = (tmp_path / "keras_home" / "keras_ae" / "presets").iterdir()
    assert sorted(os.listdir(cache)) == sorted([PRESET_FILE, _weights(folder)])
    requests.clear()
    _same(model, keras_ae.get_model(f"{base}/tiny/", pretrained=True))  # from the cache: no request
    assert requests == []
    keras_ae.get_model(f"{base}/tiny", force_download=True)  # the manifest again, the cached weights kept
    assert requests == [f"/tiny/{PRESET_FILE}"]


def test_a_tampered_download_is_refused_naming_the_file_and_not_kept(copy, serve, tmp_path, monkeypatch):
    loads = _count_weight_loads(monkeypatch)
    weights = copy / _weights(copy)
    weights.write_bytes(weights.read_bytes()[:-1] + b"!")
    base, _ = serve(copy.parent)
    with pytest.raises(ZooError, match=re.escape(f"Weights file {weights.name} from {base}/tiny/{weights.name} "
                                                 "fails its hash check")):
        keras_ae.VAE.from_preset(f"{base}/tiny")
    (cache,) = (tmp_path / "keras_home" / "keras_ae" / "presets").iterdir()
    assert os.listdir(cache) == [PRESET_FILE] and loads == []


def test_a_missing_file_on_the_server_is_named(copy, serve):
    os.remove(copy / _weights(copy))
    base, _ = serve(copy.parent)
    with pytest.raises(ZooError, match=f"Cannot fetch {_weights(copy)} of preset {base}/tiny.*404"):
        keras_ae.VAE.from_preset(f"{base}/tiny")


def test_round_trip_through_a_file_url(saved, tmp_path):
    model, folder = saved
    _same(model, keras_ae.VAE.from_preset(folder.as_uri()))
    assert (tmp_path / "keras_home" / "keras_ae" / "presets").is_dir()


# ---- hf:// and kaggle:// ---------------------------------------------------------------------------

def _fill_hf_cache(hub_cache, repo_id, folder):
    """Lay `folder`'s files out as huggingface_hub caches a download: blobs, a snapshot of symlinks, refs/main."""
    import hashlib

    repo = hub_cache / ("models--" + repo_id.replace("/", "--"))
    commit = hashlib.sha1(repo_id.encode()).hexdigest()
    (repo / "blobs").mkdir(parents=True)
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    for name in os.listdir(folder):
        data = (folder / name).read_bytes()
        blob = hashlib.sha256(data).hexdigest()
        (repo / "blobs" / blob).write_bytes(data)
        os.symlink(os.path.join("..", "..", "blobs", blob), repo / "snapshots" / commit / name)
    return repo / "snapshots" / commit


@pytest.fixture
def hf_offline(tmp_path, monkeypatch):
    """huggingface_hub offline, with its cache in tmp_path; returns the hub cache folder."""
    pytest.importorskip("huggingface_hub")
    from huggingface_hub import constants

    hub_cache = tmp_path / "hf" / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # The hub reads these variables when it is first imported; the running process's copies follow them.
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub_cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return hub_cache


def test_hf_preset_loads_offline_from_the_hub_cache(saved, hf_offline, monkeypatch):
    model, folder = saved
    snapshot = _fill_hf_cache(hf_offline, "someone/tiny", folder)
    _same(model, keras_ae.VAE.from_preset("hf://someone/tiny"))
    _same(model, keras_ae.get_model("hf://someone/tiny", pretrained=True))
    with pytest.raises(ValueError, match="is a VAE, not a ConvVAE"):
        keras_ae.ConvVAE.from_preset("hf://someone/tiny")
    with pytest.raises(ZooError, match=f"{PRESET_FILE} of preset hf://someone/other is not found"):
        keras_ae.VAE.from_preset("hf://someone/other")
    loads = _count_weight_loads(monkeypatch)
    blob = os.path.realpath(snapshot / _weights(folder))
    with open(blob, "r+b") as f:
        f.seek(100)
        f.write(b"\0\1\2")
    with pytest.raises(ZooError, match=re.escape(str(snapshot / _weights(folder))) + ".*fails its hash check"):
        keras_ae.VAE.from_preset("hf://someone/tiny")
    assert loads == []


def test_kaggle_handles_go_through_kagglehub(saved, monkeypatch):
    """kagglehub is not installed here: a stand-in module checks the calls keras-ae makes to it."""
    model, folder = saved
    calls = []

    def model_download(handle, path):
        calls.append((handle, path))
        return str(folder / path)

    monkeypatch.setitem(sys.modules, "kagglehub", types.SimpleNamespace(model_download=model_download))
    _same(model, keras_ae.VAE.from_preset("kaggle://someone/tiny/keras/v1"))
    assert calls == [("someone/tiny/keras/v1", PRESET_FILE), ("someone/tiny/keras/v1", _weights(folder))]
    with pytest.raises(ValueError, match="kaggle://owner/model/keras/variation"):
        keras_ae.VAE.from_preset("kaggle://someone/tiny")


# ---- README ------------------------------------------------------------------------------------

def test_readme_presets_block_runs(saved, serve, hf_offline, tmp_path, monkeypatch):
    """README's block, with its web server's URL pointed at one on 127.0.0.1 and the hub's cache filled."""
    text = open(README, encoding="utf-8").read()
    section = text.split("### Presets of your own\n", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    monkeypatch.chdir(tmp_path)
    base, requests = serve(tmp_path)
    assert "https://example.org/presets/my_vae" in code
    code = code.replace("https://example.org/presets", base)
    namespace = {}
    real_save = keras_ae.BaseAutoencoder.save_to_preset

    def save_and_upload(self, folder, **kwargs):  # what the user uploads to the hub lands in its cache
        entry = real_save(self, folder, **kwargs)
        _fill_hf_cache(hf_offline, "me/my_vae", tmp_path / folder)
        return entry

    monkeypatch.setattr(keras_ae.BaseAutoencoder, "save_to_preset", save_and_upload)
    exec(compile("import keras_ae\n" + code, "README-presets-travel", "exec"), namespace)
    assert len(requests) == 2 and isinstance(namespace["vae"], keras_ae.VAE)
    x = np.random.default_rng(0).random((4, 784)).astype("float32")
    np.testing.assert_allclose(namespace["vae"].encode(x), keras_ae.VAE.from_preset("vae.mnist_z2").encode(x),
                               rtol=1e-6, atol=1e-6)
