"""benchmarks/conv_speed.py and its parts: the FLOP count against a hand count, the pythae mirror of
ResNetVAE, the report on a fabricated record, and (slow) the whole harness on a tiny model."""

import json
import os

import keras
import numpy as np
import pytest

import keras_ae
import benchmark_fixtures  # noqa: F401  (puts the repository on sys.path for `benchmarks`)
from benchmarks import conv_flops
from benchmarks.report_conv_speed import conv_speed_section


def test_layer_flops_match_a_hand_count():
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, strides=2, padding="same")(inp)  # 4x4x4 out
    h = keras.layers.BatchNormalization()(h)  # counts 0
    h = keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same")(h)  # 4x4x4 in, 8x8x2 out
    out = keras.layers.Dense(5)(keras.layers.Flatten()(h))  # 128 -> 5
    model = keras.Model(inp, out)
    conv = 2 * 4 * 4 * 3 * 3 * 3 * 4
    transpose = 2 * 4 * 4 * 4 * 4 * 4 * 2
    dense = 2 * 128 * 5
    assert [conv_flops.layer_forward_flops(layer) for layer in model.layers[1:]] == [conv, 0, transpose, 0, dense]
    assert conv_flops.forward_flops(keras.Sequential([model])) == conv + transpose + dense  # nested


def test_resnet_vae_training_flops_match_a_hand_count():
    model = keras_ae.ResNetVAE(input_shape=(8, 8, 3), filters=(4,), latent_dim=2, seed=0)
    encoder = (2 * 64 * 9 * 3 * 4  # stem 3->4 at 8x8
               + 2 * 16 * 9 * 4 * 4  # down_0, stride 2 to 4x4
               + 2 * (2 * 16 * 9 * 4 * 4)  # the residual block's two convolutions
               + 2 * (2 * 64 * 2))  # z_mean and z_log_var from the 4x4x4 map
    decoder = (2 * 2 * 64  # project 2 -> 4x4x4
               + 2 * (2 * 16 * 9 * 4 * 4)  # the residual block
               + 2 * 16 * 4 * 4 * 4 * 4  # 4x4 stride-2 transpose from 4x4x4
               + 2 * 64 * 9 * 4 * 3)  # the 3x3 reconstruction at 8x8
    assert conv_flops.forward_flops(model.encoder) == encoder
    assert conv_flops.train_flops_per_sample(model) == 3 * (encoder + decoder)


def test_conv_peak_reports_a_rate():
    peak = conv_flops.conv_peak("float32", batch=1, size=8, channels=4, repeats=2)
    assert peak["gflops"] > 0 and peak["shape"] == dict(batch=1, size=8, channels=4, kernel=3)


@pytest.mark.slow  # importing PyTorch into the TensorFlow test process takes seconds
def test_pythae_side_computes_keras_aes_gaussian_loss():
    torch = pytest.importorskip("torch")
    from benchmarks import conv_pythae
    from keras_ae.losses import MIN_LOG_SCALE, gaussian_nll

    assert conv_pythae.MIN_LOG_SCALE == MIN_LOG_SCALE
    rng = np.random.default_rng(0)
    x, r = rng.random((3, 8, 8, 3), dtype="float32"), rng.random((3, 8, 8, 3), dtype="float32")
    for log_scale in (0.3, -8.0):  # -8: below the bound, where the softplus acts
        ours = keras.ops.convert_to_numpy(gaussian_nll(x, r, log_scale))
        theirs = conv_pythae.gaussian_nll(torch.from_numpy(x), torch.from_numpy(r), torch.tensor(log_scale)).numpy()
        np.testing.assert_allclose(theirs, ours, rtol=1e-5)


@pytest.mark.slow  # importing pythae takes seconds
def test_pythae_mirror_has_keras_aes_weights():
    torch = pytest.importorskip("torch")
    pytest.importorskip("pythae")
    from benchmarks import conv_pythae

    shape, filters, latent = (16, 8, 3), (4, 8), 5
    model = keras_ae.ResNetVAE(input_shape=shape, filters=filters, latent_dim=latent, seed=0)
    mirror = conv_pythae.sigma_vae(shape, filters, latent)
    keras_sizes = sorted(int(np.prod(w.shape)) for w in model.trainable_weights)
    torch_sizes = sorted(p.numel() for p in mirror.parameters())
    assert torch_sizes == keras_sizes  # the same layers, weight for weight (log_scale included)
    assert mirror.decoder(torch.zeros(2, latent)).reconstruction.shape == (2, 3, 16, 8)


def _row(backend, policy, ratio, fraction):
    return {"backend": backend, "dtype_policy": policy, "pairs": 3, "keras_ae_samples_per_s": 300.0 * ratio,
            "pythae_samples_per_s": 300.0, "ratios": [ratio] * 3, "ratio": ratio, "ratio_min": ratio - 0.1,
            "ratio_max": ratio + 0.1, "keras_ae_test_neg_elbo_seeds": [-900.0, -910.0, -905.0],
            "pythae_test_neg_elbo_seeds": [-890.0, -880.0, -885.0], "train_flops_per_sample": 2.5e9,
            "gflops": 40.0, "fractions_of_peak": [fraction] * 3, "fraction_of_peak": fraction,
            "conv_peak_gflops": 100.0, "conv_peak_after_gflops": 95.0,
            "conv_peak": {"dtype": "float32", "shape": dict(batch=64, size=32, channels=128, kernel=3), "repeats": 5},
            "busy_cpus": [0.1, 0.3], "keras_ae_versions": {}, "pythae_versions": {"pythae": "0.1.2", "torch": "2.13.0", "torch_threads": 2}}


def test_report_renders_verdicts_from_a_fabricated_record():
    record = {"cpus": 2, "models": [{"name": "cifar10", "recipe": "resnet_vae.cifar10_z128",
                          "arch": {"input_shape": [32, 32, 3], "filters": [32, 64, 128], "latent_dim": 128,
                                   "blocks_per_stage": 1},
                          "batch_size": 128, "lr": 1e-3, "warmup_steps": 5, "timed_steps": 40,
                          "data": {"title": "CIFAR-10 (JPEG copy)", "train_images": 5760, "test_images": 1000},
                          "rows": [_row("tensorflow", "float32", 1.62, 0.31), _row("torch", "float32", 0.8, 0.12),
                                   _row("tensorflow", "mixed_bfloat16", 2.9, 0.2)]}]}
    run = {"command": "python -m benchmarks --conv-speed", "date": "2026-12-05T12:00:00"}
    text = "\n".join(conv_speed_section(record, run))
    assert "Made by `python -m benchmarks --conv-speed` on 2026-12-05T12:00:00." in text
    assert ("| TensorFlow, float32 | 486.0 | 300.0 | 1.62 | 1.52–1.72 (3 pairs) | -905.0 ± 5.0 | -885.0 ± 5.0 |"
            in text)
    assert "in float32 (pythae's arithmetic): met (TensorFlow, float32, 1.62×)" in text
    assert "Under the zoo's mixed_bfloat16 (other arithmetic than pythae's float32): 2.90×" in text
    assert ("of the conv peak on the best backend: **not met** (TensorFlow, float32, 31.0%, short by 19.0 points)"
            in text)
    assert "in the second before each training process started: 0.10–0.30 of 2" in text and "was busy" not in text
    assert "the zoo's `resnet_vae.cifar10_z128`" in text and "2.500 G" in text
    record["models"][0]["rows"] = [{**_row("torch", "float32", 1.2, 0.6), "busy_cpus": [0.2, 1.4]}]
    text = "\n".join(conv_speed_section(record, run))
    assert "**The machine was busy** (other work on half of its 2 CPUs or more before some run)" in text
    assert "**not met** (PyTorch, float32, 1.20×, short by 0.30)" in text and "met (PyTorch, float32, 60.0%)" in text
    # A miss lists what was tried; a run compiled with XLA is named so, and counts in float32.
    record["models"][0]["rows"] = [_row("tensorflow", "float32", 1.2, 0.5),
                                   {**_row("tensorflow", "float32", 1.4, 0.55), "jit_compile": True}]
    text = "\n".join(conv_speed_section(record, run))
    assert "**not met** (TensorFlow, float32, XLA, 1.40×, short by 0.10)" in text
    assert "Tried for it: each row of the table (TensorFlow, float32 1.20×; TensorFlow, float32, XLA 1.40×)" in text
    assert "| TensorFlow, float32, XLA | 420.0 |" in text
    # With a steps-per-call run, the tried list gives what it measured for image models on that backend.
    spe = {"candidate": 8, "models": {"image": {"variant": "convolutional"}},
           "backends": {"tensorflow": {"models": {"image": {"ratio": 1.01, "steps_per_execution": 1}}}}}
    text = "\n".join(conv_speed_section(record, run, spe))
    assert ("XLA 1.40×), and 8 training steps per call, 1.01× one step for `keras-ae train`'s `convolutional` model "
            "on TensorFlow") in text
    assert "Skipped: pythae is not installed" in "\n".join(conv_speed_section({"skipped": "pythae is not installed"}))


def test_a_run_of_one_architecture_keeps_the_others_figures(tmp_path):
    from benchmarks import conv_speed, report_targets_open
    from benchmarks.report_conv_speed import merge_conv_speed

    assert report_targets_open.CONV_ARCHS == tuple(conv_speed.ARCHS)
    first = {"command": "python -m benchmarks --conv-speed --conv-archs cifar10", "date": "2026-12-05T12:00:00"}
    second = {"command": "python -m benchmarks --conv-speed --conv-archs celeba64", "date": "2026-12-06T12:00:00"}
    model = lambda name, ratio, run: {"name": name, "run": run, "arch": {"input_shape": [32, 32, 3],  # noqa: E731
                                      "filters": [32], "latent_dim": 8, "blocks_per_stage": 1},
                                      "batch_size": 8, "lr": 1e-3, "warmup_steps": 1, "timed_steps": 2,
                                      "data": {"title": "noise", "train_images": 24, "test_images": 4},
                                      "rows": [_row("tensorflow", "float32", ratio, 0.3)]}
    old = {"cpus": 2, "models": [model("cifar10", 1.6, first)]}
    rows = {r[0]: r for r in report_targets_open._conv_speed_rows(old)}
    assert rows["celeba64: conv VAE, keras-ae best backend ÷ pythae (float32)"][3] == "not measured yet"
    assert rows["cifar10: conv VAE, keras-ae best backend ÷ pythae (float32)"][3] == "1.60× (TensorFlow, float32)"
    merged = merge_conv_speed(old, {"cpus": 2, "models": [model("celeba64", 1.2, second)]})
    assert [m["name"] for m in merged["models"]] == ["cifar10", "celeba64"]
    assert merge_conv_speed(merged, {"cpus": 2, "models": [model("cifar10", 1.9, second)]})["models"][1]["rows"][0][
        "ratio"] == 1.9  # the new run replaces its architecture's figures
    assert merge_conv_speed(merged, {"skipped": "pythae is not installed"}) == merged
    text = "\n".join(conv_speed_section(merged, second))
    assert ("Made by `python -m benchmarks --conv-speed --conv-archs cifar10` on 2026-12-05T12:00:00 (cifar10); "
            "`python -m benchmarks --conv-speed --conv-archs celeba64` on 2026-12-06T12:00:00 (celeba64).") in text
    assert not any(r[3] == "not measured yet" for r in report_targets_open._conv_speed_rows(merged))


def test_conv_archs_option_errors(capsys):
    from benchmarks.__main__ import main

    for argv, message in ((["--quality", "--conv-archs", "cifar10"], "--conv-archs needs --conv-speed"),
                          (["--conv-speed", "--conv-archs", "mnist"], "unknown --conv-archs ['mnist']")):
        with pytest.raises(SystemExit):
            main(argv)
        assert message in capsys.readouterr().err, argv


@pytest.mark.slow
def test_harness_runs_a_tiny_model_through_both_trainers(tmp_path, monkeypatch):
    pytest.importorskip("pythae")
    from benchmarks import conv_speed, report

    monkeypatch.setattr(conv_speed, "EXTRA_RUNS", {})
    lines = []
    record = conv_speed.run_conv_speed(
        lines.append, backends=("tensorflow", "torch"), real_data=False,
        archs={"tiny": {"input_shape": [8, 8, 3], "filters": [4], "latent_dim": 2, "batch_size": 4}},
        settings=dict(warmup_steps=1, timed_steps=2, n_test=4, pairs=1,
                      peak=dict(batch=1, size=8, channels=8, repeats=1)))
    (model,) = record["models"]
    assert model["data"]["name"] == "uniform noise" and model["data"]["train_images"] == 12
    assert [(r["backend"], r["keras_ae_versions"]["backend"]) for r in model["rows"]] == [
        ("tensorflow", "tensorflow"), ("torch", "torch")]
    flops = conv_flops.train_flops_per_sample(keras_ae.ResNetVAE(input_shape=(8, 8, 3), filters=(4,), latent_dim=2,
                                                                 seed=0))
    for row in model["rows"]:
        assert row["keras_ae_samples_per_s"] > 0 and row["pythae_samples_per_s"] > 0
        assert row["ratio"] == pytest.approx(row["keras_ae_samples_per_s"] / row["pythae_samples_per_s"])
        assert row["train_flops_per_sample"] == flops
        assert 0 < row["fraction_of_peak"] and np.isfinite(row["keras_ae_test_neg_elbo_seeds"]).all()
        assert np.isfinite(row["pythae_test_neg_elbo_seeds"]).all() and len(row["busy_cpus"]) == 2
    assert any("keras-ae / pythae" in line for line in lines)
    results = {"date": "2026-12-05T12:00:00", "quick": True, "command": "python -m benchmarks --conv-speed --quick",
               "machine": {"cpus": 2, "platform": "test", "python": "3", "keras_ae": keras_ae.__version__},
               "conv_speed": record, "runs": {"conv_speed": {"command": "python -m benchmarks --conv-speed --quick",
                                                             "date": "2026-12-05T12:00:00"}}}
    report.write(results, str(tmp_path))
    text = (tmp_path / "RESULTS.md").read_text()
    assert "## Conv VAE speed against pythae and against the conv peak" in text and "| TensorFlow, float32 |" in text
    assert json.loads((tmp_path / "results.json").read_text())["conv_speed"]["models"][0]["name"] == "tiny"
    assert os.path.exists(tmp_path / "results.json")


def test_dense_flop_section_shows_the_peak_paired_with_each_timing():
    from benchmarks.report_speed import _flop_lines

    row = {"variant": "undercomplete", "train_flops_per_sample": 2.0e6, "samples_per_s": 30000.0,
           "best_path": "arrays, batch 1024", "gflops": 60.0, "fraction_of_peak": 0.6}
    text = "\n".join(_flop_lines({"jax": {"flop_fraction": [{**row, "paired_peak_gflops": 100.0}]}}))
    assert "| JAX | undercomplete | 2.00 M | 30000 | arrays, batch 1024 | 60.0 | 100.0 | 60.0% |" in text
    assert "paired with a matmul peak timed right before it" in text and "met (JAX, 60.0%)" in text
    old = "\n".join(_flop_lines({"jax": {"flop_fraction": [row]}}))  # a record from before the pairing
    assert "| JAX | undercomplete | 2.00 M | 30000 | arrays, batch 1024 | 60.0 | 60.0% |" in old
    assert "timed once, when the backend's process starts" in old


def test_step_clock_times_the_steps_after_the_warm_up():
    from benchmarks.step_clock import StepClock

    synced = []
    clock = StepClock(2, 4)
    for step in range(4):
        clock.step_end(lambda: synced.append(clock.done))
    assert synced == [2, 4] and clock.rate(8) == pytest.approx(16 / (clock.marks[1] - clock.marks[0]))
    short = StepClock(2, 4)
    short.step_end()
    with pytest.raises(RuntimeError, match="ran 1 steps; expected 4"):
        short.rate(8)
    with pytest.raises(ValueError, match="Received: warmup_steps=4, steps=4"):
        StepClock(4, 4)
