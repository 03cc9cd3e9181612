"""The benchmark harness runs end to end in --quick mode, so its code cannot rot."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


@pytest.mark.slow
def test_benchmarks_quick(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    # The speed part on PyTorch only (its quick run is the shortest); the full run uses all three.
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quality", "--speed", "--quick", "--backends",
                           "torch", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["quick"] and results["machine"]["cpus"] >= 1
    torch_run = results["speed"]["backends"]["torch"]
    assert torch_run["matmul_peak_gflops"] > 0 and torch_run["backend"] == "torch"
    assert all(r["ratio"] > 0 for r in torch_run["training"])
    assert {r["verb"] for r in torch_run["inference"]} == {"encode", "reconstruct", "reconstruction_error"}
    assert len(torch_run["scaling"]["rows"]) == 3
    assert len(results["quality"]["zoo_vs_pca"]) >= 1
    text = (tmp_path / "RESULTS.md").read_text()
    for heading in ("## Quality", "## Speed on every backend", "One-class MNIST", "PyTorch: keras-ae against",
                    "Against pythae", "Scaling", "test NLL (importance sampled)", "nearest neighbours (no autoencoder)"):
        assert heading in text
    assert "Quick run" in text


@pytest.mark.parametrize("args, message", [
    ([], "choose --data-parallel, --steps-per-execution, --inference, --conv-speed, --jax-conv, --quality, "
         "--speed, --tabular, --images, --faces, --conditional, --colorization, --restoration, --vq or several"),
    (["--render", "--colorization"], "--render measures nothing: it takes none of --data-parallel, "
                                     "--steps-per-execution, --inference, --conv-speed, --jax-conv, --quality, "
                                     "--speed, --tabular, --images, --faces, --conditional, --colorization, "
                                     "--restoration, --vq or --quick. Received: --colorization"),
    (["--render", "--conv-speed", "--vq", "--quick"], "Received: --conv-speed, --vq, --quick"),
    (["--render", "--data-parallel"], "Received: --data-parallel"),
    (["--speed", "--jax-conv-pairs", "2"], "--jax-conv-pairs needs --jax-conv and a count of at least 1. "
                                           "Received: --jax-conv-pairs 2 without --jax-conv"),
    (["--jax-conv", "--jax-conv-pairs", "0"], "Received: --jax-conv-pairs 0"),
    (["--quality", "--nll-models", "vae.nope"], "unknown --nll-models ['vae.nope']; expected some of"),
    (["--quality", "--parts", "one_class", "--nll-models", "vae.binarized_mnist_iwae"],
     "--nll-models needs --quality with the vae_nll part. Received: --parts one_class"),
    (["--quality", "--parts", "one_class_images", "--datasets", "celeba"],
     "--parts one_class_images runs on ['fashion_mnist', 'cifar10']. Received: --datasets celeba"),
    (["--quality", "--parts", "one_class", "--datasets", "cifar10"], "--datasets needs --images"),
    (["--quality", "--parts", "one_class", "--one-class-classes", "1"],
     "--one-class-classes needs --quality --parts one_class_images. Received: --parts one_class"),
    (["--quality", "--parts", "one_class_images", "--one-class-classes", "a"],
     "--one-class-classes takes class numbers, e.g. 0,1,2. Received: a"),
    (["--images", "--no-fid", "--record-in-zoo"], "it needs --images with FID and without --quick. Received: "
                                                  "--no-fid"),
    (["--quality", "--record-in-zoo", "--quick"], "Received: no --images, --quick"),
])
def test_benchmarks_need_a_choice(args, message, capsys, monkeypatch):
    # In this process (argparse exits 2 before anything is measured); `python -m benchmarks` is the same main.
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.slow
def test_tabular_benchmark_quick(tmp_path):
    """One data set, one seed, both protocols: the tabular comparison runs and is reported."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--tabular", "--quick", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    t = json.loads((tmp_path / "results.json").read_text())["tabular"]
    semi = [r for r in t["rows"] if r["protocol"] == "semi_supervised"]
    assert [r["normal_class"] for r in semi] == [0, 1] and t["summary"]["semi_supervised"]["tasks"] == 2
    assert all(0.5 < r[d] <= 1 and r[d + "_seconds"] > 0 for r in semi for d in ("keras_ae", "isolation_forest"))
    assert t["summary"]["contaminated"]["tasks"] == 2
    text = (tmp_path / "RESULTS.md").read_text()
    assert "## Tabular anomaly detection" in text and "`breast_cancer`" in text


def test_recipe_summary_names_every_recorded_setting(monkeypatch):
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks import quality

    recipe = {"epochs": 100, "batch_size": 256, "optimizer": "AdamW, cosine decay from 0.001",
              "pretrain_epochs_per_layer": 5, "weight_decay": 0.1, "input_noise": 0.05, "shift": 1,
              "mse_finetune": {"epochs": 10, "lr": 0.0002}}
    info = {"recipe": recipe, "config": {"config": {"activation": "tanh"}}, "versions": {"backend": "jax"}}
    monkeypatch.setattr(quality.zoo, "info", lambda name: info)
    assert quality.recipe_summary("x") == (
        "tanh hidden layers, on jax; 100 epochs, batch 256, AdamW, cosine decay from 0.001; after 5 pretraining "
        "epochs per layer; weight decay 0.1; input noise 0.05; each training image moved by up to 1 px each way "
        "(data augmentation); then 10 epochs on the squared error from lr 0.0002")
    # A model without hidden-layer activations (convolutional) names none; manifests older than the
    # backend field were trained on TensorFlow; a warm start names its source entry.
    info = {"recipe": {"epochs": 12, "batch_size": 128, "optimizer": "Adam, cosine decay from 0.002"},
            "config": {"config": {}}, "versions": {}}
    assert quality.recipe_summary("x") == "12 epochs, batch 128, Adam, cosine decay from 0.002"
    info["config"]["config"]["activation"] = "relu"
    info["recipe"]["init_from"] = "vae.y"
    assert quality.recipe_summary("x") == (
        "relu hidden layers, on tensorflow; 12 epochs, batch 128, Adam, cosine decay from 0.002; started from "
        "the weights of `vae.y`")


def test_contractive_twin_pays_the_same_jacobian_penalty():
    """The speed comparison's plain-Keras twin of the contractive model computes the penalty too."""
    import keras_ae
    from benchmarks.speed_worker import twin

    model = keras_ae.ContractiveAutoencoder(hidden_units=(16,), latent_dim=4, lam=1.0)
    x = np.random.default_rng(0).random((8, 784), dtype="float32")
    model(x)
    ref, _ = twin(model)
    ref.set_weights(model.get_weights())
    ref(x)
    assert len(ref.losses) == 1
    np.testing.assert_allclose(float(ref.losses[0]), model.jacobian_penalty(x).mean(), rtol=1e-4)


def test_one_class_per_digit_anchors_average_to_their_published_means(monkeypatch):
    """A mistyped per-digit anchor shows: each published row averages to the mean the paper prints."""
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks import quality, report_quality as report

    means = {short: next(v for k, v in quality.ONE_CLASS_ANCHORS.items() if k.startswith(short))
             for short in quality.ONE_CLASS_PER_DIGIT}
    for short, table in quality.ONE_CLASS_PER_DIGIT.items():
        assert sorted(table) == list(range(10)), short
        assert abs(np.mean(list(table.values())) / 100 - means[short]) < 0.0006, short
    oc = {"model": "m", "epochs": 1, "auroc": {str(d): 0.9 for d in range(10)}, "mean_auroc": 0.9,
          "deep_svdd": quality.DEEP_SVDD, "deep_svdd_mean": 0.948, "anchors": quality.ONE_CLASS_ANCHORS,
          "per_digit_anchors": {k: {str(d): v for d, v in t.items()} for k, t in quality.ONE_CLASS_PER_DIGIT.items()},
          "per_digit_source": quality.ONE_CLASS_PER_DIGIT_SOURCE}
    text = "\n".join(report.one_class_lines(oc))
    assert "| 8 | 0.900 | 0.939 | 0.939 | 0.972 | 0.936 |" in text
    assert "| mean | 0.900 | 0.948 | 0.975 | 0.980 | 0.983 |" in text


def test_speed_report_keeps_the_previous_runs_training_ratios(monkeypatch):
    """A new speed run keeps the run before's ratios beside its own, and a miss says both."""
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks import report_speed as report

    def run(ratio):
        row = {"variant": "sparse", "keras_ae": 100.0 * ratio, "reference": 100.0, "ratio": ratio,
               "ratio_min": ratio - 0.05, "ratio_max": ratio + 0.1, "pairs": 3, "epochs": 1,
               "reference_kind": "functional model, same layers"}
        return {"speed": {"backends": {"jax": {"training": [row]}}}, "date": "d"}

    old, new = run(1.02), run(0.91)
    report.carry_previous_speed(old, new)
    assert new["speed"]["previous"]["backends"]["jax"]["sparse"]["ratio"] == 1.02
    assert new["speed"]["previous"]["fraction_of_peak"] == {"jax": {}}  # no FLOP rows in `old`
    text = "\n".join(report._training_lines(new["speed"]["backends"], new["speed"]["previous"]))
    assert "| sparse | 91 | 100 | functional model, same layers | 1 | 0.910 | 0.86–1.01 (3 pairs) | **no** | 1.020 |" in text
    assert ("Below target: sparse 0.910 (short by 0.040; range reaches 1: not resolved by this run; "
            "previous run 1.020, met).") in text
    # A first run has no previous column.
    assert "previous run" not in "\n".join(report._training_lines(old["speed"]["backends"]))


def test_a_speed_run_of_some_parts_keeps_the_others(monkeypatch, tmp_path):
    """`--speed --speed-parts flops` replaces the FLOP rates only: the training ratios, the pythae pairs and
    their run before stay, the FLOP rates' run before becomes the last run's, and RESULTS names both runs."""
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks import report, report_speed, report_targets_open

    def flop(fraction, paired=True):
        return {"variant": "undercomplete", "train_flops_per_sample": 2e6, "samples_per_s": 1e4,
                "best_path": "arrays, batch 256", "gflops": 30.0 * fraction, "fraction_of_peak": fraction,
                **({"paired_peak_gflops": 30.0} if paired else {})}

    train = {"variant": "sparse", "keras_ae": 100.0, "reference": 100.0, "ratio": 1.0, "ratio_min": 0.9,
             "ratio_max": 1.1, "pairs": 3, "epochs": 1, "reference_kind": "functional model, same layers"}
    full = {"backends": {"jax": {"matmul_peak_gflops": 30.0, "threads": {}, "training": [train],
                                 "flop_fraction": [flop(0.555, paired=False)]},
                         "torch": {"skipped": "torch is not installed"}},
            "peer": {"skipped": "pythae is not installed"}, "peak_rss": [],
            "previous": {"date": "d0", "backends": {"jax": {"sparse": {"ratio": 0.97}}},
                         "fraction_of_peak": {"jax": {"undercomplete": 0.938}}}}
    old = {"speed": full, "date": "d1"}
    new = {"speed": {"backends": {"jax": {"threads": {}, "flop_fraction": [flop(0.65)]},
                                  "torch": {"skipped": "torch is not installed"}}, "parts": ["flops"]},
           "date": "d2"}
    report_speed.carry_previous_speed(old, new)
    merged = new["speed"]
    assert "parts" not in merged and merged["date"] == "d1" and merged["part_dates"] == {"flops": "d2"}
    assert merged["backends"]["jax"]["training"] == [train] and merged["backends"]["jax"]["matmul_peak_gflops"] == 30
    assert merged["backends"]["jax"]["flop_fraction"] == [flop(0.65)]
    assert merged["peer"] == full["peer"] and merged["peak_rss"] == full["peak_rss"]
    assert merged["previous"]["backends"] == full["previous"]["backends"]  # training was not rerun
    assert merged["previous"]["fraction_of_peak"] == {"jax": {"undercomplete": 0.555}}
    assert merged["previous"]["fraction_of_peak_paired"] == {"jax": False}
    row = report_targets_open._dense_peak_row(merged)
    assert row[3] == "65.0% (JAX); run before 55.5% (JAX, peak not paired)"
    assert row[4] == "**missed** by 4.5 points (the run before)"
    # A second run of the part: two paired runs in a row, both over 60%.
    again = {"speed": {"backends": {"jax": {"flop_fraction": [flop(0.62)]}}, "parts": ["flops"]}, "date": "d3"}
    report_speed.carry_previous_speed({"speed": merged, "date": "d2"}, again)
    assert report_targets_open._dense_peak_row(again["speed"])[4] == "met in both runs"
    assert again["speed"]["backends"]["torch"] == {"skipped": "torch is not installed"}
    # A run of one backend moves only that backend's run before.
    both = {"speed": {"backends": {"jax": {"flop_fraction": [flop(0.7)]}, "torch": {"flop_fraction": [flop(0.5)]}},
                      "parts": ["flops"]}, "date": "d4"}
    report_speed.carry_previous_speed({"speed": again["speed"], "date": "d3"}, both)
    one = {"speed": {"backends": {"torch": {"flop_fraction": [flop(0.6)]}}, "parts": ["flops"]}, "date": "d5"}
    report_speed.carry_previous_speed({"speed": both["speed"], "date": "d4"}, one)
    assert one["speed"]["previous"]["fraction_of_peak"] == {"jax": {"undercomplete": 0.62},
                                                            "torch": {"undercomplete": 0.5}}
    assert one["speed"]["backends"]["jax"]["flop_fraction"] == [flop(0.7)]
    # RESULTS names the whole run and the part's run; a whole run later supersedes the part's record.
    runs = report.merge_runs({"speed": {"command": "python -m benchmarks --speed", "date": "d1"}},
                             {"speed.flops": {"command": "python -m benchmarks --speed --speed-parts flops",
                                              "date": "d3"}})
    text = "\n".join(report_speed.speed_section(again["speed"], runs["speed"], {"flops": runs["speed.flops"]}))
    assert ("Made by `python -m benchmarks --speed` on d1 (the other tables); `python -m benchmarks --speed "
            "--speed-parts flops` on d3 (the FLOP rates).") in text
    assert "speed.flops" not in report.merge_runs(runs, {"speed": {"command": "c", "date": "d4"}})


def test_speed_parts_option_errors(capsys):
    from benchmarks.__main__ import main

    for argv, message in ((["--quality", "--speed-parts", "flops"], "--speed-parts needs --speed"),
                          (["--speed", "--speed-parts", "flop"], "unknown --speed-parts ['flop']"),
                          (["--speed", "--speed-parts", "training", "--backends", "jax", "--quick"],
                           "--speed-parts training needs every backend")):
        with pytest.raises(SystemExit):
            main(argv)
        assert message in capsys.readouterr().err, argv


def test_nll_rows_measured_alone_keep_the_other_rows(monkeypatch):
    """`--nll-models` remeasures one model's NLL row; the rows it did not measure stay from the run before,
    but only when both runs used the same images and samples."""
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks import report_quality as report

    def part(k, **nlls):
        return {"k": k, "n_images": 10, "models": [{"name": n, "nll": v} for n, v in nlls.items()]}

    old = {"vae_nll": part(5000, vae=86.7, iwae=85.3)}
    new = {"vae_nll": {**part(5000, vae=86.4), "only": ["vae"]}}
    merged = {**old, **new}
    report.keep_unmeasured_nll_rows(old, merged)
    assert merged["vae_nll"] == part(5000, vae=86.4, iwae=85.3)
    # A kept row's recipe is the one the run gives for it now (its warm start was retrained).
    old["vae_nll"]["models"][1]["recipe"] = "from `vae`"
    merged = {**old, "vae_nll": {**part(5000, vae=86.4), "only": ["vae"],
                                 "recipes": {"iwae": "from an earlier `vae`", "vae": "r"}}}
    report.keep_unmeasured_nll_rows(old, merged)
    assert merged["vae_nll"]["models"][1] == {"name": "iwae", "nll": 85.3, "recipe": "from an earlier `vae`"}
    assert "recipes" not in merged["vae_nll"] and "only" not in merged["vae_nll"]
    del old["vae_nll"]["models"][1]["recipe"]
    # Asked for but not shipped any more: its old row goes.
    merged = {**old, "vae_nll": {**part(5000), "only": ["vae"]}}
    report.keep_unmeasured_nll_rows(old, merged)
    assert merged["vae_nll"] == part(5000, iwae=85.3)
    # A subset none of whose models is shipped measures nothing and keeps the other rows (not None).
    from benchmarks import quality

    monkeypatch.setattr(quality, "NLL_MODELS", {"vae": {}, "iwae": {}})
    monkeypatch.setattr(quality.zoo, "list_models", lambda: [])
    nothing = quality.vae_nll(np.zeros((10, 784), "float32"), 5000, print, names=("vae",))
    assert nothing == {"k": 5000, "n_images": 10, "models": [], "only": ["vae"], "recipes": {}}
    merged = {**old, "vae_nll": nothing}
    report.keep_unmeasured_nll_rows(old, merged)
    assert merged["vae_nll"] == part(5000, iwae=85.3)
    # Other samples: the old rows are not comparable and go.
    merged = {**old, "vae_nll": {**part(50, vae=87.0), "only": ["vae"]}}
    report.keep_unmeasured_nll_rows(old, merged)
    assert merged["vae_nll"] == part(50, vae=87.0)
    # A run of every model replaces the part whole.
    merged = {**old, "vae_nll": part(5000, vae=86.4)}
    report.keep_unmeasured_nll_rows(old, merged)
    assert merged["vae_nll"] == part(5000, vae=86.4)


def test_recipe_summary_says_when_the_warm_start_was_an_earlier_version(monkeypatch):
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks import quality

    manifests = {
        "iwae.x": {"recipe": {"epochs": 2, "batch_size": 10, "optimizer": "Adam", "init_from": "vae.x",
                              "init_weights_sha256": "ab" * 32}, "config": {"config": {}}, "versions": {}},
        "vae.x": {"weights": {"sha256": "ab" * 32}},
    }
    monkeypatch.setattr(quality.zoo, "info", lambda name: manifests[name])
    monkeypatch.setattr(quality.zoo, "list_models", lambda: sorted(manifests))
    assert quality.recipe_summary("iwae.x").endswith("started from the weights of `vae.x`")
    manifests["vae.x"]["weights"]["sha256"] = "cd" * 32
    assert quality.recipe_summary("iwae.x").endswith(
        "started from the weights of an earlier version of `vae.x` (weights sha256 abababababab)")


def test_knn_baseline_distance(monkeypatch):
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks import quality

    rng = np.random.default_rng(0)
    ref = rng.random((50, 784), dtype="float32")
    x = np.concatenate([ref[:3] * 0.5, rng.random((4, 784), dtype="float32")])  # copies, scaled: cosine 0
    for sigma in (0.0, 1.0):
        d = quality.knn_cosine_distance(ref, x, k=1, sigma=sigma)
        np.testing.assert_allclose(d[:3], 0, atol=1e-6)
        assert np.all(d[3:] > 1e-3)
        np.testing.assert_allclose(quality.knn_cosine_distance(ref, x, k=3, sigma=sigma, block=2),
                                   quality.knn_cosine_distance(ref, x, k=3, sigma=sigma), atol=1e-6)
    # k = 3: the mean over the three nearest, by hand.
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    sim = np.sort(unit(x) @ unit(ref).T, axis=1)[:, ::-1]
    np.testing.assert_allclose(quality.knn_cosine_distance(ref, x, k=3, sigma=0), 1 - sim[:, :3].mean(1),
                               rtol=1e-5, atol=1e-6)


def test_one_class_report_shows_the_knn_baseline_without_counting_it(monkeypatch):
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks import quality, report_quality as report

    oc = {"model": "m", "epochs": 1, "auroc": {str(d): 0.9 for d in range(10)}, "mean_auroc": 0.9,
          "deep_svdd": quality.DEEP_SVDD, "deep_svdd_mean": 0.948, "anchors": quality.ONE_CLASS_ANCHORS}
    knn = {"model": "cosine distance to the 3 nearest", "k": 3, "sigma": 1.0,
           "auroc": {str(d): 0.99 for d in range(10)}, "mean_auroc": 0.99}
    text = "\n".join(report.one_class_lines(oc, knn))
    assert "| normal digit | autoencoder | nearest neighbours (no autoencoder) | Deep SVDD (published) |" in text
    assert "| mean | 0.900 | 0.990 |" in text
    assert "Target 0.980 or more: " + report._verdict(False) + " (0.900)" in text
    assert "The nearest-neighbour baseline's mean, 0.990, is above the best autoencoder score's 0.900." in text
    assert "nearest neighbours" not in "\n".join(report.one_class_lines(oc))


def test_one_class_report_names_the_restoration_error(monkeypatch):
    """The RestorationDetector's paragraph says which error the run scored: the cosine one it records, or
    the squared error for results written before `error` existed."""
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks import quality, report_quality as report

    rest = {"epochs": 15, "smoothing": 1.0, "error": "cosine", "auroc": {str(d): 0.98 for d in range(10)},
            "mean_auroc": 0.98}
    oc = {"model": "m", "epochs": 1, "auroc": {str(d): 0.9 for d in range(10)}, "mean_auroc": 0.9,
          "deep_svdd": quality.DEEP_SVDD, "deep_svdd_mean": 0.948, "restoration": rest}
    text = "\n".join(report.one_class_lines(oc))
    assert "upright (one minus the cosine similarity of the restored and the upright image), both smoothed " \
           "with a Gaussian of 1 px" in text
    assert "Target 0.980 or more: " + report._verdict(True) + " (0.980)" in text
    del rest["error"]
    assert "(the mean squared difference of the restored and the upright image)" in "\n".join(
        report.one_class_lines(oc))


def test_every_section_says_which_command_made_it(monkeypatch, tmp_path):
    """RESULTS.md is results.json rendered (`python -m benchmarks --render`), and each section opens
    with the command that made it and when."""
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks import report

    with open(os.path.join(ROOT, "benchmarks", "results.json"), encoding="utf-8") as f:
        results = json.load(f)
    report.render(results, str(tmp_path))
    text = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    with open(os.path.join(ROOT, "benchmarks", "RESULTS.md"), encoding="utf-8") as f:
        assert f.read() == text, "RESULTS.md is stale: run python -m benchmarks --render"
    lines = text.split("\n")
    speed_at = lines.index("## Speed on every backend")
    sections = [i for i, line in enumerate(lines) if (line.startswith("### ") and i < speed_at)
                or (line.startswith("## ") and line != "## Quality" and not line.endswith("targets at a glance"))]
    assert len(sections) >= 7
    for i in sections:
        assert lines[i + 2].startswith("Made by `python -m benchmarks "), lines[i]
        assert "not recorded" not in lines[i + 2]
    assert "then `python -m benchmarks" not in text


TARGETS_HEADING = "## Issue 38's targets at a glance"


def test_targets_summary_reads_each_figure_from_its_section(monkeypatch):
    """The summary at the top of RESULTS takes its figures from the parts that measure them: it agrees with
    them, says which are met and by how much, and says "not measured yet" for a part never run."""
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks.report_targets import targets_section

    results = {"quality": {"one_class": {"mean_auroc": 0.97, "restoration": {"mean_auroc": 0.992}},
                           "one_class_images": {"datasets": {"fashion_mnist": {
                               "ae": {"mean_auroc": 0.91}, "restoration": {"mean_auroc": 0.94}}}}},
               "faces": {"read_smiling": {"faces": 0.08, "alpha = 1": 0.85}},
               "colorization": {"rows": [{"dataset": "celeba", "trained": True, "colour_ratio": 0.6},
                                         {"dataset": "cifar10", "trained": False}]}}
    lines = targets_section(results)
    assert lines[0] == TARGETS_HEADING
    rows = {line.split(" | ")[0][2:]: line.split(" | ")[3:5] for line in lines if line.startswith("| ") and
            not line.startswith("| measure |")}
    assert rows["one-class MNIST mean AUROC, best keras-ae detector"] == ["0.992", "met, 0.002 over"]
    assert rows["one-class Fashion-MNIST mean AUROC, best keras-ae detector"] == ["0.940", "**not met**, missed by 0.010"]
    assert rows["one-class CIFAR-10 (JPEG copy) mean AUROC, best keras-ae detector"] == ["not measured yet", "—"]
    assert rows["smile vector: non-smiling test faces read as smiling after adding it once"] == ["0.850", "met, 0.050 over"]
    assert rows["colorization error on CelebA test faces, ÷ the better baseline"] == ["0.600", "**not met**, missed by 0.100"]


def test_faces_section_reads_the_target_at_alpha_1(monkeypatch):
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks.report_faces import faces_section

    record = {"entry": "vae.x", "data": {"source": "faces", "test_images": 10}, "non_smiling": 6, "smiling": 4,
              "classifier": {"best_epoch": 2, "epochs_run": 5, "val_accuracy": 0.9, "test_accuracy": 0.88,
                             "test_accuracy_reconstructions": 0.85},
              "read_smiling": {"faces": 0.1, "reconstructions (alpha = 0)": 0.15, "alpha = 1": 0.79,
                               "alpha = 2": 0.95},
              "smiling_read_smiling_reconstructions": 0.8, "smiling_read_smiling_after_subtracting": 0.2,
              "target": 0.8}
    text = "\n".join(faces_section(record, {"command": "python -m benchmarks --faces", "date": "d"}))
    assert "| alpha = 2 | 0.950 |" in text and "non-commercial" in text
    assert "alpha = 1): **not met** (0.790).\n" in text and "Tried: only the course" in text
    record["read_smiling"]["alpha = 1"] = 0.8
    assert "alpha = 1): met (0.800)." in "\n".join(faces_section(record))


def test_runs_record_each_part_and_each_nll_row(monkeypatch):
    """A run's parts take its record; the others, and the NLL rows it did not remeasure, keep theirs."""
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks import report
    from benchmarks.report_format import made_by

    a = {"command": "python -m benchmarks --speed", "date": "d1"}
    b = {"command": "python -m benchmarks x", "date": "d2"}
    old = {"speed": a, "vae_nll": {**a, "rows": {"vae": a, "iwae": a}}}
    runs = report.merge_runs(old, {"vae_nll": b}, nll_measured=["iwae"], nll_rows=["vae", "iwae"])
    assert runs == {"speed": a, "vae_nll": {**b, "rows": {"vae": a, "iwae": b}}}
    # Results written before `rows`: a kept row takes the part's record; a dropped row goes.
    runs = report.merge_runs({"vae_nll": a}, {"vae_nll": b}, nll_measured=["iwae"], nll_rows=["iwae", "vae"])
    assert runs["vae_nll"]["rows"] == {"iwae": b, "vae": a}
    assert made_by((a, "the vae row"), (b, "the iwae row")) == (
        "Made by `python -m benchmarks --speed` on d1 (the vae row); `python -m benchmarks x` on d2 (the iwae row).")
    assert made_by((a, "x"), (a, "y")) == "Made by `python -m benchmarks --speed` on d1."
    assert made_by(None) == "Made by a command not recorded in results.json."
