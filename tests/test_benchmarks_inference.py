"""benchmarks/inference_speed.py (`--inference`): the timing sizes, the pairing with the conv peak, the harness's
records with the worker processes faked, and the report (no timing)."""

import json

import pytest

import benchmark_fixtures  # noqa: F401  (puts the repository on sys.path for `benchmarks`)
from benchmarks import inference_speed, inference_worker, speed
from benchmarks.report_inference import inference_section


def test_images_per_timing_are_whole_batches_of_at_least_the_minimum():
    assert inference_speed.images_per_timing((32, 100, 512), 256) == {"32": 256, "100": 300, "512": 512}
    assert inference_speed.images_per_timing((50,), 0) == {"50": 50}  # one batch at least


def test_each_timing_is_paired_with_the_peak_timed_right_before(monkeypatch):
    events, rates = [], iter([100.0, 50.0, 80.0])  # images/s of three timings

    def peak():
        events.append("peak")
        return {"gflops": {1: 10.0, 3: 5.0, 5: 8.0}[len(events)]}  # the machine slowed in the second pair

    monkeypatch.setattr(inference_worker, "_timed", lambda run, n: (events.append("verb"), next(rates))[1])
    row = inference_worker.paired_rounds(lambda: None, 64, 2e7, peak, rounds=3)  # 0.02 GFLOP per image
    assert events == ["peak", "verb"] * 3
    assert row["fractions_of_peak"] == pytest.approx([0.2, 0.2, 0.2])  # the pairs agree although images/s moved
    assert row["images_per_s"] == 80.0 and row["peak_gflops"] == 8.0 and row["images"] == 64


@pytest.mark.parametrize("rate, most, expected", [
    (1000.0, 256, 256),  # fast: capped at the most
    (20.0, 256, 64),  # 4 s at 20 images/s: 80 images, 2 whole batches of 32
    (1.0, 256, 32),  # slow: one batch at least
])
def test_images_per_timing_aim_at_a_few_seconds_in_whole_batches(monkeypatch, rate, most, expected):
    monkeypatch.setattr(inference_worker, "_timed", lambda run, n: rate)
    assert inference_worker.images_for(lambda: None, 32, most, seconds=4.0) == expected
    assert inference_worker.images_for(lambda: 1 / 0, 512, 256) == 512  # one batch: no rate needed


def _verbs_result(backend):
    rows = [{"verb": verb, "batch_size": b, "images": 256, "images_per_s": 400.0 / b ** 0.1,
             "peak_gflops": 80.0, "fraction_of_peak": 0.25, "gflops_per_image": 0.05}
            for verb in ("encode", "reconstruct", "sample") for b in (32, 128)]
    return {"entries": [{"name": "resnet.cifar10_z64", "model": "ResNetAutoencoder", "input_shape": [32, 32, 3],
                         "sample_from": "its shipped gmm sampler", "rows": rows}],
            "conv_peak": {"dtype": "float32", "shape": {}, "repeats": 3},
            "versions": {"backend": backend}, "kind": "verbs", "busy_cpus": 0.2}


def _rss_result(spec):
    nbytes = spec["n"] * 3072
    added = 30 * 2 ** 20 if spec["path"] == "api" else nbytes * 5  # the detector's: bounded by the batch
    return {"entry": spec["entry"], "path": spec["path"], "images": spec["n"], "shape": [32, 32, 3],
            "dtype": "uint8", "nbytes": nbytes, "baseline_rss": 900 * 2 ** 20, "peak_rss": 900 * 2 ** 20 + added,
            "peak_reset": True, "added": added, "ratio": added / nbytes, "seconds": 10.0, "images_per_s": 500.0,
            "kind": "rss", "busy_cpus": 0.1}


def _fake_run(args, backend, log, prefix=None):
    """benchmarks.speed._run without a process: writes what the worker would."""
    _, kind, out, spec = args
    spec = json.loads(spec)
    result = {"verbs": lambda: _verbs_result(backend), "rss": lambda: _rss_result(spec),
              "fid": lambda: {"shape": spec["shape"], "gflops_per_image": 11.4, "busy_cpus": 0.3,
                              "versions": {"torch": "2", "torch_threads": 2},
                              "rows": [{"verb": "fid_features", "batch_size": b, "images": b, "images_per_s": 3.0,
                                        "peak_gflops": 80.0, "fraction_of_peak": 0.43, "gflops_per_image": 11.4}
                                       for b in spec["batch_sizes"]]}}[kind]()
    with open(out, "w") as f:
        json.dump({**result, "spec": spec, "backend": backend}, f)


def test_harness_runs_each_backend_and_scores_by_the_cli_on_the_first(monkeypatch):
    monkeypatch.setattr(speed, "_run", _fake_run)
    record = inference_speed.run_inference(lambda m: None, backends=("tensorflow", "jax"),
                                           settings=dict(batch_sizes=(32, 128), rss_images=1000))
    assert set(record["backends"]) == {"tensorflow", "jax"}
    assert record["backends"]["jax"]["spec"]["images"] == {"32": 256, "128": 256}
    assert {b: [(r["path"], r["images"]) for r in runs] for b, runs in record["scoring_rss"].items()} == {
        "tensorflow": [("api", 100), ("api", 1000), ("cli", 1000)], "jax": [("api", 100), ("api", 1000)]}
    assert record["fid"]["backend"] == "torch" and record["fid"]["spec"]["batch_sizes"] == [32, 50, 128]
    text = "\n".join(inference_section(record, {"command": "python -m benchmarks --inference", "date": "d"}))
    assert "| `resnet.cifar10_z64` | encode | JAX | 0.050 | 283 (25.0%) | 246 (25.0%) |" in text
    assert "| 50 | 50 | 3.00 | 43.0% | 80.0 |" in text
    assert "| TensorFlow | `keras-ae score detector.keras --data x.npy` (uint8 .npy file) | 1,000 | 3 | 900 | 15 | " \
           "5.00 | 500 |" in text
    assert "| JAX | `ReconstructionDetector.decision_function(x)`, x uint8 in memory | 1,000 | 3 | 900 | 30 | 10.24 |" \
           in text
    assert "| JAX | `ReconstructionDetector.decision_function(x)`, x uint8 in memory | 100 | 0 | 900 | 30 | 102.40 |" \
           in text
    assert "(about 1 when it is bounded by the batch, 10 when it grows with the images): TensorFlow 1.00, JAX 1.00." \
           in text
    assert "0.10–0.30 of" in text and "was busy" not in text


def test_harness_skips_a_backend_that_is_not_installed(monkeypatch):
    monkeypatch.setattr(speed, "_run", _fake_run)
    monkeypatch.setattr(inference_speed.importlib.util, "find_spec", lambda name: None)
    record = inference_speed.run_inference(lambda m: None, backends=("jax",), settings=dict(batch_sizes=(32,)))
    assert record["backends"] == {"jax": {"skipped": "jax is not installed"}} and "skipped" in record["fid"]
    text = "\n".join(inference_section(record))
    assert "JAX: jax is not installed." in text and "FID features: skipped" in text
