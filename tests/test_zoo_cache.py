"""The zoo index reads each manifest once per call, caches it by file stamp, and never serves a stale one."""

import json
import os
import time

import pytest

from keras_ae import zoo
from keras_ae.zoo import index, manifest
from model_check import small_model


@pytest.fixture
def reads(monkeypatch):
    """A list that grows by the path of every manifest file read."""
    manifest.clear_cache()
    seen = []
    real = manifest._load_json
    monkeypatch.setattr(manifest, "_load_json", lambda path: seen.append(os.path.basename(path)) or real(path))
    return seen


def test_load_reads_its_manifest_once_even_without_the_cache(reads, monkeypatch):
    monkeypatch.setattr(manifest, "_SETTLED_NS", float("inf"))  # nothing is cached
    zoo.load("undercomplete.mnist_z2")
    assert reads == ["undercomplete.mnist_z2.json"]


def test_repeated_calls_do_not_read_again(reads, monkeypatch):
    monkeypatch.setattr(manifest, "_SETTLED_NS", -1)  # the checkout may be seconds old
    names = zoo.list_models()
    zoo.markdown_table()
    assert sorted(reads) == sorted(n + ".json" for n in names)
    reads.clear()
    zoo.markdown_table()
    zoo.info(names[0])
    zoo.load(names[0])
    assert reads == []
    # What a caller gets is its own copy: editing it does not edit the cache.
    zoo.info(names[0])["config"]["class_name"] = "Edited"
    assert zoo.info(names[0])["config"]["class_name"] != "Edited"
    zoo.load(names[0])


@pytest.fixture
def tmp_entry(tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path))
    zoo.save_entry("undercomplete.tiny", small_model("undercomplete"), {"description": "test"},
                   directory=str(tmp_path))
    return tmp_path / "undercomplete.tiny.json"


def _edit(path, description, mtime=None):
    entry = json.loads(path.read_text())
    entry["description"] = description
    path.write_text(json.dumps(entry))  # in place: same inode
    if mtime is not None:
        os.utime(path, ns=(mtime, mtime))


def test_an_edit_is_seen(tmp_entry, reads):
    old = time.time_ns() - 3_600_000_000_000
    _edit(tmp_entry, "aaaa", mtime=old)
    assert zoo.info("undercomplete.tiny")["description"] == "aaaa"
    assert zoo.info("undercomplete.tiny")["description"] == "aaaa" and len(reads) == 1  # cached
    _edit(tmp_entry, "bbbb", mtime=old + 1)  # same size, one nanosecond later
    assert zoo.info("undercomplete.tiny")["description"] == "bbbb" and len(reads) == 2
    _edit(tmp_entry, "cccccc", mtime=old + 1)  # same time, another size
    assert zoo.info("undercomplete.tiny")["description"] == "cccccc"
    zoo.save_entry("undercomplete.tiny", small_model("undercomplete"), {"description": "dddddd"},
                   directory=str(tmp_entry.parent))  # a new file (atomic rename), then its time set back
    os.utime(tmp_entry, ns=(old + 1, old + 1))
    assert zoo.info("undercomplete.tiny")["description"] == "dddddd"


def test_a_file_changed_within_the_last_tick_is_never_cached(tmp_entry, reads):
    # File times advance in clock ticks: two same-size writes within one tick share a stamp.
    _edit(tmp_entry, "aaaa")
    stamp = os.stat(tmp_entry).st_mtime_ns
    assert zoo.info("undercomplete.tiny")["description"] == "aaaa"
    _edit(tmp_entry, "bbbb", mtime=stamp)
    assert zoo.info("undercomplete.tiny")["description"] == "bbbb"


def test_a_broken_manifest_is_not_cached(tmp_entry, reads):
    good = tmp_entry.read_text()
    tmp_entry.write_text("{not json")
    with pytest.raises(zoo.ZooError, match="does not parse"):
        zoo.info("undercomplete.tiny")
    tmp_entry.write_text(good)
    assert zoo.info("undercomplete.tiny")["name"] == "undercomplete.tiny"


def test_model_class_reads_the_config_and_builds_nothing(monkeypatch):
    import keras_ae

    built = []
    monkeypatch.setattr(index, "_build", lambda *a: built.append(a))
    assert zoo.model_class("vae.mnist_z2") is keras_ae.VAE
    assert zoo.presets_of(keras_ae.ConvVAE) == ["conv_vae.mnist_z16"]
    assert built == []
