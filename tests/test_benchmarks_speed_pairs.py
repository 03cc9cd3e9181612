"""benchmarks/spe_pairs.py (`--steps-per-execution`): the decision rule, the table keras-ae train reads and its
reading, and the report, on fabricated worker results (no timing)."""

import json

import pytest

import benchmark_fixtures  # noqa: F401  (puts the repository on sys.path for `benchmarks`)
from benchmarks import spe_pairs
from benchmarks.report_spe import spe_section
from keras_ae.training import default_steps_per_execution


def _result(rate, first, busy=0.1):
    return {"samples_per_s": rate, "first": first, "busy_cpus": busy,
            "versions": {"keras": "3", "backend": "jax"}}


def _record(ratios_by_backend, busy=0.1):
    backends = {}
    for backend, ratios in ratios_by_backend.items():
        if ratios is None:
            backends[backend] = {"skipped": "its trainer refuses it"}
            continue
        ones = [_result(100.0, i % 2 == 0, busy) for i in range(len(ratios))]
        candidates = [_result(100.0 * r, i % 2 == 1, busy) for i, r in enumerate(ratios)]
        backends[backend] = {"models": {"dense": spe_pairs.pair_row(ones, candidates),
                                        "image": spe_pairs.pair_row(ones, ones)}}
    return {"cpus": 2, "candidate": 8, "threshold": 1.05, "pairs": 5, "batch_size": 256, "quick": False,
            "models": {"dense": {"variant": "undercomplete", "shape": [784], "images": 59392, "epochs": 3},
                       "image": {"variant": "convolutional", "shape": [28, 28, 1], "images": 8192, "epochs": 2}},
            "backends": backends}


@pytest.mark.parametrize("ratios, steps", [
    ([1.05, 1.05, 1.05, 0.5, 2.0], 8),  # the median, not the mean (1.14) or the minimum, decides
    ([1.04, 1.2, 1.3, 0.9, 1.0], 1),  # a median of 1.04 is short of 1.05
    ([2.0, 2.0, 0.1, 0.1, 1.049], 1),
])
def test_decision_rule_is_the_median_ratio_against_the_threshold(ratios, steps):
    assert spe_pairs.decide(ratios) == steps


def test_decide_refuses_no_pairs():
    with pytest.raises(ValueError, match="at least one pair"):
        spe_pairs.decide([])


def test_pair_row_takes_ratios_pair_by_pair():
    ones = [_result(100.0, True), _result(50.0, False)]  # the machine halved its speed in the second pair
    candidates = [_result(110.0, False), _result(55.0, True)]
    row = spe_pairs.pair_row(ones, candidates)
    assert row["ratios"] == pytest.approx([1.1, 1.1]) and row["steps_per_execution"] == 8
    assert row["first"] == ["one", "candidate"] and row["pairs"] == 2


def test_table_is_what_keras_ae_train_reads(tmp_path):
    record = _record({"tensorflow": [0.9, 1.0, 1.0, 1.1, 0.95], "jax": [1.2, 1.1, 1.3, 1.0, 1.06],
                      "torch": None})
    path = tmp_path / "steps_per_execution.json"
    table = spe_pairs.write_table(str(path), record, {"command": "python -m benchmarks --steps-per-execution"})
    assert table["backends"] == {"tensorflow": {"dense": 1, "image": 1}, "jax": {"dense": 8, "image": 1}}
    assert json.loads(path.read_text()) == table
    assert default_steps_per_execution("dense", "jax", path=str(path)) == 8
    assert default_steps_per_execution("image", "jax", path=str(path)) == 1
    assert default_steps_per_execution("dense", "torch", path=str(path)) == 1  # no row: 1
    assert default_steps_per_execution("dense", "jax", path=str(tmp_path / "missing.json")) == 1  # no table: 1


@pytest.mark.parametrize("content, message", [
    ("not json", "expected a JSON object"),
    ('{"backends": {"jax": {"dense": 0}}}', "expected a positive integer"),
    ('{"backends": {"jax": {"dense": "8"}}}', "expected a positive integer"),
])
def test_a_bad_table_is_refused_naming_the_file(tmp_path, content, message):
    path = tmp_path / "table.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as e:
        default_steps_per_execution("dense", "jax", path=str(path))
    assert str(path) in str(e.value)


def test_report_shows_each_row_the_decision_and_a_busy_machine():
    record = _record({"tensorflow": [0.9, 1.0, 1.0, 1.1, 0.95], "jax": [1.2, 1.1, 1.3, 1.0, 1.06], "torch": None},
                     busy=1.5)
    text = "\n".join(spe_section(record, {"command": "python -m benchmarks --steps-per-execution", "date": "d"}))
    assert "| JAX | dense | 100 | 110 | 1.10 | 1.00–1.30 (5 pairs) | **8** |" in text
    assert "| TensorFlow | dense | 100 | 100 | 1.00 | 0.90–1.10 (5 pairs) | **1** |" in text
    assert "PyTorch: not timed: its trainer refuses it." in text
    assert "at least 1.05, else 1" in text and "**The machine was busy**" in text
    quiet = "\n".join(spe_section(_record({"jax": [1.0] * 5}, busy=0.05)))
    assert "was busy" not in quiet and "0.05–0.05 of 2" in quiet


class _Stop(Exception):
    pass


@pytest.mark.parametrize("variant, kind", [("undercomplete", "dense"), ("convolutional", "image")])
def test_keras_ae_train_compiles_with_the_tables_steps(tmp_path, monkeypatch, variant, kind):
    import keras
    import numpy as np

    from keras_ae import training
    from keras_ae.cli import main as cli_main

    table = tmp_path / "steps_per_execution.json"
    table.write_text(json.dumps({"backends": {keras.backend.backend(): {kind: 4}}}))
    monkeypatch.setattr(training, "STEPS_PER_EXECUTION_TABLE", str(table))
    seen = []

    def fake_fit(model, data, **kwargs):
        seen.append(kwargs["steps_per_execution"])
        raise _Stop

    monkeypatch.setattr(training, "fit_model", fake_fit)
    data = tmp_path / "x.npy"
    np.save(data, np.random.default_rng(0).integers(0, 256, (40, 28, 28, 1), dtype="uint8"))
    with pytest.raises(_Stop):
        cli_main(["train", variant, "--data", str(data), "--out", str(tmp_path / "m.keras"), "--epochs", "1"])
    table.write_text(json.dumps({"backends": {}}))  # no row: one step per call
    with pytest.raises(_Stop):
        cli_main(["train", variant, "--data", str(data), "--out", str(tmp_path / "m.keras"), "--epochs", "1",
                  "--restart"])
    assert seen == [4, 1]
