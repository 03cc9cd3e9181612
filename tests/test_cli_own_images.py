"""Your own images, end to end (issue 37, part 3): scores that name their files, `reconstruct` and `sample` on
`.keras` files, `--image-size`, the tiny-data warning, `--validation-split 0`, and one unit for the held-out
score and the threshold. Every fixture is written here, in tmp_path."""

import csv
import warnings

import numpy as np
import pytest

from keras_ae import cli
from keras_ae.anomaly import AnomalyDetector
from keras_ae.cli import train as cli_train
from keras_ae.cli.parser import build_parser
from keras_ae.data import load_user_data
from keras_ae.data.files import UserDataNote
from model_check import small_model


def run(args, capsys):
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def image_folder(root, sizes, seed=0):
    """PNG files of the given (height, width) sizes, some in a sub-folder; returns the folder."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder = root / "photos"
    (folder / "b").mkdir(parents=True)
    for i, (h, w) in enumerate(sizes):
        name = f"{i:02d}.png" if i % 2 == 0 else f"b/{i:02d}.png"
        Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8), mode="L").save(folder / name)
    return folder


def notes_of(path, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserDataNote)
        result = load_user_data(str(path), **kwargs)
    return result, [str(w.message) for w in caught if issubclass(w.category, UserDataNote)]


# ---- load_user_data: image_size and the file names --------------------------------------------------------

def test_image_size_resizes_every_image_and_the_files_come_in_order(tmp_path):
    folder = image_folder(tmp_path, [(20, 30), (28, 28), (40, 12), (28, 28)])
    (x, kind, files), notes = notes_of(folder, image_size=(16, 24), return_files=True)
    assert x.shape == (4, 16, 24, 1) and kind == "images" and notes == []
    assert files == ["00.png", "02.png", "b/01.png", "b/03.png"]  # the top folder first, as Keras lists them
    (x, kind), notes = notes_of(folder)  # without it: the first image's size, and a note that names the option
    assert x.shape == (4, 20, 30, 1)
    assert len(notes) == 1 and "resized 3 image(s)" in notes[0] and "--image-size HEIGHT WIDTH" in notes[0]


def test_image_size_is_checked_and_is_for_folders_only(tmp_path):
    folder = image_folder(tmp_path, [(8, 8)])
    for bad in [(0, 8), (8,), "64", (8.5, 8), (True, 8)]:
        with pytest.raises(ValueError, match=r"`image_size` must be \(height, width\)"):
            load_user_data(str(folder), image_size=bad)
    np.save(tmp_path / "x.npy", np.zeros((3, 4), "float32"))
    with pytest.raises(ValueError, match="resizes a folder of images"):
        load_user_data(str(tmp_path / "x.npy"), image_size=(8, 8))
    x, kind, files = load_user_data(str(tmp_path / "x.npy"), return_files=True)
    assert files is None and x.shape == (3, 4)


# ---- keras-ae score: a file column for folders, row numbers for files ---------------------------------------

@pytest.fixture(scope="module")
def conv_detector_file(tmp_path_factory):
    """A convolutional model on 28x28 grey images with a fitted detector, saved as keras-ae train saves it."""
    model = small_model("convolutional", latent_dim=4)
    x = np.random.default_rng(0).random((20, 28, 28, 1)).astype("float32")
    path = tmp_path_factory.mktemp("model") / "conv.keras"
    AnomalyDetector(model).fit(x).save(str(path))
    return path


def test_score_a_folder_names_each_file_and_resizes_to_the_model(tmp_path, capsys, conv_detector_file):
    folder = image_folder(tmp_path, [(28, 28), (30, 40), (28, 28)])  # one image of another size
    out = tmp_path / "s.csv"
    code, stdout, err = run(["score", str(conv_detector_file), "--data", str(folder), "--out", str(out)], capsys)
    assert code == 0, err
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["index", "file", "score", "label"]
    assert [r["file"] for r in rows] == ["00.png", "02.png", "b/01.png"] and [r["index"] for r in rows] == ["0", "1", "2"]
    # The scores are those of the images at the model's size, in the file order.
    x, _ = load_user_data(str(folder), image_size=(28, 28))
    detector = AnomalyDetector.load(str(conv_detector_file))
    np.testing.assert_allclose([float(r["score"]) for r in rows], detector.decision_function(x), rtol=1e-5)
    assert "resized" not in stdout  # resizing to the model's own size is what was asked for
    code, _, err = run(["score", str(conv_detector_file), "--data", str(folder), "--image-size", "20", "20",
                        "--out", str(out)], capsys)
    assert code == 1 and "holds samples of shape (20, 20, 1); the model expects (28, 28, 1)" in err


def test_score_a_file_keeps_row_numbers(tmp_path, capsys, conv_detector_file):
    np.save(tmp_path / "x.npy", np.random.default_rng(1).random((3, 28, 28)).astype("float32"))
    out = tmp_path / "s.csv"
    code, _, err = run(["score", str(conv_detector_file), "--data", str(tmp_path / "x.npy"), "--out", str(out)],
                       capsys)
    assert code == 0, err
    rows = out.read_text().splitlines()
    assert rows[0] == "index,score,label" and [r.split(",")[0] for r in rows[1:]] == ["0", "1", "2"]


def test_score_keeps_a_uint8_file_uint8_and_scores_it_as_its_pixels_over_255(tmp_path, capsys, conv_detector_file,
                                                                              monkeypatch):
    pixels = np.random.default_rng(2).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    np.save(tmp_path / "x.npy", pixels)
    (x, kind), _ = notes_of(tmp_path / "x.npy", keep_uint8=True)
    assert x.dtype == np.uint8 and x.shape == (5, 28, 28, 1) and kind == "images"
    (x, kind), _ = notes_of(tmp_path / "x.npy")  # the default: float32 in [0, 1], as before
    assert x.dtype == np.float32 and x.max() <= 1.0
    np.save(tmp_path / "tiny.npy", pixels[:, :2, 0])  # 2-D uint8: a table's numbers, not images: float32
    (x, kind), _ = notes_of(tmp_path / "tiny.npy", keep_uint8=True)
    assert x.dtype == np.float32 and kind == "flat"
    # keras-ae score hands the detector the uint8 pixels (no float32 copy of the file) ...
    seen = []
    original = AnomalyDetector.decision_function
    monkeypatch.setattr(AnomalyDetector, "decision_function", lambda self, x: seen.append(x.dtype) or original(self, x))
    out, figure = tmp_path / "s.csv", tmp_path / "maps.png"
    code, _, err = run(["score", str(conv_detector_file), "--data", str(tmp_path / "x.npy"), "--out", str(out),
                        "--map", str(figure)], capsys)
    assert code == 0, err
    assert seen[0] == np.uint8 and figure.stat().st_size > 0
    # ... and scores them as the same pixels divided by 255.
    scores = [float(r.split(",")[1]) for r in out.read_text().splitlines()[1:]]
    expected = original(AnomalyDetector.load(str(conv_detector_file)), pixels[..., None].astype("float32") / 255.0)
    np.testing.assert_allclose(scores, expected, rtol=1e-5)


def test_a_flat_model_on_a_folder_of_another_size_suggests_image_size(tmp_path, capsys):
    model = small_model("undercomplete")  # 784 values: 28x28 grey
    path = tmp_path / "dense.keras"
    AnomalyDetector(model).fit(np.random.default_rng(0).random((20, 784)).astype("float32")).save(str(path))
    folder = image_folder(tmp_path, [(32, 32), (32, 32)])
    args = ["score", str(path), "--data", str(folder), "--out", str(tmp_path / "s.csv")]
    code, _, err = run(args, capsys)
    assert code == 1 and "--image-size 28 28 resizes the folder's images" in err
    code, _, err = run(args + ["--image-size", "28", "28"], capsys)
    assert code == 0, err


# ---- keras-ae reconstruct and sample on .keras files --------------------------------------------------------

def test_reconstruct_and_sample_take_keras_files(tmp_path, capsys, conv_detector_file):
    folder = image_folder(tmp_path, [(28, 28)] * 3)
    png = tmp_path / "r.png"
    code, out, err = run(["reconstruct", str(conv_detector_file), "--data", str(folder), "-n", "8", "--out",
                          str(png)], capsys)
    assert code == 0, err
    assert png.read_bytes()[:4] == b"\x89PNG" and "the first 3 images of" in out
    code, _, err = run(["reconstruct", str(conv_detector_file), "--out", str(png)], capsys)
    assert code == 1 and "give the images to reconstruct with --data" in err
    code, _, err = run(["sample", str(conv_detector_file), "--out", str(tmp_path / "s.png")], capsys)
    assert code == 1 and "is not a generative model" in err
    vae = tmp_path / "vae.keras"
    small_model("vae", latent_dim=2).save(str(vae))
    code, out, err = run(["sample", str(vae), "-n", "4", "--out", str(tmp_path / "s.png")], capsys)
    assert code == 0 and "4 samples from the prior" in out, err
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    code, _, err = run(["sample", str(vae), "--sampler", "entry", "--out", str(tmp_path / "s.png")], capsys)
    assert code == 1 and "ships no sampler" in err
    code, _, err = run(["sample", str(tmp_path / "none.keras"), "--out", str(tmp_path / "s.png")], capsys)
    assert code == 1 and "No model file" in err


# ---- keras-ae train: tiny data, --validation-split 0, --image-size -----------------------------------------

def test_tiny_data_warning_says_what_and_suggests_a_batch_size():
    warning = cli_train.tiny_data_warning(40, 256)
    assert "only 40 training samples" in warning and "1 step(s) per epoch" in warning
    assert "--batch-size 4" in warning  # 40 / 4 = 10 steps
    assert "--batch-size 64" in cli_train.tiny_data_warning(900, 256)  # enough samples, 4 steps; 900 / 64: 15
    assert "only" not in cli_train.tiny_data_warning(900, 256)
    assert cli_train.tiny_data_warning(60_000, 256) is None
    assert "5 step(s) per epoch" in cli_train.tiny_data_warning(5, 1)
    assert "try more --epochs" in cli_train.tiny_data_warning(5, 1)  # no smaller batch size to suggest
    assert "step" not in cli_train.tiny_data_warning(50, 32, min_steps=0)  # tables: the sample count only


def test_validation_split_zero_means_none(tmp_path):
    x = np.random.default_rng(0).random((50, 6)).astype("float32")
    args = build_parser().parse_args(["train", "--data", "x.npy", "--validation-split", "0"])
    x_train, x_val, _ = cli_train._split(args, x, False, "undercomplete")
    assert x_val is None and len(x_train) == 50
    args = build_parser().parse_args(["train", "--data", "x.npy"])
    assert len(cli_train._split(args, x, False, "undercomplete")[1]) == 5  # the default 0.1


def test_a_table_with_validation_split_zero_holds_no_row_out(tmp_path, capsys):
    """The tabular recipe trains on every row and stops early on its training loss."""
    from keras_ae.anomaly import TabularDetector

    np.savetxt(tmp_path / "t.csv", np.random.default_rng(0).normal(size=(40, 3)), delimiter=",")
    code, out, err = run(["train", "--data", str(tmp_path / "t.csv"), "--validation-split", "0", "--epochs", "1",
                          "--out", str(tmp_path / "t.keras")], capsys)
    assert code == 0, err
    assert "none held out (--validation-split 0: early stopping on the training loss)" in out
    assert "best training reconstruction loss" in out
    assert TabularDetector.load(str(tmp_path / "t.keras")).validation_fraction == 0


def test_image_size_is_refused_for_a_named_data_set_or_a_file(tmp_path, capsys):
    code, _, err = run(["train", "--image-size", "8", "8", "--out", str(tmp_path / "m.keras")], capsys)
    assert code == 1 and "names a data set" in err
    np.save(tmp_path / "x.npy", np.zeros((4, 8, 8), "float32"))
    code, _, err = run(["train", "--data", str(tmp_path / "x.npy"), "--image-size", "8", "8", "--out",
                        str(tmp_path / "m.keras")], capsys)
    assert code == 1 and "is a file" in err
    code, _, err = run(["train", "--image-size", "0", "8"], capsys)
    assert code == 2 and "expected an integer from 1" in err


@pytest.mark.slow  # ~9 s of training; tests/test_cli_data.py checks the unit of the message in the default run
def test_train_on_a_mixed_size_folder_with_image_size(tmp_path, capsys):
    """End to end: a tiny mixed-size folder trains at --image-size with the tiny-data warning; the held-out
    score and the threshold are printed in one unit (the detector's score)."""
    folder = image_folder(tmp_path, [(20, 20), (24, 16)] * 6)
    out = tmp_path / "m.keras"
    code, stdout, err = run(["train", "undercomplete", "--data", str(folder), "--image-size", "8", "8", "--epochs",
                             "1", "--latent-dim", "2", "--validation-split", "0.25", "--backend", "tensorflow",
                             "--out", str(out)], capsys)
    assert code == 0, err
    assert "12 samples of shape (8, 8, 1)" in stdout and "resized" not in stdout
    assert "keras-ae: warning: tiny data set: only 9 training samples" in err and "--batch-size 1" in err
    detector = AnomalyDetector.load(str(out))
    x, _ = load_user_data(str(folder), image_size=(8, 8))
    held_out = detector.decision_function(x[9:].reshape(3, -1))
    assert "anomaly score: mean squared error per value" in stdout
    assert f"validation mean {np.mean(held_out):.6g}" in stdout
    assert f"threshold {detector.threshold_:.6g} (95th percentile of the training scores)" in stdout
