"""Anomaly maps (issue 38, part 5): `anomaly_map`, `pixel_auroc`, `paste_defects`, the overlay figure and
`keras-ae score --map`. Every fixture is made here (random images, tiny models); no data set is read."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy.ndimage import gaussian_filter

from keras_ae import cli
from keras_ae.anomaly import (DEFECT_KINDS, ReconstructionDetector, RestorationDetector, anomaly_map,
                              paste_defects, pixel_auroc)
from keras_ae.plotting import anomaly_map_overlay
from keras_ae.testing import small_model


class ZeroModel:
    """Reconstructs every image as black, so its squared error map is the image squared."""

    def check_inputs(self, x):
        return np.asarray(x, "float32")

    def reconstruct(self, x):
        return np.zeros_like(x)


def items(n=6, side=28, channels=None, seed=0):
    """Grey rectangles (0.5-0.9) on a black background, like a catalogue photo of an item."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, side, side), "float32")
    for i in range(n):
        x[i, side // 5:side - side // 5, side // 4:side - side // 4] = rng.uniform(0.5, 0.9)
    return x if channels is None else np.repeat(x[..., None], channels, axis=-1)


@pytest.fixture(scope="module")
def conv():
    return small_model("convolutional", latent_dim=4)


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(1).random((4, 28, 28, 1)).astype("float32")


# ---- anomaly_map ---------------------------------------------------------------------------------------------

def test_the_map_is_the_squared_error_per_pixel_for_a_model_and_its_detector(conv, x):
    expected = ((conv.reconstruct(x) - x) ** 2)[..., 0]
    raw = anomaly_map(conv, x, sigma=0)
    assert raw.shape == (4, 28, 28) and raw.dtype == np.float32
    np.testing.assert_allclose(raw, expected, rtol=1e-5, atol=1e-7)
    detector = ReconstructionDetector(conv)  # unfitted: the map needs no threshold
    np.testing.assert_allclose(anomaly_map(detector, x[..., 0], sigma=0), expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(anomaly_map(conv, x), gaussian_filter(expected, (0, 1, 1)), rtol=1e-4, atol=1e-7)


def test_a_dense_model_maps_flat_rows_and_images_to_square_maps():
    dense = small_model("undercomplete")  # 784 inputs
    x = np.random.default_rng(2).random((3, 784)).astype("float32")
    flat, images = anomaly_map(dense, x), anomaly_map(dense, x.reshape(3, 28, 28, 1))
    assert flat.shape == images.shape == (3, 28, 28)
    np.testing.assert_allclose(flat, images, rtol=1e-6)


def test_colour_is_averaged_over_the_channels():
    model = small_model("undercomplete", input_shape=(16 * 16 * 3,))  # the images' shape comes from x
    x = np.random.default_rng(3).random((2, 16, 16, 3)).astype("float32")
    expected = ((model.reconstruct(x).reshape(x.shape) - x) ** 2).mean(axis=-1)
    np.testing.assert_allclose(anomaly_map(model, x, sigma=0), expected, rtol=1e-5, atol=1e-7)


def test_smoothing_keeps_the_total_and_the_peak():
    x = np.zeros((1, 28, 28, 1), "float32")
    x[0, 10, 17] = 1.0
    raw, smooth = anomaly_map(ZeroModel(), x, sigma=0), anomaly_map(ZeroModel(), x, sigma=2.0)
    assert raw.sum() == 1.0 and smooth.max() < 0.1  # spread out...
    assert abs(smooth.sum() - 1.0) < 1e-5  # ...without loss
    assert np.unravel_index(smooth[0].argmax(), (28, 28)) == (10, 17)


def test_a_restoration_detector_maps_its_restoration_error():
    x = items(3, side=8)
    detector = RestorationDetector()  # given its model and image shape as `load` restores them (no training)
    detector.model_ = small_model("undercomplete", input_shape=(64,))
    detector.image_shape_ = (8, 8, 1)
    maps = anomaly_map(detector, x[:3], sigma=0)
    np.testing.assert_allclose(maps, detector.score_map(x[:3])[..., 0], rtol=1e-6)
    assert anomaly_map(detector, x[:3].reshape(3, 64)).shape == (3, 8, 8)


def test_bad_input_is_refused_saying_what_was_expected(conv, x):
    with pytest.raises(ValueError, match=r"wrong sample shape: expected \(batch,\) \+ \(28, 28, 1\)"):
        anomaly_map(conv, x[:, :27])
    with pytest.raises(ValueError, match="finite"):
        anomaly_map(conv, np.full_like(x, np.nan))
    with pytest.raises(ValueError, match=r"must lie in \[0.0, 1.0\]"):
        anomaly_map(conv, x + 2)
    with pytest.raises(ValueError, match="`sigma` must be a finite number in \\[0.0, 100.0\\]. Received: sigma=-1"):
        anomaly_map(conv, x, sigma=-1)
    with pytest.raises(ValueError, match="needs a keras-ae image detector .* Received: str"):
        anomaly_map("model.keras", x)
    with pytest.raises(ValueError, match="flat rows of side \\* side values. Received: shape=\\(2, 30\\)"):
        anomaly_map(ZeroModel(), np.zeros((2, 30), "float32"))


def test_a_tabular_detector_is_refused():
    from keras_ae.anomaly import TabularDetector

    with pytest.raises(ValueError, match="a TabularDetector scores table rows"):
        anomaly_map(TabularDetector(), np.zeros((2, 784), "float32"))


# ---- pixel_auroc ---------------------------------------------------------------------------------------------

def test_pixel_auroc():
    masks = np.zeros((2, 5, 5), bool)
    masks[0, 1:3, 1:3] = True
    maps = masks + np.random.default_rng(0).random(masks.shape) * 0.5
    assert pixel_auroc(maps, masks) == 1.0
    assert pixel_auroc(-maps, masks.astype(int)) == 0.0
    with pytest.raises(ValueError, match="must both be \\(n, H, W\\), of one shape"):
        pixel_auroc(maps[:1], masks)
    with pytest.raises(ValueError, match="must mark some pixels and leave some unmarked"):
        pixel_auroc(maps, np.zeros_like(masks))
    with pytest.raises(ValueError, match="booleans or 0/1"):
        pixel_auroc(maps, masks * 2)
    with pytest.raises(ValueError, match="NaN"):
        pixel_auroc(np.where(masks, np.nan, maps), masks)


# ---- paste_defects -------------------------------------------------------------------------------------------

def test_masks_are_the_pixels_the_defects_changed_on_the_item():
    clean = items(9)
    kinds = np.resize(DEFECT_KINDS, 9)
    bad, masks = paste_defects(clean, kinds, seed=0)
    assert bad.shape == clean.shape and bad.dtype == np.float32 and masks.shape == (9, 28, 28)
    change = np.abs(bad - clean)
    np.testing.assert_array_equal(masks, change >= 0.1)
    assert masks.any(axis=(1, 2)).all()  # every image got a visible defect
    assert not (masks & (clean == 0)).any()  # on the item, never on the empty background
    holes = masks[kinds == "hole"]
    assert (bad[kinds == "hole"][holes] == 0).all()  # a hole is punched through to the background
    assert 0.0 <= bad.min() and bad.max() <= 1.0
    scratch_width = masks[kinds == "scratch"].sum(axis=(1, 2))
    stain_size = masks[kinds == "stain"].sum(axis=(1, 2))
    assert scratch_width.max() <= 2 * 28 and stain_size.min() >= 4


def test_defects_are_seeded_and_work_on_colour():
    clean = items(4, channels=3)
    a, mask_a = paste_defects(clean, "stain", seed=5)
    b, mask_b = paste_defects(clean, "stain", seed=5)
    c, _ = paste_defects(clean, "stain", seed=6)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(mask_a, mask_b)
    assert a.shape == (4, 28, 28, 3) and mask_a.shape == (4, 28, 28) and not np.array_equal(a, c)
    np.testing.assert_array_equal(clean, items(4, channels=3))  # the input is left as it was


def test_paste_defects_refuses_bad_input():
    clean = items(2)
    with pytest.raises(ValueError, match=r"`kinds` must be among \('scratch', 'hole', 'stain'\). Received: \['dent'\]"):
        paste_defects(clean, ["hole", "dent"])
    with pytest.raises(ValueError, match="one defect per image \\(2\\). Received: 3 kinds"):
        paste_defects(clean, ["hole"] * 3)
    with pytest.raises(ValueError, match="values in \\[0, 1\\]. Received: min 0, max [0-9.]+$"):
        paste_defects(clean * 255, "hole")
    with pytest.raises(ValueError, match="1 NaN"):
        paste_defects(_one_nan(clean), "hole")
    with pytest.raises(ValueError, match="\\(n, H, W\\) or \\(n, H, W, channels\\)"):
        paste_defects(clean[0], "hole")


def _one_nan(x):
    x = x.copy()
    x[0, 0, 0] = np.nan
    return x


# ---- the figure and the command line -------------------------------------------------------------------------

def test_overlay_figure(tmp_path):
    bad, masks = paste_defects(items(5), "scratch", seed=0)
    maps = anomaly_map(ZeroModel(), bad)
    fig = anomaly_map_overlay(bad, maps, masks, labels=[f"#{i}" for i in range(5)], ncols=2)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3 * 2 * 2 + 1  # three blocks of image and map rows, and the colour bar
    with pytest.raises(ValueError, match="one \\(H, W\\) map per image"):
        anomaly_map_overlay(bad, maps[:3])
    with pytest.raises(ValueError, match="`masks` must be shaped like `maps`"):
        anomaly_map_overlay(bad, maps, masks[:, :5])


def test_write_map_writes_the_figure_atomically(tmp_path, capsys, conv, x):
    from keras_ae.cli.scoring import write_map

    detector = ReconstructionDetector(conv)
    write_map(detector, x, np.array([0.1, 0.2, 0.3, 0.4]), np.array([0, 1, 0, 0]), None, 2, str(tmp_path / "m.png"))
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["m.png"]  # no temporary file left
    assert "anomaly maps of 2 images" in capsys.readouterr().out


def test_cli_refuses_a_map_that_is_no_figure_before_anything_is_read(tmp_path, capsys):
    out = tmp_path / "s.csv"
    code = cli.main(["score", str(tmp_path / "missing.keras"), "--data", str(tmp_path / "x.npy"), "--out", str(out),
                     "--map", str(tmp_path / "maps.txt")])
    assert code == 1 and "--map figure" in capsys.readouterr().err and not out.exists()
    assert cli.main(["score", "m.keras", "--data", "x.npy", "--map-count", "0"]) == 2


@pytest.mark.slow  # about 1.5 s: a detector file saved, loaded and scored, and a figure drawn
def test_cli_score_writes_the_map(tmp_path, capsys, conv, x):
    model_file, data, out = tmp_path / "d.keras", tmp_path / "x.npy", tmp_path / "s.csv"
    ReconstructionDetector(conv).fit(x).save(str(model_file))
    np.save(data, x[:3, ..., 0])
    code = cli.main(["score", str(model_file), "--data", str(data), "--out", str(out), "--map",
                     str(tmp_path / "maps.png"), "--map-count", "2"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert (tmp_path / "maps.png").read_bytes()[:4] == b"\x89PNG" and out.exists()
    assert "anomaly maps of 2 images" in stdout


def test_the_readme_block_runs(tmp_path, monkeypatch, conv):
    import os
    import re

    readme = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")
    with open(readme, encoding="utf-8") as f:
        blocks = [b for b in re.findall(r"```python\n(.*?)```", f.read(), flags=re.S) if "paste_defects(" in b]
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    namespace = {"detector": ReconstructionDetector(conv), "x_test": items(4)[..., None]}
    exec(compile(blocks[0], "README-anomaly-maps", "exec"), namespace)
    assert namespace["maps"].shape == (4, 28, 28) and (tmp_path / "maps.png").exists()
