"""`python -m benchmarks --images` on fixtures: tiny image data sets, tiny models in a temporary zoo, and a
cheap stand-in for the Inception features (`benchmarks.images.Features`), so the harness (samplers, cached
reference statistics, the best sampler, ratios, verdicts, merging runs, RESULTS.md) is tested in seconds.
The real features run in one slow test, where the `fid` extra is installed."""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import keras_ae
from keras_ae import zoo
from keras_ae.samplers import GaussianMixtureSampler

from benchmark_fixtures import ROOT, Info  # puts the repository on sys.path for `benchmarks`

from benchmarks import images, report, report_images  # noqa: E402

SHA = "ab" * 32


def quadrant_features(x, verbose=0):
    """A stand-in for Inception: each image's mean over its four quadrants and its standard deviation."""
    x = np.asarray(x, "float64") / 255.0
    h, w = x.shape[1] // 2, x.shape[2] // 2
    quads = [x[:, :h, :w], x[:, :h, w:], x[:, h:, :w], x[:, h:, w:]]
    return np.stack([q.mean(axis=(1, 2, 3)) for q in quads] + [x.std(axis=(1, 2, 3))], axis=1)


SHAPES = {"fashion_mnist": ((8, 8, 1), 80, 24, "fashion fixture, sha256 " + SHA),
          "celeba": ((8, 8, 3), 60, 20, "celeba fixture (JPEG: lossy), sha256 " + "cd" * 32),
          "cifar10": ((8, 8, 3), 60, 20, "CIFAR-10 as JPEG images, sha256 " + "ef" * 32),
          "mnist": ((28, 28, 1), 40, 20, "mnist fixture, sha256 " + "01" * 32)}


def fake_load(name):
    shape, n_train, n_test, described = SHAPES[name]
    rng = np.random.default_rng(len(name))
    x = (rng.random((n_train + n_test,) + shape) * 255).astype("uint8")
    return x[:n_train], x[n_train:], "path:fixture", Info(name, described)


@pytest.fixture(scope="module")
def tiny_zoo(tmp_path_factory):
    """A zoo with a Fashion-MNIST AE (code 32) and VAE (with a GMM), and the MNIST conv VAE (no sampler)."""
    path = tmp_path_factory.mktemp("zoo")
    x = fake_load("fashion_mnist")[0].astype("float32") / 255

    def meta(dataset):
        return {"description": "test", "dataset": {"name": dataset}}

    ae = keras_ae.ResNetAutoencoder(input_shape=(8, 8, 1), filters=(4,), latent_dim=32)
    zoo.save_entry("resnet.fashion_mnist_z32", ae, meta("fashion_mnist"), directory=str(path))
    vae = keras_ae.ResNetVAE(input_shape=(8, 8, 1), filters=(4,), latent_dim=4, seed=0)
    zoo.save_entry("resnet_vae.fashion_mnist_z32", vae, meta("fashion_mnist"), directory=str(path),
                   sampler=GaussianMixtureSampler(n_components=2).fit(vae, x))
    mnist_vae = keras_ae.get_model("conv_vae", **keras_ae.get_model("conv_vae").test_config)
    zoo.save_entry("conv_vae.mnist_z16", mnist_vae, meta("MNIST"), directory=str(path))
    return path


@pytest.fixture
def env(tiny_zoo, tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ENV_ZOO, str(tiny_zoo))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path


def run(datasets, cache, calls=None, **kwargs):
    def features(x, verbose=0):
        if calls is not None:
            calls.append(len(x))
        return quadrant_features(x)

    return images.run_images(datasets, lambda msg: None, fid_samples=30, cache_dir=str(cache),
                             features=images.Features("quadrants", features), load=fake_load, **kwargs)


@pytest.fixture(scope="module")
def full_run(tiny_zoo, tmp_path_factory):
    """One run over three data sets, shared by the tests that read it: `(images part, feature calls, cache)`."""
    cache, calls = tmp_path_factory.mktemp("fid_cache"), []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(zoo.ENV_ZOO, str(tiny_zoo))
        mp.setenv("KERAS_HOME", str(cache / "keras_home"))
        return run(["fashion_mnist", "celeba", "mnist"], cache, calls), calls, cache


def test_against_pca_fid_and_the_cache(env, full_run):
    part, calls, cache = full_run
    result = part["datasets"]
    fashion = result["fashion_mnist"]
    assert fashion["data"]["title"] == "Fashion-MNIST" and fashion["data"]["source"].endswith(SHA)
    rows = {r["name"]: r for r in fashion["reconstruction"]["rows"]}
    ae, vae = rows["resnet.fashion_mnist_z32"], rows["resnet_vae.fashion_mnist_z32"]
    assert ae["ratio"] == pytest.approx(ae["squared_error"] / ae["pca_squared_error"], rel=1e-3)
    assert [t["ratio"] for t in ae["targets"]] == [0.8, 0.4]  # every AE; the Fashion-MNIST code-32 one
    assert vae["targets"] == [] and {"neg_elbo", "bits_per_dim"} <= set(vae)
    assert fashion["reconstruction"]["n_test"] == 24 and fashion["reconstruction"]["pca_train"] == 80
    # FID: the VAE only, with the prior and its shipped GMM, against the test split.
    fid = fashion["fid"]
    assert [r["name"] for r in fid["rows"]] == ["resnet_vae.fashion_mnist_z32"]
    samplers = fid["rows"][0]["samplers"]
    assert [s["sampler"] for s in samplers] == ["prior", "gmm"] and "shipped" in samplers[1]["label"]
    assert all(s["fid"]["test"] > 0 for s in samplers)
    assert [r["key"] for r in fid["references"]] == ["test"] and fid["references"][0]["count"] == 24
    # CelebA: nothing shipped, so every recipe is "not trained yet"; FID has a training reference too.
    celeba = result["celeba"]
    assert all(not r["trained"] for r in celeba["reconstruction"]["rows"] + celeba["fid"]["rows"])
    assert [(r["key"], r["count"]) for r in celeba["fid"]["references"]] == [("test", 20), ("train", 60)]
    assert celeba["fid"]["targets"]["target"] == 40.0
    # MNIST: FID of the conv VAE only; it ships no sampler, so a 10-component GMM is fitted here.
    mnist = result["mnist"]
    assert "reconstruction" not in mnist and mnist["fid"]["targets"]["target"] == 9.0
    assert [s["sampler"] for s in mnist["fid"]["rows"][0]["samplers"]] == ["prior", "gmm"]
    assert "fitted here" in mnist["fid"]["rows"][0]["samplers"][1]["label"]
    # Four reference sets were computed and cached, named by data set, split, count and sha256.
    cached = sorted(n for n in os.listdir(cache) if n.endswith(".npz"))
    assert cached == sorted([f"fashion_mnist.test-first24.{SHA[:16]}.quadrants.npz",
                             f"celeba.test-first20.{'cd' * 8}.quadrants.npz",
                             f"celeba.train-first60.{'cd' * 8}.quadrants.npz",
                             f"mnist.test-first20.{'01' * 8}.quadrants.npz"])
    assert calls.count(30) == 4  # the generated sets: two samplers each for two VAEs
    again = []
    second = run(["fashion_mnist"], cache, again)["datasets"]["fashion_mnist"]["fid"]
    assert again == [30, 30] and second["references"][0]["cached"]  # the real images' statistics were read
    assert [s["fid"] for s in second["rows"][0]["samplers"]] == [s["fid"] for s in samplers]  # the same figures


def test_no_fid_measures_pca_only_and_skips_mnist(env):
    result = run(["mnist", "cifar10"], env / "cache", fid=False)["datasets"]
    assert list(result) == ["cifar10"] and "fid" not in result["cifar10"]
    assert result["cifar10"]["data"]["title"] == "CIFAR-10 (JPEG copy)"
    assert not os.path.exists(env / "cache")


def test_best_sampler_and_verdicts():
    samplers = [{"sampler": "prior", "fid": {"test": 50.0, "train": 41.0}},
                {"sampler": "gmm", "fid": {"test": 39.0, "train": 44.0}}]
    assert report_images.best_sampler(samplers, "test")["sampler"] == "gmm"
    assert report_images.best_sampler(samplers, "train")["sampler"] == "prior"
    assert report_images.best_sampler(samplers, "other") is None
    assert report_images.how_far(39.0, 40.0) == "met, 1.00 under"
    assert report_images.how_far(41.5, 40.0) == "**missed** by 1.50"
    assert report_images.how_far(0.85, 0.8, "{:.3f}") == "**missed** by 0.050"
    assert report_images.pca_targets("cifar10", False, 64) == [report_images.PCA_TARGET]
    assert report_images.pca_targets("fashion_mnist", True, 32) == []


def test_a_missed_fid_target_says_what_was_tried_and_how_far_the_sampler_moved_it():
    def record(gmm):
        return {"targets": {"target": 9.0}, "references": [{"key": "test", "label": "the 10,000 test images"}],
                "rows": [{"name": "conv_vae.mnist_z16", "trained": True,
                          "samplers": [{"sampler": "prior", "fid": {"test": 23.3}},
                                       {"sampler": "gmm", "fid": {"test": gmm}}]}]}

    lines = report_images._fid_tried_lines(record(22.46))
    assert lines[0].startswith("Tried for `conv_vae.mnist_z16`: its two samplers") and lines[-1] == ""
    assert "Against the 10,000 test images, the best sampler (gmm) is 0.84 below the prior's 23.30." in lines[0]
    assert report_images._fid_tried_lines(record(8.5)) == []  # met: nothing to explain
    assert report_images._fid_tried_lines({**record(22.46), "targets": None}) == []  # no target (CIFAR-10)
    assert report_images._fid_tried_lines(None) == []
    # A data set whose target is to measure and record FID (CIFAR-10) meets it with a figure.
    recorded = {**record(90.08), "samples": 10000, "targets": None}
    recorded["rows"][0]["name"] = "resnet_vae.cifar10_z128"
    recorded["rows"][0]["samplers"][0]["fid"]["test"] = 101.6  # the prior's
    (row,) = report_images._fid_target_rows("cifar10", "CIFAR-10 (JPEG copy)", recorded)
    assert row[2:] == ["measured and recorded", "90.08 (gmm)", "met: measured and recorded"]


def test_data_is_found_as_a_users_machine_finds_it(tmp_path, monkeypatch):
    """The loader's variable wins; without it the shared folder's copy; the record names no path."""
    rng = np.random.default_rng(0)
    arrays = {"x_train": (rng.random((12, 28, 28)) * 255).astype("uint8"), "y_train": np.arange(12) % 10,
              "x_test": (rng.random((4, 28, 28)) * 255).astype("uint8"), "y_test": np.arange(4)}
    np.savez(tmp_path / "fashion_mnist.npz", **arrays)
    monkeypatch.delenv("KERAS_AE_FASHION_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(images, "SHARED_DATA", str(tmp_path))
    x_train, x_test, source, info = images.load_data("fashion_mnist")
    assert x_train.shape == (12, 28, 28, 1) and x_train.dtype == np.uint8 and len(x_test) == 4
    assert "KERAS_AE_FASHION_MNIST" not in os.environ  # set for the load only
    record = images.data_record("fashion_mnist", source, info, len(x_train), len(x_test))
    assert str(tmp_path) not in json.dumps(record) and images.data_digest(record["source"]) in record["source"]
    monkeypatch.setattr(images, "SHARED_DATA", str(tmp_path / "nothing"))
    monkeypatch.setenv("KERAS_AE_FASHION_MNIST", str(tmp_path / "fashion_mnist.npz"))
    assert images.load_data("fashion_mnist")[2].startswith("env:")


def _results(images_part, command, date="2026-12-05T10:00:00", quick=False):
    run_ = {"command": command, "date": date, "backend": "tensorflow"}
    runs = {report_images.run_key(d, p): run_ for d, rec in images_part["datasets"].items()
            for p in report_images.PARTS if p in rec}
    machine = {"cpus": 2, "platform": "p", "python": "3", "keras": "3", "keras_ae": "0"}
    return {"date": date, "quick": quick, "machine": machine, "command": command, "images": images_part,
            "runs": runs}


def test_runs_merge_per_data_set_and_part_and_render(env, full_run):
    out = env / "out"
    out.mkdir()
    full = full_run[0]
    report.write(_results(full, "python -m benchmarks --images"), str(out))
    only = run(["fashion_mnist"], env / "cache", fid=False)
    report.write(_results(only, "python -m benchmarks --images --datasets fashion_mnist --no-fid",
                          date="2026-12-06T10:00:00"), str(out))
    saved = json.loads((out / "results.json").read_text())
    assert sorted(saved["images"]["datasets"]) == ["celeba", "fashion_mnist", "mnist"]
    assert "fid" in saved["images"]["datasets"]["fashion_mnist"]  # kept: the second run skipped FID
    assert saved["runs"]["images.fashion_mnist.fid"]["date"] == "2026-12-05T10:00:00"
    assert saved["runs"]["images.fashion_mnist.reconstruction"]["date"] == "2026-12-06T10:00:00"
    text = (out / "RESULTS.md").read_text()
    lines = text.split("\n")
    headings = [i for i, line in enumerate(lines) if line.startswith("## ") and "targets at a glance" not in line]
    assert "## Issue 35's targets at a glance" in lines
    assert [lines[i] for i in headings] == ["## Fashion-MNIST: autoencoders against PCA, and FID",
                                            "## CelebA-HQ 64×64: autoencoders against PCA, and FID",
                                            "## MNIST: FID of the conv VAE"]
    for i in headings:
        assert lines[i + 2].startswith("Made by `python -m benchmarks --images"), lines[i + 2]
    assert ("Made by `python -m benchmarks --images --datasets fashion_mnist --no-fid` (Keras backend: tensorflow) "
            "on 2026-12-06T10:00:00 (squared error and PSNR); `python -m benchmarks --images` (Keras backend: "
            "tensorflow) on 2026-12-05T10:00:00 (FID).") in text
    assert "features `quadrants`, a stand-in: these are not FIDs" in text
    assert "| `resnet.celeba64_z128` (every deterministic AE), squared error | PCA-128 | ≤ 0.8 × PCA-128 | " \
           "not trained yet | — |" in text
    assert "non-commercial research and education only" in text
    assert "pythae reproductions: RAE-L2 9.1, RAE-GP 9.7" in text and "| ≤ 9.0 |" in text
    assert "WAE 56.5, AAE 43.3" in text and "a different image set" in text
    ae = next(r for r in saved["images"]["datasets"]["fashion_mnist"]["reconstruction"]["rows"]
              if r["name"] == "resnet.fashion_mnist_z32")
    verdict = report_images.how_far(ae["ratio"], 0.4, "{:.3f}")
    assert f"| ≤ 0.4 × PCA-32 | {ae['ratio']:.3f} × PCA-32 ({ae['squared_error']:.2f}) | {verdict} |" in text
    assert "vs the first 60 training faces" in text
    assert "measured on earlier weights" not in text
    saved["images"]["datasets"]["fashion_mnist"]["fid"]["rows"][0]["weights"] = "000000000000"
    text = "\n".join(report_images.images_sections(saved["images"], saved["runs"]))
    assert "FID of `resnet_vae.fashion_mnist_z32` was measured on earlier weights" in text
    # A CIFAR-10 JPEG copy says so, and its bits/dim are flagged as not comparable.
    cifar = run(["cifar10"], env / "cache", fid=False)
    cifar["datasets"]["cifar10"]["reconstruction"]["rows"].append(
        {"name": "resnet_vae.x", "trained": True, "code_size": 4, "generative": True, "squared_error": 1.0,
         "psnr_db": 20.0, "pca_squared_error": 2.0, "pca_psnr_db": 18.0, "ratio": 0.5, "neg_elbo": -100.0,
         "bits_per_dim": 4.5, "targets": []})
    text = "\n".join(report_images.images_sections(cifar))
    assert "## CIFAR-10 (JPEG copy): autoencoders against PCA, and FID" in text
    assert "not comparable with published CIFAR-10 figures" in text
    assert ("| CIFAR-10 (JPEG copy) VAE FID, best sampler | — | measured and recorded | not measured yet | — |"
            in text)


def test_render_without_the_part_and_the_command_line(tmp_path):
    # results.json without `images` (the committed one until a run): no image section, the render works.
    committed = json.loads(open(os.path.join(ROOT, "benchmarks", "results.json"), encoding="utf-8").read())
    assert "## MNIST: FID" not in "\n".join(report_images.images_sections({"datasets": {}}))
    if "images" not in committed:
        report.render(committed, str(tmp_path))
        assert "FID of the conv VAE" not in (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    from benchmarks.__main__ import shown_command

    assert shown_command(["--images", "--fid-cache", "x/y", "--fid-cache=z/w", "--out", "a/b"]) == \
        "python -m benchmarks --images --fid-cache DIR --fid-cache=DIR --out DIR"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--images", "--datasets", "svhn"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "unknown --datasets ['svhn']; expected some of" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quality", "--no-fid"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "--no-fid needs --images. Received: no --images" in proc.stderr


def _has_fid_extra():
    return importlib.util.find_spec("torch") is not None and \
        importlib.util.find_spec(keras_ae.fid.MODEL_PACKAGE) is not None


@pytest.mark.slow
def test_real_inception_features_on_a_few_images(env):
    if not _has_fid_extra():
        pytest.skip("the fid extra is not installed (pip install keras-ae[fid])")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few images give a singular 2048-d covariance
        result = images.run_images(["fashion_mnist"], print, fid_samples=25, cache_dir=str(env / "cache"),
                                   load=fake_load)
    fid = result["datasets"]["fashion_mnist"]["fid"]
    assert fid["features"] == images.INCEPTION.name
    assert all(np.isfinite(s["fid"]["test"]) and s["fid"]["test"] > 0 for s in fid["rows"][0]["samplers"])


def test_fid_goes_into_the_manifests_with_record_in_zoo(env, full_run, tmp_path, monkeypatch):
    """`--record-in-zoo`: each VAE's FID lands in its manifest's test metrics, defined, and the entry still loads
    (metrics sit outside the signature); a run of other features than Inception is refused."""
    import copy
    import shutil

    from keras_ae.zoo.writer import record_metrics

    part = copy.deepcopy(full_run[0])
    fashion = part["datasets"]["fashion_mnist"]["fid"]
    metrics = images.fid_metrics(fashion)["resnet_vae.fashion_mnist_z32"]
    by_sampler = {s["sampler"]: s["fid"]["test"] for s in fashion["rows"][0]["samplers"]}
    assert metrics == {"fid_samples": 30, "fid_prior": by_sampler["prior"], "fid_gmm": by_sampler["gmm"]}
    with pytest.raises(ValueError, match="Inception features only. Received: features 'quadrants'"):
        images.record_in_zoo(part, print)

    folder = tmp_path / "zoo_copy"
    shutil.copytree(os.environ[zoo.ENV_ZOO], folder)
    for record in part["datasets"].values():
        record["fid"]["features"] = images.INCEPTION.name
    said = []
    written = images.record_in_zoo(part, said.append, directory=str(folder))
    assert sorted(written) == ["conv_vae.mnist_z16", "resnet_vae.fashion_mnist_z32"]
    with open(folder / "resnet_vae.fashion_mnist_z32.json", encoding="utf-8") as f:
        test = json.load(f)["metrics"]["test"]
    assert test["fid_gmm"] == by_sampler["gmm"] and test["fid_samples"] == 30
    monkeypatch.setenv(zoo.ENV_ZOO, str(folder))
    zoo.clear_cache()
    assert zoo.info("resnet_vae.fashion_mnist_z32")["metrics"]["test"]["fid_prior"] == by_sampler["prior"]
    zoo.load("resnet_vae.fashion_mnist_z32")  # the signature still holds: metrics are outside it
    for bad, message in (({"fid_typo": 1.0}, "undefined: fid_typo"), ({"fid_prior": float("nan")}, "finite"),
                         ({"fid_prior": "12"}, "finite")):
        with pytest.raises(zoo.ZooError, match=message):
            record_metrics("resnet_vae.fashion_mnist_z32", bad, directory=str(folder))
    with pytest.raises(zoo.ZooError, match="No zoo entry 'vae.nowhere'"):
        record_metrics("vae.nowhere", {"fid_prior": 1.0}, directory=str(folder))
