"""keras_ae/fastest_backends.json: built from the speed benchmark's figures, read by `--backend auto` and by the
zoo's recipes; the committed table is the one benchmarks/results.json's speed figures give."""

import configparser
import fnmatch
import json
import os

import pytest

import benchmark_fixtures  # noqa: F401  (puts the repository on sys.path for `benchmarks`)
from benchmarks import backend_table as writer
from keras_ae import backend_table
from keras_ae.cli import backend

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _speed(rates):
    """A `speed` record as results.json holds it: {backend: {"training": [{"variant", "keras_ae"}, ...]}}."""
    by_backend = {}
    for variant, per_backend in rates.items():
        for b, sps in per_backend.items():
            by_backend.setdefault(b, {"training": []})["training"].append({"variant": variant, "keras_ae": sps})
    return {"backends": {**by_backend, "torch_missing": {"skipped": "not installed"}}, "date": "2026-01-01T00:00:00"}


@pytest.fixture
def table(tmp_path):
    t = writer.build_table(_speed({"dense": {"tensorflow": 100.0, "jax": 300.0, "torch": 200.0},
                                   "conv": {"tensorflow": 900.0, "jax": 100.0, "torch": 500.0},
                                   "jacobian": {"tensorflow": 10.0, "torch": 30.0}}),
                           {"command": "python -m benchmarks --speed", "date": "2026-01-01T00:00:00"})
    path = str(tmp_path / "fastest_backends.json")
    with open(path, "w") as f:
        json.dump(t, f)
    return path


def test_the_table_names_each_variants_fastest_backend_with_its_figures(table):
    t = backend_table.load_table(table)
    assert t["variants"]["dense"] == {"fastest": "jax", "samples_per_s": {"tensorflow": 100.0, "jax": 300.0,
                                                                          "torch": 200.0}}
    assert t["variants"]["conv"]["fastest"] == "tensorflow" and t["variants"]["jacobian"]["fastest"] == "torch"
    assert t["source"] == {"command": "python -m benchmarks --speed", "date": "2026-01-01T00:00:00"}
    assert backend_table.fastest_backend("dense", ("tensorflow", "torch"), table) == "torch"  # jax not installed
    assert backend_table.fastest_backend("not_timed", path=table) is None
    assert backend_table.load_table(str(os.path.join(os.path.dirname(table), "missing.json"))) == {"variants": {}}


def test_auto_picks_the_fastest_installed_backend_and_tensorflow_is_the_default(table, monkeypatch):
    installed = {"tensorflow", "jax", "torch"}
    real = backend.importlib.util.find_spec
    monkeypatch.setattr(backend.importlib.util, "find_spec",
                        lambda name, *a: (real("os") if name in installed else None))
    assert backend.choose("dense", table=table) == "jax"
    assert backend.choose("conv", table=table) is None  # TensorFlow: Keras's default, KERAS_BACKEND left unset
    assert backend.choose("jacobian", table=table) == "torch"
    assert backend.choose("not_timed", table=table) is None
    installed.discard("jax")
    assert backend.choose("dense", table=table) == "torch"
    installed.discard("torch")
    assert backend.choose("dense", table=table) is None and backend.choose("jacobian", table=table) is None


@pytest.mark.parametrize("bad, says", [
    ({"variants": {"v": {"fastest": "jax", "samples_per_s": {"jax": 1.0, "tensorflow": 2.0}}}}, "the most"),
    ({"variants": {"v": {"fastest": "mxnet", "samples_per_s": {"mxnet": 1.0}}}}, "backends among"),
    ({"variants": {"v": {"fastest": "jax", "samples_per_s": {"jax": -1.0}}}}, "positive"),
    ([], "'variants'"),
])
def test_a_malformed_table_is_refused_naming_the_file(tmp_path, bad, says):
    path = str(tmp_path / "t.json")
    with open(path, "w") as f:
        json.dump(bad, f)
    with pytest.raises(ValueError, match=says) as e:
        backend_table.load_table(path)
    assert path in str(e.value)


def test_a_recipe_without_a_backend_trains_on_the_tables(table, monkeypatch, tmp_path):
    from keras_ae.zoo import recipe_backend as rb
    from keras_ae.zoo import train

    monkeypatch.setenv("KERAS_AE_ZOO", str(tmp_path))  # a zoo that ships none of these entries
    monkeypatch.setitem(train.RECIPES, "dense.test", {"variant": "dense"})
    monkeypatch.setitem(train.RECIPES, "dense.pinned", {"variant": "dense", "backend": "tensorflow"})
    monkeypatch.setitem(train.RECIPES, "other.test", {"variant": "not_timed"})
    monkeypatch.setattr(rb, "fastest_backend", lambda v, available: backend_table.fastest_backend(
        v, available=available, path=table))
    assert train.recipe_backend("dense.test") == "jax"
    assert train.recipe_backend("dense.pinned") == "tensorflow"
    assert train.recipe_backend("other.test") == "tensorflow"
    assert train.recipe_command("dense.test").startswith("KERAS_BACKEND=jax ")


def test_a_shipped_entry_retrains_on_the_backend_its_manifest_records(table, monkeypatch, tmp_path):
    # The table may name another backend after a later speed run; the shipped entry's recorded command
    # must still reproduce it. Entries from before manifests recorded a backend were trained on TensorFlow.
    from keras_ae.zoo import recipe_backend as rb
    from keras_ae.zoo import train

    monkeypatch.setenv("KERAS_AE_ZOO", str(tmp_path))
    monkeypatch.setitem(train.RECIPES, "dense.torch", {"variant": "dense"})
    monkeypatch.setitem(train.RECIPES, "dense.old", {"variant": "dense"})
    monkeypatch.setitem(train.RECIPES, "dense.broken", {"variant": "dense"})
    monkeypatch.setattr(rb, "fastest_backend", lambda v, available: backend_table.fastest_backend(
        v, available=available, path=table))
    (tmp_path / "dense.torch.json").write_text(json.dumps({"versions": {"backend": "torch"}}))
    (tmp_path / "dense.old.json").write_text(json.dumps({"versions": {"keras": "3.0.0"}}))
    (tmp_path / "dense.broken.json").write_text("{not json")
    assert train.recipe_backend("dense.torch") == "torch"
    assert train.recipe_backend("dense.old") == "tensorflow"
    with pytest.raises(train.index.ZooError, match="dense.broken.json"):
        train.recipe_backend("dense.broken")


def test_the_committed_table_is_the_one_results_json_gives():
    with open(os.path.join(ROOT, "benchmarks", "results.json"), encoding="utf-8") as f:
        results = json.load(f)
    assert backend_table.load_table() == writer.build_table(results["speed"], writer.table_run(results["runs"]))
    assert writer.table_run({"speed": "whole", "speed.training": "part"}) == "part"
    assert writer.table_run({"speed": "whole", "speed.flops": "part"}) == "whole"
    assert set(backend_table.load_table()["variants"]) <= set(backend.variants())  # no stale names


def test_a_run_outside_benchmarks_or_quick_keeps_its_table_beside_its_results(tmp_path):
    assert writer.table_path(writer.HERE, quick=False) == backend_table.TABLE_PATH
    assert writer.table_path(writer.HERE, quick=True) == os.path.join(writer.HERE, writer.NAME)
    assert writer.table_path(str(tmp_path), quick=False) == os.path.join(str(tmp_path), writer.NAME)
    with open(tmp_path / "results.json", "w") as f:
        json.dump({"quick": False, "speed": _speed({"dense": {"jax": 2.0, "tensorflow": 1.0}}), "runs": {}}, f)
    written = writer.write_from_folder(str(tmp_path), log=lambda msg: None)
    assert written == str(tmp_path / writer.NAME)
    assert backend_table.load_table(written)["variants"]["dense"]["fastest"] == "jax"


def test_the_table_is_installed_with_the_package():
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, "setup.cfg"))
    patterns = cfg["options.package_data"].get("keras_ae", "").replace(",", " ").split()
    assert any(fnmatch.fnmatch(writer.NAME, p) for p in patterns), patterns
