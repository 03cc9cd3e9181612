"""Colorization zoo entries (issue 38, item 3): the two baselines by hand, and a recipe end to end on a fixture."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_ae import zoo
from keras_ae.data.registry import DATASETS
from keras_ae.zoo import colorization, images

RED, BLUE = (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)
# Y = 0.299 R + 0.587 G + 0.114 B: red 0.299, blue 0.114. RGB - Y: red (0.701, -0.299, -0.299),
# blue (-0.114, -0.114, 0.886); their mean is the training set's chroma offset.
CHROMA = (0.2935, -0.2065, 0.2935)


def test_mean_chroma_by_hand_for_floats_and_uint8():
    x = np.array([[[RED, BLUE]]], "float32")  # one 1 x 2 training image
    np.testing.assert_allclose(colorization.mean_chroma(x), CHROMA, atol=1e-6)
    np.testing.assert_allclose(colorization.mean_chroma((x * 255).astype("uint8")), CHROMA, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(n, height, width, 3\)"):
        colorization.mean_chroma(np.zeros((2, 4, 4, 1)))


class _GrayModel:
    """Stands in for a model that puts back no colour at all: its output is the gray copy."""

    def reconstruct(self, x, batch_size=128):
        return colorization.gray_copy(x)


def test_the_baselines_and_the_ratio_by_hand():
    # One 1 x 2 test image: mid gray, and yellow (Y = 0.886; Y + CHROMA clips to (1, 0.6795, 1)).
    test = np.array([[[(0.5, 0.5, 0.5), (1.0, 1.0, 0.0)]]], "float32")
    np.testing.assert_allclose(colorization.gray_copy(test)[0, 0, 1], [0.886] * 3, atol=1e-6)
    np.testing.assert_allclose(colorization.mean_colour(test, CHROMA)[0, 0],
                               [(0.7935, 0.2935, 0.7935), (1.0, 0.6795, 1.0)], atol=1e-6)
    gray = 2 * 0.114 ** 2 + 0.886 ** 2  # the gray pixel is exact
    tinted = (0.2935 ** 2 + 0.2065 ** 2 + 0.2935 ** 2) + (0.3205 ** 2 + 1.0)
    train = np.array([[[RED, BLUE]]], "float32")
    m = colorization.measure_colorization(_GrayModel(), train, test)
    assert m["n_test"] == 1
    assert m["gray_squared_error"] == pytest.approx(gray, abs=1e-4)
    assert m["mean_colour_squared_error"] == pytest.approx(tinted, abs=1e-4)
    assert m["gray_psnr_db"] == pytest.approx(10 * math.log10(6 / gray), abs=1e-3)
    assert m["mean_colour_psnr_db"] == pytest.approx(10 * math.log10(6 / tinted), abs=1e-3)
    assert m["squared_error"] == m["gray_squared_error"] and m["colour_ratio"] == 1.0  # the gray copy wins here
    # Without training images (the probe patches) only the gray copy is a baseline.
    assert set(colorization.measure_colorization(_GrayModel(), None, test)) == {
        "n_test", "squared_error", "psnr_db", "gray_squared_error", "gray_psnr_db"}


def test_baselines_of_a_data_set_by_hand(monkeypatch, capsys):
    """`python -m keras_ae.zoo.colorization DATASET`: the baselines on the test split before any model."""
    train = (np.array([[[RED, BLUE]]]) * 255).astype("uint8")
    test = np.array([[[(255, 255, 0)]]], "uint8")  # yellow: Y = 0.886, Y + CHROMA clips to (1, 0.6795, 1)
    monkeypatch.setattr(images, "load_images", lambda name: (train, test, "fixture", DATASETS[name]))
    colorization.main(["celeba"])
    out = colorization.baselines("celeba")
    assert out["mean_chroma"] == pytest.approx(CHROMA, abs=1e-4)
    assert out["gray_squared_error"] == pytest.approx(2 * 0.114 ** 2 + 0.886 ** 2, abs=1e-4)
    assert out["mean_colour_squared_error"] == pytest.approx(0.3205 ** 2 + 1.0, abs=1e-4)
    assert capsys.readouterr().out.startswith("celeba {'n_test': 1, 'mean_chroma': [0.2935, -0.2065, 0.2935]")


def _fake_dataset(name, n_train=96, n_test=24):
    """Random colour images in the data set's shape; a red cast, so the mean colour beats the gray copy."""
    rng = np.random.default_rng(0)
    x = rng.random((n_train + n_test,) + DATASETS[name].image_shape) * 0.6
    x[..., 0] += 0.4
    return (x[:n_train] * 255).astype("uint8"), (x[n_train:] * 255).astype("uint8"), "path:fixture", DATASETS[name]


@pytest.mark.slow  # 3-7 s: a TensorFlow training and a float32 copy of the model
def test_the_celeba_recipe_trains_measures_and_writes_an_entry(tmp_path, monkeypatch):
    """The shipped recipe's settings (mixed precision, flips, float16 weights) with tiny layers, on faked faces."""
    from keras_ae.zoo import train as zoo_train

    monkeypatch.setattr(images, "load_images", lambda name: _fake_dataset(name))
    monkeypatch.setattr(images, "dataset_record", lambda info, source, n_train, n_test: {
        "name": info.name, "source": "fixture", "licence": info.licence, "train_images": n_train,
        "test_images": n_test})
    recipe = zoo_train.RECIPES["conv_colorization.celeba64"]
    assert "non-commercial" in recipe["description"].lower()
    name = "conv_colorization.tiny_celeba"
    monkeypatch.setitem(zoo_train.RECIPES, name, dict(recipe, kwargs=dict(filters=[4, 4, 4, 4], latent_filters=4),
                                                      epochs=1, batch_size=32))
    entry = zoo_train.train(name, work_dir=str(tmp_path / "runs"), out_dir=str(tmp_path / "zoo"), verbose=0)
    assert entry["recipe"]["command"].startswith("KERAS_BACKEND=tensorflow KERAS_AE_CELEBA=/path/to/")
    assert entry["recipe"]["weights_dtype"] == "float16" and entry["recipe"]["dtype_policy"] == "mixed_bfloat16"
    assert "non-commercial" in entry["licence"].lower()
    test = entry["metrics"]["test"]
    assert set(test) == {"n_test", "squared_error", "psnr_db", "gray_squared_error", "gray_psnr_db",
                         "mean_colour_squared_error", "mean_colour_psnr_db", "colour_ratio"}
    assert test["n_test"] == 24 and test["mean_colour_squared_error"] < test["gray_squared_error"]
    assert test["colour_ratio"] == pytest.approx(test["squared_error"] / test["mean_colour_squared_error"], rel=1e-3)
    assert set(entry["metrics"]["probe"]) == {"n_test", "squared_error", "psnr_db", "gray_squared_error",
                                              "gray_psnr_db"}
    assert "sampler" not in entry  # its decoder needs the image's luminance: nothing to sample
    defined = set(zoo.METRIC_DEFINITIONS)
    for subset, metrics in entry["metrics"].items():
        assert subset in defined and set(metrics) <= defined, (subset, set(metrics) - defined)

    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path / "zoo"))
    model = zoo.load(name)
    probe = zoo_train.measure(model, zoo_train.RECIPES[name], None, images.probe_images((64, 64, 3)), pca=False)
    assert probe == entry["metrics"]["probe"]
    assert not os.path.exists(tmp_path / "runs" / name)
    # The README's zoo table: a colorization table of its own under the data set, with both baselines.
    table = zoo.markdown_table()
    assert table.startswith("### CelebA") and "Colorization (luminance in, colour out)" in table
    assert "| name | params | squared error (24 test images) | PSNR (dB) | gray copy squared error |" in table
    assert f"| {test['colour_ratio']:.2f}× |" in table and "PCA" not in table
    # `python -m benchmarks --images` compares decoders with PCA: a colorization entry is not one.
    from benchmarks.images import entries_on, expected_entries

    assert entries_on("celeba") == [] and "resnet_vae.celeba64_z128" in {e["name"] for e in expected_entries("celeba")}
    assert not [e for e in expected_entries("celeba") if e["name"].startswith("conv_colorization")]

    # The lecture script colours one's own photos with the entry: gray input / colorized / original.
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    for k in range(2):
        Image.fromarray((np.random.default_rng(k).random((80, 300, 3)) * 255).astype("uint8")).save(folder / f"{k}.png")
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_AE_CELEBA", "DISPLAY")}
    env.update(MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3", KERAS_HOME=str(tmp_path / "keras_home"),
               KERAS_AE_ZOO=str(tmp_path / "zoo"))
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "colorization.py")
    proc = subprocess.run([sys.executable, script, "--quick", "--zoo", name, "--images", str(folder), "--out",
                           str(tmp_path / "fig")], capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"zoo entry {name}" in proc.stdout and "non-commercial" in proc.stdout
    assert (tmp_path / "fig" / "colorization.png").read_bytes()[:4] == b"\x89PNG"
    # Without the data set, --zoo NAME alone says what is missing and how to give it.
    proc = subprocess.run([sys.executable, script, "--quick", "--zoo", name, "--out", str(tmp_path / "fig")],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode != 0 and "its test photos are not on this machine" in proc.stderr, proc.stderr[-3000:]
