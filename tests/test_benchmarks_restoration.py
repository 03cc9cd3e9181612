"""`python -m benchmarks --restoration` on fixtures: a tiny VAE under the CelebA entry's name in a temporary zoo
and faked faces, so the part's measuring, merging and RESULTS section are tested in seconds (issue 38, item 4)."""

import json

import numpy as np
import pytest

import keras_ae
from keras_ae import restoration, zoo

from benchmark_fixtures import Info  # puts the repository on sys.path for `benchmarks`

from benchmarks import images, report_restoration  # noqa: E402
from benchmarks import restoration as part_module  # noqa: E402

NAME = "resnet_vae.celeba64_z128"  # the shipped entry's name, for a tiny model in a temporary zoo
DESCRIBED = "celeba fixture (JPEG: lossy), sha256 " + "ef" * 32


def fake_load(name):
    """30 training and 10 test smooth 8x8 colour images."""
    assert name == "celeba", name  # only the CelebA entry is shipped in the fixture's zoo
    ramp = np.linspace(0.2, 0.8, 8)
    x = np.stack([np.stack([np.add.outer(ramp * a, ramp * (1 - a)) / 1.6 + 0.1 * c for c in range(3)], -1)
                  for a in np.linspace(0, 1, 40)])
    x = (np.clip(x, 0, 1) * 255).astype("uint8")
    return x[:30], x[30:], "path:fixture", Info(name, DESCRIBED)


@pytest.fixture(scope="module")
def tiny_zoo(tmp_path_factory):
    path = tmp_path_factory.mktemp("zoo")
    model = keras_ae.ResNetVAE(input_shape=(8, 8, 3), filters=(4,), latent_dim=4)
    zoo.save_entry(NAME, model, {"description": "test", "dataset": {"name": "celeba"}}, directory=str(path))
    return path


@pytest.fixture
def env(tiny_zoo, monkeypatch):
    monkeypatch.setenv(zoo.ENV_ZOO, str(tiny_zoo))
    monkeypatch.setattr(images, "load_data", fake_load)  # what run_restoration loads with by default
    return tiny_zoo


def test_the_part_measures_each_shipped_entry_and_marks_data_sets_without_one(env):
    part = part_module.run_restoration(lambda msg: None)
    assert [(r["name"], r["trained"]) for r in part["rows"]] == [(NAME, True), ("resnet.cifar10_z64", False)]
    row, cifar = part["rows"]
    assert cifar == {"name": "resnet.cifar10_z64", "dataset": "cifar10", "trained": False}
    x_test = fake_load("celeba")[1].astype("float32") / 255.0
    noisy = restoration.gaussian_noise(x_test, 0.1, seed=0)  # one figure recomputed from the library's parts
    model_db = restoration.psnr(x_test, restoration.restore(zoo.load(NAME), noisy)).mean()
    assert row["psnr"]["gaussian"]["model"] == pytest.approx(model_db, abs=1e-3)
    assert row["psnr"]["gaussian"]["classical"] == pytest.approx(
        restoration.psnr(x_test, restoration.median_filter(noisy)).mean(), abs=1e-3)
    assert row["n_test"] == 10 and row["square"] == 2  # the whole split; a quarter of the side
    assert set(row["psnr"]) == {"gaussian", "salt_and_pepper", "square"}
    assert {"corrupted_hole", "classical_hole", "model_hole", "model_from_harmonic_hole"} <= set(row["psnr"]["square"])
    assert row["psnr"]["gaussian"]["classical"] > row["psnr"]["gaussian"]["corrupted"]  # smooth images: median helps
    assert row["weights"] == zoo.info(NAME)["weights"]["sha256"][:12]
    assert row["data"]["source"] == DESCRIBED and "non-commercial" in row["data"]["licence"].lower()
    assert part["settings"]["sigma"] == 0.1 and part["settings"]["amount"] == 0.1 and part["settings"]["seed"] == 0
    assert str(env) not in json.dumps(part)


@pytest.mark.slow  # about 3 s: the default run is at its time budget
def test_the_command_merges_the_part_and_renders_it(env, tmp_path):
    from benchmarks.__main__ import main

    out = tmp_path / "out"
    out.mkdir()
    before = {"date": "2026-12-01T10:00:00", "quick": False, "command": "python -m benchmarks --tabular",
              "machine": {"cpus": 2, "platform": "p", "python": "3", "keras": "3", "keras_ae": "0"},
              "restoration": {"settings": {}, "rows": [], "seconds": 0},
              "runs": {"restoration": {"command": "old", "date": "2026-12-01T10:00:00"}}}
    (out / "results.json").write_text(json.dumps(before))
    main(["--restoration", "--out", str(out)])
    saved = json.loads((out / "results.json").read_text())
    assert [r["name"] for r in saved["restoration"]["rows"]] == [NAME, "resnet.cifar10_z64"]
    assert saved["runs"]["restoration"]["command"] == "python -m benchmarks --restoration --out DIR"
    text = (out / "RESULTS.md").read_text(encoding="utf-8")
    lines = text.split("\n")
    at = lines.index("## Restoration: denoising and inpainting colour photos")
    assert lines[at + 2].startswith("Made by `python -m benchmarks --restoration --out DIR` (Keras backend: ")
    p = saved["restoration"]["rows"][0]["psnr"]
    assert (f"| Gaussian noise, σ = 0.1 | {p['gaussian']['corrupted']:.2f} | {p['gaussian']['classical']:.2f} "
            f"(3×3 median) | {p['gaussian']['model']:.2f} |") in text
    assert f"| 2×2 masked square, inside the hole | {p['square']['corrupted_hole']:.2f} |" in text
    assert "salt and pepper, 10% of the pixels" in text
    assert "**CelebA is for non-commercial research and education only**" in text
    assert "### `resnet.cifar10_z64` (CIFAR-10 (JPEG copy))\n\nNot trained yet" in text
    assert report_restoration.FIGURES[NAME][0] in text and "--dataset celeba --out DIR" in text
