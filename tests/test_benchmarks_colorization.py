"""`python -m benchmarks --colorization` on fixtures: a tiny colorization entry in a temporary zoo and faked
faces, so the part's measuring, merging and RESULTS section are tested in seconds (issue 38, item 3)."""

import json

import numpy as np
import pytest

import keras_ae
from keras_ae import zoo
from keras_ae.zoo.colorization import measure_colorization

from benchmark_fixtures import Info  # puts the repository on sys.path for `benchmarks`

from benchmarks import colorization, images, report, report_colorization  # noqa: E402

NAME = "conv_colorization.celeba64"  # the shipped entry's name, for a tiny model in a temporary zoo
DESCRIBED = "celeba fixture (JPEG: lossy), sha256 " + "cd" * 32


def fake_load(name):
    """30 training and 10 test 8x8 colour images with a red cast, so the mean colour beats the gray copy."""
    assert name == "celeba", name  # only the CelebA entry is shipped in the fixture's zoo
    x = np.random.default_rng(0).random((40, 8, 8, 3)) * 0.6
    x[..., 0] += 0.4
    x = (x * 255).astype("uint8")
    return x[:30], x[30:], "path:fixture", Info(name, DESCRIBED)


@pytest.fixture(scope="module")
def tiny_zoo(tmp_path_factory):
    path = tmp_path_factory.mktemp("zoo")
    model = keras_ae.ColorizationAutoencoder(input_shape=(8, 8, 3), filters=(4,), latent_filters=4)
    zoo.save_entry(NAME, model, {"description": "test", "dataset": {"name": "celeba"},
                                 "recipe": {"epochs": 2, "dtype_policy": "mixed_bfloat16"}}, directory=str(path))
    return path


@pytest.fixture
def env(tiny_zoo, monkeypatch):
    monkeypatch.setenv(zoo.ENV_ZOO, str(tiny_zoo))
    monkeypatch.setattr(images, "load_data", fake_load)  # what run_colorization loads with by default
    return tiny_zoo


def test_the_part_measures_each_entry_and_marks_recipes_not_trained(env):
    part = colorization.run_colorization(lambda msg: None)
    assert [(r["name"], r["trained"]) for r in part["rows"]] == [(NAME, True), ("conv_colorization.cifar10", False)]
    row, cifar = part["rows"]
    assert cifar == {"name": "conv_colorization.cifar10", "dataset": "cifar10", "trained": False, "target": None}
    x_train, x_test, _, _ = fake_load("celeba")
    expected = measure_colorization(zoo.load(NAME), x_train, x_test.astype("float32") / 255.0)
    assert {k: row[k] for k in expected} == expected and row["n_test"] == 10  # the whole test split
    better = min(row["gray_squared_error"], row["mean_colour_squared_error"])
    assert row["colour_ratio"] == pytest.approx(row["squared_error"] / better, abs=1e-3)
    assert row["mean_colour_squared_error"] < row["gray_squared_error"]  # the fixture's red cast
    assert row["target"] == 0.5 and row["weights"] == zoo.info(NAME)["weights"]["sha256"][:12]
    assert row["recipe"]["filters"] == [4] and row["recipe"]["code_shape"] == [4, 4, 4]
    assert row["data"]["source"] == DESCRIBED and "non-commercial" in row["data"]["licence"].lower()
    assert row["data"]["train_images"] == 30 and row["data"]["test_images"] == 10
    assert str(env) not in json.dumps(part)
    quick = colorization.run_colorization(lambda msg: None, quick=True)  # --quick: a slice of each split
    assert quick["rows"][0]["n_test"] == 10 and colorization.QUICK["n_test"] >= 10


def _faces_part():
    return {"entry": "vae.x", "data": {"source": "faces", "test_images": 10}, "non_smiling": 6, "smiling": 4,
            "classifier": {"best_epoch": 2, "epochs_run": 5, "val_accuracy": 0.9, "test_accuracy": 0.88,
                           "test_accuracy_reconstructions": 0.85},
            "read_smiling": {"faces": 0.1, "reconstructions (alpha = 0)": 0.15, "alpha = 1": 0.79},
            "smiling_read_smiling_reconstructions": 0.8, "smiling_read_smiling_after_subtracting": 0.2,
            "target": 0.8}


def test_the_command_merges_the_part_and_renders_it(env, tmp_path):
    from benchmarks.__main__ import main

    out = tmp_path / "out"
    out.mkdir()
    before = {"date": "2026-12-01T10:00:00", "quick": False, "command": "python -m benchmarks --faces",
              "machine": {"cpus": 2, "platform": "p", "python": "3", "keras": "3", "keras_ae": "0"},
              "faces": _faces_part(), "runs": {"faces": {"command": "python -m benchmarks --faces",
                                                         "date": "2026-12-01T10:00:00"}}}
    (out / "results.json").write_text(json.dumps(before))
    main(["--colorization", "--out", str(out)])
    saved = json.loads((out / "results.json").read_text())
    assert saved["faces"] == before["faces"] and saved["runs"]["faces"] == before["runs"]["faces"]  # kept
    assert [r["name"] for r in saved["colorization"]["rows"]] == [NAME, "conv_colorization.cifar10"]
    assert saved["runs"]["colorization"]["command"] == "python -m benchmarks --colorization --out DIR"
    assert saved["commands"] == ["python -m benchmarks --faces", "python -m benchmarks --colorization --out DIR"]
    text = (out / "RESULTS.md").read_text(encoding="utf-8")
    assert "## Faces: the smile vector" in text
    lines = text.split("\n")
    at = lines.index("## Colorization: luminance in, colour out")
    assert lines[at + 2].startswith("Made by `python -m benchmarks --colorization --out DIR` (Keras backend: ")
    row = saved["colorization"]["rows"][0]
    assert f"| the model | {row['squared_error']:.2f} | {row['psnr_db']:.2f} |" in text
    assert f"| gray copy | {row['gray_squared_error']:.2f} | {row['gray_psnr_db']:.2f} |" in text
    assert f"| mean colour | {row['mean_colour_squared_error']:.2f} | {row['mean_colour_psnr_db']:.2f} |" in text
    assert f"Ratio model / the better baseline (mean colour): **{row['colour_ratio']:.3f}**." in text
    assert "**CelebA is for non-commercial research and education only**" in text
    assert "### `conv_colorization.cifar10` (CIFAR-10 (JPEG copy))\n\nNot trained yet" in text
    assert "docs/gallery/colorization_celeba.png" in text and "--zoo conv_colorization.celeba64 --out DIR" in text
    assert "Tried: one recipe only (4 conv, a 4x4x4 spatial code, no skip connections, 2 epochs" in text
    assert "skip connections from the luminance to the decoder are the untried next step" in text
    assert "Target (issue 38): colorization error on CelebA test faces ≤ 0.5 × the better baseline: " in text


def _row(ratio):
    return {"name": NAME, "dataset": "celeba", "trained": True, "target": 0.5, "colour_ratio": ratio,
            "data": {"title": "CelebA-HQ 64×64", "source": "faces", "licence": "x", "train_images": 30,
                     "test_images": 10}, "n_test": 10, "weights": "ab" * 6, "params": 1234,
            "squared_error": 20.0, "psnr_db": 28.0, "gray_squared_error": 100.0, "gray_psnr_db": 21.0,
            "mean_colour_squared_error": 60.0, "mean_colour_psnr_db": 24.0,
            "recipe": {"filters": [32, 64, 128, 256], "code_shape": [4, 4, 256], "epochs": 30,
                       "dtype_policy": "mixed_bfloat16", "backend": "tensorflow"}}


@pytest.mark.parametrize("ratio, verdict", [(0.45, "met, 0.050 under (0.450)"), (0.5, "met, 0.000 under (0.500)"),
                                            (0.6724, "**missed** by 0.172 (0.672)")])
def test_the_verdict_on_issue_38s_target(ratio, verdict):
    text = "\n".join(report_colorization.colorization_section({"rows": [_row(ratio)]}))
    assert ("Target (issue 38): colorization error on CelebA test faces ≤ 0.5 × the better baseline: "
            f"{verdict}.\n") in text
    assert "Made by a command not recorded in results.json." in text
    assert ("Tried: one recipe only (32-64-128-256 conv, a 4x4x256 spatial code, no skip connections, 30 epochs, "
            "TensorFlow, mixed_bfloat16)") in text and "from a 4x4 code" in text


def test_no_target_where_issue_38_sets_none_and_not_trained_rows():
    cifar = {**_row(0.3), "name": "conv_colorization.cifar10", "dataset": "cifar10", "target": None}
    assert report_colorization.target_text(cifar) is None
    text = "\n".join(report_colorization.colorization_section({"rows": [
        cifar, {"name": "conv_colorization.other", "dataset": "celeba", "trained": False, "target": 0.5}]}))
    assert "Target (issue 38)" in text and "Licence: x." in text and "non-commercial" not in text.split("###")[1]
    assert "Not trained yet: the recipe is in `keras_ae/zoo/recipes.py` (`python -m keras_ae.zoo_train " \
           "conv_colorization.other`); nothing measured. Target (issue 38): colorization error on CelebA test " \
           "faces ≤ 0.5 × the better baseline: not measured yet." in text
